//! From data·inclusion v1 records to PEPS organisations and offers.
//!
//! A record that breaks the v1 schema or names codes outside the reference lists is rejected.
//! A record that is valid v1 but has an optional field PEPS cannot use as it is (opening hours
//! not in the OSM syntax, a phone number that is not one, a SIRET failing its checksum) is
//! taken without that field, and the dropped field is reported: losing a whole offer for its
//! opening hours would serve nobody.

use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::schema::FieldProblem;
use super::{V1Service, V1Structure};
use crate::catalogue::offer::{Contact, Location, Mobilisation, ProfessionalContact};
use crate::catalogue::{OfferContent, OrganisationProfile, Origin, ReferenceData, UpdateFrequency};
use crate::domain::{OrganisationName, Siret};
use crate::error::ValidationError;

/// A structure, ready to become an organisation with its profile.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedStructure {
    pub name: OrganisationName,
    pub siret: Option<Siret>,
    pub profile: OrganisationProfile,
    pub date_maj: NaiveDate,
    /// Optional fields left out, with why.
    pub dropped: Vec<FieldProblem>,
}

/// A service, ready to become an offer.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedService {
    pub content: OfferContent,
    pub origin: Origin,
    pub date_maj: NaiveDate,
    pub dropped: Vec<FieldProblem>,
}

/// The v1 field behind each field name the offer validation reports, and whether PEPS may
/// take the record without it.
fn offer_field(field: &str) -> (&'static str, bool) {
    match field {
        "title" => ("nom", false),
        "description" | "summary" => ("description", false),
        "theme" | "topics" => ("thematiques", false),
        "service_type" => ("type", false),
        "audiences" => ("publics", false),
        "audience_details" => ("publics_precisions", true),
        "cost" => ("frais", false),
        "cost_details" => ("frais_precisions", true),
        "access_conditions" => ("conditions_acces", true),
        "mobilisation.modes" => ("modes_mobilisation", false),
        "mobilisation.mobilised_by" => ("mobilisable_par", false),
        "mobilisation.link" => ("lien_mobilisation", true),
        "mobilisation.details" => ("mobilisation_precisions", true),
        "reception_modes" => ("modes_accueil", false),
        "locations" => ("adresse", false),
        "locations.postcode" => ("code_postal", true),
        "locations.commune_code" => ("code_insee", true),
        "locations.coordinates" => ("latitude", true),
        "eligibility_zone" => ("zone_eligibilite", false),
        "opening_hours" => ("horaires_accueil", true),
        "contact.email" => ("courriel", true),
        "contact.phone" => ("telephone", true),
        f if f.starts_with("professional_contact") => ("contact_nom_prenom", true),
        _ => ("*", false),
    }
}

fn profile_field(field: &str) -> (&'static str, bool) {
    match field {
        "description" => ("description", false),
        "address.postcode" => ("code_postal", true),
        "address.commune_code" => ("code_insee", true),
        "address.coordinates" => ("latitude", true),
        "contact.email" => ("courriel", true),
        "contact.phone" => ("telephone", true),
        "website" => ("site_web", true),
        "accessibility_url" => ("accessibilite_lieu", true),
        "opening_hours" => ("horaires_accueil", true),
        "networks" => ("reseaux_porteurs", false),
        _ => ("*", false),
    }
}

fn drop_offer_field(content: &mut OfferContent, field: &str) {
    let place = content.locations.first_mut();
    match field {
        "audience_details" => content.audience_details = None,
        "cost_details" => content.cost_details = None,
        "access_conditions" => content.access_conditions = None,
        "mobilisation.link" => content.mobilisation.link = None,
        "mobilisation.details" => content.mobilisation.details = None,
        "locations.postcode" => place.into_iter().for_each(|l| l.postcode = None),
        "locations.commune_code" => place.into_iter().for_each(|l| l.commune_code = None),
        "locations.coordinates" => place.into_iter().for_each(|l| {
            l.latitude = None;
            l.longitude = None;
        }),
        "opening_hours" => content.opening_hours = None,
        "contact.email" => content.contact.email = None,
        "contact.phone" => content.contact.phone = None,
        f if f.starts_with("professional_contact") => content.professional_contact = None,
        _ => {}
    }
}

