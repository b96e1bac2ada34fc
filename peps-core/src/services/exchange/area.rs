//! What belongs to a département, as `--departement` sees it.

use crate::catalogue::data_inclusion::V1Service;
use crate::catalogue::offer::Location;
use crate::domain::DepartementCode;

/// In the département: placed there, or open to its people (its eligibility zone names the
/// département or one of its communes). Nationwide services (`france`) are left out: they are
/// everyone's, and would drown a département's catalogue.
pub(super) fn in_departement(
    place: Option<&Location>,
    zones: &[String],
    departement: &DepartementCode,
) -> bool {
    let placed = place.is_some_and(|place| match (&place.commune_code, &place.postcode) {
        (Some(code), _) => departement.contains_commune(code),
        (None, Some(postcode)) => postcode_in(postcode, departement),
        (None, None) => false,
    });
    placed
        || zones
            .iter()
            .any(|z| departement == z.as_str() || (z.len() == 5 && departement.contains_commune(z)))
}

/// Corsican postcodes start with 20 for both 2A and 2B.
fn postcode_in(postcode: &str, departement: &DepartementCode) -> bool {
    match departement.as_str() {
        "2A" | "2B" => postcode.starts_with("20"),
        d => postcode.starts_with(d),
    }
}

/// A service's own place, as the département filter sees it before mapping.
pub(super) fn mapping_place(service: &V1Service) -> Option<Location> {
    let place = Location {
        postcode: service.code_postal.clone(),
        commune_code: service.code_insee.clone(),
        ..Location::default()
    };
    (place != Location::default()).then_some(place)
}
