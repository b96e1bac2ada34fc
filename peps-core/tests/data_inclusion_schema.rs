//! What PEPS exports in the data·inclusion v1 format validates against the real v1 JSON Schemas
//! (vendored verbatim in data/catalogue/data-inclusion-v1/schema/).

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::Value;

use peps_core::catalogue::data_inclusion::{service, structure};
use peps_core::catalogue::{
    Offer, OfferStatus, OrganisationProfile, ProfessionalContact, ReferenceData, synthetic,
};
use peps_core::domain::*;

fn validator(file: &str) -> jsonschema::Validator {
    let path = format!(
        "{}/data/catalogue/data-inclusion-v1/schema/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, record: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(record)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{record:#}");
}

#[test]
fn exported_services_and_structures_follow_the_v1_schema() {
    let reference = ReferenceData::builtin();
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let generated = synthetic::catalogue(41, 12, 400, &reference, today);
    let services = validator("service.json");
    let structures = validator("structure.json");
    let at = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
    let organisations: Vec<Organisation> = generated
        .organisations
        .iter()
        .map(|o| Organisation {
            id: OrganisationId::new(),
            name: OrganisationName::parse(&o.name).unwrap(),
            kind: OrganisationKind::Offerer,
            siret: Some(Siret::parse("21890024600016").unwrap()),
            created_at: at,
        })
        .collect();
    for (org, generated_org) in organisations.iter().zip(&generated.organisations) {
        let profile = OrganisationProfile {
            description: Some("Une structure du territoire.".into()),
            networks: generated_org.networks.clone(),
            website: Some("https://structure.example.org".into()),
            ..OrganisationProfile::default()
        };
        let record = serde_json::to_value(structure(
            org,
            Some(&profile),
            at,
            "peps-89",
            "https://peps.example.org",
        ))
        .unwrap();
        assert_valid(&structures, &record);
    }
    for generated_offer in generated.offers {
        let mut content = generated_offer.content.normalize(&reference).unwrap();
        content.professional_contact = Some(ProfessionalContact {
            name: Some("Mme Martin".into()),
            email: None,
            phone: None,
        });
        let offer = Offer {
            id: OfferId::new(),
            organisation_id: organisations[generated_offer.organisation].id,
            organisation_name: String::new(),
            status: OfferStatus::Published,
            content,
            temporary_changes: vec![],
            origin: None,
            review: None,
            version: 1,
            created_at: at,
            updated_at: at,
            last_verified_at: at,
            published_at: Some(at),
        };
        let record =
            serde_json::to_value(service(&offer, "peps-89", "https://peps.example.org")).unwrap();
        assert_valid(&services, &record);
        assert!(
            record.get("contact_nom_prenom").is_none(),
            "a named person is never exported"
        );
    }
}

#[test]
fn the_schema_refuses_what_it_should() {
    // The validator is real: a bad code or a too-short name fails.
    let services = validator("service.json");
    let bad = serde_json::json!({"source": "x", "id": "1", "structure_id": "s", "nom": "ab",
        "description": "court", "date_maj": "2026-11-22", "frais": "cher"});
    assert!(!services.is_valid(&bad));
}
