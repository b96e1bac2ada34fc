//! Conformance suite of the [`OfferRepository`] port. Like the identity suite, every adapter
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
    Accessibility, Contact, Mobilisation, Offer, OfferContent, OfferStatus, OrganisationProfile,
};
use crate::domain::*;
use crate::error::{Conflict, StoreError};
use crate::ports::*;

/// What a store must implement to hold a catalogue.
pub trait CatalogueStore: OfferRepository + OrganisationRepository + CatalogueExchange {}
impl<T: OfferRepository + OrganisationRepository + CatalogueExchange> CatalogueStore for T {}

type Check<S> = for<'a> fn(&'a S) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

macro_rules! checks {
    ($($name:ident),* $(,)?) => {
        pub fn checks<S: CatalogueStore>() -> Vec<(&'static str, Check<S>)> {
            vec![$((stringify!($name), |s| Box::pin($name(s)))),*]
        }
    };
}

checks!(
    offers_round_trip,
    offer_needs_its_organisation,
    updates_are_versioned,
    change_feed_is_ordered_and_complete,
    listing_by_organisation_and_status,
    due_offers_and_reminders,
    origins_are_unique,
    profiles_are_versioned,
    import_batches_create_and_remember,
    import_updates_respect_versions,
    import_keeps_sirets_unique,
    export_pages_in_id_order,
    import_jobs_round_trip,
    unfinished_import_jobs_are_interrupted,
);

pub async fn run_all<S, F, Fut>(mut fresh: F)
where
    S: CatalogueStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    for (name, check) in checks::<S>() {
        let store = fresh().await;
        eprintln!("catalogue conformance: {name}");
        check(&store).await;
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap() + Duration::microseconds(654_321)
}

async fn organisation<S: CatalogueStore>(store: &S, name: &str) -> OrganisationId {
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

fn content(title: &str) -> OfferContent {
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
    }
}