fn drop_profile_field(profile: &mut OrganisationProfile, field: &str) {
    let address = profile.address.as_mut();
    match field {
        "address.postcode" => address.into_iter().for_each(|l| l.postcode = None),
        "address.commune_code" => address.into_iter().for_each(|l| l.commune_code = None),
        "address.coordinates" => address.into_iter().for_each(|l| {
            l.latitude = None;
            l.longitude = None;
        }),
        "contact.email" => profile.contact.email = None,
        "contact.phone" => profile.contact.phone = None,
        "website" => profile.website = None,
        "accessibility_url" => profile.accessibility_url = None,
        "opening_hours" => profile.opening_hours = None,
        _ => {}
    }
}

/// Validates with `normalize`, dropping what may be dropped and retrying once: every
/// droppable problem is found in the first pass, since fields are checked independently.
fn normalize_dropping<T: Clone>(
    value: T,
    normalize: impl Fn(T) -> Result<T, Vec<ValidationError>>,
    field_of: fn(&str) -> (&'static str, bool),
    drop: impl Fn(&mut T, &str),
) -> Result<(T, Vec<FieldProblem>), Vec<FieldProblem>> {
    let errors = match normalize(value.clone()) {
        Ok(normalized) => return Ok((normalized, Vec::new())),
        Err(errors) => errors,
    };
    let problems = |errors: &[ValidationError]| -> Vec<FieldProblem> {
        errors
            .iter()
            .map(|e| {
                let problem = FieldProblem::new(field_of(e.field).0, e.code);
                match &e.found {
                    Some(found) => problem.with_value(&serde_json::Value::String(found.clone())),
                    None => problem,
                }
            })
            .collect()
    };
    if errors.iter().any(|e| !field_of(e.field).1) {
        return Err(problems(&errors));
    }
    let mut value = value;
    for e in &errors {
        drop(&mut value, e.field);
    }
    let dropped = problems(&errors);
    normalize(value)
        .map(|v| (v, dropped))
        .map_err(|e| problems(&e))
}

fn date(raw: &str) -> Result<NaiveDate, Vec<FieldProblem>> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        vec![
            FieldProblem::new("date_maj", "v1.format")
                .with_value(&serde_json::Value::String(raw.to_owned())),
        ]
    })
}

fn place(
    address: &Option<String>,
    complement: &Option<String>,
    postcode: &Option<String>,
    commune: &Option<String>,
    code_insee: &Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
) -> Option<Location> {
    let location = Location {
        address: address.clone(),
        address_complement: complement.clone(),
        postcode: postcode.clone(),
        commune: commune.clone(),
        commune_code: code_insee.clone(),
        latitude,
        longitude,
    };
    (location != Location::default()).then_some(location)
}

/// A structure as an organisation and its public profile.
pub fn structure(
    record: &V1Structure,
    reference: &ReferenceData,
) -> Result<MappedStructure, Vec<FieldProblem>> {
    let date_maj = date(&record.date_maj)?;
    let name = OrganisationName::parse(&record.nom).map_err(|e| {
        vec![
            FieldProblem::new("nom", e.code)
                .with_value(&serde_json::Value::String(record.nom.clone())),
        ]
    })?;
    let mut dropped = Vec::new();
    let siret = match record.siret.as_deref().map(Siret::parse) {
        Some(Ok(siret)) => Some(siret),
        Some(Err(e)) => {
            dropped.push(FieldProblem::new("siret", e.code).with_value(
                &serde_json::Value::String(record.siret.clone().unwrap_or_default()),
            ));
            None
        }
        None => None,
    };
    let profile = OrganisationProfile {
        description: record.description.clone(),
        address: place(
            &record.adresse,
            &record.complement_adresse,
            &record.code_postal,
            &record.commune,
            &record.code_insee,
            record.latitude,
            record.longitude,
        ),
        contact: Contact {
            email: record.courriel.clone(),
            phone: record.telephone.clone(),
        },
        website: record.site_web.clone(),
        opening_hours: record.horaires_accueil.clone(),
        networks: record.reseaux_porteurs.clone().unwrap_or_default(),
        accessibility_url: record.accessibilite_lieu.clone(),
        confidential_address: false,
    };
    let (profile, more) = normalize_dropping(
        profile,
        |p| p.normalize(reference),
        profile_field,
        drop_profile_field,
    )?;
    dropped.extend(more);
    Ok(MappedStructure {
        name,
        siret,
        profile,
        date_maj,
        dropped,
    })
}

