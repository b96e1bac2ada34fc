//! The outbox's sender and its admin: delivers queued messages with retries and backoff,
//! keeps text messages out of quiet hours and under a per-person daily cap, parks what keeps
//! failing, and lets an admin retry or discard it; a person (or their referent at the
//! counter) stops or restarts text messages.
//!
//! Several servers may run the sender at once: each message is claimed by one of them (see
//! [`OutboxRepository::claim_due`]), and its id travels to the provider as an idempotency
//! key, so a sender killed mid-send and replaced sends nothing twice to a provider that
//! honours the key.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::sync::Arc;

use super::plan_notices::is_alert;
use super::relations;
use crate::clock::Clock;
use crate::domain::*;
use crate::error::{CoreError, CoreResult, StoreError, ValidationError};
use crate::outbox::{Channel, OutboxMessage, Recipient, RetryPolicy};
use crate::policy::{Action, Actor, authorize};
use crate::ports::*;

/// A daily window in which no text message leaves (evenings and nights): messages due then
/// wait for its end. It may span midnight (`20:00`–`08:30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// `"20:00-08:30"`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (start, end) = raw
            .split_once('-')
            .ok_or_else(|| format!("{raw:?}: expected HH:MM-HH:MM, e.g. 20:00-08:30"))?;
        let time = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M")
                .map_err(|_| format!("{t:?}: expected a time like 08:30"))
        };
        let hours = Self {
            start: time(start)?,
            end: time(end)?,
        };
        if hours.start == hours.end {
            return Err(format!("{raw:?}: the start and the end are the same time"));
        }
        Ok(hours)
    }

    /// When the quiet hours around `at` end, or `None` when `at` is not in them.
    pub fn end_after(&self, at: DateTime<Utc>, timezone: Tz) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(&timezone);
        let time = local.time();
        let quiet = if self.start < self.end {
            time >= self.start && time < self.end
        } else {
            time >= self.start || time < self.end
        };
        if !quiet {
            return None;
        }
        let end_day = if time >= self.end {
            local.date_naive() + Duration::days(1)
        } else {
            local.date_naive()
        };
        // A clock change at that time: take the earliest valid instant after it.
        let end = end_day.and_time(self.end);
        let instant = timezone.from_local_datetime(&end).earliest().or_else(|| {
            timezone
                .from_local_datetime(&(end + Duration::hours(1)))
                .earliest()
        })?;
        Some(instant.with_timezone(&Utc))
    }
}

#[derive(Debug, Clone)]
pub struct OutboxSettings {
    pub retry: RetryPolicy,
    /// How long a sender holds the messages it claimed: longer than sending a batch takes
    /// (each send has its own timeout), so no other sender takes them meanwhile.
    pub claim_for: Duration,
    pub batch: u32,
    pub quiet_hours: Option<QuietHours>,
    pub timezone: Tz,
    /// Text messages a person receives in 24 hours at most (alerts aside); the others wait.
    /// 0: no cap.
    pub sms_per_person_per_day: u32,
    /// Sent messages are deleted after this long (they hold addresses and numbers).
    pub keep_sent: Duration,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            claim_for: Duration::minutes(5),
            batch: 20,
            quiet_hours: Some(QuietHours {
                start: NaiveTime::from_hms_opt(20, 0, 0).expect("a valid time"),
                end: NaiveTime::from_hms_opt(8, 30, 0).expect("a valid time"),
            }),
            timezone: chrono_tz::Europe::Paris,
            sms_per_person_per_day: 4,
            keep_sent: Duration::days(30),
        }
    }
}

/// What one pass of the sender did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: u32,
    /// Failed, to be tried again later.
    pub retrying: u32,
    /// Failed for good or too often: waiting for an admin.
    pub parked: u32,
    /// Text messages held back by quiet hours or the daily cap.
    pub postponed: u32,
}

/// A message that could not be sent, as an admin sees it: never its text, and the address
/// only in part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedMessage {
    pub id: OutboxId,
    pub channel: Channel,
    /// `…@example.org` or `…78`.
    pub to_hint: String,
    pub purpose: String,
    pub language: Language,
    pub person: Option<AccountId>,
    pub created_at: DateTime<Utc>,
    pub attempts: u32,
    pub last_error: Option<String>,
}

