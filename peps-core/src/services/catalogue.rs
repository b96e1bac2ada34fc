//! Catalogue use cases: offerers manage their offers and profile, admins moderate, anyone
//! reads and searches, and a scheduled job reminds offerers to verify their offers.
//!
//! Search answers from an in-memory index. Before every search the service asks the store for
//! its change counter (one indexed read) and, when another instance or this one has written
//! since, pulls the changed offers — so a change is visible at once on every instance sharing
//! the database, and no instance keeps a stale copy.

use crate::catalogue::OfferAction;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::catalogue::offer::{ChangeKind, Review, TemporaryChange};
use crate::catalogue::opening_hours::OpeningHours;
use crate::catalogue::search::{SearchIndex, SearchQuery, SearchResults, Sort};
use crate::catalogue::{
    ListKind, Offer, OfferContent, OfferStatus, OrganisationProfile, Origin, ReferenceData,
};
use crate::clock::Clock;
use crate::domain::*;
use crate::error::{CoreError, CoreResult, StoreError, ValidationError};
use crate::i18n;
use crate::outbox::{OutboxMessage, Recipient};
use crate::places;
use crate::policy::{Action, Actor, Relation, authorize};
use crate::ports::*;

mod pages;
mod shared_sync;

pub use pages::{FacetValue, LabelledFacet, SearchOutcome};

/// What [`Catalogue::offer_page`] returns.
#[derive(Debug, Clone)]
pub struct OfferPage {
    pub offer: Offer,
    /// The offerer's other published offers, the offer itself left out.
    pub others: Vec<Offer>,
}

#[derive(Debug, Clone)]
pub struct CatalogueSettings {
    /// When true, a member's "publish" puts the offer in a queue an admin approves.
    pub moderation: bool,
    /// How long after its verification date an offer is shown as "not verified since…".
    pub unverified_after: Duration,
    /// The collectivity's time zone, for "open now".
    pub timezone: Tz,
}

impl Default for CatalogueSettings {
    fn default() -> Self {
        Self {
            moderation: false,
            unverified_after: Duration::days(30),
            timezone: chrono_tz::Europe::Paris,
        }
    }
}

pub struct CataloguePorts {
    pub offers: Arc<dyn OfferRepository>,
    pub organisations: Arc<dyn OrganisationRepository>,
    pub accounts: Arc<dyn AccountRepository>,
    /// Reminders to organisations are queued here; the outbox's sender sends them.
    pub outbox: Arc<dyn OutboxRepository>,
}

/// What a temporary change request carries.
#[derive(Debug, Clone)]
pub struct NewTemporaryChange {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// `None` closes the offer; `Some` gives other hours (`opening_hours` syntax).
    pub opening_hours: Option<String>,
    pub message: String,
}

/// A status change an offerer or an admin asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Publish,
    Suspend,
    Archive,
    Restore,
    Approve,
    Reject,
}

/// What one `remind` run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemindReport {
    pub offers_due: usize,
    pub reminded: usize,
    pub already_reminded: usize,
    /// Messages queued in the outbox (one per member with an email address).
    pub messages_queued: usize,
    /// Due offers whose organisation has no member with an email address.
    pub without_recipient: usize,
}

/// How many changed offers to pull from the store per round trip when catching up.
const SYNC_BATCH: u32 = 2_000;

pub struct Catalogue {
    ports: CataloguePorts,
    clock: Arc<dyn Clock>,
    reference: Arc<ReferenceData>,
    settings: CatalogueSettings,
    index: RwLock<SearchIndex>,
    /// Search pages rendered recently (see [`Catalogue::search_page`]).
    pages: pages::RecentPages,
    catch_up: shared_sync::SharedSync,
}

impl Catalogue {
    pub fn new(
        ports: CataloguePorts,
        clock: Arc<dyn Clock>,
        reference: Arc<ReferenceData>,
        settings: CatalogueSettings,
    ) -> Self {
        Self {
            index: RwLock::new(SearchIndex::new(reference.clone())),
            pages: pages::RecentPages::default(),
            catch_up: shared_sync::SharedSync::default(),
            ports,
            clock,
            reference,
            settings,
        }
    }

    pub fn reference(&self) -> &ReferenceData {
        &self.reference
    }

    pub fn settings(&self) -> &CatalogueSettings {
        &self.settings
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The collectivity's wall-clock time now.
    pub fn local_now(&self) -> NaiveDateTime {
        self.local_at(self.now())
    }

    /// `at` on the collectivity's wall clock.
    pub fn local_at(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.settings.timezone).naive_local()
    }

