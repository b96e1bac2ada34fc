//! The data·inclusion v1 exchange format (GIP Plateforme de l'inclusion — data·inclusion
//! schema, Licence Ouverte 2.0): `structure` and `service` records, and the mapping from PEPS's
//! organisations and offers. Field names are the schema's own, in French.

use serde::{Deserialize, Serialize};

pub mod import;
pub mod read;
pub mod schema;
pub mod write;

use super::offer::{Offer, OrganisationProfile};
use crate::domain::Organisation;

/// A data·inclusion v1 `structure`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct V1Structure {
    pub source: String,
    pub id: String,
    pub nom: String,
    /// `YYYY-MM-DD`.
    pub date_maj: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub siret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adresse: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complement_adresse: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_postal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commune: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_insee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub courriel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_web: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horaires_accueil: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessibilite_lieu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reseaux_porteurs: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lien_source: Option<String>,
}

/// A data·inclusion v1 `service`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct V1Service {
    pub source: String,
    pub id: String,
    pub structure_id: String,
    pub nom: String,
    pub description: String,
    /// `YYYY-MM-DD`.
    pub date_maj: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thematiques: Option<Vec<String>>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publics: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publics_precisions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frais: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frais_precisions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions_acces: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modes_accueil: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modes_mobilisation: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobilisable_par: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lien_mobilisation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobilisation_precisions: Option<String>,
    /// For a course: how many weeks (PEPS keeps no such field; read and not stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nombre_semaines: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_horaire_hebdomadaire: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adresse: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complement_adresse: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_postal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commune: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_insee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_eligibilite: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horaires_accueil: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub courriel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    /// A named person: personal data. PEPS never fills it on export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_nom_prenom: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lien_source: Option<String>,
}

fn non_empty(values: &[String]) -> Option<Vec<String>> {
    (!values.is_empty()).then(|| values.to_vec())
}

/// The structure record of an organisation. `public_url` is where PEPS is reached (for
/// `lien_source`).
pub fn structure(
    organisation: &Organisation,
    profile: Option<&OrganisationProfile>,
    updated: chrono::DateTime<chrono::Utc>,
    source: &str,
    public_url: &str,
) -> V1Structure {
    let default = OrganisationProfile::default();
    let p = profile.unwrap_or(&default);
    // Open data is public: a confidential address leaves only its commune.
    let address = p.address.clone().map(|mut a| {
        if p.confidential_address {
            a.withhold_street();
        }
        a
    });
    let address = address.as_ref();
    V1Structure {
        source: source.to_owned(),
        id: organisation.id.to_string(),
        nom: organisation.name.as_str().to_owned(),
        date_maj: updated.format("%Y-%m-%d").to_string(),
        siret: organisation.siret.as_ref().map(|s| s.as_str().to_owned()),
        description: p.description.clone(),
        adresse: address.and_then(|a| a.address.clone()),
        complement_adresse: address.and_then(|a| a.address_complement.clone()),
        code_postal: address.and_then(|a| a.postcode.clone()),
        commune: address.and_then(|a| a.commune.clone()),
        code_insee: address.and_then(|a| a.commune_code.clone()),
        latitude: address.and_then(|a| a.latitude),
        longitude: address.and_then(|a| a.longitude),
        courriel: p.contact.email.clone(),
        telephone: p.contact.phone.clone(),
        site_web: p.website.clone(),
        horaires_accueil: p.opening_hours.clone(),
        accessibilite_lieu: p.accessibility_url.clone(),
        reseaux_porteurs: non_empty(&p.networks),
        lien_source: Some(format!(
            "{}/api/v1/organisations/{}/profile",
            public_url.trim_end_matches('/'),
            organisation.id
        )),
    }
}

/// The service record of an offer. v1 has one place per service: the first location is
/// exported. The summary, which v1 lacks, opens the description. The named contact person is
/// personal data and never exported.
pub fn service(offer: &Offer, source: &str, public_url: &str) -> V1Service {
    let c = &offer.content;
    // Open data is public: a confidential place leaves only its commune.
    let place = c.locations.first().cloned().map(|mut l| {
        if c.confidential_address {
            l.withhold_street();
        }
        l
    });
    let place = place.as_ref();
    let description = match &c.summary {
        Some(summary) if !c.description.starts_with(summary.as_str()) => {
            format!("{summary}\n\n{}", c.description)
        }
        _ => c.description.clone(),
    };
    V1Service {
        source: source.to_owned(),
        id: offer.id.to_string(),
        structure_id: offer.organisation_id.to_string(),
        nom: c.title.clone(),
        description,
        date_maj: offer.updated_at.format("%Y-%m-%d").to_string(),
        thematiques: non_empty(&c.topics),
        service_type: c.service_type.clone(),
        publics: non_empty(&c.audiences),
        publics_precisions: c.audience_details.clone(),
        frais: c.cost.clone(),
        frais_precisions: c.cost_details.clone(),
        conditions_acces: c.access_conditions.clone(),
        modes_accueil: non_empty(&c.reception_modes),
        modes_mobilisation: non_empty(&c.mobilisation.modes),
        mobilisable_par: non_empty(&c.mobilisation.mobilised_by),
        lien_mobilisation: c.mobilisation.link.clone(),
        mobilisation_precisions: c.mobilisation.details.clone(),
        nombre_semaines: None,
        volume_horaire_hebdomadaire: None,
        adresse: place.and_then(|l| l.address.clone()),
        complement_adresse: place.and_then(|l| l.address_complement.clone()),
        code_postal: place.and_then(|l| l.postcode.clone()),
        commune: place.and_then(|l| l.commune.clone()),
        code_insee: place.and_then(|l| l.commune_code.clone()),
        latitude: place.and_then(|l| l.latitude),
        longitude: place.and_then(|l| l.longitude),
        zone_eligibilite: non_empty(&c.eligibility_zone),
        horaires_accueil: c.opening_hours.clone(),
        courriel: c.contact.email.clone(),
        telephone: c.contact.phone.clone(),
        contact_nom_prenom: None,
        lien_source: Some(format!(
            "{}/api/v1/offers/{}",
            public_url.trim_end_matches('/'),
            offer.id
        )),
    }
}
