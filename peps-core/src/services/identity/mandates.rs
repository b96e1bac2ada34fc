//! Mandates: a person authorises a helper to act for them, within scopes, for a period.

use super::*;
use crate::domain::AuditAction;

impl Identity {
    pub async fn grant_mandate(
        &self,
        actor: &Actor,
        person: AccountId,
        req: NewMandate,
    ) -> CoreResult<Mandate> {
        let person_account = self.ports.accounts.account(person).await?;
        let standing = self.standing(actor, &person_account).await?;
        self.guard(actor, Action::GrantMandate, standing, &person_account)
            .await?;
        if person_account.role != Role::Person {
            return Err(ValidationError::new("person", "mandate.not_a_person").into());
        }
        let scopes: BTreeSet<MandateScope> = req.scopes.iter().copied().collect();
        if scopes.is_empty() {
            return Err(ValidationError::new("scopes", "mandate.scopes.empty").into());
        }
        let now = self.now();
        let wallet = scopes
            .iter()
            .any(|s| matches!(s, MandateScope::WalletRead | MandateScope::WalletUpload));
        let counter_consent = if wallet {
            self.may_open_wallet_mandate(actor, standing.relation, &person_account, &req, now)
                .await?
        } else {
            None
        };
        let starts_at = req.starts_at.unwrap_or(now);
        if req.ends_at <= starts_at || req.ends_at <= now || req.ends_at - starts_at > MAX_MANDATE {
            return Err(ValidationError::new("ends_at", "mandate.period.invalid").into());
        }
        match self.ports.accounts.account(req.helper).await {
            Ok(a) if a.role == Role::Helper => {}
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(ValidationError::new("helper_id", "mandate.not_a_helper").into());
            }
            Err(e) => return Err(e.into()),
        }
        let mandate = Mandate {
            id: MandateId::new(),
            helper: req.helper,
            person,
            scopes,
            starts_at,
            ends_at: req.ends_at,
            created_by: actor.account,
            created_at: now,
            revoked_at: None,
            revoked_by: None,
        };
        // A path opened at the counter alerts the person; the alert is stored with the
        // mandate, never one without the other.
        let alerted = match counter_consent {
            Some(given_on) => {
                let date = given_on.to_string();
                Some((
                    given_on,
                    self.alert(
                        &person_account,
                        Alert::PathOpenedAtCounter,
                        &[
                            ("worker", self.name_of(actor.account).await?.as_str()),
                            ("date", date.as_str()),
                        ],
                    ),
                ))
            }
            None => None,
        };
        let messages = alerted.as_ref().map_or(&[][..], |(_, a)| &a.messages[..]);
        self.ports
            .relations
            .create_mandate(&mandate, messages)
            .await?;
        let mut detail = format!("mandate={} helper={}", mandate.id, mandate.helper);
        if let Some((given_on, alerted)) = &alerted {
            detail.push_str(&format!(
                " counter_consent_on={given_on} alerted={}",
                super::activation::describe_deliveries(alerted)
            ));
        }
        self.audit(
            Some(actor),
            None,
            AuditAction::MandateGranted,
            Some(person),
            detail,
        )
        .await?;
        Ok(mandate)
    }

    /// A wallet scope is a path to the person's papers: the person gives it from their own
    /// password, or their referent records at the counter the day the person consented
    /// (returned, for the alert). An admin gives none.
    async fn may_open_wallet_mandate(
        &self,
        actor: &Actor,
        relation: Relation,
        person: &Account,
        req: &NewMandate,
        now: DateTime<Utc>,
    ) -> CoreResult<Option<NaiveDate>> {
        let relation = if relation == Relation::Oneself {
            relations::oneself(self.ports.accounts.as_ref(), person.id).await?
        } else {
            relation
        };
        if authorize(actor.role, Action::GrantWalletMandate, relation).is_ok() {
            return Ok(None);
        }
        if relation == Relation::OneselfByIssuedCode {
            return Err(CoreError::Forbidden("account.password_change_required"));
        }
        authorize(actor.role, Action::RecordCounterConsent, relation)
            .map_err(|_| CoreError::Forbidden("mandate.wallet_scope_is_the_persons"))?;
        let today = now.date_naive();
        match req.consent_given_on {
            Some(day) if day <= today && today - day <= Duration::days(COUNTER_CONSENT_DAYS) => {
                Ok(Some(day))
            }
            Some(_) => Err(ValidationError::new(
                "consent_given_on",
                "mandate.consent_given_on.invalid",
            )
            .into()),
            None => Err(ValidationError::new(
                "consent_given_on",
                "mandate.consent_given_on.required",
            )
            .into()),
        }
    }

    pub async fn revoke_mandate(&self, actor: &Actor, id: MandateId) -> CoreResult<Mandate> {
        let mandate = self.ports.relations.mandate(id).await?;
        let person = self.ports.accounts.account(mandate.person).await?;
        let standing = relations::towards_mandate(
            self.ports.relations.as_ref(),
            self.ports.organisations.as_ref(),
            actor,
            &mandate,
            &person,
            self.now(),
        )
        .await?;
        if authorize(actor.role, Action::RevokeMandate, standing.relation).is_err() {
            // Whoever may not even see the mandates learns nothing of this one.
            let visible = authorize(actor.role, Action::ViewMandates, standing.relation).is_ok();
            return Err(if visible {
                CoreError::Denied
            } else {
                CoreError::NotFound
            });
        }
        if mandate.revoked_at.is_some() {
            return Err(CoreError::Conflict("mandate.already_revoked"));
        }
        self.ports
            .relations
            .revoke_mandate(id, actor.account, self.now())
            .await
            .map_err(|e| conflict_as(e, "mandate.already_revoked"))?;
        self.audit(
            Some(actor),
            None,
            AuditAction::MandateRevoked,
            Some(mandate.person),
            format!("mandate={id}"),
        )
        .await?;
        Ok(self.ports.relations.mandate(id).await?)
    }

    pub async fn mandates_of_person(
        &self,
        actor: &Actor,
        person: AccountId,
    ) -> CoreResult<Vec<Mandate>> {
        // A helper sees only the mandates they hold, through `my_mandates`.
        self.authorized_account(actor, Action::ViewMandates, person)
            .await?;
        Ok(self.ports.relations.mandates_of_person(person).await?)
    }

    /// The mandates a helper holds (valid or not).
    pub async fn my_mandates(&self, actor: &Actor) -> CoreResult<Vec<Mandate>> {
        authorize(actor.role, Action::ViewMandates, Relation::MandateHolder)
            .map_err(|_| CoreError::Denied)?;
        Ok(self
            .ports
            .relations
            .mandates_of_helper(actor.account)
            .await?)
    }
}