    // ---- Offerers --------------------------------------------------------------------------

    pub async fn create_offer(
        &self,
        actor: &Actor,
        organisation: OrganisationId,
        content: OfferContent,
    ) -> CoreResult<Offer> {
        let org = self.ports.organisations.organisation(organisation).await?;
        authorize(
            actor.role,
            Action::ManageOffers,
            relation_to(actor, organisation),
        )
        .map_err(|_| CoreError::Denied)?;
        let content = self.validated(content)?;
        let content = self.as_organisation_requires(organisation, content).await?;
        let now = self.now();
        let offer = Offer {
            id: OfferId::new(),
            organisation_id: organisation,
            organisation_name: org.name.as_str().to_owned(),
            status: OfferStatus::Draft,
            content,
            temporary_changes: Vec::new(),
            origin: None,
            review: None,
            version: 1,
            created_at: now,
            updated_at: now,
            last_verified_at: now,
            published_at: None,
        };
        let entry = self.entry(&offer, actor, OfferAction::Created, vec!["*".into()], None);
        self.ports.offers.create_offer(&offer, &entry).await?;
        Ok(offer)
    }

    /// Stores an offer made by trusted tooling (demo seed, import), as `actor` or as PEPS.
    pub async fn create_offer_as_system(
        &self,
        organisation: OrganisationId,
        content: OfferContent,
        status: OfferStatus,
        origin: Option<Origin>,
        last_verified_at: DateTime<Utc>,
    ) -> CoreResult<Offer> {
        let org = self.ports.organisations.organisation(organisation).await?;
        let content = self.validated(content)?;
        let content = self.as_organisation_requires(organisation, content).await?;
        let now = self.now();
        let offer = Offer {
            id: OfferId::new(),
            organisation_id: organisation,
            organisation_name: org.name.as_str().to_owned(),
            status,
            content,
            temporary_changes: Vec::new(),
            origin,
            review: None,
            version: 1,
            created_at: now,
            updated_at: now,
            last_verified_at,
            published_at: (status == OfferStatus::Published).then_some(now),
        };
        let entry = OfferHistoryEntry {
            offer: offer.id,
            version: 1,
            at: now,
            actor: None,
            action: OfferAction::Created,
            fields: vec!["*".into()],
            reason: None,
        };
        self.ports.offers.create_offer(&offer, &entry).await?;
        Ok(offer)
    }

    /// Replaces an offer's content. `expected_version` is the version the editor started
    /// from: if someone changed the offer since, nothing is written (`offer.version_conflict`).
    /// An edit also counts as a verification.
    pub async fn update_offer(
        &self,
        actor: &Actor,
        id: OfferId,
        expected_version: i64,
        content: OfferContent,
    ) -> CoreResult<Offer> {
        let mut offer = self.managed_offer(actor, id).await?;
        if offer.status == OfferStatus::Archived {
            return Err(CoreError::Conflict("offer.archived"));
        }
        check_version(&offer, expected_version)?;
        let content = self.validated(content)?;
        let content = self
            .as_organisation_requires(offer.organisation_id, content)
            .await?;
        let fields = offer.content.changed_fields(&content);
        let now = self.now();
        offer.content = content;
        offer.last_verified_at = now;
        self.save(
            actor,
            offer,
            expected_version,
            OfferAction::Updated,
            fields,
            None,
        )
        .await
    }

    /// The offerer confirms the offer is still right, without changing it.
    pub async fn verify_offer(
        &self,
        actor: &Actor,
        id: OfferId,
        expected_version: Option<i64>,
    ) -> CoreResult<Offer> {
        let mut offer = self.managed_offer(actor, id).await?;
        let version = expected_version.unwrap_or(offer.version);
        check_version(&offer, version)?;
        offer.last_verified_at = self.now();
        self.save(
            actor,
            offer,
            version,
            OfferAction::Verified,
            Vec::new(),
            None,
        )
        .await
    }

