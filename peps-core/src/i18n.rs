//! User-facing text through rust-i18n. The locale is always passed per call (never the
//! process-global locale): a server answers people in many languages at once.

use crate::domain::Language;

mod dates;
pub use dates::{format_date, format_time, localise_digits};

/// Every error code PEPS may return; each is a key `errors.<code>` in every locale file.
pub const ERROR_CODES: &[&str] = &[
    "access.denied",
    "account.password_change_required",
    "account.reset_needs_counter_request",
    "mandate.wallet_scope_is_the_persons",
    "mandate.consent_given_on.invalid",
    "mandate.consent_given_on.required",
    "consent.no_referent",
    "grant.ends_at.too_far",
    "plan.title.invalid",
    "step.title.invalid",
    "auth.login_required",
    "resource.not_found",
    "resource.conflict",
    "resource.stale",
    "service.unavailable",
    "internal",
    "auth.invalid_credentials",
    "auth.required",
    "auth.too_many_attempts",
    "auth.activation_code_invalid",
    "auth.second_factor_required",
    "auth.second_factor_enrolment_required",
    "auth.second_factor_invalid",
    "second_factor.no_enrolment",
    "oidc.state",
    "oidc.rejected",
    "oidc.refused",
    "oidc.unavailable",
    "oidc.role",
    "oidc.already_linked",
    "sign_in_request.account_unknown",
    "sign_in_request.account_role",
    "sign_in_request.already_linked",
    "notices.sms.no_phone",
    "outbox.not_parked",
    "account.password.too_weak",
    "account.password.too_long",
    "account.password.personal",
    "account.email.invalid",
    "account.display_name.empty",
    "account.display_name.too_long",
    "account.display_name.invalid",
    "account.role.unknown",
    "account.role.use_person_endpoint",
    "account.status.unknown",
    "account.login_taken",
    "account.disabled",
    "organisation.siret.format",
    "organisation.siret.checksum",
    "organisation.siret_taken",
    "organisation.kind.unknown",
    "organisation.name.too_short",
    "organisation.name.too_long",
    "organisation.name.invalid",
    "organisation.already_member",
    "organisation.membership_role",
    "referent.not_a_person",
    "referent.not_a_worker",
    "referent.already_current",
    "mandate.scope.unknown",
    "mandate.scopes.empty",
    "mandate.period.invalid",
    "mandate.not_a_person",
    "mandate.not_a_helper",
    "mandate.already_revoked",
    "language.unsupported",
    "request.malformed",
    "request.invalid_parameter",
    "request.too_large",
    "request.unsupported_media_type",
    "request.method_not_allowed",
    // Messages (not codes) for a malformed request whose field or parameter is known.
    "request.invalid_parameter.named",
    "request.malformed.field_unknown",
    "request.malformed.field_missing",
    "request.malformed.field_type",
    "route.not_found",
    "offer.title.too_short",
    "offer.title.too_long",
    "offer.summary.too_long",
    "offer.description.too_short",
    "offer.description.too_long",
    "offer.theme.unknown",
    "offer.topics.unknown",
    "offer.topics.too_many",
    "offer.service_type.unknown",
    "offer.audiences.unknown",
    "offer.audiences.tous_publics_alone",
    "offer.cost.unknown",
    "offer.text.too_long",
    "offer.mobilisation.modes_unknown",
    "offer.mobilisation.mobilised_by_unknown",
    "offer.url.invalid",
    "offer.reception_modes.unknown",
    "offer.locations.too_many",
    "offer.locations.postcode_invalid",
    "offer.locations.commune_code_invalid",
    "offer.locations.coordinates_invalid",
    "offer.locations.required_in_person",
    "offer.eligibility_zone.invalid",
    "offer.languages_spoken.unknown",
    "offer.contact.email_invalid",
    "offer.contact.phone_invalid",
    "offer.validity.reversed",
    "offer.update_frequency.invalid",
    "offer.translations.language",
    "offer.translations.title_length",
    "offer.status.unknown",
    "offer.status.transition",
    "offer.archived",
    "offer.version_conflict",
    "import.files_missing",
    "import.departement.invalid",
    "import.default_theme.unknown",
    "import.report_missing",
    "offer.version_required",
    "offer.review.reason_required",
    "offer.temporary_change.reversed",
    "offer.temporary_change.in_the_past",
    "offer.temporary_change.too_long",
    "offer.temporary_change.message_length",
    "offer.temporary_change.too_many",
    "organisation.description.length",
    "organisation.networks.unknown",
    "organisation.profile.version_conflict",
    "search.filter.unknown",
    "search.point.invalid",
    "search.point.incomplete",
    "search.radius.invalid",
    "search.sort.needs_point",
    "search.sort.unknown",
    "search.commune.invalid",
    "search.commune.unknown",
    "search.departement.invalid",
    "search.limit.invalid",
    "search.text.too_long",
    "search.cursor.invalid",
    "search.at.invalid",
    "opening_hours.empty",
    "opening_hours.expected_time",
    "opening_hours.invalid_time",
    "opening_hours.expected_weekday",
    "opening_hours.expected_month",
    "opening_hours.invalid_day",
    "opening_hours.reversed_range",
    "opening_hours.unterminated_comment",
    "opening_hours.unsupported",
    "opening_hours.unexpected",
    "opening_hours.too_long",
    "account.phone.invalid",
    "plan.title.empty",
    "plan.title.too_long",
    "plan.not_a_person",
    "plan.not_a_worker",
    "plan.closed",
    "plan.steps.too_many",
    "plan.version_changed",
    "plan.version_required",
    "plan.status.unknown",
    "step.title.empty",
    "step.title.too_long",
    "step.explanation.too_long",
    "step.tasks.too_long",
    "step.texts.required",
    "step.template.unknown",
    "step.documents.unknown_kind",
    "step.orientation.name_empty",
    "step.orientation.too_long",
    "step.orientation.phone_invalid",
    "step.orientation.email_invalid",
    "step.orientation.url_invalid",
    "step.orientation.offer_unknown",
    "step.private_note.too_long",
    "step.message.empty",
    "step.message.too_long",
    "step.date.out_of_range",
    "step.status.unknown",
    "step.status.not_allowed",
    "step.version_changed",
    "step.version_required",
    "step.who_acts.unknown",
    "steps.order_mismatch",
    "document.kind.unknown",
    "document.title.too_long",
    "document.title.invalid",
    "document.date.out_of_range",
    "document.date.before_issue",
    "document.file.empty",
    "document.file.too_large",
    "document.type.not_allowed",
    "document.type.svg",
    "document.type.html",
    "document.type.script",
    "document.type.executable",
    "document.type.unknown",
    "document.infected",
    "document.upload_interrupted",
    "document.integrity_failed",
    "document.blob_missing",
    "document.key_invalid",
    "document.revision_changed",
    "document.revision_required",
    "wallet.quota_exceeded",
    "wallet.keys_unavailable",
    "storage.unavailable",
    "scanner.unavailable",
    "grant.grantee.not_a_worker",
    "grant.grantee.unknown_organisation",
    "grant.scope.unknown_kind",
    "grant.scope.unknown_document",
    "grant.ends_at.past",
    "grant.grantee.one_of",
    "grant.scope.one_of",
    "request.step.unknown",
    "grant.already_revoked",
    "request.kinds.empty",
    "request.message.too_long",
    "request.closed",
    "request.nothing_to_share",
];

