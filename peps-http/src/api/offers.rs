//! Offerers manage their offers and profile; admins moderate and follow freshness.
//! Edits carry the version being edited in `If-Match` (the `ETag` of the offer), so two
//! members editing at once never silently overwrite each other.

use chrono::{DateTime, NaiveDate, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::catalogue::{OfferResponse, profile_view, reader_language, view_context};
use super::offer_views::*;
use super::versions::{self, OFFER, Tagged, TaggedCreated};
use crate::auth::BearerAuth;
use crate::problem::ApiResult;
use crate::state::AppState;
use peps_core::catalogue::Offer;
use peps_core::domain::{OfferId, OrganisationId, TemporaryChangeId};
use peps_core::services::{NewTemporaryChange, Transition};

pub struct OffersApi;

#[derive(Debug, Object)]
pub struct RejectBody {
    /// Shown to the offerer.
    pub reason: String,
}

#[derive(Debug, Object)]
pub struct TemporaryChangeBody {
    pub starts_on: NaiveDate,
    /// Inclusive.
    pub ends_on: NaiveDate,
    /// Other hours for the period (`opening_hours` syntax); absent: closed.
    pub opening_hours: Option<String>,
    /// Shown to readers, e.g. "Fermeture estivale".
    pub message: String,
}

#[derive(Debug, Object)]
pub struct HistoryEntry {
    pub version: i64,
    pub at: DateTime<Utc>,
    /// Absent when PEPS itself acted (import, scheduled job).
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub fields: Vec<String>,
    pub reason: Option<String>,
}

fn respond(req: &Request, state: &AppState, offer: &Offer) -> ApiResult<OfferResponse> {
    let language = reader_language(req, None)?;
    let ctx = view_context(state, &language, true);
    Ok(Tagged::new(offer_view(offer, &ctx), offer.version))
}

#[OpenApi(tag = "Tag::Offers")]
impl OffersApi {
    /// Members: create an offer of their organisation, as a draft.
    #[oai(path = "/api/v1/organisations/:id/offers", method = "post")]
    async fn create(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<OfferContentBody>,
    ) -> ApiResult<TaggedCreated<OfferView>> {
        let offer = state
            .catalogue
            .create_offer(&auth.0.actor, OrganisationId(id.0), body.0.into())
            .await?;
        let language = reader_language(req, None)?;
        let ctx = view_context(&state, &language, true);
        Ok(TaggedCreated::new(offer_view(&offer, &ctx), offer.version))
    }

    /// Members: replace an offer's content. `If-Match` must carry the version being edited.
    /// The edit counts as a verification.
    #[oai(path = "/api/v1/offers/:id", method = "put")]
    async fn update(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: Json<OfferContentBody>,
    ) -> ApiResult<OfferResponse> {
        let version = OFFER.required(if_match.0.as_deref())?;
        let offer = state
            .catalogue
            .update_offer(&auth.0.actor, OfferId(id.0), version, body.0.into())
            .await?;
        respond(req, &state, &offer)
    }

    /// Members: publish (or, with moderation, submit for validation) a draft or suspended offer.
    #[oai(path = "/api/v1/offers/:id/publish", method = "post")]
    async fn publish(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
    ) -> ApiResult<OfferResponse> {
        self.transition(
            req,
            &state,
            &auth,
            id.0,
            Transition::Publish,
            if_match.0,
            None,
        )
        .await
    }

    /// Members: take a published offer off the catalogue for a while.
    #[oai(path = "/api/v1/offers/:id/suspend", method = "post")]
    async fn suspend(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
    ) -> ApiResult<OfferResponse> {
        self.transition(
            req,
            &state,
            &auth,
            id.0,
            Transition::Suspend,
            if_match.0,
            None,
        )
        .await
    }

    /// Members: archive an offer that no longer exists (kept for history, never shown).
    #[oai(path = "/api/v1/offers/:id/archive", method = "post")]
    async fn archive(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
    ) -> ApiResult<OfferResponse> {
        self.transition(
            req,
            &state,
            &auth,
            id.0,
            Transition::Archive,
            if_match.0,
            None,
        )
        .await
    }

    /// Members: bring an archived offer back as a draft.
    #[oai(path = "/api/v1/offers/:id/restore", method = "post")]
    async fn restore(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
    ) -> ApiResult<OfferResponse> {
        self.transition(
            req,
            &state,
            &auth,
            id.0,
            Transition::Restore,
            if_match.0,
            None,
        )
        .await
    }

    /// Members: confirm the offer is still right (resets its verification date).
    #[oai(path = "/api/v1/offers/:id/verify", method = "post")]
    async fn verify(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
    ) -> ApiResult<OfferResponse> {
        let version = OFFER.optional(if_match.0.as_deref())?;
        let offer = state
            .catalogue
            .verify_offer(&auth.0.actor, OfferId(id.0), version)
            .await?;
        respond(req, &state, &offer)
    }

    /// Admins: approve an offer waiting for validation; it is published at once.
    #[oai(path = "/api/v1/offers/:id/approve", method = "post")]
    async fn approve(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<OfferResponse> {
        self.transition(req, &state, &auth, id.0, Transition::Approve, None, None)
            .await
    }

    /// Admins: refuse an offer waiting for validation, saying why; it returns to draft.
    #[oai(path = "/api/v1/offers/:id/reject", method = "post")]
    async fn reject(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<RejectBody>,
    ) -> ApiResult<OfferResponse> {
        self.transition(
            req,
            &state,
            &auth,
            id.0,
            Transition::Reject,
            None,
            Some(body.0.reason),
        )
        .await
    }

    /// Members: announce a temporary closure or other hours between two dates.
    #[oai(path = "/api/v1/offers/:id/temporary-changes", method = "post")]
    async fn add_change(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<TemporaryChangeBody>,
    ) -> ApiResult<OfferResponse> {
        let b = body.0;
        let offer = state
            .catalogue
            .add_temporary_change(
                &auth.0.actor,
                OfferId(id.0),
                NewTemporaryChange {
                    starts_on: b.starts_on,
                    ends_on: b.ends_on,
                    opening_hours: b.opening_hours,
                    message: b.message,
                },
            )
            .await?;
        respond(req, &state, &offer)
    }

    /// Members: withdraw a temporary change.
    #[oai(
        path = "/api/v1/offers/:id/temporary-changes/:change_id",
        method = "delete"
    )]
    async fn remove_change(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        change_id: Path<Uuid>,
    ) -> ApiResult<OfferResponse> {
        let offer = state
            .catalogue
            .remove_temporary_change(&auth.0.actor, OfferId(id.0), TemporaryChangeId(change_id.0))
            .await?;
        respond(req, &state, &offer)
    }

    /// Members and admins: every change of the offer — who, when, which fields.
    #[oai(path = "/api/v1/offers/:id/history", method = "get")]
    async fn history(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<HistoryEntry>>> {
        let entries = state
            .catalogue
            .history(&auth.0.actor, OfferId(id.0))
            .await?;
        Ok(Json(
            entries
                .into_iter()
                .map(|e| HistoryEntry {
                    version: e.version,
                    at: e.at,
                    actor_id: e.actor.map(|a| a.0),
                    action: e.action.as_str().to_owned(),
                    fields: e.fields,
                    reason: e.reason,
                })
                .collect(),
        ))
    }

    /// Members: the organisation's published offers past their verification date.
    #[oai(path = "/api/v1/organisations/:id/overdue-offers", method = "get")]
    async fn organisation_overdue(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<OfferView>>> {
        let offers = state
            .catalogue
            .overdue_offers(&auth.0.actor, Some(OrganisationId(id.0)))
            .await?;
        views(req, &state, &offers)
    }

    /// Admins: every published offer past its verification date, most overdue first.
    #[oai(path = "/api/v1/catalogue/overdue-offers", method = "get")]
    async fn overdue(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> ApiResult<Json<Vec<OfferView>>> {
        let offers = state.catalogue.overdue_offers(&auth.0.actor, None).await?;
        views(req, &state, &offers)
    }

    /// Admins: offers waiting for validation, oldest first.
    #[oai(path = "/api/v1/catalogue/review-queue", method = "get")]
    async fn review_queue(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> ApiResult<Json<Vec<OfferView>>> {
        let offers = state.catalogue.review_queue(&auth.0.actor).await?;
        views(req, &state, &offers)
    }

    /// Members: write the organisation's public profile. `If-Match` carries the version being
    /// edited (omit it only for the first version).
    #[oai(path = "/api/v1/organisations/:id/profile", method = "put")]
    #[allow(clippy::too_many_arguments)]
    async fn update_profile(
        &self,
        req: &Request,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        lang: Query<Option<String>>,
        body: Json<ProfileBody>,
    ) -> ApiResult<Tagged<ProfileView>> {
        let organisation = OrganisationId(id.0);
        let version = versions::optional_version(if_match.0.as_deref(), versions::PROFILE_STALE)?;
        let language = reader_language(req, lang.0.as_deref())?;
        let (org, stored) = state
            .catalogue
            .update_organisation_profile(&auth.0.actor, organisation, body.0.into(), version)
            .await?;
        Ok(Tagged::new(
            profile_view(&state, &org, Some(&stored), &language),
            stored.version,
        ))
    }
}

impl OffersApi {
    #[allow(clippy::too_many_arguments)]
    async fn transition(
        &self,
        req: &Request,
        state: &AppState,
        auth: &BearerAuth,
        id: Uuid,
        transition: Transition,
        if_match: Option<String>,
        reason: Option<String>,
    ) -> ApiResult<OfferResponse> {
        let version = OFFER.optional(if_match.as_deref())?;
        let offer = state
            .catalogue
            .transition(&auth.0.actor, OfferId(id), transition, version, reason)
            .await?;
        respond(req, state, &offer)
    }
}

fn views(req: &Request, state: &AppState, offers: &[Offer]) -> ApiResult<Json<Vec<OfferView>>> {
    let language = reader_language(req, None)?;
    let ctx = view_context(state, &language, true);
    Ok(Json(offers.iter().map(|o| offer_view(o, &ctx)).collect()))
}