/// The theme of an offer that arrives with topics only: the theme covering most of its
/// topics (the first listed in `themes.yml` on a tie), else `default_theme`.
pub fn theme_for(topics: &[String], reference: &ReferenceData, default_theme: &str) -> String {
    let themes = reference.themes();
    let mut counts = vec![0usize; themes.len()];
    for topic in topics {
        if let Some(i) = reference
            .theme_for_topic(topic)
            .and_then(|theme| themes.iter().position(|t| t.code == theme))
        {
            counts[i] += 1;
        }
    }
    let best = counts
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .max_by(|(ia, a), (ib, b)| a.cmp(b).then(ib.cmp(ia)));
    match best {
        Some((i, _)) => themes[i].code.clone(),
        None => default_theme.to_owned(),
    }
}

/// A service as an offer's content. A service without any address of its own is given the
/// structure's (`structure_address`), as data·inclusion's own consumers do.
pub fn service(
    record: &V1Service,
    structure_address: Option<&Location>,
    reference: &ReferenceData,
    default_theme: &str,
) -> Result<MappedService, Vec<FieldProblem>> {
    let date_maj = date(&record.date_maj)?;
    let topics = record.thematiques.clone().unwrap_or_default();
    let own_place = place(
        &record.adresse,
        &record.complement_adresse,
        &record.code_postal,
        &record.commune,
        &record.code_insee,
        record.latitude,
        record.longitude,
    );
    let content = OfferContent {
        title: record.nom.clone(),
        summary: None,
        description: record.description.clone(),
        theme: theme_for(&topics, reference, default_theme),
        topics,
        service_type: record.service_type.clone(),
        audiences: record.publics.clone().unwrap_or_default(),
        audience_details: record.publics_precisions.clone(),
        cost: record.frais.clone(),
        cost_details: record.frais_precisions.clone(),
        access_conditions: record.conditions_acces.clone(),
        mobilisation: Mobilisation {
            modes: record.modes_mobilisation.clone().unwrap_or_default(),
            mobilised_by: record.mobilisable_par.clone().unwrap_or_default(),
            link: record.lien_mobilisation.clone(),
            details: record.mobilisation_precisions.clone(),
        },
        reception_modes: record.modes_accueil.clone().unwrap_or_default(),
        locations: own_place
            .or_else(|| structure_address.cloned())
            .into_iter()
            .collect(),
        eligibility_zone: record.zone_eligibilite.clone().unwrap_or_default(),
        opening_hours: record.horaires_accueil.clone(),
        contact: Contact {
            email: record.courriel.clone(),
            phone: record.telephone.clone(),
        },
        professional_contact: record
            .contact_nom_prenom
            .clone()
            .filter(|n| !n.trim().is_empty())
            .map(|name| ProfessionalContact {
                name: Some(name),
                email: None,
                phone: None,
            }),
        languages_spoken: Vec::new(),
        accessibility: Default::default(),
        website: None,
        validity: None,
        update_frequency_months: UpdateFrequency::DEFAULT_MONTHS,
        translations: Default::default(),
        confidential_address: false,
    };
    let (content, dropped) = normalize_dropping(
        content,
        |c| c.normalize(reference),
        offer_field,
        drop_offer_field,
    )?;
    Ok(MappedService {
        content,
        origin: Origin {
            source: record.source.clone(),
            id: record.id.clone(),
            link: record.lien_source.clone(),
        },
        date_maj,
        dropped,
    })
}

/// A stable hash of what an import writes, to tell an unchanged record from a changed one.
pub fn content_hash(value: &impl Serialize) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}