/// Other user-facing keys (the activation sheet handed to a person).
pub const TEXT_KEYS: &[&str] = &[
    "activation.title",
    "activation.intro",
    "activation.login",
    "activation.code",
    "activation.expires",
    "activation.steps",
    "activation.keep_private",
    "catalogue.reminder.subject",
    "catalogue.reminder.body",
    "catalogue.reminder.verify_by",
    "catalogue.unverified_since",
    "plans.notice.new_step.subject",
    "plans.notice.new_step.body",
    "plans.notice.step_changed.subject",
    "plans.notice.step_changed.body",
    "plans.notice.message.subject",
    "plans.notice.message.body",
    "plans.notice.due_soon.subject",
    "plans.notice.due_soon.body",
    "plans.notice.appointment.subject",
    "plans.notice.appointment.body",
    "plans.notice.worker_update.subject",
    "plans.notice.worker_update.body",
    "plans.sms.new_step",
    "plans.sms.step_changed",
    "plans.sms.message",
    "plans.sms.due_soon",
    "plans.sms.appointment",
    "plans.print.heading",
    "plans.print.person",
    "plans.print.printed_on",
    "plans.print.step",
    "plans.print.what_to_do",
    "plans.print.where",
    "plans.print.due_on",
    "plans.print.appointment",
    "plans.print.documents",
    "plans.print.who_acts",
    "plans.print.status",
    "plans.print.machine_translated",
    "plans.print.not_translated",
    "plans.print.offer_unavailable",
    "plans.print.french",
    "plans.print.empty",
    "plans.status.planned",
    "plans.status.in_progress",
    "plans.status.done",
    "plans.status.abandoned_by_person",
    "plans.status.cancelled_by_service",
    "plans.status.on_hold",
    "plans.who_acts.person",
    "plans.who_acts.referent",
    "plans.who_acts.helper",
    "documents.kind.identity",
    "documents.kind.passport",
    "documents.kind.residence_permit",
    "documents.kind.proof_of_address",
    "documents.kind.tax_notice",
    "documents.kind.payslips",
    "documents.kind.caf_certificate",
    "documents.kind.health_insurance_certificate",
    "documents.kind.bank_details",
    "documents.kind.family_record_book",
    "documents.kind.birth_certificate",
    "documents.kind.proof_of_resources",
    "documents.kind.france_travail_registration",
    "documents.kind.domiciliation_certificate",
    "documents.kind.photo",
    "documents.kind.medical_certificate",
    "documents.kind.housing_contract",
    "documents.kind.rent_receipts",
    "documents.kind.school_certificate",
    "documents.kind.work_contract",
    "wallet.notice.document_added.subject",
    "wallet.notice.document_added.body",
    "wallet.notice.documents_requested.subject",
    "wallet.notice.documents_requested.body",
    "wallet.notice.document_expiring.subject",
    "wallet.notice.document_expiring.body",
    "wallet.sms.document_added",
    "wallet.sms.documents_requested",
    "wallet.sms.document_expiring",
];

