//! Works out how an actor stands towards a person or a mandate, for the policy.

use chrono::{DateTime, Utc};

use crate::domain::{Account, Mandate, MandateId, Role};
use crate::error::CoreResult;
use crate::policy::{Actor, Relation};
use crate::ports::{AccountRepository, OrganisationRepository, RelationRepository};

/// The relation, and the mandate it rests on when the actor is a mandated helper (its use is
/// then recorded for the person).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Standing {
    pub relation: Relation,
    pub mandate: Option<MandateId>,
}

impl Standing {
    fn plain(relation: Relation) -> Self {
        Self {
            relation,
            mandate: None,
        }
    }
}

/// How the actor stands towards their own account where it matters who set the password:
/// `OneselfByIssuedCode` while it is one chosen with a code someone else issued (a reset),
/// until the holder sets their own.
pub(crate) async fn oneself(
    accounts: &dyn AccountRepository,
    account: crate::domain::AccountId,
) -> CoreResult<Relation> {
    Ok(match accounts.password_reset_by(account).await? {
        Some(_) => Relation::OneselfByIssuedCode,
        None => Relation::Oneself,
    })
}

pub(crate) async fn towards_account(
    relations: &dyn RelationRepository,
    organisations: &dyn OrganisationRepository,
    actor: &Actor,
    target: &Account,
    now: DateTime<Utc>,
) -> CoreResult<Standing> {
    if actor.account == target.id {
        return Ok(Standing::plain(Relation::Oneself));
    }
    match (actor.role, target.role) {
        (Role::Worker, Role::Person) => {
            let referents = relations.referents_of(target.id).await?;
            let mine = referents.iter().filter(|r| r.worker == actor.account);
            let mut former = false;
            for referent in mine {
                if referent.is_current(now) {
                    return Ok(Standing::plain(Relation::CurrentReferent));
                }
                former = true;
            }
            Ok(Standing::plain(if former {
                Relation::FormerReferent
            } else {
                Relation::Unrelated
            }))
        }
        (Role::Helper, Role::Person) => {
            let mandates = relations.mandates_of_helper(actor.account).await?;
            let valid = mandates
                .iter()
                .find(|m| m.person == target.id && m.is_valid_at(now));
            Ok(match valid {
                Some(m) => Standing {
                    relation: Relation::MandatedHelper,
                    mandate: Some(m.id),
                },
                None => Standing::plain(Relation::Unrelated),
            })
        }
        (Role::Worker | Role::Member, Role::Worker | Role::Member) => {
            let theirs = organisations.memberships(target.id).await?;
            let shared = theirs.iter().any(|o| actor.organisations.contains(o));
            Ok(Standing::plain(if shared {
                Relation::SameOrganisation
            } else {
                Relation::Unrelated
            }))
        }
        _ => Ok(Standing::plain(Relation::Unrelated)),
    }
}

/// For acting on a mandate: the person who gave it, the helper who holds it, or else whatever
/// the actor is to the person.
pub(crate) async fn towards_mandate(
    relations: &dyn RelationRepository,
    organisations: &dyn OrganisationRepository,
    actor: &Actor,
    mandate: &Mandate,
    person: &Account,
    now: DateTime<Utc>,
) -> CoreResult<Standing> {
    if actor.account == mandate.person {
        return Ok(Standing::plain(Relation::Oneself));
    }
    if actor.account == mandate.helper {
        return Ok(Standing::plain(Relation::MandateHolder));
    }
    towards_account(relations, organisations, actor, person, now).await
}

/// For a person's plan: the person, their current referent, a worker they allowed onto the
/// plan, a helper whose valid mandate covers reading plans; a former referent who was not
/// allowed stays a former referent (a stranger to the policy).
pub(crate) async fn towards_plan(
    relations: &dyn RelationRepository,
    actor: &Actor,
    person: crate::domain::AccountId,
    allowed_workers: &std::collections::BTreeSet<crate::domain::AccountId>,
    now: DateTime<Utc>,
) -> CoreResult<Standing> {
    if actor.account == person {
        return Ok(Standing::plain(Relation::Oneself));
    }
    match actor.role {
        Role::Worker => {
            let referents = relations.referents_of(person).await?;
            let mine: Vec<_> = referents
                .iter()
                .filter(|r| r.worker == actor.account)
                .collect();
            Ok(Standing::plain(if mine.iter().any(|r| r.is_current(now)) {
                Relation::CurrentReferent
            } else if allowed_workers.contains(&actor.account) {
                Relation::AllowedWorker
            } else if !mine.is_empty() {
                Relation::FormerReferent
            } else {
                Relation::Unrelated
            }))
        }
        Role::Helper => {
            let mandates = relations.mandates_of_helper(actor.account).await?;
            let valid = mandates.iter().find(|m| {
                m.person == person
                    && m.is_valid_at(now)
                    && m.scopes.contains(&crate::domain::MandateScope::PlansRead)
            });
            Ok(match valid {
                Some(m) => Standing {
                    relation: Relation::MandatedHelper,
                    mandate: Some(m.id),
                },
                None => Standing::plain(Relation::Unrelated),
            })
        }
        _ => Ok(Standing::plain(Relation::Unrelated)),
    }
}
