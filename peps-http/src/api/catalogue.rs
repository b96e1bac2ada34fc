//! The public catalogue: search, one offer, an organisation's offers and profile, reference
//! lists. No account needed; a logged-in offerer sees its own drafts, professionals see
//! contact persons.

use chrono::{DateTime, NaiveDateTime};
use poem::Request;
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::offer_views::*;
use super::versions::{MaybeTagged, Tagged};
use crate::auth::optional_viewer;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use peps_core::catalogue::ListKind;
use peps_core::catalogue::search::{Near, OpenAt, SearchQuery, Sort};
use peps_core::domain::{Language, OfferId, OrganisationId};
use peps_core::services::catalogue::{SearchOutcome, can_manage};

pub struct CatalogueApi;

/// One offer, with its version as ETag.
pub type OfferResponse = Tagged<OfferView>;

#[derive(Debug, Clone, Object)]
pub struct FacetValue {
    pub code: String,
    pub label: String,
    pub count: u64,
}

#[derive(Debug, Clone, Object)]
pub struct FacetView {
    /// `theme`, `topic`, `category`, `audience`, `service_type`, `cost`, `reception_mode`,
    /// `language`.
    pub facet: String,
    pub values: Vec<FacetValue>,
}

#[derive(Debug, Clone, Object)]
pub struct SearchPage {
    /// Matching offers over all pages.
    pub total: u64,
    /// The order applied: `relevance`, `distance` or `freshness`.
    pub sort: String,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    pub hits: Vec<OfferCard>,
    /// Counts per value of each filter, over all matching offers, when asked for
    /// (`facets=true`); empty otherwise.
    pub facets: Vec<FacetView>,
    /// The language of labels and texts.
    pub language: String,
    /// Words of `q` that no offer answers in any way: they were left out of the search.
    pub ignored_words: Vec<String>,
}

#[derive(Debug, Clone, Object)]
pub struct ReferenceValue {
    pub code: String,
    pub label: String,
    pub label_language: String,
    /// For topics: their category. For themes: the topic categories they cover.
    #[oai(skip_serializing_if_is_empty, default)]
    pub related: Vec<String>,
}

#[derive(Debug, Clone, Object)]
pub struct ReferenceList {
    /// `themes`, `topic_categories`, `topics`, `service_types`, `costs`, `reception_modes`,
    /// `mobilisation_modes`, `mobilised_by`, `audiences`, `networks`.
    pub list: String,
    pub values: Vec<ReferenceValue>,
}

#[derive(Debug, Clone, Object)]
pub struct ReferenceLists {
    /// Changes when an adopter edits the lists.
    pub version: String,
    pub language: String,
    pub lists: Vec<ReferenceList>,
}

/// The reader's language: `lang` if given (must be supported), else Accept-Language, else
/// French.
pub fn reader_language(req: &Request, lang: Option<&str>) -> ApiResult<Language> {
    match lang {
        Some(code) => {
            Language::parse(code).map_err(|e| ApiError::from(peps_core::CoreError::from(e)))
        }
        None => Ok(crate::language::answer_language(req)),
    }
}

pub fn view_context<'a>(
    state: &'a AppState,
    language: &'a Language,
    manager: bool,
) -> ViewContext<'a> {
    let catalogue = &state.catalogue;
    ViewContext {
        reference: catalogue.reference(),
        language,
        now: catalogue.now(),
        local_now: catalogue.local_now(),
        grace: catalogue.settings().unverified_after,
        manager,
    }
}

/// A search page as the JSON API shows it, from what the catalogue found at its own time.
fn search_page(state: &AppState, outcome: &SearchOutcome<'_>) -> SearchPage {
    let ctx = ViewContext {
        now: outcome.now,
        local_now: outcome.local_now,
        ..view_context(state, outcome.language, false)
    };
    let results = &outcome.results;
    SearchPage {
        total: results.total as u64,
        sort: results.sort.as_str().to_owned(),
        next_cursor: results.next_cursor.clone(),
        hits: results
            .hits
            .iter()
            .map(|hit| offer_card(&hit.offer, hit.distance_km, &hit.matched, &ctx))
            .collect(),
        facets: outcome
            .facets
            .iter()
            .map(|f| FacetView {
                facet: f.facet.as_str().to_owned(),
                values: f
                    .values
                    .iter()
                    .map(|v| FacetValue {
                        code: v.code.clone(),
                        label: v.label.clone(),
                        count: v.count as u64,
                    })
                    .collect(),
            })
            .collect(),
        language: outcome.language.code().to_owned(),
        ignored_words: results.ignored_words.clone(),
    }
}

/// Repeated (`theme=a&theme=b`) and comma-separated (`theme=a,b`) values alike.
fn list(values: Option<Vec<String>>) -> Vec<String> {
    values
        .unwrap_or_default()
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `at` as a local wall-clock time (`2026-11-23T10:30`) or an instant with offset, converted to
/// the collectivity's time zone.
fn parse_at(raw: &str, state: &AppState) -> ApiResult<NaiveDateTime> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(raw) {
        return Ok(instant
            .with_timezone(&state.catalogue.settings().timezone)
            .naive_local());
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(raw, format) {
            return Ok(local);
        }
    }
    Err(ApiError::invalid("at", "search.at.invalid"))
}