    pub async fn transition(
        &self,
        actor: &Actor,
        id: OfferId,
        transition: Transition,
        expected_version: Option<i64>,
        reason: Option<String>,
    ) -> CoreResult<Offer> {
        let mut offer = match transition {
            Transition::Approve | Transition::Reject => {
                let offer = self.ports.offers.offer(id).await?;
                if authorize(actor.role, Action::ModerateOffers, Relation::Unrelated).is_err() {
                    return Err(self.refusal(actor, &offer));
                }
                offer
            }
            _ => self.managed_offer(actor, id).await?,
        };
        let version = expected_version.unwrap_or(offer.version);
        check_version(&offer, version)?;
        let now = self.now();
        use OfferStatus as S;
        let (status, action) = match (transition, offer.status) {
            (Transition::Publish, S::Draft | S::Suspended) => {
                if self.settings.moderation && actor.role != Role::Admin {
                    (S::PendingReview, OfferAction::Submitted)
                } else {
                    (S::Published, OfferAction::Published)
                }
            }
            (Transition::Suspend, S::Published | S::PendingReview) => {
                (S::Suspended, OfferAction::Suspended)
            }
            (Transition::Archive, S::Draft | S::PendingReview | S::Published | S::Suspended) => {
                (S::Archived, OfferAction::Archived)
            }
            (Transition::Restore, S::Archived) => (S::Draft, OfferAction::Restored),
            (Transition::Approve, S::PendingReview) => (S::Published, OfferAction::Approved),
            (Transition::Reject, S::PendingReview) => (S::Draft, OfferAction::Rejected),
            _ => return Err(CoreError::Conflict("offer.status.transition")),
        };
        let reason = reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if transition == Transition::Reject {
            let Some(reason) = &reason else {
                return Err(ValidationError::new("reason", "offer.review.reason_required").into());
            };
            if reason.chars().count() > 2_000 {
                return Err(ValidationError::new("reason", "offer.text.too_long").into());
            }
        }
        if matches!(transition, Transition::Approve | Transition::Reject) {
            offer.review = Some(Review {
                approved: transition == Transition::Approve,
                reason: reason.clone(),
                by: actor.account,
                at: now,
            });
        }
        if status == S::Published && offer.published_at.is_none() {
            offer.published_at = Some(now);
        }
        offer.status = status;
        self.save(actor, offer, version, action, Vec::new(), reason)
            .await
    }

    pub async fn add_temporary_change(
        &self,
        actor: &Actor,
        id: OfferId,
        change: NewTemporaryChange,
    ) -> CoreResult<Offer> {
        let mut offer = self.managed_offer(actor, id).await?;
        let version = offer.version;
        let mut errors = Vec::new();
        if change.starts_on > change.ends_on {
            errors.push(ValidationError::new(
                "ends_on",
                "offer.temporary_change.reversed",
            ));
        }
        if change.ends_on < self.local_now().date() {
            errors.push(ValidationError::new(
                "ends_on",
                "offer.temporary_change.in_the_past",
            ));
        }
        if change.ends_on - change.starts_on > Duration::days(366) {
            errors.push(ValidationError::new(
                "ends_on",
                "offer.temporary_change.too_long",
            ));
        }
        let message = change.message.trim().to_owned();
        if message.is_empty() || message.chars().count() > 500 {
            errors.push(ValidationError::new(
                "message",
                "offer.temporary_change.message_length",
            ));
        }
        let kind = match change.opening_hours.as_deref().map(str::trim) {
            None | Some("") => ChangeKind::Closed,
            Some(raw) => match OpeningHours::parse(raw) {
                Ok(hours) => ChangeKind::ChangedHours {
                    opening_hours: hours.to_string(),
                },
                Err(e) => {
                    errors
                        .push(ValidationError::new("opening_hours", e.code).at(e.column, e.found));
                    ChangeKind::Closed
                }
            },
        };
        if offer.temporary_changes.len() >= 20 {
            errors.push(ValidationError::new(
                "temporary_changes",
                "offer.temporary_change.too_many",
            ));
        }
        CoreError::from_validation(errors)?;
        offer.temporary_changes.push(TemporaryChange {
            id: TemporaryChangeId::new(),
            starts_on: change.starts_on,
            ends_on: change.ends_on,
            kind,
            message,
        });
        offer.temporary_changes.sort_by_key(|c| c.starts_on);
        self.save(
            actor,
            offer,
            version,
            OfferAction::TemporaryChangeAdded,
            vec!["temporary_changes".into()],
            None,
        )
        .await
    }

    pub async fn remove_temporary_change(
        &self,
        actor: &Actor,
        id: OfferId,
        change: TemporaryChangeId,
    ) -> CoreResult<Offer> {
        let mut offer = self.managed_offer(actor, id).await?;
        let version = offer.version;
        let before = offer.temporary_changes.len();
        offer.temporary_changes.retain(|c| c.id != change);
        if offer.temporary_changes.len() == before {
            return Err(CoreError::NotFound);
        }
        self.save(
            actor,
            offer,
            version,
            OfferAction::TemporaryChangeRemoved,
            vec!["temporary_changes".into()],
            None,
        )
        .await
    }