impl ParkedMessage {
    fn of(m: OutboxMessage) -> Self {
        let (channel, to_hint) = match &m.recipient {
            Recipient::Email { to, .. } => (
                Channel::Email,
                format!("…@{}", to.as_str().rsplit('@').next().unwrap_or("")),
            ),
            Recipient::Sms { to } => {
                let digits: String = to.as_str().chars().filter(char::is_ascii_digit).collect();
                (
                    Channel::Sms,
                    format!("…{}", &digits[digits.len().saturating_sub(2)..]),
                )
            }
        };
        Self {
            id: m.id,
            channel,
            to_hint,
            purpose: m.purpose,
            language: m.language,
            person: m.person,
            created_at: m.created_at,
            attempts: m.attempts,
            last_error: m.last_error,
        }
    }
}

#[derive(Clone)]
pub struct OutboxPorts {
    pub outbox: Arc<dyn OutboxRepository>,
    pub accounts: Arc<dyn AccountRepository>,
    pub relations: Arc<dyn RelationRepository>,
    pub organisations: Arc<dyn OrganisationRepository>,
    pub audit: Arc<dyn AuditLog>,
}

impl OutboxPorts {
    pub fn from_store<S>(store: Arc<S>) -> Self
    where
        S: OutboxRepository
            + AccountRepository
            + RelationRepository
            + OrganisationRepository
            + AuditLog
            + 'static,
    {
        Self {
            outbox: store.clone(),
            accounts: store.clone(),
            relations: store.clone(),
            organisations: store.clone(),
            audit: store,
        }
    }
}

pub struct Outbox {
    ports: OutboxPorts,
    email: Arc<dyn Notifier>,
    sms: Arc<dyn SmsSender>,
    clock: Arc<dyn Clock>,
    settings: OutboxSettings,
}

/// Keeps provider errors short and free of the recipient (they go to the admin's page).
fn error_line(reason: &str) -> String {
    reason.chars().take(300).collect()
}

impl Outbox {
    pub fn new(
        ports: OutboxPorts,
        email: Arc<dyn Notifier>,
        sms: Arc<dyn SmsSender>,
        clock: Arc<dyn Clock>,
        settings: OutboxSettings,
    ) -> Self {
        Self {
            ports,
            email,
            sms,
            clock,
            settings,
        }
    }

