//! The outbox from the API: for admins, the messages that could not be sent (retry, discard);
//! for a person (or their referent at the counter), whether PEPS sends them text messages.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::views::Done;
use crate::auth::BearerAuth;
use crate::problem::ApiResult;
use crate::state::AppState;
use peps_core::domain::{AccountId, OutboxId};
use peps_core::services::ParkedMessage;

pub struct NoticesApi;

/// Where the outbox stands.
#[derive(Debug, Object)]
pub struct OutboxStatus {
    /// Waiting to be sent (including retries and text messages held back by quiet hours).
    pub pending: u64,
    /// Failed for good or too often: waiting for an admin.
    pub parked: u64,
    /// Sent and still kept (they are deleted after `outbox.keep_sent_days`).
    pub sent: u64,
    /// The parked messages, oldest first (at most 200).
    pub parked_messages: Vec<Parked>,
}

/// A message that could not be sent. Its text is never shown; its address only in part.
#[derive(Debug, Object)]
pub struct Parked {
    pub id: Uuid,
    /// `email` or `sms`.
    pub channel: String,
    /// `…@example.org`, `…78`.
    pub to_hint: String,
    /// The template it was made from (`plans.new_step`, `account.password_reset`…).
    pub purpose: String,
    pub language: String,
    /// The person it was about, if any.
    pub person: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub attempts: u32,
    /// The provider's last answer.
    pub last_error: Option<String>,
}

impl From<ParkedMessage> for Parked {
    fn from(m: ParkedMessage) -> Self {
        Self {
            id: m.id.0,
            channel: m.channel.as_str().to_owned(),
            to_hint: m.to_hint,
            purpose: m.purpose,
            language: m.language.code().to_owned(),
            person: m.person.map(|p| p.0),
            created_at: m.created_at,
            attempts: m.attempts,
            last_error: m.last_error,
        }
    }
}

/// Whether PEPS sends the person text messages.
#[derive(Debug, Object)]
pub struct TextMessages {
    /// `false` once the person (or their referent for them) stopped them. Alerts (someone
    /// reset the password, opened a path to the papers) are sent anyway.
    pub wanted: bool,
}

#[OpenApi(tag = "Tag::Accounts")]
impl NoticesApi {
    /// The outbox: counts and the messages that could not be sent. Admins.
    #[oai(path = "/api/v1/admin/outbox", method = "get")]
    async fn outbox(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> ApiResult<Json<OutboxStatus>> {
        let counts = state.outbox.counts(&auth.0.actor).await?;
        let parked = state.outbox.parked(&auth.0.actor).await?;
        Ok(Json(OutboxStatus {
            pending: counts.pending,
            parked: counts.parked,
            sent: counts.sent,
            parked_messages: parked.into_iter().map(Into::into).collect(),
        }))
    }

    /// Sends a parked message again (at the sender's next pass), with a fresh count of
    /// tries; written in the person's trail. Admins. 409 `outbox.not_parked` when it is no
    /// longer parked.
    #[oai(path = "/api/v1/admin/outbox/:id/retry", method = "post")]
    async fn retry(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Done> {
        state.outbox.retry(&auth.0.actor, OutboxId(id.0)).await?;
        Ok(Done::Done)
    }

    /// Gives up a parked message: the person is not told by it. Written in the person's
    /// trail. Admins.
    #[oai(path = "/api/v1/admin/outbox/:id", method = "delete")]
    async fn discard(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Done> {
        state.outbox.discard(&auth.0.actor, OutboxId(id.0)).await?;
        Ok(Done::Done)
    }

    /// Whether the person receives text messages. The person, or their current referent.
    #[oai(path = "/api/v1/accounts/:id/text-messages", method = "get")]
    async fn text_messages(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<TextMessages>> {
        let wanted = state
            .outbox
            .text_messages_wanted(&auth.0.actor, AccountId(id.0))
            .await?;
        Ok(Json(TextMessages { wanted }))
    }

    /// Stops or restarts text messages to the person; written in their trail. The person,
    /// or their current referent at the counter. 422 `notices.sms.no_phone` when stopping
    /// for someone with no phone number.
    #[oai(path = "/api/v1/accounts/:id/text-messages", method = "put")]
    async fn set_text_messages(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<TextMessages>,
    ) -> ApiResult<Json<TextMessages>> {
        state
            .outbox
            .set_text_messages(&auth.0.actor, AccountId(id.0), body.wanted)
            .await?;
        Ok(Json(TextMessages {
            wanted: body.wanted,
        }))
    }
}