    pub async fn history(&self, actor: &Actor, id: OfferId) -> CoreResult<Vec<OfferHistoryEntry>> {
        self.managed_offer(actor, id).await?;
        Ok(self.ports.offers.offer_history(id).await?)
    }

    // ---- Readers ---------------------------------------------------------------------------

    /// One offer. Anyone reads a published offer; drafts, offers waiting for validation,
    /// suspended and archived ones exist only for their organisation and admins (others get
    /// `NotFound`). The named contact person is removed for non-professionals.
    pub async fn offer(&self, viewer: Option<&Actor>, id: OfferId) -> CoreResult<Offer> {
        let mut offer = self.ports.offers.offer(id).await?;
        if offer.status != OfferStatus::Published && !can_manage(viewer, offer.organisation_id) {
            return Err(CoreError::NotFound);
        }
        redact(viewer, &mut offer);
        Ok(offer)
    }

    /// An offer as its page shows it to `viewer`: the offer (as [`Catalogue::offer`]) and, for
    /// "the offerer's other offers", at most `others` of its organisation's published offers,
    /// the offer itself left out, in the store's order. One call, so a page never assembles
    /// what the offer page means from two reads of its own.
    pub async fn offer_page(
        &self,
        viewer: Option<&Actor>,
        id: OfferId,
        others: usize,
    ) -> CoreResult<OfferPage> {
        // The index holds every published offer as of the store's change counter: one small
        // read (the counter) instead of the offer and all of its offerer's offers.
        self.sync().await?;
        let indexed = {
            let index = self.index.read().unwrap_or_else(|e| e.into_inner());
            index.offer(id).map(|offer| {
                let siblings = index.published_of(offer.organisation_id, id, others);
                (offer, siblings)
            })
        };
        let (offer, siblings) = match indexed {
            // The index holds the public form: those who may see a confidential place read
            // the offer itself.
            Some((offer, siblings))
                if offer.content.confidential_address
                    && sees_confidential_places(viewer, offer.organisation_id) =>
            {
                (self.offer(viewer, id).await?, siblings)
            }
            Some((offer, siblings)) => {
                let mut offer = Offer::clone(&offer);
                redact(viewer, &mut offer);
                (offer, siblings)
            }
            // Not published: the store decides (its members see a draft), with no siblings
            // beyond the published ones.
            None => {
                let offer = self.offer(viewer, id).await?;
                let index = self.index.read().unwrap_or_else(|e| e.into_inner());
                let siblings = index.published_of(offer.organisation_id, id, others);
                (offer, siblings)
            }
        };
        let siblings = siblings
            .into_iter()
            .map(|sibling| {
                let mut sibling = Offer::clone(&sibling);
                redact(viewer, &mut sibling);
                sibling
            })
            .collect();
        Ok(OfferPage {
            offer,
            others: siblings,
        })
    }

    /// An organisation's offers: the published ones for everyone; every status (or those
    /// asked for) for its members and admins.
    pub async fn organisation_offers(
        &self,
        viewer: Option<&Actor>,
        organisation: OrganisationId,
        statuses: &[OfferStatus],
    ) -> CoreResult<Vec<Offer>> {
        self.ports.organisations.organisation(organisation).await?;
        let statuses: Vec<OfferStatus> = if can_manage(viewer, organisation) {
            statuses.to_vec()
        } else if statuses.is_empty() || statuses.contains(&OfferStatus::Published) {
            vec![OfferStatus::Published]
        } else {
            return Ok(Vec::new());
        };
        let mut offers = self.ports.offers.offers_of(organisation, &statuses).await?;
        for offer in &mut offers {
            redact(viewer, offer);
        }
        Ok(offers)
    }

    /// Published offers past their verification date: an organisation's (for its members) or
    /// all of them (admins).
    pub async fn overdue_offers(
        &self,
        actor: &Actor,
        organisation: Option<OrganisationId>,
    ) -> CoreResult<Vec<Offer>> {
        match organisation {
            Some(org) => {
                self.ports.organisations.organisation(org).await?;
                authorize(actor.role, Action::ManageOffers, relation_to(actor, org))
                    .map_err(|_| CoreError::Denied)?;
            }
            None => {
                authorize(actor.role, Action::ModerateOffers, Relation::Unrelated)
                    .map_err(|_| CoreError::Denied)?;
            }
        }
        Ok(self
            .ports
            .offers
            .offers_due(self.now(), organisation)
            .await?)
    }

