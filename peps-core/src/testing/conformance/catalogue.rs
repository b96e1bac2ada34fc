//! Conformance suite of the [`OfferRepository`] port (the exchange bookkeeping is
//! `exchange.rs`). Like the identity suite, every adapter
//! runs it, each check on a fresh store:
//!
//! ```ignore
//! peps_core::testing::catalogue_conformance::run_all(|| async { MyStore::fresh().await }).await;
//! ```

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::collections::BTreeMap;
use std::future::Future;

use crate::catalogue::offer::{ChangeKind, Origin, TemporaryChange};
use crate::catalogue::{
    Accessibility, Contact, Mobilisation, Offer, OfferAction, OfferContent, OfferStatus,
    OrganisationProfile,
};
use crate::domain::*;
use crate::error::{Conflict, StoreError};
use crate::ports::*;

/// What a store must implement to hold a catalogue.
pub trait CatalogueStore: OfferRepository + OrganisationRepository + CatalogueExchange {}
impl<T: OfferRepository + OrganisationRepository + CatalogueExchange> CatalogueStore for T {}

super::checks!(CatalogueStore;
    offers_round_trip,
    offer_needs_its_organisation,
    updates_are_versioned,
    change_feed_is_ordered_and_complete,
    listing_by_organisation_and_status,
    due_offers_and_reminders,
    origins_are_unique,
    profiles_are_versioned,
    profiles_rewrite_offers_together,
);

pub async fn run_all<S, F, Fut>(fresh: F)
where
    S: CatalogueStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    super::run_each("catalogue", checks::<S>(), fresh).await;
}

pub(super) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap() + Duration::microseconds(654_321)
}

pub(super) async fn organisation<S: CatalogueStore>(store: &S, name: &str) -> OrganisationId {
    let org = Organisation {
        id: OrganisationId::new(),
        name: OrganisationName::parse(name).unwrap(),
        kind: OrganisationKind::Offerer,
        siret: None,
        created_at: t0(),
    };
    store.create_organisation(&org).await.unwrap();
    org.id
}

pub(super) fn content(title: &str) -> OfferContent {
    OfferContent {
        title: title.to_owned(),
        summary: Some("Résumé".into()),
        description: "Une description assez longue, avec des accents : é à ç œ.".into(),
        theme: "ville-du-quotidien".into(),
        topics: vec!["logement-hebergement--louer-un-logement".into()],
        service_type: Some("accompagnement".into()),
        audiences: vec!["tous-publics".into()],
        audience_details: None,
        cost: Some("gratuit".into()),
        cost_details: None,
        access_conditions: None,
        mobilisation: Mobilisation::default(),
        reception_modes: vec!["a-distance".into()],
        locations: vec![],
        eligibility_zone: vec!["89".into()],
        opening_hours: Some("Mo-Fr 09:00-12:00".into()),
        languages_spoken: vec!["fr".into()],
        accessibility: Accessibility::default(),
        contact: Contact::default(),
        professional_contact: None,
        website: None,
        validity: None,
        update_frequency_months: 6,
        translations: BTreeMap::new(),
        confidential_address: false,
    }
}

pub(super) fn offer(
    org: OrganisationId,
    title: &str,
    status: OfferStatus,
    at: DateTime<Utc>,
) -> Offer {
    Offer {
        id: OfferId::new(),
        organisation_id: org,
        organisation_name: String::new(),
        status,
        content: content(title),
        temporary_changes: vec![TemporaryChange {
            id: TemporaryChangeId::new(),
            starts_on: at.date_naive(),
            ends_on: at.date_naive() + Duration::days(3),
            kind: ChangeKind::Closed,
            message: "Fermé pour travaux".into(),
        }],
        origin: None,
        review: None,
        version: 1,
        created_at: at,
        updated_at: at,
        last_verified_at: at,
        published_at: None,
    }
}

pub(super) fn entry(offer: &Offer, action: &str) -> OfferHistoryEntry {
    let action = OfferAction::parse(action).expect("a known offer action");
    OfferHistoryEntry {
        offer: offer.id,
        version: offer.version,
        at: offer.updated_at,
        actor: None,
        action,
        fields: vec!["title".into()],
        reason: Some("parce que".into()),
    }
}

async fn offers_round_trip<S: CatalogueStore>(store: &S) {
    let org = organisation(store, "Épicerie solidaire").await;
    let before = store.catalogue_seq().await.unwrap();
    let o = offer(org, "Colis alimentaires", OfferStatus::Draft, t0());
    store.create_offer(&o, &entry(&o, "created")).await.unwrap();
    assert!(store.catalogue_seq().await.unwrap() > before);
    let read = store.offer(o.id).await.unwrap();
    assert_eq!(read.organisation_name, "Épicerie solidaire");
    assert_eq!(
        Offer {
            organisation_name: String::new(),
            ..read
        },
        o
    );
    let history = store.offer_history(o.id).await.unwrap();
    assert_eq!(history, vec![entry(&o, "created")]);
    assert!(matches!(
        store.offer(OfferId::new()).await,
        Err(StoreError::NotFound)
    ));
}

