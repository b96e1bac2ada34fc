//! Round trip: importing what PEPS exports gives back the same catalogue — a property over
//! generated catalogues, in the three formats, on the in-memory reference store, SQLite and
//! PostgreSQL. (An import killed midway is tested on the `peps` binary, in peps-cli.)

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use peps_core::catalogue::data_inclusion::import::theme_for;
use peps_core::catalogue::data_inclusion::read::Format;
use peps_core::catalogue::data_inclusion::write::{
    RecordWriter, SERVICE_COLUMNS, STRUCTURE_COLUMNS,
};
use peps_core::catalogue::{
    Accessibility, Contact, ListKind, Location, Mobilisation, Offer, OfferContent, OfferStatus,
    OrganisationProfile, ReferenceData,
};
use peps_core::clock::ManualClock;
use peps_core::domain::*;
use peps_core::ports::*;
use peps_core::services::exchange::*;
use peps_store::testing::{TestBackend, backends, fresh};

/// A generated organisation with its offers: only what data·inclusion v1 can carry (one place,
/// no summary, no translations…), since the property is about what travels.
#[derive(Debug, Clone)]
struct GeneratedOrg {
    name: String,
    siret: Option<String>,
    profile: OrganisationProfile,
    offers: Vec<OfferContent>,
}

fn reference() -> &'static ReferenceData {
    static REFERENCE: std::sync::OnceLock<ReferenceData> = std::sync::OnceLock::new();
    REFERENCE.get_or_init(ReferenceData::builtin)
}

fn codes(kind: ListKind) -> Vec<String> {
    reference().codes(kind).to_vec()
}

fn subset(kind: ListKind, max: usize) -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(codes(kind), 0..=max)
}

fn text(min_words: usize, max_words: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("aide"),
            Just("logement"),
            Just("démarches"),
            Just("accueil"),
            Just("l’épicerie"),
            Just("«solidaire»"),
            Just("CAF"),
            Just("emploi;"),
            Just("\"citation\""),
            Just("été"),
            Just("42"),
        ],
        min_words..=max_words,
    )
    .prop_map(|w| w.join(" "))
}

prop_compose! {
    fn place()(
        n in 1u32..80,
        commune in proptest::sample::select(vec![("89024", "89000", "Auxerre", 47.7986, 3.5673),
                                                  ("89387", "89100", "Sens", 48.1975, 3.2833),
                                                  ("89206", "89300", "Joigny", 47.9822, 3.3972)]),
        complement in proptest::option::of(Just("Bâtiment B".to_owned())),
        with_coordinates in any::<bool>(),
    ) -> Location {
        Location {
            address: Some(format!("{n} rue de la République")),
            address_complement: complement,
            postcode: Some(commune.1.to_owned()),
            commune: Some(commune.2.to_owned()),
            commune_code: Some(commune.0.to_owned()),
            latitude: with_coordinates.then_some(commune.3),
            longitude: with_coordinates.then_some(commune.4),
        }
    }
}

prop_compose! {
    fn offer_content()(
        title in text(2, 8),
        description in text(3, 40),
        topics in subset(ListKind::Topics, 3),
        service_type in proptest::option::of(proptest::sample::select(codes(ListKind::ServiceTypes))),
        audiences in subset(ListKind::Audiences, 2).prop_filter("tous-publics alone", |a| a.len() < 2 || !a.iter().any(|x| x == "tous-publics")),
        audience_details in proptest::option::of(text(1, 6)),
        cost in proptest::option::of(proptest::sample::select(codes(ListKind::Costs))),
        cost_details in proptest::option::of(text(1, 6)),
        access_conditions in proptest::option::of(text(1, 6)),
        modes in subset(ListKind::MobilisationModes, 2),
        mobilised_by in subset(ListKind::MobilisedBy, 2),
        link in proptest::option::of(Just("https://exemple.org/inscription".to_owned())),
        details in proptest::option::of(text(1, 6)),
        reception_modes in subset(ListKind::ReceptionModes, 2),
        location in place(),
        zone in proptest::sample::subsequence(vec!["89".to_owned(), "89024".to_owned(), "france".to_owned()], 0..=2),
        hours in proptest::option::of(proptest::sample::select(vec!["Mo-Fr 09:00-12:00", "Tu,Th 14:00-17:30; PH off", "24/7"])),
        email in proptest::option::of(Just("accueil@exemple.org".to_owned())),
        phone in proptest::option::of(Just("03 86 00 00 00".to_owned())),
    ) -> OfferContent {
        let theme = theme_for(&topics, reference(), "ville-du-quotidien");
        OfferContent {
            title: format!("Offre {title}"),
            summary: None,
            description: format!("Description : {description}"),
            theme,
            topics,
            service_type,
            audiences,
            audience_details,
            cost,
            cost_details,
            access_conditions,
            mobilisation: Mobilisation { modes, mobilised_by, link, details },
            reception_modes,
            locations: vec![location],
            eligibility_zone: zone,
            opening_hours: hours.map(str::to_owned),
            languages_spoken: vec![],
            accessibility: Accessibility::default(),
            contact: Contact { email, phone },
            professional_contact: None,
            website: None,
            validity: None,
            update_frequency_months: 6,
            translations: BTreeMap::new(),
            confidential_address: false,
        }
        .normalize(reference())
        .expect("generated offers are valid")
    }
}