    pub async fn review_queue(&self, actor: &Actor) -> CoreResult<Vec<Offer>> {
        authorize(actor.role, Action::ModerateOffers, Relation::Unrelated)
            .map_err(|_| CoreError::Denied)?;
        Ok(self.ports.offers.offers_pending_review().await?)
    }

    /// Searches the published offers. Checks the filters against the reference lists first,
    /// so a typo in a code is an error rather than an empty page. Readers' pages go through
    /// [`Catalogue::search_page`], which also labels facets and keeps recent pages.
    pub async fn search(&self, query: &SearchQuery) -> CoreResult<SearchResults> {
        self.sync().await?;
        self.search_index(query, self.local_now())
    }

    /// Searches the index as it is, at the collectivity's wall-clock time `now`.
    fn search_index(&self, query: &SearchQuery, now: NaiveDateTime) -> CoreResult<SearchResults> {
        let query = &resolve_places(query)?;
        self.check_query(query)?;
        let index = self.index.read().unwrap_or_else(|e| e.into_inner());
        index
            .search(query, now)
            .map_err(|_| ValidationError::new("cursor", "search.cursor.invalid").into())
    }

    /// Brings the index up to date with the store and returns the catalogue change counter it
    /// reflects. Called before every search; also at start so the first reader does not wait
    /// for the initial load. Readers arriving together share one catch-up (see `shared_sync`).
    pub async fn sync(&self) -> CoreResult<i64> {
        match self.catch_up.run(|| self.catch_up_now()).await {
            Some(caught_up) => caught_up,
            None => Ok(self.index.read().unwrap_or_else(|e| e.into_inner()).seq()),
        }
    }

    async fn catch_up_now(&self) -> CoreResult<i64> {
        let store_seq = self.ports.offers.catalogue_seq().await?;
        loop {
            let from = self.index.read().unwrap_or_else(|e| e.into_inner()).seq();
            if from >= store_seq {
                return Ok(from);
            }
            let changes = self
                .ports
                .offers
                .offers_changed_since(from, SYNC_BATCH)
                .await?;
            // Stamps without an offer (a profile saved, an import of structures) leave
            // nothing to pull: the index is then current up to the counter read above, which
            // only counts committed writes.
            let last = changes.last().map_or(store_seq, |(seq, _)| *seq);
            let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
            // Another request may have applied these meanwhile; applying again is harmless,
            // but applying an older batch after a newer one is not.
            if index.seq() == from {
                index.apply(changes.into_iter().map(|(_, offer)| offer), last);
            }
        }
    }

