//! Who may do what: one pure function, deny by default.
//!
//! Services work out the [`Relation`] between the actor and the resource from the store (is the
//! actor this person's current referent? does the helper hold a valid mandate?) and then ask
//! [`authorize`]. Nothing else in PEPS decides access.

use crate::domain::{AccountId, OrganisationId, Role};

/// The authenticated account doing something, as seen by the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub account: AccountId,
    pub role: Role,
    pub organisations: Vec<OrganisationId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Create an account of the given role.
    CreateAccount(Role),
    ViewAccount,
    ListAccounts,
    IssueActivationCode,
    DisableAccount,
    /// Read the access and change log kept about a person.
    ViewAuditTrail,
    CreateOrganisation,
    ViewOrganisation,
    AddMember,
    AssignReferent,
    EndReferent,
    ViewReferents,
    /// Give a helper a mandate without wallet scopes (plans).
    GrantMandate,
    /// Give a helper a mandate with a wallet scope: a path to the person's papers, so the
    /// person's own (from a session they opened with their own password).
    GrantWalletMandate,
    /// At the counter, record the person's explicit, dated consent to a path to their papers
    /// (the worker's own access to the wallet, a helper's wallet mandate). The person is told
    /// at once, in their language, and can withdraw it.
    RecordCounterConsent,
    RevokeMandate,
    ViewMandates,
    /// Create, edit, publish, suspend, archive, verify an organisation's offers and edit its
    /// profile; see its drafts and the offers' history.
    ManageOffers,
    /// Approve or refuse offers waiting for validation (deployments with moderation).
    ModerateOffers,
    /// See the named contact person of an offer (personal data, for professionals only).
    ViewProfessionalContacts,
    /// See the street and coordinates of a place whose address is confidential (a shelter):
    /// workers who orient people there, admins, and the organisation's own members.
    ViewConfidentialAddresses,
    /// Import a data·inclusion extract into the catalogue and follow the import jobs.
    ImportCatalogue,
    /// Start a plan for a person.
    CreatePlan,
    /// Read a plan's content: steps, texts, orientations, history.
    ViewPlan,
    /// Know that a plan exists, its status and dates, without its content.
    ViewPlanMetadata,
    /// Write a plan: title, steps, order, any step status, close or reopen.
    EditPlan,
    /// Read and write the workers' private notes on steps.
    ViewPrivateNotes,
    /// Report progress on a step (in progress, done, given up).
    ReportStepProgress,
    /// Read and write a step's message thread.
    DiscussStep,
    /// Allow other workers onto a plan, or remove them.
    AllowPlanWorkers,
    /// List, read and download wallet documents (each one checked against the grants).
    ViewDocuments,
    /// Add documents or pages to a person's wallet.
    UploadDocuments,
    /// Edit a document's kind, title and dates, or delete it.
    ManageDocuments,
    /// Grant, revoke, consent for the referent, export or erase the whole wallet.
    ShareWallet,
    /// Read the wallet's access log.
    ViewWalletLog,
    /// Ask the person for documents.
    RequestDocuments,
    /// Stop or restart text messages to a person: the person, or their referent at the
    /// counter for someone who cannot use the page.
    ChooseTextMessages,
    /// See the messages that could not be sent, retry or discard them.
    ManageOutbox,
}

impl Action {
    pub fn all() -> Vec<Action> {
        let mut all: Vec<Action> = Role::ALL.into_iter().map(Action::CreateAccount).collect();
        all.extend([
            Action::ViewAccount,
            Action::ListAccounts,
            Action::IssueActivationCode,
            Action::DisableAccount,
            Action::ViewAuditTrail,
            Action::CreateOrganisation,
            Action::ViewOrganisation,
            Action::AddMember,
            Action::AssignReferent,
            Action::EndReferent,
            Action::ViewReferents,
            Action::GrantMandate,
            Action::GrantWalletMandate,
            Action::RecordCounterConsent,
            Action::RevokeMandate,
            Action::ViewMandates,
            Action::ManageOffers,
            Action::ModerateOffers,
            Action::ViewProfessionalContacts,
            Action::ViewConfidentialAddresses,
            Action::ImportCatalogue,
            Action::CreatePlan,
            Action::ViewPlan,
            Action::ViewPlanMetadata,
            Action::EditPlan,
            Action::ViewPrivateNotes,
            Action::ReportStepProgress,
            Action::DiscussStep,
            Action::AllowPlanWorkers,
            Action::ViewDocuments,
            Action::UploadDocuments,
            Action::ManageDocuments,
            Action::ShareWallet,
            Action::ViewWalletLog,
            Action::RequestDocuments,
            Action::ChooseTextMessages,
            Action::ManageOutbox,
        ]);
        all
    }
}