fn offer(org: OrganisationId, title: &str, status: OfferStatus, at: DateTime<Utc>) -> Offer {
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

fn entry(offer: &Offer, action: &str) -> OfferHistoryEntry {
    OfferHistoryEntry {
        offer: offer.id,
        version: offer.version,
        at: offer.updated_at,
        actor: None,
        action: action.to_owned(),
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
    let actions: Vec<String> = store
        .offer_history(o.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
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
            .save_organisation_profile(org, &profile, None, t0())
            .await
            .unwrap(),
        1
    );
    assert!(matches!(
        store
            .save_organisation_profile(org, &profile, None, t0())
            .await,
        Err(StoreError::Stale)
    ));
    profile.website = Some("https://centre.example.fr".into());
    assert_eq!(
        store
            .save_organisation_profile(org, &profile, Some(1), t0())
            .await
            .unwrap(),
        2
    );
    assert!(matches!(
        store
            .save_organisation_profile(org, &profile, Some(1), t0())
            .await,
        Err(StoreError::Stale)
    ));
    let stored = store.organisation_profile(org).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.profile, profile);
    assert_eq!(stored.updated_at, t0());
    assert!(
        store
            .save_organisation_profile(OrganisationId::new(), &profile, None, t0())
            .await
            .is_err()
    );
}

fn imported(kind: RecordKind, id: &str, local: uuid::Uuid, version: i64) -> ImportedRecord {
    ImportedRecord {
        kind,
        source: "dora".into(),
        id: id.into(),
        local_id: local,
        date_maj: chrono::NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
        content_hash: format!("hash-{id}-{version}"),
        imported_version: version,
        imported_at: t0(),
    }
}

fn structure_write(id: &str, siret: Option<&str>) -> OrganisationWrite {
    let org = Organisation {
        id: OrganisationId::new(),
        name: OrganisationName::parse(&format!("Structure {id}")).unwrap(),
        kind: OrganisationKind::Offerer,
        siret: siret.map(|s| Siret::parse(s).unwrap()),
        created_at: t0(),
    };
    OrganisationWrite {
        record: imported(RecordKind::Structure, id, org.id.0, 1),
        organisation: org,
        profile: OrganisationProfile {
            description: Some(format!("La structure {id}.")),
            ..OrganisationProfile::default()
        },
        expected_profile_version: None,
    }
}

fn service_write(org: OrganisationId, id: &str) -> OfferWrite {
    let mut o = offer(org, &format!("Service {id}"), OfferStatus::Published, t0());
    o.origin = Some(Origin {
        source: "dora".into(),
        id: id.into(),
        link: None,
    });
    OfferWrite {
        entry: entry(&o, "imported"),
        record: imported(RecordKind::Service, id, o.id.0, 1),
        expected_version: None,
        offer: o,
    }
}

async fn import_batches_create_and_remember<S: CatalogueStore>(store: &S) {
    let seq = store.catalogue_seq().await.unwrap();
    let structure = structure_write("s1", None);
    let org = structure.organisation.id;
    let batch = ImportBatch {
        organisations: vec![structure.clone()],
        offers: vec![service_write(org, "a"), service_write(org, "b")],
    };
    let outcome = store.apply_import(&batch).await.unwrap();
    assert_eq!(outcome, BatchOutcome::default());
    assert!(store.catalogue_seq().await.unwrap() >= seq + 3);
    assert_eq!(
        store.organisation(org).await.unwrap().name,
        structure.organisation.name
    );
    let profile = store.organisation_profile(org).await.unwrap().unwrap();
    assert_eq!(profile.version, 1);
    assert_eq!(profile.profile, structure.profile);

    let held = store
        .held_records(
            RecordKind::Service,
            "dora",
            &["a".into(), "b".into(), "zz".into()],
        )
        .await
        .unwrap();
    assert_eq!(held.len(), 2);
    for h in &held {
        let written = batch
            .offers
            .iter()
            .find(|w| w.record.id == h.record.id)
            .unwrap();
        assert_eq!(h.record, written.record);
        assert_eq!(h.current_version, 1);
        assert_eq!(h.updated_at, written.offer.updated_at);
        assert_eq!(
            store.offer(written.offer.id).await.unwrap().content,
            written.offer.content
        );
        assert_eq!(
            store.offer_history(written.offer.id).await.unwrap().len(),
            1
        );
    }
    // Keys are per source and kind.
    assert!(
        store
            .held_records(RecordKind::Service, "soliguide", &["a".into()])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .held_records(RecordKind::Structure, "dora", &["a".into()])
            .await
            .unwrap()
            .is_empty()
    );
    let held = store
        .held_records(RecordKind::Structure, "dora", &["s1".into()])
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].record.local_id, org.0);

    let origins = store
        .origins_of(RecordKind::Service, &[batch.offers[0].offer.id.0])
        .await
        .unwrap();
    assert_eq!(origins, vec![batch.offers[0].record.clone()]);
    let profiles = store
        .profiles_of(&[org, OrganisationId::new()])
        .await
        .unwrap();
    assert_eq!(profiles.len(), 1);
    assert_eq!(store.catalogue_changed_at().await.unwrap(), Some(t0()));
    // Offers need their organisation: the whole batch is refused and nothing is written.
    let orphan = service_write(OrganisationId::new(), "c");
    let lone = service_write(org, "d");
    assert!(
        store
            .apply_import(&ImportBatch {
                organisations: vec![],
                offers: vec![lone.clone(), orphan]
            })
            .await
            .is_err()
    );
    assert!(matches!(
        store.offer(lone.offer.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .held_records(RecordKind::Service, "dora", &["d".into()])
            .await
            .unwrap()
            .is_empty()
    );
}

async fn import_updates_respect_versions<S: CatalogueStore>(store: &S) {
    let structure = structure_write("s1", None);
    let org = structure.organisation.id;
    let first = service_write(org, "a");
    let second = service_write(org, "b");
    store
        .apply_import(&ImportBatch {
            organisations: vec![structure.clone()],
            offers: vec![first.clone(), second.clone()],
        })
        .await
        .unwrap();
    let seq = store.catalogue_seq().await.unwrap();

    // "b" was edited in PEPS meanwhile: its import update must not overwrite it.
    let mut edited = second.offer.clone();
    edited.version = 2;
    edited.content.title = "Modifié par la structure".into();
    store
        .update_offer(&edited, 1, &entry(&edited, "updated"))
        .await
        .unwrap();

    let mut renamed = structure.clone();
    renamed.organisation.name = OrganisationName::parse("Structure renommée").unwrap();
    renamed.profile.description = Some("Nouvelle description.".into());
    renamed.expected_profile_version = Some(1);
    renamed.record.imported_version = 2;
    renamed.record.content_hash = "changed".into();
    let mut a = first.clone();
    a.offer.version = 2;
    a.offer.content.title = "Service a, mis à jour".into();
    a.expected_version = Some(1);
    a.record.imported_version = 2;
    a.record.content_hash = "a2".into();
    a.entry = entry(&a.offer, "imported");
    let mut b = second.clone();
    b.offer.version = 2;
    b.offer.content.title = "Service b, version source".into();
    b.expected_version = Some(1);
    b.record.content_hash = "b2".into();
    let outcome = store
        .apply_import(&ImportBatch {
            organisations: vec![renamed.clone()],
            offers: vec![a.clone(), b],
        })
        .await
        .unwrap();
    assert_eq!(
        outcome.conflicts,
        vec![(RecordKind::Service, "b".to_owned())]
    );
    assert_eq!(
        store.offer(a.offer.id).await.unwrap().content.title,
        "Service a, mis à jour"
    );
    assert_eq!(
        store.offer(edited.id).await.unwrap().content.title,
        "Modifié par la structure"
    );
    assert_eq!(
        store.organisation(org).await.unwrap().name.as_str(),
        "Structure renommée"
    );
    let profile = store.organisation_profile(org).await.unwrap().unwrap();
    assert_eq!(profile.version, 2);
    assert_eq!(
        profile.profile.description.as_deref(),
        Some("Nouvelle description.")
    );
    let held = store
        .held_records(RecordKind::Service, "dora", &["a".into(), "b".into()])
        .await
        .unwrap();
    let hash = |id: &str| {
        held.iter()
            .find(|h| h.record.id == id)
            .unwrap()
            .record
            .content_hash
            .clone()
    };
    assert_eq!(hash("a"), "a2");
    assert_eq!(
        hash("b"),
        second.record.content_hash,
        "a conflicted record is not remembered"
    );
    // The change feed carries the update.
    let changes = store.offers_changed_since(seq, 100).await.unwrap();
    assert!(
        changes
            .iter()
            .any(|(_, o)| o.id == a.offer.id && o.version == 2)
    );
}

async fn import_keeps_sirets_unique<S: CatalogueStore>(store: &S) {
    let existing = Organisation {
        id: OrganisationId::new(),
        name: OrganisationName::parse("Mairie").unwrap(),
        kind: OrganisationKind::PublicAgency,
        siret: Some(Siret::parse("21890024600016").unwrap()),
        created_at: t0(),
    };
    store.create_organisation(&existing).await.unwrap();
    let clash = structure_write("s1", Some("21890024600016"));
    let first = structure_write("s2", Some("73282932000074"));
    let twin = structure_write("s3", Some("73282932000074"));
    let outcome = store
        .apply_import(&ImportBatch {
            organisations: vec![clash.clone(), first.clone(), twin.clone()],
            offers: vec![],
        })
        .await
        .unwrap();
    let mut dropped = outcome.sirets_dropped.clone();
    dropped.sort();
    assert_eq!(dropped, vec!["s1".to_owned(), "s3".to_owned()]);
    assert_eq!(
        store
            .organisation(clash.organisation.id)
            .await
            .unwrap()
            .siret,
        None
    );
    assert_eq!(
        store
            .organisation(first.organisation.id)
            .await
            .unwrap()
            .siret,
        first.organisation.siret
    );
    assert_eq!(
        store
            .organisation(twin.organisation.id)
            .await
            .unwrap()
            .siret,
        None
    );
    // Updating a structure with its own SIRET is no clash.
    let mut again = first.clone();
    again.expected_profile_version = Some(1);
    let outcome = store
        .apply_import(&ImportBatch {
            organisations: vec![again],
            offers: vec![],
        })
        .await
        .unwrap();
    assert!(outcome.sirets_dropped.is_empty());
    assert_eq!(
        store
            .organisation(first.organisation.id)
            .await
            .unwrap()
            .siret,
        first.organisation.siret
    );
}

async fn export_pages_in_id_order<S: CatalogueStore>(store: &S) {
    let with_offers = organisation(store, "Avec offres").await;
    let _without = organisation(store, "Sans offre ni profil").await;
    let with_profile = organisation(store, "Avec profil").await;
    store
        .save_organisation_profile(with_profile, &OrganisationProfile::default(), None, t0())
        .await
        .unwrap();
    let mut published = Vec::new();
    for i in 0..7 {
        let status = if i % 3 == 2 {
            OfferStatus::Draft
        } else {
            OfferStatus::Published
        };
        let o = offer(with_offers, &format!("Offre {i}"), status, t0());
        store.create_offer(&o, &entry(&o, "created")).await.unwrap();
        if status == OfferStatus::Published {
            published.push(o.id);
        }
    }
    published.sort();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.published_offers(after, 2).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        assert!(page.iter().all(|o| o.organisation_name == "Avec offres"));
        after = page.last().map(|o| o.id);
        seen.extend(page.iter().map(|o| o.id));
    }
    assert_eq!(seen, published);

    let organisations = store.public_organisations(None, 10).await.unwrap();
    let mut expected = vec![with_offers, with_profile];
    expected.sort();
    assert_eq!(
        organisations.iter().map(|(o, _)| o.id).collect::<Vec<_>>(),
        expected
    );
    let profile_of = |id| {
        organisations
            .iter()
            .find(|(o, _)| o.id == id)
            .unwrap()
            .1
            .clone()
    };
    assert!(profile_of(with_profile).is_some());
    assert!(profile_of(with_offers).is_none());
    let rest = store
        .public_organisations(Some(expected[0]), 10)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
}

