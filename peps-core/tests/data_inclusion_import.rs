//! The data·inclusion import on the in-memory reference store: what is created, rejected,
//! dropped, kept and skipped, and that a rerun changes nothing. The same scenarios run on
//! SQLite and PostgreSQL in peps-store's `exchange` tests.

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

use peps_core::catalogue::ReferenceData;
use peps_core::clock::ManualClock;
use peps_core::domain::*;
use peps_core::ports::*;
use peps_core::services::exchange::*;
use peps_core::testing::MemoryStore;

struct Fixture {
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    exchange: Exchange,
    dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap(),
    ));
    let exchange = Exchange::new(
        store.clone(),
        store.clone(),
        clock.clone(),
        Arc::new(ReferenceData::builtin()),
    );
    Fixture {
        store,
        clock,
        exchange,
        dir: tempfile::tempdir().unwrap(),
    }
}

impl Fixture {
    fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn jsonl(&self, name: &str, records: &[Value]) -> PathBuf {
        let text: String = records.iter().map(|r| format!("{r}\n")).collect();
        self.file(name, &text)
    }

    async fn import(
        &self,
        structures: Option<&PathBuf>,
        services: Option<&PathBuf>,
        options: ImportOptions,
    ) -> (ImportSummary, Vec<Value>) {
        let mut report = JsonLinesReport(Vec::new());
        let summary = self
            .exchange
            .import(
                &ImportFiles {
                    structures: structures.cloned(),
                    services: services.cloned(),
                },
                &options,
                &mut report,
            )
            .await
            .unwrap();
        let lines = String::from_utf8(report.0)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (summary, lines)
    }
}

fn structure(id: &str, commune_code: &str, date_maj: &str) -> Value {
    json!({
        "source": "dora", "id": id, "nom": format!("Structure {id}"), "date_maj": date_maj,
        "adresse": "1 place de la Mairie", "code_postal": format!("{}000", &commune_code[..2]),
        "commune": "Auxerre", "code_insee": commune_code, "latitude": 47.79, "longitude": 3.57,
        "reseaux_porteurs": ["france-travail"],
    })
}

fn service(id: &str, structure_id: &str, date_maj: &str) -> Value {
    json!({
        "source": "dora", "id": id, "structure_id": structure_id,
        "nom": format!("Aide alimentaire {id}"),
        "description": "Distribution de colis alimentaires chaque semaine.",
        "date_maj": date_maj,
        "thematiques": ["equipement-et-alimentation--alimentation"],
        "type": "aide-materielle", "publics": ["tous-publics"], "frais": "gratuit",
        "modes_accueil": ["en-presentiel"],
        "horaires_accueil": "Mo-Fr 09:00-12:00",
        "courriel": "contact@epicerie.example.org",
        "contact_nom_prenom": "Jeanne Martin",
        "lien_source": format!("https://dora.example.org/services/{id}"),
    })
}

#[tokio::test]
async fn imports_then_a_rerun_changes_nothing() {
    let f = fixture();
    let structures = f.jsonl(
        "structures.jsonl",
        &[
            structure("s1", "89024", "2026-10-01"),
            structure("s2", "89387", "2026-10-01"),
        ],
    );
    let services = f.jsonl(
        "services.jsonl",
        &[
            service("a", "s1", "2026-10-02"),
            service("b", "s2", "2026-10-02"),
            service("c", "s2", "2026-10-02"),
        ],
    );
    let (summary, report) = f
        .import(Some(&structures), Some(&services), ImportOptions::default())
        .await;
    assert_eq!(summary.structures.created, 2, "{summary:#?}");
    assert_eq!(summary.services.created, 3, "{summary:#?} {report:#?}");
    assert!(report.is_empty(), "{report:#?}");
    let seq = f.store.catalogue_seq().await.unwrap();

    let held = f
        .store
        .held_records(RecordKind::Service, "dora", &["a".into()])
        .await
        .unwrap();
    let offer = f
        .store
        .offer(OfferId(held[0].record.local_id))
        .await
        .unwrap();
    let origin = offer.origin.clone().unwrap();
    assert_eq!((origin.source.as_str(), origin.id.as_str()), ("dora", "a"));
    assert_eq!(
        origin.link.as_deref(),
        Some("https://dora.example.org/services/a")
    );
    assert_eq!(offer.content.theme, "ville-du-quotidien");
    assert_eq!(
        offer.content.professional_contact.unwrap().name.as_deref(),
        Some("Jeanne Martin")
    );
    // The service had no address: its structure's applies.
    assert_eq!(
        offer.content.locations[0].commune_code.as_deref(),
        Some("89024")
    );
    assert_eq!(
        offer.last_verified_at.date_naive().to_string(),
        "2026-10-02"
    );

    f.clock.advance(chrono::Duration::days(1));
    let (again, report) = f
        .import(Some(&structures), Some(&services), ImportOptions::default())
        .await;
    assert_eq!(again.structures.unchanged, 2);
    assert_eq!(again.services.unchanged, 3);
    assert_eq!(again.services.created + again.services.updated, 0);
    assert!(report.is_empty());
    assert_eq!(
        f.store.catalogue_seq().await.unwrap(),
        seq,
        "nothing written"
    );
}