/// How the actor stands towards the resource (an account, a person's file, a mandate…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// The resource is the actor's own account, or the person's own file.
    Oneself,
    /// The actor's own account, but its password was chosen with a code someone else issued
    /// (a reset at the counter) and the person has not changed it since: whoever issued the
    /// code may know it, so nothing that only the person may see or open is reachable.
    OneselfByIssuedCode,
    /// The actor is the person's referent now.
    CurrentReferent,
    /// The actor was the person's referent; that relation has ended.
    FormerReferent,
    /// The actor is a helper holding a mandate from the person that is valid now.
    MandatedHelper,
    /// The actor is the helper named in the mandate being acted upon.
    MandateHolder,
    /// The actor belongs to the organisation concerned, or shares one with the account.
    SameOrganisation,
    /// The actor is a worker the person allowed onto this plan.
    AllowedWorker,
    /// The actor is a worker covered, for what they ask, by a grant of the person (directly or
    /// through their organisation) or by the person's consent to their referent.
    WalletGrantee,
    /// None of the above (including a helper whose mandate expired or was revoked).
    Unrelated,
}

impl Relation {
    /// The actor's own account, whatever the origin of its password.
    pub fn is_oneself(self) -> bool {
        matches!(self, Relation::Oneself | Relation::OneselfByIssuedCode)
    }

