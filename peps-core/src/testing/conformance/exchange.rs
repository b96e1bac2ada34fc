//! Conformance suite of the [`CatalogueExchange`] port: data·inclusion batches, what an import
//! remembers, export pages and import jobs. Every adapter runs it, each check on a fresh store:
//!
//! ```ignore
//! peps_core::testing::conformance::exchange::run_all(|| async { MyStore::fresh().await }).await;
//! ```

use chrono::Duration;
use std::future::Future;

use crate::catalogue::offer::Origin;
use crate::catalogue::{OfferStatus, OrganisationProfile};
use crate::domain::*;
use crate::error::StoreError;
use crate::ports::*;

use super::catalogue::{CatalogueStore, entry, offer, organisation, t0};

super::checks!(CatalogueStore;
    import_batches_create_and_remember,
    import_updates_respect_versions,
    import_keeps_sirets_unique,
    export_pages_in_id_order,
    import_jobs_round_trip,
    unfinished_import_jobs_are_interrupted,
);

pub async fn run_all<S, F, Fut>(fresh: F)
where
    S: CatalogueStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    super::run_each("exchange", checks::<S>(), fresh).await;
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
        .save_organisation_profile(
            with_profile,
            &OrganisationProfile::default(),
            None,
            t0(),
            &[],
        )
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