#[tokio::test]
async fn bad_records_are_reported_and_never_stop_the_import() {
    let f = fixture();
    let structures = f.jsonl(
        "structures.jsonl",
        &[structure("s1", "89024", "2026-10-01")],
    );
    let mut bad_topic = service("bad-topic", "s1", "2026-10-02");
    bad_topic["thematiques"] = json!(["pas-une-thematique"]);
    let mut no_name = service("no-name", "s1", "2026-10-02");
    no_name.as_object_mut().unwrap().remove("nom");
    let mut free_hours = service("free-hours", "s1", "2026-10-02");
    free_hours["horaires_accueil"] = json!("le lundi matin");
    free_hours["telephone"] = json!("pas un numéro");
    let text = format!(
        "{}\n{{\"source\": \"dora\", \"id\": \n{}\n{}\n{}\n{}\n{}\n",
        service("ok-1", "s1", "2026-10-02"),
        bad_topic,
        no_name,
        free_hours,
        service("orphan", "unknown-structure", "2026-10-02"),
        service("ok-1", "s1", "2026-10-02"),
    );
    let services = f.file("services.jsonl", &text);
    let (summary, report) = f
        .import(Some(&structures), Some(&services), ImportOptions::default())
        .await;
    assert_eq!(summary.services.read, 7);
    assert_eq!(summary.services.created, 2, "ok-1 and free-hours");
    assert_eq!(summary.services.rejected, 5);
    assert_eq!(summary.services.with_dropped_fields, 1);
    let line = |id: Option<&str>, code: &str| {
        report
            .iter()
            .find(|l| l["id"].as_str() == id && l["code"] == code)
            .unwrap_or_else(|| panic!("no {id:?} {code} in {report:#?}"))
            .clone()
    };
    assert_eq!(line(None, "record.malformed_json")["position"], 2);
    assert_eq!(line(Some("bad-topic"), "v1.enum")["field"], "thematiques");
    assert_eq!(line(Some("no-name"), "v1.required")["field"], "nom");
    let dropped = line(Some("free-hours"), "opening_hours.expected_weekday");
    assert_eq!(dropped["field"], "horaires_accueil");
    assert_eq!(dropped["outcome"], "field_dropped");
    assert_eq!(
        line(Some("free-hours"), "offer.contact.phone_invalid")["field"],
        "telephone"
    );
    assert_eq!(
        line(Some("orphan"), "import.structure_unknown")["field"],
        "structure_id"
    );
    assert_eq!(line(Some("ok-1"), "import.duplicate")["position"], 7);
    assert!(report.iter().all(|l| l["kind"] == "service"));
}

#[tokio::test]
async fn the_newer_of_the_source_and_a_local_edit_wins() {
    let f = fixture();
    let structures = f.jsonl(
        "structures.jsonl",
        &[structure("s1", "89024", "2026-10-01")],
    );
    let v1 = f.jsonl(
        "services.jsonl",
        &[
            service("a", "s1", "2026-10-02"),
            service("b", "s1", "2026-10-02"),
        ],
    );
    f.import(Some(&structures), Some(&v1), ImportOptions::default())
        .await;
    let ids = |id: &str| {
        let store = f.store.clone();
        let id = id.to_owned();
        async move {
            let held = store
                .held_records(RecordKind::Service, "dora", &[id])
                .await
                .unwrap();
            OfferId(held[0].record.local_id)
        }
    };
    let (a, b) = (ids("a").await, ids("b").await);
    // An offerer edits both on 2026-11-22.
    for id in [a, b] {
        let mut offer = f.store.offer(id).await.unwrap();
        let expected = offer.version;
        offer.version += 1;
        offer.content.title = "Modifié dans PEPS".into();
        offer.updated_at = peps_core::clock::Clock::now(f.clock.as_ref());
        f.store
            .update_offer(
                &offer,
                expected,
                &OfferHistoryEntry {
                    offer: id,
                    version: offer.version,
                    at: offer.updated_at,
                    actor: Some(AccountId::new()),
                    action: peps_core::catalogue::OfferAction::Updated,
                    fields: vec!["title".into()],
                    reason: None,
                },
            )
            .await
            .unwrap();
    }
    // The source changes "a" with an older date, "b" with a newer one.
    let mut older = service("a", "s1", "2026-11-01");
    older["description"] = json!("Texte de la source, antérieur à la modification.");
    let mut newer = service("b", "s1", "2026-11-25");
    newer["description"] = json!("Texte de la source, postérieur à la modification.");
    let v2 = f.jsonl("services-2.jsonl", &[older, newer]);
    f.clock.advance(chrono::Duration::days(5));
    let (summary, report) = f.import(None, Some(&v2), ImportOptions::default()).await;
    assert_eq!(summary.services.kept_local, 1);
    assert_eq!(summary.services.updated, 1);
    assert_eq!(report.len(), 1);
    assert_eq!(report[0]["code"], "import.local_edit_newer");
    assert_eq!(
        f.store.offer(a).await.unwrap().content.title,
        "Modifié dans PEPS"
    );
    let b_now = f.store.offer(b).await.unwrap();
    assert_eq!(
        b_now.content.description,
        "Texte de la source, postérieur à la modification."
    );
    assert_eq!(
        f.store
            .offer_history(b)
            .await
            .unwrap()
            .last()
            .unwrap()
            .action,
        peps_core::catalogue::OfferAction::Imported
    );

    // An extract older than what PEPS holds from the source never rolls it back.
    let mut stale = service("b", "s1", "2026-10-15");
    stale["description"] = json!("Une vieille version de la source.");
    let v3 = f.jsonl("services-3.jsonl", &[stale]);
    let (summary, _) = f.import(None, Some(&v3), ImportOptions::default()).await;
    assert_eq!(summary.services.outdated, 1);
    assert_eq!(f.store.offer(b).await.unwrap(), b_now);
}