    /// How many offers the index holds (for health and benchmarks).
    pub fn indexed_offers(&self) -> usize {
        self.index.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn check_query(&self, query: &SearchQuery) -> CoreResult<()> {
        let mut errors = Vec::new();
        let reference = &self.reference;
        let lists: [(&'static str, &Vec<String>, &[ListKind]); 6] = [
            ("theme", &query.themes, &[ListKind::Themes]),
            (
                "topic",
                &query.topics,
                &[ListKind::Topics, ListKind::TopicCategories],
            ),
            ("audience", &query.audiences, &[ListKind::Audiences]),
            ("cost", &query.costs, &[ListKind::Costs]),
            ("type", &query.service_types, &[ListKind::ServiceTypes]),
            (
                "reception_mode",
                &query.reception_modes,
                &[ListKind::ReceptionModes],
            ),
        ];
        for (field, values, kinds) in lists {
            if !values
                .iter()
                .all(|v| kinds.iter().any(|k| reference.contains(*k, v)))
            {
                errors.push(ValidationError::new(field, "search.filter.unknown"));
            }
        }
        if !query.languages.iter().all(|l| Language::parse(l).is_ok()) {
            errors.push(ValidationError::new("language", "search.filter.unknown"));
        }
        if let Some(near) = query.near {
            if !(-90.0..=90.0).contains(&near.latitude)
                || !(-180.0..=180.0).contains(&near.longitude)
            {
                errors.push(ValidationError::new("lat", "search.point.invalid"));
            }
            if !(near.radius_km > 0.0 && near.radius_km <= 500.0) {
                errors.push(ValidationError::new("radius_km", "search.radius.invalid"));
            }
        } else if query.sort == Sort::Distance {
            errors.push(ValidationError::new("sort", "search.sort.needs_point"));
        }
        if !query
            .communes
            .iter()
            .chain(&query.eligible_commune)
            .all(|c| crate::catalogue::offer::is_commune_code(c))
        {
            errors.push(ValidationError::new("commune", "search.commune.invalid"));
        }
        if !query
            .departements
            .iter()
            .all(|d| DepartementCode::parse(d).is_ok())
        {
            errors.push(ValidationError::new(
                "departement",
                "search.departement.invalid",
            ));
        }
        if !(1..=100).contains(&query.limit) {
            errors.push(ValidationError::new("limit", "search.limit.invalid"));
        }
        if query
            .text
            .as_deref()
            .is_some_and(|t| t.chars().count() > 200)
        {
            errors.push(ValidationError::new("q", "search.text.too_long"));
        }
        CoreError::from_validation(errors)
    }

    // ---- Organisation profiles -------------------------------------------------------------

    /// An organisation and its public profile, as `viewer` may see it (a confidential
    /// address shows only its commune to those who may not see it).
    pub async fn organisation_profile(
        &self,
        viewer: Option<&Actor>,
        organisation: OrganisationId,
    ) -> CoreResult<(Organisation, Option<StoredProfile>)> {
        let org = self.ports.organisations.organisation(organisation).await?;
        let mut profile = self.ports.offers.organisation_profile(organisation).await?;
        if let Some(stored) = &mut profile
            && !sees_confidential_places(viewer, organisation)
        {
            stored.profile.withhold_confidential_place();
        }
        Ok((org, profile))
    }

    /// Writes the profile and returns it with its organisation, as a reader sees them.
    pub async fn update_organisation_profile(
        &self,
        actor: &Actor,
        organisation: OrganisationId,
        profile: OrganisationProfile,
        expected_version: Option<i64>,
    ) -> CoreResult<(Organisation, StoredProfile)> {
        let org = self.ports.organisations.organisation(organisation).await?;
        authorize(
            actor.role,
            Action::ManageOffers,
            relation_to(actor, organisation),
        )
        .map_err(|_| CoreError::Denied)?;
        let profile = profile
            .normalize(&self.reference)
            .map_err(CoreError::invalid)?;
        let now = self.now();
        // An organisation whose address is confidential has only confidential places: its
        // offers turn confidential in the same write.
        let mut rewrites = Vec::new();
        if profile.confidential_address {
            for offer in self.ports.offers.offers_of(organisation, &[]).await? {
                if offer.content.confidential_address {
                    continue;
                }
                let expected_version = offer.version;
                let mut hidden = offer;
                hidden.content.confidential_address = true;
                hidden.version = expected_version + 1;
                hidden.updated_at = now;
                let entry = self.entry(
                    &hidden,
                    actor,
                    OfferAction::Updated,
                    vec!["confidential_address".into()],
                    None,
                );
                rewrites.push(OfferRewrite {
                    offer: hidden,
                    expected_version,
                    entry,
                });
            }
        }
        let version = self
            .ports
            .offers
            .save_organisation_profile(organisation, &profile, expected_version, now, &rewrites)
            .await
            .map_err(|e| match e {
                StoreError::Stale => CoreError::Stale("organisation.profile.version_conflict"),
                other => other.into(),
            })?;
        Ok((
            org,
            StoredProfile {
                profile,
                version,
                updated_at: now,
            },
        ))
    }

    /// The content as its organisation requires it: an organisation whose address is
    /// confidential publishes only confidential places.
    async fn as_organisation_requires(
        &self,
        organisation: OrganisationId,
        mut content: OfferContent,
    ) -> CoreResult<OfferContent> {
        if !content.confidential_address
            && let Some(stored) = self.ports.offers.organisation_profile(organisation).await?
        {
            content.confidential_address = stored.profile.confidential_address;
        }
        Ok(content)
    }

    // ---- Freshness reminders ---------------------------------------------------------------

    /// Queues for each organisation one message per member listing its offers past their
    /// verification date that were not reminded yet for that date. Safe to run as often as
    /// wanted (cron): an offer is reminded once per verification date.
    pub async fn remind(&self) -> CoreResult<RemindReport> {
        let now = self.now();
        let due = self.ports.offers.offers_due(now, None).await?;
        let mut report = RemindReport {
            offers_due: due.len(),
            ..RemindReport::default()
        };
        let mut by_org: BTreeMap<OrganisationId, Vec<Offer>> = BTreeMap::new();
        for offer in due {
            if self
                .ports
                .offers
                .reminder_sent(offer.id, offer.verify_by())
                .await?
            {
                report.already_reminded += 1;
            } else {
                by_org.entry(offer.organisation_id).or_default().push(offer);
            }
        }
        for (organisation, offers) in by_org {
            let mut recipients = Vec::new();
            for member in self.ports.organisations.members(organisation).await? {
                let account = self.ports.accounts.account(member).await?;
                if account.role == Role::Member
                    && account.status == AccountStatus::Active
                    && let Some(email) = account.email.clone()
                {
                    recipients.push((account.id, email, account.language.clone()));
                }
            }
            if recipients.is_empty() {
                report.without_recipient += offers.len();
                tracing::warn!(%organisation, offers = offers.len(), "offers to verify but no member with an email address");
                continue;
            }
            // Queued before the offers are recorded as reminded, each under a key naming the
            // member and the day: a run that stopped in between and ran again sends once.
            let today = now.date_naive();
            let messages: Vec<OutboxMessage> = recipients
                .iter()
                .map(|(member, email, language)| {
                    reminder(email, language, &offers, now).with_dedupe_key(format!(
                        "catalogue.verify:{organisation}:{member}:{today}"
                    ))
                })
                .collect();
            report.messages_queued += self.ports.outbox.enqueue(&messages).await?;
            for offer in &offers {
                if self
                    .ports
                    .offers
                    .record_reminder(offer.id, offer.verify_by(), now)
                    .await?
                {
                    report.reminded += 1;
                }
            }
        }
        Ok(report)
    }

    // ---- Helpers ---------------------------------------------------------------------------

    fn validated(&self, content: OfferContent) -> CoreResult<OfferContent> {
        content
            .normalize(&self.reference)
            .map_err(CoreError::invalid)
    }

    /// Loads an offer the actor manages. Someone who may not manage it gets `Denied` when the
    /// offer is public anyway, and `NotFound` when it is not (no existence leak).
    async fn managed_offer(&self, actor: &Actor, id: OfferId) -> CoreResult<Offer> {
        let offer = self.ports.offers.offer(id).await?;
        if authorize(
            actor.role,
            Action::ManageOffers,
            relation_to(actor, offer.organisation_id),
        )
        .is_err()
        {
            return Err(self.refusal(actor, &offer));
        }
        Ok(offer)
    }

    /// `Denied` to someone who can see the offer anyway (it is published, or it is theirs),
    /// `NotFound` to anyone else, so drafts do not leak.
    fn refusal(&self, actor: &Actor, offer: &Offer) -> CoreError {
        if offer.status == OfferStatus::Published || can_manage(Some(actor), offer.organisation_id)
        {
            CoreError::Denied
        } else {
            CoreError::NotFound
        }
    }

    fn entry(
        &self,
        offer: &Offer,
        actor: &Actor,
        action: OfferAction,
        fields: Vec<String>,
        reason: Option<String>,
    ) -> OfferHistoryEntry {
        OfferHistoryEntry {
            offer: offer.id,
            version: offer.version,
            at: offer.updated_at,
            actor: Some(actor.account),
            action,
            fields,
            reason,
        }
    }

    async fn save(
        &self,
        actor: &Actor,
        mut offer: Offer,
        expected_version: i64,
        action: OfferAction,
        fields: Vec<String>,
        reason: Option<String>,
    ) -> CoreResult<Offer> {
        offer.version = expected_version + 1;
        offer.updated_at = self.now();
        let entry = self.entry(&offer, actor, action, fields, reason);
        self.ports
            .offers
            .update_offer(&offer, expected_version, &entry)
            .await
            .map_err(|e| match e {
                StoreError::Stale => CoreError::Stale("offer.version_conflict"),
                other => other.into(),
            })?;
        Ok(offer)
    }
}

fn check_version(offer: &Offer, expected: i64) -> CoreResult<()> {
    if offer.version == expected {
        Ok(())
    } else {
        Err(CoreError::Stale("offer.version_conflict"))
    }
}

fn relation_to(actor: &Actor, organisation: OrganisationId) -> Relation {
    if actor.organisations.contains(&organisation) {
        Relation::SameOrganisation
    } else {
        Relation::Unrelated
    }
}

/// May this viewer manage the organisation's offers (see drafts, moderation notes, history)?
pub fn can_manage(viewer: Option<&Actor>, organisation: OrganisationId) -> bool {
    viewer.is_some_and(|a| {
        authorize(a.role, Action::ManageOffers, relation_to(a, organisation)).is_ok()
    })
}

/// Removes the named contact person unless the viewer is a professional.
fn redact(viewer: Option<&Actor>, offer: &mut Offer) {
    let professional = viewer.is_some_and(|a| {
        authorize(
            a.role,
            Action::ViewProfessionalContacts,
            Relation::Unrelated,
        )
        .is_ok()
    });
    if !professional {
        offer.content.professional_contact = None;
    }
    if !sees_confidential_places(viewer, offer.organisation_id) {
        offer.content.withhold_confidential_places();
    }
}

/// The query with its communes as INSEE codes and its départements as codes: readers may
/// name départements ("Yonne"), and communes ("Sens",
/// "st florentin", "Sainte-Colombe (89)") or give a postcode (five digits are an INSEE code
/// first here, as the API always took them; a well-formed code missing from the list is
/// kept, for a commune created since the list was shipped); a name stands for all its
/// homonyms in `commune` (most populous first) and for the most populous one in
/// `eligible_commune`. A place that is no commune is `search.commune.unknown`.
fn resolve_places(query: &SearchQuery) -> CoreResult<std::borrow::Cow<'_, SearchQuery>> {
    use crate::catalogue::offer::is_commune_code;
    use std::borrow::Cow;
    let named_departement = |d: &String| DepartementCode::parse(d).is_err();
    if query.communes.is_empty()
        && query.eligible_commune.is_none()
        && !query.departements.iter().any(named_departement)
    {
        return Ok(Cow::Borrowed(query));
    }
    let mut resolved = query.clone();
    // Départements by name ("Yonne"); what is neither stays, for `check_query` to refuse.
    resolved.departements = query
        .departements
        .iter()
        .map(|d| match places::departement(d) {
            Some(code) if named_departement(d) => code.to_owned(),
            _ => d.clone(),
        })
        .collect();
    let mut unknown = false;
    let mut codes = Vec::new();
    // The API's `commune` takes INSEE codes first (what it always took), then what people type.
    let find = |value: &str| match places::communes().get(value) {
        Some(c) if is_commune_code(value) => vec![c],
        _ => places::communes().find(value),
    };
    for value in &query.communes {
        let found = find(value);
        if found.is_empty() {
            if is_commune_code(value) {
                codes.push(value.clone());
            } else {
                unknown = true;
            }
        }
        codes.extend(found.into_iter().map(|c| c.code.clone()));
    }
    codes.dedup();
    resolved.communes = codes;
    if let Some(value) = &query.eligible_commune {
        match find(value).first() {
            Some(c) => resolved.eligible_commune = Some(c.code.clone()),
            None if is_commune_code(value) => {}
            None => unknown = true,
        }
    }
    if unknown {
        return Err(ValidationError::new("commune", "search.commune.unknown").into());
    }
    Ok(Cow::Owned(resolved))
}

/// May this viewer see the street and coordinates of the organisation's confidential places?
pub fn sees_confidential_places(viewer: Option<&Actor>, organisation: OrganisationId) -> bool {
    viewer.is_some_and(|a| {
        authorize(
            a.role,
            Action::ViewConfidentialAddresses,
            relation_to(a, organisation),
        )
        .is_ok()
    })
}

fn reminder(
    email: &Email,
    language: &Language,
    offers: &[Offer],
    now: DateTime<Utc>,
) -> OutboxMessage {
    let lang = language.code();
    let list: String = offers
        .iter()
        .map(|o| {
            format!(
                "- {} ({})\n",
                o.content.title,
                i18n::text_with(
                    "catalogue.reminder.verify_by",
                    lang,
                    &[("date", &i18n::format_date(o.verify_by().date_naive(), lang))]
                )
            )
        })
        .collect();
    OutboxMessage::new(
        Recipient::Email {
            to: email.clone(),
            subject: i18n::text_with(
                "catalogue.reminder.subject",
                lang,
                &[("count", &offers.len().to_string())],
            ),
        },
        language.clone(),
        i18n::text_with(
            "catalogue.reminder.body",
            lang,
            &[("count", &offers.len().to_string()), ("offers", &list)],
        ),
        None,
        "catalogue.verify",
        now,
    )
}

/// A plan shows the offers its steps point to from the index, caught up like a search.
#[async_trait::async_trait]
impl PublishedOffers for Catalogue {
    async fn published(
        &self,
        ids: &std::collections::BTreeSet<OfferId>,
    ) -> StoreResult<BTreeMap<OfferId, Option<Offer>>> {
        self.sync().await.map_err(|e| match e {
            CoreError::Store(e) => e,
            other => StoreError::unavailable(std::io::Error::other(other.to_string())),
        })?;
        let index = self.index.read().unwrap_or_else(|e| e.into_inner());
        Ok(ids
            .iter()
            .map(|id| (*id, index.offer(*id).map(|offer| Offer::clone(&offer))))
            .collect())
    }
}
