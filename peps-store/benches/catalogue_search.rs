//! Catalogue search latency, in process, on a synthetic catalogue of the Yonne: 50,000 offers
//! across 500 offerers (override with PEPS_BENCH_OFFERS / PEPS_BENCH_ORGANISATIONS).
//!
//!     cargo bench -p peps-store --bench catalogue_search
//!
//! Runs on SQLite (a temporary file, or PEPS_BENCH_SQLITE_PATH to keep it for an HTTP load
//! run) and on PostgreSQL when PEPS_TEST_DATABASE_URL is set. Each query shape runs
//! PEPS_BENCH_ITERATIONS times (default 1,000) through `Catalogue::search`, which includes the
//! store round trip that keeps the index current; median and p99 are printed. A custom harness
//! rather than criterion because the figures that matter are percentiles.

use chrono::{Duration, NaiveDate, Utc};
use std::sync::Arc;
use std::time::Instant;

use peps_core::catalogue::search::{Near, OpenAt, SearchQuery};
use peps_core::catalogue::{Offer, OfferStatus, ReferenceData, synthetic};
use peps_core::clock::SystemClock;
use peps_core::domain::*;
use peps_core::ports::{OfferHistoryEntry, OfferRepository, OrganisationRepository};
use peps_core::services::{Catalogue, CataloguePorts, CatalogueSettings};
use peps_store::SeaOrmStore;
use peps_store::testing::{TestBackend, backends, fresh};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn load(store: &SeaOrmStore, offers: usize, organisations: usize) -> std::time::Duration {
    let reference = ReferenceData::builtin();
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let generated = synthetic::catalogue(2026, organisations, offers, &reference, today);
    let started = Instant::now();
    let now = Utc::now();
    let mut ids = Vec::new();
    for org in &generated.organisations {
        let organisation = Organisation {
            id: OrganisationId::new(),
            name: OrganisationName::parse(&org.name).unwrap(),
            kind: OrganisationKind::Offerer,
            siret: None,
            created_at: now,
        };
        store.create_organisation(&organisation).await.unwrap();
        ids.push(organisation.id);
    }
    for generated_offer in generated.offers {
        let verified = now - Duration::days(generated_offer.verified_days_ago);
        let offer = Offer {
            id: OfferId::new(),
            organisation_id: ids[generated_offer.organisation],
            organisation_name: String::new(),
            status: OfferStatus::Published,
            content: generated_offer.content.normalize(&reference).unwrap(),
            temporary_changes: vec![],
            origin: None,
            review: None,
            version: 1,
            created_at: verified,
            updated_at: verified,
            last_verified_at: verified,
            published_at: Some(verified),
        };
        let entry = OfferHistoryEntry {
            offer: offer.id,
            version: 1,
            at: verified,
            actor: None,
            action: peps_core::catalogue::OfferAction::Created,
            fields: vec!["*".into()],
            reason: None,
        };
        store.create_offer(&offer, &entry).await.unwrap();
    }
    started.elapsed()
}

/// A query shape: its name, and the i-th query of that shape.
type Shape = (&'static str, Box<dyn Fn(usize) -> SearchQuery>);

fn shapes() -> Vec<Shape> {
    let words = [
        "logement",
        "emploi",
        "santé",
        "aide alimentaire",
        "numérique",
        "hebergement",
        "permis de conduire",
        "formation",
    ];
    let points = [
        (47.7996, 3.5703),
        (48.1974, 3.2833),
        (47.9823, 3.3967),
        (47.4897, 3.9081),
    ];
    vec![
        (
            "text only",
            Box::new(move |i| SearchQuery {
                text: Some(words[i % words.len()].into()),
                limit: 20,
                ..SearchQuery::default()
            }),
        ),
        (
            "text + 10 km",
            Box::new(move |i| {
                let p = points[i % points.len()];
                SearchQuery {
                    text: Some(words[i % words.len()].into()),
                    near: Some(Near {
                        latitude: p.0,
                        longitude: p.1,
                        radius_km: 10.0,
                    }),
                    limit: 20,
                    ..SearchQuery::default()
                }
            }),
        ),
        (
            "filters + radius",
            Box::new(move |i| {
                let p = points[i % points.len()];
                SearchQuery {
                    themes: vec![
                        ["ville-du-quotidien", "soin-de-soi", "formation-emploi"][i % 3].into(),
                    ],
                    costs: vec!["gratuit".into()],
                    reception_modes: vec!["en-presentiel".into()],
                    near: Some(Near {
                        latitude: p.0,
                        longitude: p.1,
                        radius_km: 15.0,
                    }),
                    limit: 20,
                    ..SearchQuery::default()
                }
            }),
        ),
        (
            "open now",
            Box::new(|_| SearchQuery {
                open: Some(OpenAt::Now),
                limit: 20,
                ..SearchQuery::default()
            }),
        ),
        (
            "facets (whole catalogue)",
            Box::new(|i| SearchQuery {
                themes: if i % 2 == 0 {
                    vec![]
                } else {
                    vec!["ville-du-quotidien".into()]
                },
                limit: 20,
                facets: true,
                ..SearchQuery::default()
            }),
        ),
    ]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

async fn run(backend: TestBackend) {
    let offers = env_usize("PEPS_BENCH_OFFERS", 50_000);
    let organisations = env_usize("PEPS_BENCH_ORGANISATIONS", 500);
    let iterations = env_usize("PEPS_BENCH_ITERATIONS", 1_000);
    let kept_path = std::env::var("PEPS_BENCH_SQLITE_PATH")
        .ok()
        .filter(|_| backend == TestBackend::Sqlite);
    let _temporary;
    let store = match &kept_path {
        Some(path) => {
            let store = SeaOrmStore::connect(&format!("sqlite://{path}"))
                .await
                .unwrap();
            store.migrate().await.unwrap();
            store
        }
        None => {
            let test_store = fresh(backend).await;
            let store = test_store.store();
            _temporary = test_store;
            store
        }
    };
    let store = Arc::new(store);
    let loaded = load(&store, offers, organisations).await;
    println!(
        "\n{backend:?}: {offers} offers, {organisations} offerers stored in {:.1} s",
        loaded.as_secs_f64()
    );

    let catalogue = Catalogue::new(
        CataloguePorts {
            offers: store.clone(),
            organisations: store.clone(),
            accounts: store.clone(),
            outbox: store.clone(),
        },
        Arc::new(SystemClock),
        Arc::new(ReferenceData::builtin()),
        CatalogueSettings::default(),
    );
    let started = Instant::now();
    catalogue.sync().await.unwrap();
    println!(
        "index built from the store in {:.2} s ({} offers)",
        started.elapsed().as_secs_f64(),
        catalogue.indexed_offers()
    );

    println!(
        "{:<26} {:>10} {:>10} {:>10} {:>12}",
        "query shape", "median ms", "p99 ms", "max ms", "mean hits"
    );
    for (name, make) in shapes() {
        // Warm up.
        for i in 0..20 {
            catalogue.search(&make(i)).await.unwrap();
        }
        let mut times = Vec::with_capacity(iterations);
        let mut totals = 0usize;
        for i in 0..iterations {
            let query = make(i);
            let started = Instant::now();
            let results = catalogue.search(&query).await.unwrap();
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            totals += results.total;
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{:<26} {:>10.2} {:>10.2} {:>10.2} {:>12}",
            name,
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times[times.len() - 1],
            totals / iterations
        );
    }
}

fn main() {
    // `cargo test --benches` runs bench targets with --bench absent: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for backend in backends() {
            run(backend).await;
        }
    });
}
