//! A collectivity's nightly job, in its own Rust service: import the latest data·inclusion
//! extract into PEPS with the library (no `peps` binary, no HTTP), keep the reject report,
//! then write the catalogue back out as open data.
//!
//! Run it: `cargo run -p peps-examples --example import_data_inclusion`.

use std::io::Write;
use std::sync::Arc;

use peps_core::catalogue::ReferenceData;
use peps_core::catalogue::data_inclusion::read::Format;
use peps_core::catalogue::data_inclusion::write::{RecordWriter, SERVICE_COLUMNS};
use peps_core::clock::SystemClock;
use peps_core::services::exchange::{
    Exchange, ExportSettings, ImportFiles, ImportOptions, ImportSummary, JsonLinesReport,
};
use peps_store::SeaOrmStore;

/// A tiny extract, as the data·inclusion API would give it (JSON Lines here; JSON arrays and
/// CSV work the same).
const STRUCTURES: &str = r#"{"source":"dora","id":"s-1","nom":"Épicerie solidaire de Sens","date_maj":"2026-10-01","adresse":"3 rue de la République","code_postal":"89100","commune":"Sens","code_insee":"89387"}
"#;
const SERVICES: &str = r#"{"source":"dora","id":"v-1","structure_id":"s-1","nom":"Colis alimentaires","description":"Des colis chaque semaine, sur orientation d'un travailleur social.","date_maj":"2026-10-02","thematiques":["equipement-et-alimentation--alimentation"],"modes_accueil":["en-presentiel"],"horaires_accueil":"Tu,Th 14:00-17:00"}
{"source":"dora","id":"v-2","structure_id":"s-1","nom":"Vestiaire","description":"Vêtements pour toute la famille.","date_maj":"2026-10-02","frais":"hors-de-prix"}
"#;

/// Everything the example does; `main` and the test both call it.
pub async fn run(
    database_url: &str,
    work: &std::path::Path,
) -> anyhow::Result<(ImportSummary, String, String)> {
    let store = Arc::new(SeaOrmStore::connect(database_url).await?);
    store.migrate().await?;
    let exchange = Exchange::new(
        store.clone(),
        store,
        Arc::new(SystemClock),
        Arc::new(ReferenceData::builtin()),
    );

    // 1. Import: both files are streamed; bad records go to the report, never stop the run.
    std::fs::write(work.join("structures.jsonl"), STRUCTURES)?;
    std::fs::write(work.join("services.jsonl"), SERVICES)?;
    let mut report = JsonLinesReport(Vec::new());
    let summary = exchange
        .import(
            &ImportFiles {
                structures: Some(work.join("structures.jsonl")),
                services: Some(work.join("services.jsonl")),
            },
            &ImportOptions {
                departement: Some("89".parse()?),
                ..ImportOptions::default()
            },
            &mut report,
        )
        .await?;
    let report = String::from_utf8(report.0)?;

    // 2. Export the published catalogue as data·inclusion v1 services (CSV here).
    let mut pages = exchange.export(ExportSettings {
        source: "peps-89".into(),
        public_url: "https://peps.example.org".into(),
    });
    let mut csv = RecordWriter::new(Vec::new(), Format::Csv, SERVICE_COLUMNS)?;
    while let Some(page) = pages.next_services().await? {
        for service in &page {
            csv.write(service)?;
        }
    }
    let csv = String::from_utf8(csv.finish()?)?;
    Ok((summary, report, csv))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let work = tempfile::tempdir()?;
    let url = format!("sqlite://{}", work.path().join("peps.db").display());
    let (summary, report, csv) = run(&url, work.path()).await?;
    println!(
        "{} structures and {} services created, {} services rejected.",
        summary.structures.created, summary.services.created, summary.services.rejected
    );
    println!("Report:\n{report}");
    std::io::stdout().write_all(csv.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn imports_reports_and_exports() {
        let work = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", work.path().join("peps.db").display());
        let (summary, report, csv) = super::run(&url, work.path()).await.unwrap();
        assert_eq!(summary.structures.created, 1);
        assert_eq!(summary.services.created, 1);
        assert_eq!(summary.services.rejected, 1);
        assert!(report.contains("\"field\":\"frais\""), "{report}");
        assert!(csv.starts_with("source,id,structure_id,nom"));
        assert!(csv.contains("Colis alimentaires"));
        // Running the same import again changes nothing.
        let (again, _, _) = super::run(&url, work.path()).await.unwrap();
        assert_eq!(again.services.unchanged, 1);
        assert_eq!(again.services.created, 0);
    }
}