prop_compose! {
    fn organisation()(
        name in text(1, 4),
        with_siret in any::<bool>(),
        description in proptest::option::of(text(2, 20)),
        address in proptest::option::of(place()),
        networks in subset(ListKind::Networks, 2),
        website in proptest::option::of(Just("https://structure.exemple.org".to_owned())),
        hours in proptest::option::of(Just("Mo-Fr 08:30-17:00".to_owned())),
        offers in proptest::collection::vec(offer_content(), 1..4),
    ) -> GeneratedOrg {
        GeneratedOrg {
            name: format!("Structure {name}"),
            siret: with_siret.then(|| "21890024600016".to_owned()),
            profile: OrganisationProfile {
                description: description.map(|d| format!("Présentation : {d}")),
                address,
                contact: Contact::default(),
                website,
                opening_hours: hours,
                networks,
                accessibility_url: None,
                confidential_address: false,
            }
            .normalize(reference())
            .expect("generated profiles are valid"),
            offers,
        }
    }
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap(),
    ))
}

/// Stores the generated catalogue as PEPS's own (published offers).
async fn seed<S>(store: &S, orgs: &[GeneratedOrg]) -> Vec<(Organisation, Vec<Offer>)>
where
    S: OrganisationRepository + OfferRepository,
{
    let at = Utc.with_ymd_and_hms(2026, 10, 1, 8, 0, 0).unwrap();
    let mut seeded = Vec::new();
    for (i, g) in orgs.iter().enumerate() {
        let org = Organisation {
            id: OrganisationId::new(),
            name: OrganisationName::parse(&g.name).unwrap(),
            kind: OrganisationKind::Offerer,
            // One SIRET per establishment: only the first organisation may carry it.
            siret: g
                .siret
                .as_ref()
                .filter(|_| i == 0)
                .map(|s| Siret::parse(s).unwrap()),
            created_at: at,
        };
        store.create_organisation(&org).await.unwrap();
        store
            .save_organisation_profile(org.id, &g.profile, None, at, &[])
            .await
            .unwrap();
        let mut offers = Vec::new();
        for content in &g.offers {
            let offer = Offer {
                id: OfferId::new(),
                organisation_id: org.id,
                organisation_name: String::new(),
                status: OfferStatus::Published,
                content: content.clone(),
                temporary_changes: vec![],
                origin: None,
                review: None,
                version: 1,
                created_at: at,
                updated_at: at,
                last_verified_at: at,
                published_at: Some(at),
            };
            let entry = OfferHistoryEntry {
                offer: offer.id,
                version: 1,
                at,
                actor: None,
                action: peps_core::catalogue::OfferAction::Created,
                fields: vec![],
                reason: None,
            };
            store.create_offer(&offer, &entry).await.unwrap();
            offers.push(offer);
        }
        seeded.push((org, offers));
    }
    seeded
}

/// Exports through the same code as `peps export` into `dir`.
async fn export(
    exchange: &Exchange,
    dir: &Path,
    format: Format,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut pages = exchange.export(ExportSettings {
        source: "peps-89".into(),
        public_url: "https://peps.example.org".into(),
    });
    let structures = dir.join("structures.out");
    let services = dir.join("services.out");
    let mut w = RecordWriter::new(
        std::fs::File::create(&structures).unwrap(),
        format,
        STRUCTURE_COLUMNS,
    )
    .unwrap();
    while let Some(page) = pages.next_structures().await.unwrap() {
        page.iter().for_each(|r| w.write(r).unwrap());
    }
    w.finish().unwrap();
    let mut w = RecordWriter::new(
        std::fs::File::create(&services).unwrap(),
        format,
        SERVICE_COLUMNS,
    )
    .unwrap();
    while let Some(page) = pages.next_services().await.unwrap() {
        page.iter().for_each(|r| w.write(r).unwrap());
    }
    w.finish().unwrap();
    (structures, services)
}