    pub const ALL: [Relation; 10] = [
        Relation::Oneself,
        Relation::OneselfByIssuedCode,
        Relation::CurrentReferent,
        Relation::FormerReferent,
        Relation::MandatedHelper,
        Relation::MandateHolder,
        Relation::SameOrganisation,
        Relation::AllowedWorker,
        Relation::WalletGrantee,
        Relation::Unrelated,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("access denied")]
pub struct Denied;

/// The one place that says who may do what. Anything not listed is denied.
pub fn authorize(role: Role, action: Action, relation: Relation) -> Result<(), Denied> {
    use Action as A;
    use Relation as R;
    use Role::*;

    let allowed = match action {
        A::CreateAccount(Person) => matches!(role, Worker | Admin),
        A::CreateAccount(_) => role == Admin,
        A::ViewAccount => {
            relation == R::Oneself
                || role == Admin
                || (role == Worker && relation == R::CurrentReferent)
                || (role == Helper && relation == R::MandatedHelper)
                || (matches!(role, Worker | Member) && relation == R::SameOrganisation)
        }
        A::ListAccounts | A::CreateOrganisation | A::AddMember => role == Admin,
        // An admin may not lock themselves out, nor issue themselves a code.
        A::IssueActivationCode => {
            (role == Admin && !relation.is_oneself())
                || (role == Worker && relation == R::CurrentReferent)
        }
        A::DisableAccount => role == Admin && !relation.is_oneself(),
        A::ViewAuditTrail => relation == R::Oneself || role == Admin,
        A::ViewOrganisation => true,
        A::AssignReferent | A::EndReferent => {
            role == Admin || (role == Worker && relation == R::CurrentReferent)
        }
        A::ViewReferents => {
            role == Admin
                || (role == Person && relation == R::Oneself)
                || (role == Worker && relation == R::CurrentReferent)
                || (role == Helper && relation == R::MandatedHelper)
        }
        A::GrantMandate => {
            role == Admin
                || (role == Person && relation == R::Oneself)
                || (role == Worker && relation == R::CurrentReferent)
        }
        // A path to the papers: the person's own, never an admin's (see `RecordCounterConsent`
        // for the counter).
        A::GrantWalletMandate => role == Person && relation == R::Oneself,
        A::RecordCounterConsent => role == Worker && relation == R::CurrentReferent,
        A::RevokeMandate => {
            role == Admin
                || (role == Person && relation == R::Oneself)
                || (role == Helper && relation == R::MandateHolder)
        }
        A::ViewMandates => {
            role == Admin
                || (role == Person && relation == R::Oneself)
                || (role == Worker && relation == R::CurrentReferent)
                || (role == Helper && relation == R::MandateHolder)
        }
        A::ManageOffers => role == Admin || (role == Member && relation == R::SameOrganisation),
        A::ModerateOffers | A::ImportCatalogue => role == Admin,
        A::ViewProfessionalContacts => matches!(role, Worker | Member | Admin),
        A::ViewConfidentialAddresses => {
            matches!(role, Worker | Admin) || (role == Member && relation == R::SameOrganisation)
        }
        A::CreatePlan => role == Worker && relation == R::CurrentReferent,
        A::ViewPlan => {
            (role == Person && relation == R::Oneself)
                || (role == Worker && matches!(relation, R::CurrentReferent | R::AllowedWorker))
                || (role == Helper && relation == R::MandatedHelper)
        }
        // An admin answers for the service's running, not for people's lives: no content.
        A::ViewPlanMetadata => role == Admin || authorize(role, A::ViewPlan, relation).is_ok(),
        A::EditPlan | A::ViewPrivateNotes => {
            role == Worker && matches!(relation, R::CurrentReferent | R::AllowedWorker)
        }
        A::ReportStepProgress | A::AllowPlanWorkers => role == Person && relation == R::Oneself,
        A::DiscussStep => {
            (role == Person && relation == R::Oneself)
                || (role == Worker && matches!(relation, R::CurrentReferent | R::AllowedWorker))
        }
        // The wallet has no admin path at all: papers are the person's alone.
        A::ViewDocuments | A::UploadDocuments => {
            (role == Person && relation == R::Oneself)
                || (role == Worker && relation == R::WalletGrantee)
                || (role == Helper && relation == R::MandatedHelper)
        }
        A::ManageDocuments | A::ShareWallet | A::ViewWalletLog => {
            role == Person && relation == R::Oneself
        }
        A::RequestDocuments => {
            role == Worker && matches!(relation, R::CurrentReferent | R::WalletGrantee)
        }
        A::ChooseTextMessages => {
            (role == Person && relation == R::Oneself)
                || (role == Worker && relation == R::CurrentReferent)
        }
        A::ManageOutbox => role == Admin,
    };
    if allowed { Ok(()) } else { Err(Denied) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    /// The access table, written out by hand as the reference: `action: role/relation, …`
    /// where `*` means any relation. Every triple not listed must be denied.
    const TABLE: &str = "
        create_account(person): worker/*, admin/*
        create_account(worker): admin/*
        create_account(member): admin/*
        create_account(helper): admin/*
        create_account(admin): admin/*
        view_account: person/oneself, worker/oneself, member/oneself, helper/oneself, admin/*,
                      worker/current_referent, helper/mandated_helper,
                      worker/same_organisation, member/same_organisation
        list_accounts: admin/*
        issue_activation_code: worker/current_referent, admin/current_referent,
                      admin/former_referent, admin/mandated_helper, admin/mandate_holder,
                      admin/same_organisation, admin/allowed_worker, admin/wallet_grantee,
                      admin/unrelated
        disable_account: admin/current_referent, admin/former_referent, admin/mandated_helper,
                      admin/mandate_holder, admin/same_organisation, admin/allowed_worker,
                      admin/wallet_grantee, admin/unrelated
        view_audit_trail: person/oneself, worker/oneself, member/oneself, helper/oneself, admin/*
        create_organisation: admin/*
        view_organisation: person/*, worker/*, member/*, helper/*, admin/*
        add_member: admin/*
        assign_referent: worker/current_referent, admin/*
        end_referent: worker/current_referent, admin/*
        view_referents: person/oneself, worker/current_referent, helper/mandated_helper, admin/*
        grant_mandate: person/oneself, worker/current_referent, admin/*
        grant_wallet_mandate: person/oneself
        record_counter_consent: worker/current_referent
        revoke_mandate: person/oneself, helper/mandate_holder, admin/*
        view_mandates: person/oneself, worker/current_referent, helper/mandate_holder, admin/*
        manage_offers: member/same_organisation, admin/*
        moderate_offers: admin/*
        view_professional_contacts: worker/*, member/*, admin/*
        view_confidential_addresses: worker/*, admin/*, member/same_organisation
        import_catalogue: admin/*
        create_plan: worker/current_referent
        view_plan: person/oneself, worker/current_referent, worker/allowed_worker,
                      helper/mandated_helper
        view_plan_metadata: person/oneself, worker/current_referent, worker/allowed_worker,
                      helper/mandated_helper, admin/*
        edit_plan: worker/current_referent, worker/allowed_worker
        view_private_notes: worker/current_referent, worker/allowed_worker
        report_step_progress: person/oneself
        discuss_step: person/oneself, worker/current_referent, worker/allowed_worker
        allow_plan_workers: person/oneself
        view_documents: person/oneself, worker/wallet_grantee, helper/mandated_helper
        upload_documents: person/oneself, worker/wallet_grantee, helper/mandated_helper
        manage_documents: person/oneself
        share_wallet: person/oneself
        view_wallet_log: person/oneself
        request_documents: worker/current_referent, worker/wallet_grantee
        choose_text_messages: person/oneself, worker/current_referent
        manage_outbox: admin/*
    ";

    fn action_name(action: Action) -> String {
        match action {
            Action::CreateAccount(role) => format!("create_account({role})"),
            other => {
                // CamelCase variant name to snake_case.
                let debug = format!("{other:?}");
                let mut out = String::new();
                for (i, c) in debug.chars().enumerate() {
                    if c.is_uppercase() && i > 0 {
                        out.push('_');
                    }
                    out.push(c.to_ascii_lowercase());
                }
                out
            }
        }
    }

    fn relation_name(relation: Relation) -> &'static str {
        match relation {
            Relation::Oneself => "oneself",
            Relation::OneselfByIssuedCode => "oneself_by_issued_code",
            Relation::CurrentReferent => "current_referent",
            Relation::FormerReferent => "former_referent",
            Relation::MandatedHelper => "mandated_helper",
            Relation::MandateHolder => "mandate_holder",
            Relation::SameOrganisation => "same_organisation",
            Relation::AllowedWorker => "allowed_worker",
            Relation::WalletGrantee => "wallet_grantee",
            Relation::Unrelated => "unrelated",
        }
    }

    fn allowed_triples() -> HashSet<(String, String, String)> {
        let mut set = HashSet::new();
        let joined = TABLE.replace(",\n", ", ");
        for line in joined.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (action, rest) = line.split_once(": ").expect("action: entries");
            for entry in rest.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let (role, relation) = entry.split_once('/').expect("role/relation");
                let relations: Vec<&str> = if relation == "*" {
                    Relation::ALL.iter().map(|r| relation_name(*r)).collect()
                } else {
                    vec![relation]
                };
                for relation in relations {
                    set.insert((action.to_owned(), role.to_owned(), relation.to_owned()));
                }
            }
        }
        set
    }

    #[test]
    fn every_role_action_relation_matches_the_table() {
        let allowed = allowed_triples();
        let mut checked = 0;
        for action in Action::all() {
            for role in Role::ALL {
                for relation in Relation::ALL {
                    let key = (
                        action_name(action),
                        role.as_str().to_owned(),
                        relation_name(relation).to_owned(),
                    );
                    let expected = allowed.contains(&key);
                    assert_eq!(
                        authorize(role, action, relation).is_ok(),
                        expected,
                        "{key:?} should be {}",
                        if expected { "allowed" } else { "denied" }
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, Action::all().len() * 5 * Relation::ALL.len());
        // Every line of the table names a real triple (no typo silently allowing nothing).
        let names: HashSet<_> = Action::all().into_iter().map(action_name).collect();
        for (action, role, relation) in &allowed {
            assert!(names.contains(action), "unknown action {action}");
            assert!(role.parse::<Role>().is_ok(), "unknown role {role}");
            assert!(
                Relation::ALL.iter().any(|r| relation_name(*r) == relation),
                "unknown relation {relation}"
            );
        }
    }

    #[test]
    fn cross_account_cases_are_denied() {
        // Another person, an ex-referent, an expired mandate, another organisation's member.
        for action in [
            Action::ViewAccount,
            Action::ViewMandates,
            Action::ViewReferents,
            Action::ViewPlan,
            Action::ViewPlanMetadata,
            Action::EditPlan,
            Action::DiscussStep,
            Action::ViewDocuments,
            Action::UploadDocuments,
            Action::ViewWalletLog,
        ] {
            assert!(authorize(Role::Person, action, Relation::Unrelated).is_err());
            assert!(authorize(Role::Worker, action, Relation::FormerReferent).is_err());
            assert!(authorize(Role::Helper, action, Relation::Unrelated).is_err());
            assert!(authorize(Role::Member, action, Relation::Unrelated).is_err());
        }
    }

    /// The paths to a person's papers and the views only the person has. The side doors of
    /// issue 14: an admin through a helper's mandate, a referent through a mandate or a
    /// co-referent, anyone through a password they set with a code they issued.
    const PAPER_PATHS: [Action; 6] = [
        Action::ShareWallet,
        Action::GrantWalletMandate,
        Action::ViewWalletLog,
        Action::ManageDocuments,
        Action::ViewDocuments,
        Action::UploadDocuments,
    ];

    #[test]
    fn only_the_person_opens_a_path_to_their_papers() {
        for action in PAPER_PATHS {
            for relation in Relation::ALL {
                // An admin: never, whatever the relation (no wallet mandate either).
                assert!(
                    authorize(Role::Admin, action, relation).is_err(),
                    "{action:?}"
                );
                // A password set with someone else's code opens nothing of the wallet.
                for role in Role::ALL {
                    assert!(
                        authorize(role, action, Relation::OneselfByIssuedCode).is_err(),
                        "{role:?} {action:?}"
                    );
                }
            }
        }
        // Opening a path is the person's, from their own session…
        for action in [Action::ShareWallet, Action::GrantWalletMandate] {
            for role in Role::ALL {
                for relation in Relation::ALL {
                    let allowed = role == Role::Person && relation == Relation::Oneself;
                    assert_eq!(authorize(role, action, relation).is_ok(), allowed);
                }
            }
        }
        // …or the current referent's at the counter, recording the person's dated consent.
        for role in Role::ALL {
            for relation in Relation::ALL {
                let allowed = role == Role::Worker && relation == Relation::CurrentReferent;
                assert_eq!(
                    authorize(role, Action::RecordCounterConsent, relation).is_ok(),
                    allowed
                );
            }
        }
        // A referent's plain mandate power does not extend to wallet scopes.
        assert!(
            authorize(
                Role::Worker,
                Action::GrantMandate,
                Relation::CurrentReferent
            )
            .is_ok()
        );
        assert!(
            authorize(
                Role::Worker,
                Action::GrantWalletMandate,
                Relation::CurrentReferent
            )
            .is_err()
        );
        assert!(authorize(Role::Admin, Action::GrantMandate, Relation::Unrelated).is_ok());
        assert!(authorize(Role::Admin, Action::GrantWalletMandate, Relation::Unrelated).is_err());
    }

    fn any_role() -> impl Strategy<Value = Role> {
        proptest::sample::select(Role::ALL.to_vec())
    }
    fn any_action() -> impl Strategy<Value = Action> {
        proptest::sample::select(Action::all())
    }

    proptest! {
        /// Deny by default: with no relation, only creating a person (workers), reading an
        /// organisation's public profile and, for professionals, offers' contact persons are
        /// open to anyone but an admin.
        #[test]
        fn unrelated_non_admins_get_almost_nothing(role in any_role(), action in any_action()) {
            prop_assume!(role != Role::Admin);
            let open = action == Action::ViewOrganisation
                || (role == Role::Worker && action == Action::CreateAccount(Role::Person))
                || (matches!(role, Role::Worker | Role::Member)
                    && action == Action::ViewProfessionalContacts)
                || (role == Role::Worker && action == Action::ViewConfidentialAddresses);
            prop_assert_eq!(authorize(role, action, Relation::Unrelated).is_ok(), open);
        }

        /// A former referent never has more rights than a stranger.
        #[test]
        fn former_referent_is_a_stranger(role in any_role(), action in any_action()) {
            prop_assert_eq!(
                authorize(role, action, Relation::FormerReferent).is_ok(),
                authorize(role, action, Relation::Unrelated).is_ok()
            );
        }
    }
}