async fn offer_needs_its_organisation<S: CatalogueStore>(store: &S) {
    let o = offer(OrganisationId::new(), "Orpheline", OfferStatus::Draft, t0());
    assert!(matches!(
        store.create_offer(&o, &entry(&o, "created")).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.offer_history(o.id).await.unwrap().is_empty());
}

async fn updates_are_versioned<S: CatalogueStore>(store: &S) {
    let org = organisation(store, "CCAS").await;
    let o = offer(org, "Aide au logement", OfferStatus::Draft, t0());
    store.create_offer(&o, &entry(&o, "created")).await.unwrap();
    let mut edited = o.clone();
    edited.content.title = "Aide à la recherche de logement".into();
    edited.version = 2;
    edited.status = OfferStatus::Published;
    store
        .update_offer(&edited, 1, &entry(&edited, "updated"))
        .await
        .unwrap();
    // A second editor still holding version 1 is refused, and nothing of theirs is written.
    let mut stale = o.clone();
    stale.content.title = "Écrasement".into();
    stale.version = 2;
    let refused = store
        .update_offer(&stale, 1, &entry(&stale, "updated"))
        .await;
    assert!(matches!(refused, Err(StoreError::Stale)), "{refused:?}");
    let read = store.offer(o.id).await.unwrap();
    assert_eq!(read.content.title, "Aide à la recherche de logement");
    assert_eq!(read.version, 2);
    assert_eq!(read.status, OfferStatus::Published);
    let actions: Vec<&str> = store
        .offer_history(o.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["created", "updated"]);
    let mut ghost = o.clone();
    ghost.id = OfferId::new();
    assert!(matches!(
        store
            .update_offer(&ghost, 1, &entry(&ghost, "updated"))
            .await,
        Err(StoreError::NotFound)
    ));
}

async fn change_feed_is_ordered_and_complete<S: CatalogueStore>(store: &S) {
    let org = organisation(store, "Mission locale").await;
    let start = store.catalogue_seq().await.unwrap();
    let mut offers = Vec::new();
    for i in 0..5 {
        let o = offer(
            org,
            &format!("Atelier numéro {i}"),
            OfferStatus::Published,
            t0(),
        );
        store.create_offer(&o, &entry(&o, "created")).await.unwrap();
        offers.push(o);
    }
    let mut first = offers[0].clone();
    first.version = 2;
    first.status = OfferStatus::Archived;
    store
        .update_offer(&first, 1, &entry(&first, "archived"))
        .await
        .unwrap();

    let all = store.offers_changed_since(start, 100).await.unwrap();
    assert_eq!(all.len(), 5, "each offer once, in its latest state");
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "in stamp order");
    assert_eq!(all.last().unwrap().1.id, first.id);
    assert_eq!(all.last().unwrap().1.status, OfferStatus::Archived);
    assert_eq!(all.last().unwrap().0, store.catalogue_seq().await.unwrap());
    let page = store.offers_changed_since(start, 2).await.unwrap();
    assert_eq!(page.len(), 2);
    let rest = store.offers_changed_since(page[1].0, 100).await.unwrap();
    assert_eq!(rest.len(), 3);
    assert!(
        store
            .offers_changed_since(store.catalogue_seq().await.unwrap(), 100)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn listing_by_organisation_and_status<S: CatalogueStore>(store: &S) {
    let a = organisation(store, "Association A").await;
    let b = organisation(store, "Association B").await;
    for (org, status, title) in [
        (a, OfferStatus::Draft, "Brouillon A"),
        (a, OfferStatus::Published, "Publiée A"),
        (a, OfferStatus::PendingReview, "En attente A"),
        (b, OfferStatus::Published, "Publiée B"),
    ] {
        let o = offer(org, title, status, t0());
        store.create_offer(&o, &entry(&o, "created")).await.unwrap();
    }
    assert_eq!(store.offers_of(a, &[]).await.unwrap().len(), 3);
    let published = store.offers_of(a, &[OfferStatus::Published]).await.unwrap();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].content.title, "Publiée A");
    assert_eq!(published[0].organisation_name, "Association A");
    let pending = store.offers_pending_review().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].content.title, "En attente A");
}

async fn due_offers_and_reminders<S: CatalogueStore>(store: &S) {
    let org = organisation(store, "PMI").await;
    let old = t0() - Duration::days(400);
    let due = offer(org, "Consultations", OfferStatus::Published, old);
    let draft = offer(org, "Brouillon ancien", OfferStatus::Draft, old);
    let fresh = offer(org, "Vaccinations", OfferStatus::Published, t0());
    for o in [&due, &draft, &fresh] {
        store.create_offer(o, &entry(o, "created")).await.unwrap();
    }
    let listed = store.offers_due(t0(), None).await.unwrap();
    assert_eq!(listed.iter().map(|o| o.id).collect::<Vec<_>>(), [due.id]);
    assert_eq!(store.offers_due(t0(), Some(org)).await.unwrap().len(), 1);
    assert!(
        store
            .offers_due(t0(), Some(OrganisationId::new()))
            .await
            .unwrap()
            .is_empty()
    );
    let due_at = due.verify_by();
    assert!(!store.reminder_sent(due.id, due_at).await.unwrap());
    assert!(store.record_reminder(due.id, due_at, t0()).await.unwrap());
    assert!(!store.record_reminder(due.id, due_at, t0()).await.unwrap());
    assert!(store.reminder_sent(due.id, due_at).await.unwrap());
    // A later verification date is a new reminder.
    assert!(
        store
            .record_reminder(due.id, due_at + Duration::days(180), t0())
            .await
            .unwrap()
    );
}