async fn import_jobs_round_trip<S: CatalogueStore>(store: &S) {
    let mut job = ImportJob {
        id: ImportJobId::new(),
        requested_by: AccountId::new(),
        status: ImportJobStatus::Queued,
        created_at: t0(),
        finished_at: None,
        details: serde_json::json!({"dry_run": false}),
    };
    store.save_import_job(&job).await.unwrap();
    assert_eq!(store.import_job(job.id).await.unwrap(), job);
    job.status = ImportJobStatus::Succeeded;
    job.finished_at = Some(t0() + Duration::minutes(2));
    job.details = serde_json::json!({"summary": {"services": {"created": 3}}});
    store.save_import_job(&job).await.unwrap();
    assert_eq!(store.import_job(job.id).await.unwrap(), job);
    assert!(matches!(
        store.import_job(ImportJobId::new()).await,
        Err(StoreError::NotFound)
    ));
}

async fn unfinished_import_jobs_are_interrupted<S: CatalogueStore>(store: &S) {
    let job = |status| ImportJob {
        id: ImportJobId::new(),
        requested_by: AccountId::new(),
        status,
        created_at: t0(),
        finished_at: (status == ImportJobStatus::Succeeded).then(|| t0() + Duration::minutes(1)),
        details: serde_json::json!({}),
    };
    let (queued, running, done) = (
        job(ImportJobStatus::Queued),
        job(ImportJobStatus::Running),
        job(ImportJobStatus::Succeeded),
    );
    for j in [&queued, &running, &done] {
        store.save_import_job(j).await.unwrap();
    }
    let at = t0() + Duration::hours(1);
    assert_eq!(store.interrupt_import_jobs(at).await.unwrap(), 2);
    for j in [&queued, &running] {
        let read = store.import_job(j.id).await.unwrap();
        assert_eq!(read.status, ImportJobStatus::Interrupted);
        assert_eq!(read.finished_at, Some(at));
        assert_eq!(
            read.details, j.details,
            "only the status and the end change"
        );
    }
    assert_eq!(
        store.import_job(done.id).await.unwrap(),
        done,
        "a finished job stays"
    );
    assert_eq!(store.interrupt_import_jobs(at).await.unwrap(), 0);
}