/// The text for `key` in `language`, falling back to English, then to the key itself.
pub fn text(key: &str, language: &str) -> String {
    crate::_rust_i18n_translate(language, key).into_owned()
}

/// Like [`text`], replacing `%{name}` placeholders.
pub fn text_with(key: &str, language: &str, args: &[(&str, &str)]) -> String {
    let template = text(key, language);
    let names: Vec<&str> = args.iter().map(|(n, _)| *n).collect();
    let values: Vec<String> = args.iter().map(|(_, v)| (*v).to_owned()).collect();
    rust_i18n::replace_patterns(&template, &names, &values)
}

/// The localised message of an error code.
pub fn error_message(code: &str, language: &str) -> String {
    text(&format!("errors.{code}"), language)
}

/// The localised message of an error code, with `%{name}` placeholders filled.
pub fn error_message_with(code: &str, language: &str, args: &[(&str, &str)]) -> String {
    text_with(&format!("errors.{code}"), language, args)
}

/// Whether `key` exists in `language` itself (no fallback).
pub fn has_text(key: &str, language: &str) -> bool {
    crate::_rust_i18n_backend()
        .translate(language, key)
        .is_some()
}

pub fn locales() -> Vec<String> {
    crate::_rust_i18n_available_locales()
        .into_iter()
        .map(|l| l.into_owned())
        .collect()
}