    pub fn settings(&self) -> &OutboxSettings {
        &self.settings
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Sends what is due, batch after batch, until nothing due is left or `max_batches`
    /// were sent (so one pass never runs for ever under a flood).
    pub async fn deliver_due(&self, max_batches: u32) -> CoreResult<DeliveryReport> {
        let mut report = DeliveryReport::default();
        for _ in 0..max_batches {
            let now = self.now();
            let claimed = self
                .ports
                .outbox
                .claim_due(now, now + self.settings.claim_for, self.settings.batch)
                .await?;
            if claimed.is_empty() {
                break;
            }
            for message in claimed {
                self.deliver(message, &mut report).await?;
            }
        }
        Ok(report)
    }

    async fn deliver(&self, message: OutboxMessage, report: &mut DeliveryReport) -> CoreResult<()> {
        let now = self.now();
        let outbox = &self.ports.outbox;
        if let Recipient::Sms { .. } = message.recipient
            && let Some(until) = self.held_back(&message, now).await?
        {
            outbox.postpone(message.id, until).await?;
            report.postponed += 1;
            return Ok(());
        }
        if let (Recipient::Sms { .. }, Some(person)) = (&message.recipient, message.person)
            && !is_alert(&message.purpose)
            && outbox.sms_opted_out(person).await?
        {
            // Queued before the person said no: withheld, for an admin to discard.
            outbox
                .record_failure(
                    message.id,
                    message.attempts,
                    "withheld: the person stopped text messages",
                    None,
                )
                .await?;
            report.parked += 1;
            return Ok(());
        }
        let sent = match &message.recipient {
            Recipient::Email { to, subject } => {
                self.email
                    .send(&Notification {
                        reference: message.id.to_string(),
                        to: to.clone(),
                        language: message.language.clone(),
                        subject: subject.clone(),
                        body: message.body.clone(),
                    })
                    .await
            }
            Recipient::Sms { to } => {
                self.sms
                    .send(&Sms {
                        reference: message.id.to_string(),
                        to: to.clone(),
                        language: message.language.clone(),
                        body: message.body.clone(),
                    })
                    .await
            }
        };
        match sent {
            Ok(()) => {
                outbox.mark_sent(message.id, self.now()).await?;
                report.sent += 1;
            }
            Err(error) => {
                let attempts = message.attempts + 1;
                let park = error.permanent || self.settings.retry.gives_up_after(attempts);
                let retry_at =
                    (!park).then(|| self.now() + self.settings.retry.wait_after(attempts));
                tracing::warn!(
                    id = %message.id,
                    purpose = %message.purpose,
                    channel = message.recipient.channel().as_str(),
                    attempts,
                    parked = park,
                    error = %error.reason,
                    "message not sent"
                );
                outbox
                    .record_failure(message.id, attempts, &error_line(&error.reason), retry_at)
                    .await?;
                if park {
                    report.parked += 1;
                } else {
                    report.retrying += 1;
                }
            }
        }
        Ok(())
    }

    /// When a text message must wait: the end of quiet hours, or, past the person's daily
    /// cap, an hour (then it is weighed again). Alerts wait for nothing but quiet hours.
    async fn held_back(
        &self,
        message: &OutboxMessage,
        now: DateTime<Utc>,
    ) -> CoreResult<Option<DateTime<Utc>>> {
        if let Some(end) = self
            .settings
            .quiet_hours
            .and_then(|q| q.end_after(now, self.settings.timezone))
        {
            return Ok(Some(end));
        }
        let cap = self.settings.sms_per_person_per_day;
        if let Some(person) = message.person
            && cap > 0
            && !is_alert(&message.purpose)
            && self
                .ports
                .outbox
                .sms_sent_to(person, now - Duration::hours(24))
                .await?
                >= cap
        {
            return Ok(Some(now + Duration::hours(1)));
        }
        Ok(None)
    }

    /// Deletes sent messages older than the settings keep them.
    pub async fn purge_sent(&self) -> CoreResult<u64> {
        Ok(self
            .ports
            .outbox
            .purge_sent(self.now() - self.settings.keep_sent)
            .await?)
    }

    // ---- The admin's view --------------------------------------------------------------

    fn only_admins(actor: &Actor) -> CoreResult<()> {
        authorize(
            actor.role,
            Action::ManageOutbox,
            crate::policy::Relation::Unrelated,
        )
        .map_err(|_| CoreError::Denied)
    }

    pub async fn counts(&self, actor: &Actor) -> CoreResult<OutboxCounts> {
        Self::only_admins(actor)?;
        self.operator_counts().await
    }

    /// Parked messages, oldest first (at most 200).
    pub async fn parked(&self, actor: &Actor) -> CoreResult<Vec<ParkedMessage>> {
        Self::only_admins(actor)?;
        self.operator_parked().await
    }

    /// Sends a parked message again at once, with a fresh count of attempts.
    pub async fn retry(&self, actor: &Actor, id: OutboxId) -> CoreResult<()> {
        Self::only_admins(actor)?;
        self.settle(Some(actor), id, AuditAction::NoticeRetried)
            .await
    }

    /// Gives up a parked message for good.
    pub async fn discard(&self, actor: &Actor, id: OutboxId) -> CoreResult<()> {
        Self::only_admins(actor)?;
        self.settle(Some(actor), id, AuditAction::NoticeDiscarded)
            .await
    }

    /// For the operator at the server's console (`peps outbox status`).
    pub async fn operator_counts(&self) -> CoreResult<OutboxCounts> {
        Ok(self.ports.outbox.counts().await?)
    }

    /// For the operator at the server's console (`peps outbox parked`).
    pub async fn operator_parked(&self) -> CoreResult<Vec<ParkedMessage>> {
        Ok(self
            .ports
            .outbox
            .parked(200)
            .await?
            .into_iter()
            .map(ParkedMessage::of)
            .collect())
    }

    /// For the operator at the server's console (`peps outbox retry|discard`); recorded in
    /// the person's trail as done by the operator.
    pub async fn operator_retry(&self, id: OutboxId) -> CoreResult<()> {
        self.settle(None, id, AuditAction::NoticeRetried).await
    }

    pub async fn operator_discard(&self, id: OutboxId) -> CoreResult<()> {
        self.settle(None, id, AuditAction::NoticeDiscarded).await
    }

    async fn settle(
        &self,
        by: Option<&Actor>,
        id: OutboxId,
        action: AuditAction,
    ) -> CoreResult<()> {
        let message = match self.ports.outbox.message(id).await {
            Ok(m) => m,
            Err(StoreError::NotFound) => return Err(CoreError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let done = if action == AuditAction::NoticeRetried {
            self.ports.outbox.requeue(id, self.now()).await
        } else {
            self.ports.outbox.discard(id).await
        };
        done.map_err(|e| match e {
            StoreError::NotFound => CoreError::Conflict("outbox.not_parked"),
            other => other.into(),
        })?;
        self.ports
            .audit
            .record(&AuditEvent {
                id: AuditEventId::new(),
                at: self.now(),
                actor: by.map(|a| a.account),
                actor_role: by.map(|a| a.role),
                mandate: None,
                action,
                subject: message.person,
                detail: format!(
                    "message={} purpose={} channel={}{}",
                    message.id,
                    message.purpose,
                    message.recipient.channel().as_str(),
                    if by.is_none() { " by=operator" } else { "" }
                ),
            })
            .await?;
        Ok(())
    }

    // ---- The person's choice -----------------------------------------------------------

    async fn may_choose(&self, actor: &Actor, person: AccountId) -> CoreResult<Account> {
        let target = match self.ports.accounts.account(person).await {
            Ok(a) => a,
            Err(StoreError::NotFound) => return Err(CoreError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let standing = relations::towards_account(
            &*self.ports.relations,
            &*self.ports.organisations,
            actor,
            &target,
            self.now(),
        )
        .await?;
        if target.role != Role::Person
            || authorize(actor.role, Action::ChooseTextMessages, standing.relation).is_err()
        {
            // Whoever may not see the person is told nothing of them, not even that they
            // exist; whoever may see them is refused.
            return Err(
                if authorize(actor.role, Action::ViewAccount, standing.relation).is_ok() {
                    CoreError::Denied
                } else {
                    CoreError::NotFound
                },
            );
        }
        Ok(target)
    }

    /// Whether the person receives text messages (they have a phone and did not stop them).
    pub async fn text_messages_wanted(&self, actor: &Actor, person: AccountId) -> CoreResult<bool> {
        self.may_choose(actor, person).await?;
        Ok(!self.ports.outbox.sms_opted_out(person).await?)
    }

    /// Stops or restarts text messages to the person; recorded in their trail. Alerts (a
    /// password reset, a path opened to their papers) still go out by text message.
    pub async fn set_text_messages(
        &self,
        actor: &Actor,
        person: AccountId,
        wanted: bool,
    ) -> CoreResult<()> {
        let target = self.may_choose(actor, person).await?;
        if target.phone.is_none() && !wanted {
            return Err(ValidationError::new("sms", "notices.sms.no_phone").into());
        }
        if self.ports.outbox.sms_opted_out(person).await? != wanted {
            return Ok(());
        }
        self.ports
            .outbox
            .set_sms_opt_out(person, !wanted, self.now())
            .await?;
        self.ports
            .audit
            .record(&AuditEvent {
                id: AuditEventId::new(),
                at: self.now(),
                actor: Some(actor.account),
                actor_role: Some(actor.role),
                mandate: None,
                action: if wanted {
                    AuditAction::TextMessagesResumed
                } else {
                    AuditAction::TextMessagesStopped
                },
                subject: Some(person),
                detail: String::new(),
            })
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::Europe::Paris
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn quiet_hours_span_midnight_and_end_in_local_time() {
        let q = QuietHours::parse("20:00-08:30").unwrap();
        let tz = chrono_tz::Europe::Paris;
        assert_eq!(q.end_after(paris(2026, 12, 3, 14, 0), tz), None);
        assert_eq!(
            q.end_after(paris(2026, 12, 3, 21, 15), tz),
            Some(paris(2026, 12, 4, 8, 30))
        );
        assert_eq!(
            q.end_after(paris(2026, 12, 4, 6, 0), tz),
            Some(paris(2026, 12, 4, 8, 30))
        );
        assert_eq!(q.end_after(paris(2026, 12, 4, 8, 30), tz), None);
        // The night the clocks go forward (29 March 2026) ends at 08:30 summer time.
        assert_eq!(
            q.end_after(paris(2026, 3, 28, 23, 0), tz),
            Some(paris(2026, 3, 29, 8, 30))
        );
        let day = QuietHours::parse("12:00-14:00").unwrap();
        assert_eq!(
            day.end_after(paris(2026, 12, 3, 12, 5), tz),
            Some(paris(2026, 12, 3, 14, 0))
        );
        assert!(QuietHours::parse("20h-8h").is_err());
        assert!(QuietHours::parse("08:00-08:00").is_err());
    }
}