#[tokio::test]
async fn departement_keeps_local_services_and_their_structures() {
    let f = fixture();
    let structures = f.jsonl(
        "structures.jsonl",
        &[
            structure("yonne", "89024", "2026-10-01"),
            // A national network registered in Paris, with a service in the Yonne.
            structure("national", "75056", "2026-10-01"),
            structure("nievre", "58194", "2026-10-01"),
        ],
    );
    let mut in_yonne = service("a", "national", "2026-10-02");
    in_yonne["code_insee"] = json!("89387");
    in_yonne["adresse"] = json!("2 rue de la Gare");
    let mut remote = service("remote", "nievre", "2026-10-02");
    remote["modes_accueil"] = json!(["a-distance"]);
    remote["zone_eligibilite"] = json!(["89"]);
    let services = f.jsonl(
        "services.jsonl",
        &[
            in_yonne,
            service("b", "yonne", "2026-10-02"),
            service("c", "nievre", "2026-10-02"),
            remote,
        ],
    );
    let options = ImportOptions {
        departement: Some("89".parse().unwrap()),
        ..ImportOptions::default()
    };
    let (summary, report) = f.import(Some(&structures), Some(&services), options).await;
    assert!(report.is_empty(), "{report:#?}");
    // "nievre" has a remote service open to the Yonne's people.
    assert_eq!(summary.structures.created, 3, "{summary:#?}");
    assert_eq!(summary.structures.out_of_area, 0);
    assert_eq!(summary.services.created, 3);
    assert_eq!(summary.services.out_of_area, 1, "c is in the Nièvre");

    // A département that is none is refused before anything is read.
    let err = f.exchange.options(Some("8"), false, None).unwrap_err();
    assert_eq!(err.code(), "import.departement.invalid");
    let options = f.exchange.options(Some(" 2a "), false, None).unwrap();
    assert_eq!(options.departement.unwrap(), "2A");
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_counts_the_same() {
    let f = fixture();
    let structures = f.file(
        "structures.csv",
        "source;id;nom;date_maj;code_insee;reseaux_porteurs\n\
         dora;s1;Mairie d’Auxerre;2026-10-01;89024;{france-travail}\n",
    );
    let services = f.file(
        "services.json",
        &serde_json::to_string_pretty(&json!([
            service("a", "s1", "2026-10-02"),
            service("b", "s1", "2026-10-02"),
        ]))
        .unwrap(),
    );
    let dry = ImportOptions {
        dry_run: true,
        ..ImportOptions::default()
    };
    let (summary, _) = f.import(Some(&structures), Some(&services), dry).await;
    assert!(summary.dry_run);
    assert_eq!(summary.structures.created, 1);
    assert_eq!(summary.services.created, 2);
    assert_eq!(f.store.catalogue_seq().await.unwrap(), 0);
    assert!(f.store.list_organisations().await.unwrap().is_empty());

    let (real, _) = f
        .import(Some(&structures), Some(&services), ImportOptions::default())
        .await;
    assert_eq!(real.structures, summary.structures);
    assert_eq!(real.services, summary.services);
}

#[tokio::test]
async fn a_broken_file_is_reported_with_what_was_read_before() {
    let f = fixture();
    let structures = f.jsonl(
        "structures.jsonl",
        &[structure("s1", "89024", "2026-10-01")],
    );
    let services = f.file(
        "services.json",
        &format!(
            "[{}, {}, {{\"unterminated",
            service("a", "s1", "2026-10-02"),
            service("b", "s1", "2026-10-02")
        ),
    );
    let (summary, report) = f
        .import(Some(&structures), Some(&services), ImportOptions::default())
        .await;
    assert_eq!(summary.services.created, 2);
    assert_eq!(summary.file_errors.len(), 1, "{summary:?}");
    assert_eq!(report.last().unwrap()["code"], "file.malformed_json");
}