/// The activation sheet a worker prints and hands over, in one language.
pub fn activation_sheet(language: &Language, login: &str, code: &str, expires: &str) -> String {
    let lang = language.code();
    [
        text("activation.title", lang),
        text("activation.intro", lang),
        text_with("activation.login", lang, &[("login", login)]),
        text_with("activation.code", lang, &[("code", code)]),
        text_with("activation.expires", lang, &[("date", expires)]),
        text("activation.steps", lang),
        text("activation.keep_private", lang),
    ]
    .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys_of(language: &str) -> BTreeSet<String> {
        let path = format!("{}/locales/{language}.yml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let map: serde_yaml::Mapping = serde_yaml::from_str(&text).expect("valid YAML");
        map.into_iter()
            .filter_map(|(k, v)| {
                let k = k.as_str()?.to_owned();
                assert!(
                    k == "_version" || v.as_str().is_some_and(|s| !s.trim().is_empty()),
                    "{language}: {k} is empty"
                );
                (k != "_version").then_some(k)
            })
            .collect()
    }

    #[test]
    fn every_language_has_a_locale_file_with_every_key() {
        let reference = keys_of("fr");
        for code in ERROR_CODES {
            assert!(
                reference.contains(&format!("errors.{code}")),
                "fr lacks errors.{code}"
            );
        }
        for key in TEXT_KEYS {
            assert!(reference.contains(*key), "fr lacks {key}");
        }
        for language in Language::all() {
            let keys = keys_of(&language.code);
            let missing: Vec<_> = reference.difference(&keys).collect();
            let extra: Vec<_> = keys.difference(&reference).collect();
            assert!(missing.is_empty(), "{}: missing {missing:?}", language.code);
            assert!(
                extra.is_empty(),
                "{}: keys not in fr.yml {extra:?}",
                language.code
            );
            for key in &reference {
                assert!(
                    has_text(key, &language.code),
                    "{} not loaded: {key}",
                    language.code
                );
            }
        }
    }

    #[test]
    fn placeholders_survive_translation() {
        for language in Language::all() {
            let sheet = activation_sheet(
                &Language::parse(&language.code).unwrap(),
                "marie.dupont.0042",
                "K7M3Q-9XH2W",
                "2026-12-06",
            );
            assert!(sheet.contains("marie.dupont.0042"), "{}", language.code);
            assert!(sheet.contains("K7M3Q-9XH2W"), "{}", language.code);
            assert!(sheet.contains("2026-12-06"), "{}", language.code);
        }
    }

    #[test]
    fn messages_differ_by_language_and_fall_back() {
        let fr = error_message("auth.invalid_credentials", "fr");
        let en = error_message("auth.invalid_credentials", "en");
        assert_ne!(fr, en);
        assert_eq!(error_message("auth.invalid_credentials", "xx"), en);
    }

    /// Every code literal given to a `ValidationError` or `CoreError::Conflict` anywhere in the
    /// workspace is listed in ERROR_CODES (and so translated).
    #[test]
    fn codes_used_in_source_are_listed() {
        // The workspace's own source folders only: the repository root also holds target/.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut stack = vec![root.join("examples")];
        for member in ["peps-core", "peps-store", "peps-http", "peps-cli"] {
            assert!(
                root.join(member).join("src").is_dir(),
                "{member}/src is missing"
            );
            for part in ["src", "tests", "benches"] {
                let dir = root.join(member).join(part);
                if dir.is_dir() {
                    stack.push(dir);
                }
            }
        }
        let mut found = BTreeSet::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let src = std::fs::read_to_string(&path).unwrap();
                    for marker in [
                        "ValidationError::new(",
                        "CoreError::Conflict(",
                        "conflict_as(e, ",
                        "ApiError::invalid(",
                        "CoreError::TooLarge(",
                        "CoreError::Integrity(",
                        "CoreError::Unavailable(",
                        "ApiError::new(",
                    ] {
                        for (i, _) in src.match_indices(marker) {
                            let rest = &src[i + marker.len()..];
                            let args: &str = rest.split(')').next().unwrap_or("");
                            // The code is the 2nd string literal of ValidationError::new, else the 1st.
                            let position = if marker.starts_with("Validation")
                                || marker.starts_with("ApiError::invalid")
                            {
                                3
                            } else {
                                1
                            };
                            if let Some(code) = args.split('"').nth(position)
                                && code.contains('.')
                                && !code.contains(' ')
                            {
                                found.insert(code.to_owned());
                            }
                        }
                    }
                }
            }
        }
        assert!(found.len() > 20, "the scan found too little: {found:?}");
        for code in found {
            assert!(
                ERROR_CODES.contains(&code.as_str()),
                "{code} is not in ERROR_CODES"
            );
        }
    }
}