async fn origins_are_unique<S: CatalogueStore>(store: &S) {
    let org = organisation(store, "Importée").await;
    let origin = Origin {
        source: "dora".into(),
        id: "svc-42".into(),
        link: None,
    };
    let mut a = offer(org, "Service importé", OfferStatus::Published, t0());
    a.origin = Some(origin.clone());
    store.create_offer(&a, &entry(&a, "created")).await.unwrap();
    let mut b = offer(org, "Doublon importé", OfferStatus::Published, t0());
    b.origin = Some(origin);
    assert!(matches!(
        store.create_offer(&b, &entry(&b, "created")).await,
        Err(StoreError::Conflict(Conflict::Duplicate))
    ));
    assert_eq!(store.offer(a.id).await.unwrap().origin, a.origin);
}

async fn profiles_are_versioned<S: CatalogueStore>(store: &S) {
    let org = organisation(store, "Centre social").await;
    assert!(store.organisation_profile(org).await.unwrap().is_none());
    let mut profile = OrganisationProfile {
        description: Some("Un lieu ouvert à tous.".into()),
        networks: vec!["france-service".into()],
        ..OrganisationProfile::default()
    };
    assert_eq!(
        store
            .save_organisation_profile(org, &profile, None, t0(), &[])
            .await
            .unwrap(),
        1
    );
    assert!(matches!(
        store
            .save_organisation_profile(org, &profile, None, t0(), &[])
            .await,
        Err(StoreError::Stale)
    ));
    profile.website = Some("https://centre.example.fr".into());
    assert_eq!(
        store
            .save_organisation_profile(org, &profile, Some(1), t0(), &[])
            .await
            .unwrap(),
        2
    );
    assert!(matches!(
        store
            .save_organisation_profile(org, &profile, Some(1), t0(), &[])
            .await,
        Err(StoreError::Stale)
    ));
    let stored = store.organisation_profile(org).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.profile, profile);
    assert_eq!(stored.updated_at, t0());
    assert!(
        store
            .save_organisation_profile(OrganisationId::new(), &profile, None, t0(), &[])
            .await
            .is_err()
    );
}

/// A profile saved with offer rewrites writes all of them or nothing.
async fn profiles_rewrite_offers_together<S: CatalogueStore>(store: &S) {
    let org = organisation(store, "Accueil de jour").await;
    let a = offer(org, "Hébergement", OfferStatus::Published, t0());
    let b = offer(org, "Écoute", OfferStatus::Draft, t0());
    for o in [&a, &b] {
        store.create_offer(o, &entry(o, "created")).await.unwrap();
    }
    let rewrite = |o: &Offer, expected_version: i64| {
        let mut hidden = o.clone();
        hidden.content.confidential_address = true;
        hidden.version = expected_version + 1;
        OfferRewrite {
            entry: entry(&hidden, "updated"),
            offer: hidden,
            expected_version,
        }
    };
    let profile = OrganisationProfile {
        confidential_address: true,
        ..OrganisationProfile::default()
    };
    let seq = store.catalogue_seq().await.unwrap();

    // One offer at a stale version: nothing is written, the profile neither.
    assert!(matches!(
        store
            .save_organisation_profile(org, &profile, None, t0(), &[rewrite(&a, 1), rewrite(&b, 7)])
            .await,
        Err(StoreError::Stale)
    ));
    assert!(store.organisation_profile(org).await.unwrap().is_none());
    assert!(
        !store
            .offer(a.id)
            .await
            .unwrap()
            .content
            .confidential_address
    );
    assert_eq!(store.catalogue_seq().await.unwrap(), seq);

    assert_eq!(
        store
            .save_organisation_profile(org, &profile, None, t0(), &[rewrite(&a, 1), rewrite(&b, 1)])
            .await
            .unwrap(),
        1
    );
    for id in [a.id, b.id] {
        let stored = store.offer(id).await.unwrap();
        assert!(stored.content.confidential_address);
        assert_eq!(stored.version, 2);
        assert_eq!(store.offer_history(id).await.unwrap().len(), 2);
    }
    let changed = store.offers_changed_since(seq, 10).await.unwrap();
    let ids: Vec<OfferId> = changed.iter().map(|(_, o)| o.id).collect();
    assert!(ids.contains(&a.id) && ids.contains(&b.id), "{ids:?}");
}