#[OpenApi(tag = "Tag::Catalogue")]
impl CatalogueApi {
    /// Search the published offers. Free text is accent- and case-insensitive, matches French
    /// word forms ("hebergements" finds "hébergement") and tolerates typos. Filters take codes
    /// of the reference lists; several values of one filter are alternatives. Pages are
    /// stable: follow `next_cursor`.
    #[oai(path = "/api/v1/offers", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn search(
        &self,
        req: &Request,
        state: Data<&AppState>,
        /// Words to look for.
        q: Query<Option<String>>,
        theme: Query<Option<Vec<String>>>,
        /// A topic code, or a whole category (`logement-hebergement`).
        topic: Query<Option<Vec<String>>>,
        audience: Query<Option<Vec<String>>>,
        cost: Query<Option<Vec<String>>>,
        #[oai(name = "type")] service_type: Query<Option<Vec<String>>>,
        reception_mode: Query<Option<Vec<String>>>,
        /// A language spoken on site.
        #[oai(name = "language")]
        spoken: Query<Option<Vec<String>>>,
        lat: Query<Option<f64>>,
        lon: Query<Option<f64>>,
        /// Default 10 km when `lat` and `lon` are given.
        radius_km: Query<Option<f64>>,
        /// Communes where the offer has a location: INSEE codes, postcodes or names
        /// (`Sens`, `st florentin`, `Sainte-Colombe (89)`).
        commune: Query<Option<Vec<String>>>,
        /// Départements where the offer has a location: codes or names (`89`, `Yonne`).
        departement: Query<Option<Vec<String>>>,
        /// Offers a resident of this commune (INSEE code, postcode or name) is eligible for.
        eligible_commune: Query<Option<String>>,
        /// Only offers open now (collectivity's time zone).
        open_now: Query<Option<bool>>,
        /// Only offers open at this time: local `2026-11-23T10:30` or RFC 3339.
        at: Query<Option<String>>,
        /// `relevance` (default), `distance` or `freshness`.
        sort: Query<Option<String>>,
        cursor: Query<Option<String>>,
        /// 1 to 100, default 20.
        limit: Query<Option<u32>>,
        /// Language of texts and labels (default: Accept-Language, then French).
        lang: Query<Option<String>>,
        /// Count the matches per value of each filter (`facets` in the response); off by
        /// default, as a list of results does not need them.
        facets: Query<Option<bool>>,
    ) -> ApiResult<Json<SearchPage>> {
        let language = reader_language(req, lang.0.as_deref())?;
        let near = match (lat.0, lon.0) {
            (Some(latitude), Some(longitude)) => Some(Near {
                latitude,
                longitude,
                radius_km: radius_km.0.unwrap_or(10.0),
            }),
            (None, None) => None,
            _ => return Err(ApiError::invalid("lat", "search.point.incomplete")),
        };
        let open = match (at.0.as_deref(), open_now.0) {
            (Some(raw), _) => Some(OpenAt::At(parse_at(raw, &state)?)),
            (None, Some(true)) => Some(OpenAt::Now),
            _ => None,
        };
        let sort = match sort.0.as_deref() {
            None => Sort::Relevance,
            Some(raw) => {
                Sort::parse(raw).ok_or_else(|| ApiError::invalid("sort", "search.sort.unknown"))?
            }
        };
        let query = SearchQuery {
            text: q.0,
            text_language: Some(language.code().to_owned()),
            themes: list(theme.0),
            topics: list(topic.0),
            audiences: list(audience.0),
            costs: list(cost.0),
            service_types: list(service_type.0),
            reception_modes: list(reception_mode.0),
            languages: list(spoken.0),
            near,
            communes: list(commune.0),
            departements: list(departement.0)
                .into_iter()
                .map(|d| d.to_uppercase())
                .collect(),
            eligible_commune: eligible_commune.0.map(|c| c.trim().to_uppercase()),
            open,
            sort,
            cursor: cursor.0,
            limit: limit.0.unwrap_or(20) as usize,
            facets: facets.0.unwrap_or(false),
        };
        let page = state
            .catalogue
            .search_page(&query, &language, |outcome| search_page(&state, outcome))
            .await?;
        Ok(Json(SearchPage::clone(&page)))
    }

    /// One offer. Published offers are public; an organisation's members and admins also
    /// reach its drafts and archived offers (send the bearer token).
    #[oai(path = "/api/v1/offers/:id", method = "get")]
    async fn get(
        &self,
        req: &Request,
        state: Data<&AppState>,
        id: Path<Uuid>,
        lang: Query<Option<String>>,
    ) -> ApiResult<OfferResponse> {
        let viewer = optional_viewer(req, &state).await?;
        let language = reader_language(req, lang.0.as_deref())?;
        let actor = viewer.as_ref().map(|v| &v.actor);
        let offer = state.catalogue.offer(actor, OfferId(id.0)).await?;
        let ctx = view_context(&state, &language, can_manage(actor, offer.organisation_id));
        Ok(Tagged::new(offer_view(&offer, &ctx), offer.version))
    }

    /// An organisation's offers: the published ones, or for its members and admins every
    /// status (or those given in `status`).
    #[oai(path = "/api/v1/organisations/:id/offers", method = "get")]
    async fn organisation_offers(
        &self,
        req: &Request,
        state: Data<&AppState>,
        id: Path<Uuid>,
        status: Query<Option<Vec<OfferStatus>>>,
        lang: Query<Option<String>>,
    ) -> ApiResult<Json<Vec<OfferView>>> {
        let viewer = optional_viewer(req, &state).await?;
        let language = reader_language(req, lang.0.as_deref())?;
        let actor = viewer.as_ref().map(|v| &v.actor);
        let organisation = OrganisationId(id.0);
        let statuses: Vec<_> = status
            .0
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let offers = state
            .catalogue
            .organisation_offers(actor, organisation, &statuses)
            .await?;
        let ctx = view_context(&state, &language, can_manage(actor, organisation));
        Ok(Json(offers.iter().map(|o| offer_view(o, &ctx)).collect()))
    }

    /// An organisation's public profile (data·inclusion "structure"). Its `ETag` is the
    /// version to send in `If-Match` when editing it; absent until the profile is written.
    #[oai(path = "/api/v1/organisations/:id/profile", method = "get")]
    async fn profile(
        &self,
        req: &Request,
        state: Data<&AppState>,
        id: Path<Uuid>,
        lang: Query<Option<String>>,
    ) -> ApiResult<MaybeTagged<ProfileView>> {
        let language = reader_language(req, lang.0.as_deref())?;
        let viewer = optional_viewer(req, &state).await?;
        let (organisation, stored) = state
            .catalogue
            .organisation_profile(viewer.as_ref().map(|v| &v.actor), OrganisationId(id.0))
            .await?;
        Ok(MaybeTagged::new(
            profile_view(&state, &organisation, stored.as_ref(), &language),
            stored.as_ref().map(|s| s.version),
        ))
    }

    /// Every reference list with labels in the requested language.
    #[oai(path = "/api/v1/reference-lists", method = "get")]
    async fn reference_lists(
        &self,
        req: &Request,
        state: Data<&AppState>,
        lang: Query<Option<String>>,
    ) -> ApiResult<Json<ReferenceLists>> {
        let language = reader_language(req, lang.0.as_deref())?;
        let reference = state.catalogue.reference();
        Ok(Json(ReferenceLists {
            version: reference.version().to_owned(),
            language: language.code().to_owned(),
            lists: ListKind::ALL
                .into_iter()
                .map(|kind| reference_list(&state, kind, &language))
                .collect(),
        }))
    }

    /// One reference list with labels in the requested language.
    #[oai(path = "/api/v1/reference-lists/:list", method = "get")]
    async fn reference_list(
        &self,
        req: &Request,
        state: Data<&AppState>,
        list: Path<String>,
        lang: Query<Option<String>>,
    ) -> ApiResult<Json<ReferenceList>> {
        let language = reader_language(req, lang.0.as_deref())?;
        let kind = ListKind::parse(&list.0)
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "resource.not_found"))?;
        Ok(Json(reference_list(&state, kind, &language)))
    }
}