fn exchange_on<S>(store: Arc<S>) -> Exchange
where
    S: CatalogueExchange + OfferRepository + 'static,
{
    Exchange::new(store.clone(), store, clock(), Arc::new(reference().clone()))
}

/// import(export(A)) into an empty B holds the same organisations, profiles and offers.
async fn round_trip<A, B>(a: Arc<A>, b: Arc<B>, orgs: Vec<GeneratedOrg>, format: Format)
where
    A: CatalogueExchange + OfferRepository + OrganisationRepository + 'static,
    B: CatalogueExchange + OfferRepository + OrganisationRepository + 'static,
{
    let seeded = seed(a.as_ref(), &orgs).await;
    let dir = tempfile::tempdir().unwrap();
    let (structures, services) = export(&exchange_on(a.clone()), dir.path(), format).await;
    let mut report = JsonLinesReport(Vec::new());
    let summary = exchange_on(b.clone())
        .import(
            &ImportFiles {
                structures: Some(structures),
                services: Some(services),
            },
            &ImportOptions::default(),
            &mut report,
        )
        .await
        .unwrap();
    let report = String::from_utf8(report.0).unwrap();
    assert!(report.is_empty(), "{report}");
    let offers: usize = seeded.iter().map(|(_, o)| o.len()).sum();
    assert_eq!(summary.structures.created as usize, seeded.len());
    assert_eq!(summary.services.created as usize, offers);

    for (org, offers) in &seeded {
        let held = b
            .held_records(RecordKind::Structure, "peps-89", &[org.id.to_string()])
            .await
            .unwrap();
        let copy = OrganisationId(held[0].record.local_id);
        let copied = b.organisation(copy).await.unwrap();
        assert_eq!(copied.name, org.name);
        assert_eq!(copied.siret, org.siret);
        let original = a
            .organisation_profile(org.id)
            .await
            .unwrap()
            .unwrap()
            .profile;
        assert_eq!(
            b.organisation_profile(copy).await.unwrap().unwrap().profile,
            original
        );
        for offer in offers {
            let held = b
                .held_records(RecordKind::Service, "peps-89", &[offer.id.to_string()])
                .await
                .unwrap();
            let copied = b.offer(OfferId(held[0].record.local_id)).await.unwrap();
            assert_eq!(copied.organisation_id, copy);
            assert_eq!(copied.status, OfferStatus::Published);
            assert_eq!(copied.content, offer.content);
            let origin = copied.origin.unwrap();
            assert_eq!(
                (origin.source.as_str(), origin.id.clone()),
                ("peps-89", offer.id.to_string())
            );
            assert_eq!(
                origin.link,
                Some(format!(
                    "https://peps.example.org/api/v1/offers/{}",
                    offer.id
                ))
            );
        }
    }
    // And importing the same files again changes nothing.
    let dir2 = tempfile::tempdir().unwrap();
    let (structures, services) = export(&exchange_on(a.clone()), dir2.path(), format).await;
    let again = exchange_on(b.clone())
        .import(
            &ImportFiles {
                structures: Some(structures),
                services: Some(services),
            },
            &ImportOptions::default(),
            &mut Quiet,
        )
        .await
        .unwrap();
    assert_eq!(again.services.unchanged as usize, offers);
    assert_eq!(again.structures.unchanged as usize, seeded.len());
}

fn formats() -> impl Strategy<Value = Format> {
    prop_oneof![
        Just(Format::JsonArray),
        Just(Format::JsonLines),
        Just(Format::Csv)
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn round_trip_on_the_reference_store(orgs in proptest::collection::vec(organisation(), 1..4), format in formats()) {
        use peps_core::testing::MemoryStore;
        runtime().block_on(round_trip(Arc::new(MemoryStore::new()), Arc::new(MemoryStore::new()), orgs, format));
    }
}

fn sql_round_trip(backend: TestBackend, orgs: Vec<GeneratedOrg>, format: Format) {
    runtime().block_on(async {
        let a = fresh(backend).await;
        let b = fresh(backend).await;
        round_trip(Arc::new(a.store()), Arc::new(b.store()), orgs, format).await;
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]
    #[test]
    fn round_trip_on_sql_stores(orgs in proptest::collection::vec(organisation(), 1..4), format in formats()) {
        for backend in backends() {
            sql_round_trip(backend, orgs.clone(), format);
        }
    }
}