fn reference_list(state: &AppState, kind: ListKind, language: &Language) -> ReferenceList {
    let reference = state.catalogue.reference();
    ReferenceList {
        list: kind.as_str().to_owned(),
        values: reference
            .codes(kind)
            .iter()
            .map(|code| {
                let label = reference.label(kind, code, language.code());
                ReferenceValue {
                    code: code.clone(),
                    label: label.text.to_owned(),
                    label_language: label.language.to_owned(),
                    related: match kind {
                        ListKind::Topics => {
                            vec![peps_core::catalogue::reference::topic_category(code).to_owned()]
                        }
                        ListKind::Themes => reference
                            .themes()
                            .iter()
                            .find(|t| &t.code == code)
                            .map(|t| t.categories.clone())
                            .unwrap_or_default(),
                        _ => Vec::new(),
                    },
                }
            })
            .collect(),
    }
}

pub fn profile_view(
    state: &AppState,
    organisation: &peps_core::domain::Organisation,
    stored: Option<&peps_core::ports::StoredProfile>,
    language: &Language,
) -> ProfileView {
    let reference = state.catalogue.reference();
    let profile = stored.map(|s| s.profile.clone()).unwrap_or_default();
    ProfileView {
        organisation: OrganisationRef {
            id: organisation.id.0,
            name: organisation.name.as_str().to_owned(),
        },
        siret: organisation.siret.as_ref().map(|s| s.as_str().to_owned()),
        version: stored.map_or(0, |s| s.version),
        networks: profile
            .networks
            .iter()
            .map(|n| coded(reference, ListKind::Networks, n, language.code()))
            .collect(),
        profile: (&profile).into(),
        updated_at: stored.map(|s| s.updated_at),
    }
}
