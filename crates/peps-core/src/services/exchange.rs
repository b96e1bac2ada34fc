//! data·inclusion import and export: the département's catalogue bootstrapped from a national
//! extract, and given back as open data in the same v1 schema.
//!
//! An import reads records in chunks, validates and maps each one, and writes each chunk in one
//! transaction. What it wrote is remembered per (`source`, `id`) with a hash of the mapped
//! content: rerunning an import changes nothing, and rerunning an interrupted one (even killed)
//! picks up where the last committed chunk ended and converges to the same state.
//!
//! When a record changed both at the source and in PEPS, the newer one wins: the source's
//! `date_maj` against the day of the last change made in PEPS. On the same day PEPS wins, since
//! `date_maj` has no time of day and the offerer's edit was made knowingly.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalogue::data_inclusion::import::{self as mapping, MappedService, MappedStructure};
use crate::catalogue::data_inclusion::read::{RawRecord, RecordError, RecordReader};
use crate::catalogue::data_inclusion::schema::{FieldProblem, V1Schemas};
use crate::catalogue::data_inclusion::{self as v1, V1Service, V1Structure};
use crate::catalogue::offer::{Location, departement_of};
use crate::catalogue::{Offer, OfferContent, OfferStatus, ReferenceData};
use crate::clock::Clock;
use crate::domain::*;
use crate::error::{CoreError, CoreResult, StoreError};
use crate::policy::{Action, Actor, Relation, authorize};
use crate::ports::*;

/// Records per transaction: large enough to amortise a commit, small enough to keep memory flat
/// and an interrupted import's lost work short.
pub const DEFAULT_BATCH: usize = 500;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Keep only what is located in this département (`89`, `2A`, `971`).
    pub departement: Option<String>,
    /// Validate and count without writing anything.
    pub dry_run: bool,
    /// The theme of services whose topics no theme covers; the first theme when `None`.
    pub default_theme: Option<String>,
    pub batch_size: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            departement: None,
            dry_run: false,
            default_theme: None,
            batch_size: DEFAULT_BATCH,
        }
    }
}

/// The extract's files; either may be absent (services then refer to structures imported
/// earlier).
#[derive(Debug, Clone, Default)]
pub struct ImportFiles {
    pub structures: Option<PathBuf>,
    pub services: Option<PathBuf>,
}

/// What happened to the records of one kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KindSummary {
    pub read: u64,
    pub created: u64,
    pub updated: u64,
    /// Same content as last imported; for services, a newer `date_maj` still renews the
    /// verification date (`verified`).
    pub unchanged: u64,
    pub verified: u64,
    /// Edited in PEPS after the source's `date_maj`: PEPS's version kept.
    pub kept_local: u64,
    /// Older than the version PEPS already holds from the source.
    pub outdated: u64,
    /// Outside `--departement`.
    pub out_of_area: u64,
    pub rejected: u64,
    /// Records taken without one or more optional fields.
    pub with_dropped_fields: u64,
    /// Changed in PEPS while the import ran; a rerun takes them up.
    pub conflicts: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub dry_run: bool,
    pub structures: KindSummary,
    pub services: KindSummary,
    /// A file that could not be read to its end (broken JSON framing, unreadable CSV).
    pub file_errors: Vec<String>,
}

/// One line of the import report (JSON Lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportLine {
    pub kind: &'static str,
    /// Where the record is in its file (1-based), for records without a usable id.
    pub position: u64,
    pub line: u64,
    pub source: Option<String>,
    pub id: Option<String>,
    /// `rejected`, `field_dropped`, `kept_local`, `outdated` or `conflict`.
    pub outcome: &'static str,
    pub field: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// `--departement`: finding the structures the département's services belong to.
    Scanning,
    Structures,
    Services,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub phase: Phase,
    pub records: u64,
    pub bytes_read: u64,
    pub total_bytes: u64,
}

/// Where an import tells how it goes: a progress bar, log lines, a job's status.
pub trait ImportObserver: Send {
    fn progress(&mut self, progress: &Progress);
    fn report(&mut self, line: &ReportLine) -> std::io::Result<()>;
}

/// An observer that ignores everything (library use without a report).
pub struct Quiet;

impl ImportObserver for Quiet {
    fn progress(&mut self, _: &Progress) {}
    fn report(&mut self, _: &ReportLine) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes report lines as JSON Lines to any writer.
pub struct JsonLinesReport<W: std::io::Write + Send>(pub W);

impl<W: std::io::Write + Send> ImportObserver for JsonLinesReport<W> {
    fn progress(&mut self, _: &Progress) {}
    fn report(&mut self, line: &ReportLine) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.0, line)?;
        self.0.write_all(b"\n")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the report: {0}")]
    Report(std::io::Error),
    #[error("unknown default theme `{0}`")]
    UnknownTheme(String),
    #[error("invalid département code `{0}`")]
    InvalidDepartement(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Exchange {
    store: Arc<dyn CatalogueExchange>,
    offers: Arc<dyn OfferRepository>,
    clock: Arc<dyn Clock>,
    reference: Arc<ReferenceData>,
    schemas: Arc<V1Schemas>,
}

/// The record key used to recognise a record seen twice in one run (64-bit fingerprints keep
/// the memory of a 150,000-record run near one megabyte).
fn fingerprint(kind: RecordKind, source: &str, id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (kind.as_str(), source, id).hash(&mut h);
    h.finish()
}

fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// In the département: placed there, or open to its people (its eligibility zone names the
/// département or one of its communes). Nationwide services (`france`) are left out: they are
/// everyone's, and would drown a département's catalogue.
fn in_departement(place: Option<&Location>, zones: &[String], departement: &str) -> bool {
    let placed = place.is_some_and(|place| match (&place.commune_code, &place.postcode) {
        (Some(code), _) => departement_of(code) == departement,
        (None, Some(postcode)) => postcode_in(postcode, departement),
        (None, None) => false,
    });
    placed
        || zones
            .iter()
            .any(|z| z == departement || (z.len() == 5 && departement_of(z) == departement))
}

/// Corsican postcodes start with 20 for both 2A and 2B.
fn postcode_in(postcode: &str, departement: &str) -> bool {
    match departement {
        "2A" | "2B" => postcode.starts_with("20"),
        d => postcode.starts_with(d),
    }
}

/// A record as read, before validation.
struct Incoming {
    position: u64,
    line: u64,
    source: Option<String>,
    id: Option<String>,
    value: Value,
}

impl Incoming {
    fn from_raw(raw: RawRecord) -> Self {
        let text = |k: &str| raw.fields.get(k).and_then(Value::as_str).map(str::to_owned);
        Self {
            position: raw.position,
            line: raw.line,
            source: text("source"),
            id: text("id"),
            value: Value::Object(raw.fields),
        }
    }

    fn line(&self, kind: RecordKind, outcome: &'static str, p: FieldProblem) -> ReportLine {
        ReportLine {
            kind: kind.as_str(),
            position: self.position,
            line: self.line,
            source: self.source.clone(),
            id: self.id.clone(),
            outcome,
            field: p.field,
            code: p.code,
            value: p.value,
        }
    }
}

/// What an import run carries from chunk to chunk.
struct Run<'a> {
    options: &'a ImportOptions,
    default_theme: String,
    observer: &'a mut dyn ImportObserver,
    summary: ImportSummary,
    seen: HashSet<u64>,
    /// `--departement`: structures outside it that in-area services belong to.
    referenced: Option<HashSet<u64>>,
    /// Dry run: the structures that would have been created, for the services that follow.
    planned: HashMap<u64, (OrganisationId, Option<Location>)>,
    now: DateTime<Utc>,
}

impl Run<'_> {
    fn counts(&mut self, kind: RecordKind) -> &mut KindSummary {
        match kind {
            RecordKind::Structure => &mut self.summary.structures,
            RecordKind::Service => &mut self.summary.services,
        }
    }

    fn report(&mut self, line: ReportLine) -> Result<(), ImportError> {
        self.observer.report(&line).map_err(ImportError::Report)
    }

    fn reject(
        &mut self,
        kind: RecordKind,
        record: &Incoming,
        problems: Vec<FieldProblem>,
    ) -> Result<(), ImportError> {
        self.counts(kind).rejected += 1;
        for p in problems {
            self.report(record.line(kind, "rejected", p))?;
        }
        Ok(())
    }

    fn dropped(
        &mut self,
        kind: RecordKind,
        record: &Incoming,
        problems: &[FieldProblem],
    ) -> Result<(), ImportError> {
        if problems.is_empty() {
            return Ok(());
        }
        self.counts(kind).with_dropped_fields += 1;
        for p in problems {
            self.report(record.line(kind, "field_dropped", p.clone()))?;
        }
        Ok(())
    }

    /// Schema check, typed parse and duplicate check shared by both kinds.
    fn admit<T: serde::de::DeserializeOwned>(
        &mut self,
        kind: RecordKind,
        record: &Incoming,
        schemas: &V1Schemas,
    ) -> Result<Option<T>, ImportError> {
        let problems = schemas.check(kind, &record.value);
        if !problems.is_empty() {
            self.reject(kind, record, problems)?;
            return Ok(None);
        }
        let typed: T = match serde_json::from_value(record.value.clone()) {
            Ok(t) => t,
            Err(_) => {
                self.reject(kind, record, vec![FieldProblem::new("*", "v1.type")])?;
                return Ok(None);
            }
        };
        let (source, id) = (
            record.source.as_deref().unwrap_or(""),
            record.id.as_deref().unwrap_or(""),
        );
        if !self.seen.insert(fingerprint(kind, source, id)) {
            self.reject(
                kind,
                record,
                vec![FieldProblem::new("id", "import.duplicate")],
            )?;
            return Ok(None);
        }
        Ok(Some(typed))
    }
}

/// Decides what to do with a record PEPS may already hold.
enum Decision {
    Create,
    Update,
    Unchanged,
    Verify,
    KeptLocal,
    Outdated,
}

fn decide(held: Option<&HeldRecord>, hash: &str, date_maj: NaiveDate) -> Decision {
    let Some(held) = held else {
        return Decision::Create;
    };
    let edited_locally = held.current_version > held.record.imported_version;
    if held.record.content_hash == hash && !edited_locally {
        return if date_maj > held.record.date_maj {
            Decision::Verify
        } else {
            Decision::Unchanged
        };
    }
    if edited_locally && held.updated_at.date_naive() >= date_maj {
        return Decision::KeptLocal;
    }
    if date_maj < held.record.date_maj {
        return Decision::Outdated;
    }
    // Includes a record edited in PEPS, then confirmed unchanged by a newer source record:
    // the source is newer, so its version is put back.
    Decision::Update
}

/// Keeps what PEPS knows and v1 cannot carry (summary, languages, accessibility, validity,
/// further places, translations) when the source updates an offer.
fn merge(existing: &OfferContent, incoming: OfferContent) -> OfferContent {
    let mut merged = incoming;
    merged.summary = existing.summary.clone();
    merged.languages_spoken = existing.languages_spoken.clone();
    merged.accessibility = existing.accessibility.clone();
    merged.website = existing.website.clone();
    merged.validity = existing.validity;
    merged.update_frequency_months = existing.update_frequency_months;
    merged.translations = existing.translations.clone();
    merged
        .locations
        .extend(existing.locations.iter().skip(1).cloned());
    merged
}

fn open(
    path: &Path,
) -> Result<(RecordReader<std::io::BufReader<std::fs::File>>, u64), ImportError> {
    let file = std::fs::File::open(path).map_err(|source| ImportError::File {
        path: path.to_owned(),
        source,
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let reader =
        RecordReader::new(std::io::BufReader::with_capacity(256 * 1024, file)).map_err(|e| {
            ImportError::File {
                path: path.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
            }
        })?;
    Ok((reader, size))
}

/// Reads up to `n` records. Reading is synchronous: the files are local and a chunk takes a
/// few milliseconds, not worth a thread.
fn next_chunk<R: BufRead>(
    reader: &mut RecordReader<R>,
    n: usize,
) -> (Vec<Result<RawRecord, RecordError>>, bool) {
    let mut chunk = Vec::with_capacity(n);
    for item in reader.by_ref() {
        chunk.push(item);
        if chunk.len() == n {
            return (chunk, false);
        }
    }
    (chunk, true)
}

impl Exchange {
    pub fn new(
        store: Arc<dyn CatalogueExchange>,
        offers: Arc<dyn OfferRepository>,
        clock: Arc<dyn Clock>,
        reference: Arc<ReferenceData>,
    ) -> Self {
        Self {
            store,
            offers,
            clock,
            reference,
            schemas: Arc::new(V1Schemas::new()),
        }
    }

    pub fn reference(&self) -> &ReferenceData {
        &self.reference
    }

    /// Imports and their jobs are for admins only.
    pub fn check_may_import(&self, actor: &Actor) -> CoreResult<()> {
        authorize(actor.role, Action::ImportCatalogue, Relation::Unrelated)
            .map_err(|_| CoreError::Denied)
    }

    /// Records a new job for `actor` (who must be allowed to import).
    pub async fn create_job(&self, actor: &Actor, details: Value) -> CoreResult<ImportJob> {
        self.check_may_import(actor)?;
        let job = ImportJob {
            id: ImportJobId::new(),
            requested_by: actor.account,
            status: ImportJobStatus::Queued,
            created_at: self.clock.now(),
            finished_at: None,
            details,
        };
        self.store.save_import_job(&job).await?;
        Ok(job)
    }

    /// Saves a job's progress or outcome (the job runner's own writes).
    pub async fn save_job(&self, job: &ImportJob) -> CoreResult<()> {
        self.store.save_import_job(job).await?;
        Ok(())
    }

    pub async fn job(&self, actor: &Actor, id: ImportJobId) -> CoreResult<ImportJob> {
        self.check_may_import(actor)?;
        match self.store.import_job(id).await {
            Err(StoreError::NotFound) => Err(CoreError::NotFound),
            other => Ok(other?),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The published catalogue as v1 records, page by page.
    pub fn export(&self, settings: ExportSettings) -> ExportPages {
        ExportPages::new(self.store.clone(), settings)
    }

    /// The catalogue counter: any change to offers or profiles moves it.
    pub async fn catalogue_seq(&self) -> CoreResult<i64> {
        Ok(self.offers.catalogue_seq().await?)
    }

    /// The catalogue counter (for ETags) and when the catalogue last changed.
    pub async fn catalogue_state(&self) -> CoreResult<(i64, Option<DateTime<Utc>>)> {
        let seq = self.offers.catalogue_seq().await?;
        let at = self.store.catalogue_changed_at().await?;
        Ok((seq, at))
    }

    /// Imports a data·inclusion extract. One bad record never stops the run: it is counted
    /// and reported to `observer`. Only an unreadable file, a report that cannot be written or
    /// the store failing stops it — and rerunning then converges.
    pub async fn import(
        &self,
        files: &ImportFiles,
        options: &ImportOptions,
        observer: &mut dyn ImportObserver,
    ) -> Result<ImportSummary, ImportError> {
        let default_theme = match &options.default_theme {
            Some(t) if self.reference.themes().iter().any(|x| &x.code == t) => t.clone(),
            Some(t) => return Err(ImportError::UnknownTheme(t.clone())),
            None => self
                .reference
                .themes()
                .first()
                .map(|t| t.code.clone())
                .unwrap_or_default(),
        };
        if let Some(d) = options
            .departement
            .as_ref()
            .filter(|d| !crate::catalogue::offer::is_departement(d))
        {
            return Err(ImportError::InvalidDepartement(d.clone()));
        }
        let mut run = Run {
            options,
            default_theme,
            observer,
            summary: ImportSummary {
                dry_run: options.dry_run,
                ..ImportSummary::default()
            },
            seen: HashSet::new(),
            referenced: None,
            planned: HashMap::new(),
            now: self.clock.now(),
        };
        let batch = options.batch_size.max(1);
        if let (Some(departement), Some(services)) = (&options.departement, &files.services) {
            run.referenced = Some(self.scan_referenced(services, departement, &mut run)?);
        }
        // Structures first: the services that follow refer to them.
        let files = [
            (RecordKind::Structure, Phase::Structures, &files.structures),
            (RecordKind::Service, Phase::Services, &files.services),
        ];
        for (kind, phase, path) in files {
            let Some(path) = path else { continue };
            run.seen.clear();
            let (mut reader, total) = open(path)?;
            let mut progress = Progress {
                phase,
                records: 0,
                bytes_read: 0,
                total_bytes: total,
            };
            run.observer.progress(&progress);
            let mut done = false;
            while !done {
                let (chunk, end) = next_chunk(&mut reader, batch);
                done = end;
                let records = self.unframe(kind, path, chunk, &mut run)?;
                match kind {
                    RecordKind::Structure => self.structures_chunk(records, &mut run).await?,
                    RecordKind::Service => self.services_chunk(records, &mut run).await?,
                }
                progress.records = run.counts(kind).read;
                progress.bytes_read = reader.bytes_read();
                run.observer.progress(&progress);
            }
        }
        Ok(run.summary)
    }

    /// Splits a chunk into readable records, reporting unreadable ones.
    fn unframe(
        &self,
        kind: RecordKind,
        path: &Path,
        chunk: Vec<Result<RawRecord, RecordError>>,
        run: &mut Run<'_>,
    ) -> Result<Vec<Incoming>, ImportError> {
        let mut records = Vec::with_capacity(chunk.len());
        for item in chunk {
            run.counts(kind).read += 1;
            match item {
                Ok(raw) => records.push(Incoming::from_raw(raw)),
                Err(e) => {
                    if e.fatal {
                        // The framing is broken: nothing after this point can be trusted.
                        run.counts(kind).read -= 1;
                        run.summary
                            .file_errors
                            .push(format!("{}: {}", path.display(), e));
                    } else {
                        run.counts(kind).rejected += 1;
                    }
                    let line = ReportLine {
                        kind: kind.as_str(),
                        position: e.position,
                        line: e.line,
                        source: None,
                        id: None,
                        outcome: "rejected",
                        field: "*".into(),
                        code: e.code.into(),
                        value: None,
                    };
                    run.report(line)?;
                }
            }
        }
        Ok(records)
    }

    /// First pass over the services with `--departement`: which structures do the
    /// département's services belong to (a national network's structure may be registered
    /// elsewhere).
    fn scan_referenced(
        &self,
        path: &Path,
        departement: &str,
        run: &mut Run<'_>,
    ) -> Result<HashSet<u64>, ImportError> {
        let (mut reader, total) = open(path)?;
        run.observer.progress(&Progress {
            phase: Phase::Scanning,
            records: 0,
            bytes_read: 0,
            total_bytes: total,
        });
        let mut referenced = HashSet::new();
        let mut count = 0u64;
        for item in reader.by_ref() {
            count += 1;
            let Ok(raw) = item else { continue };
            let Ok(service) = serde_json::from_value::<V1Service>(Value::Object(raw.fields)) else {
                continue;
            };
            let place = mapping_place(&service);
            let zones = service.zone_eligibilite.clone().unwrap_or_default();
            if in_departement(place.as_ref(), &zones, departement) {
                referenced.insert(fingerprint(
                    RecordKind::Structure,
                    &service.source,
                    &service.structure_id,
                ));
            }
        }
        run.observer.progress(&Progress {
            phase: Phase::Scanning,
            records: count,
            bytes_read: reader.bytes_read(),
            total_bytes: total,
        });
        Ok(referenced)
    }

    async fn held(
        &self,
        kind: RecordKind,
        keys: impl Iterator<Item = (String, String)>,
    ) -> Result<HashMap<(String, String), HeldRecord>, ImportError> {
        let mut by_source: HashMap<String, Vec<String>> = HashMap::new();
        for (source, id) in keys {
            by_source.entry(source).or_default().push(id);
        }
        let mut held = HashMap::new();
        for (source, ids) in by_source {
            for h in self.store.held_records(kind, &source, &ids).await? {
                held.insert((h.record.source.clone(), h.record.id.clone()), h);
            }
        }
        Ok(held)
    }

    async fn structures_chunk(
        &self,
        records: Vec<Incoming>,
        run: &mut Run<'_>,
    ) -> Result<(), ImportError> {
        const KIND: RecordKind = RecordKind::Structure;
        let mut mapped: Vec<(Incoming, V1Structure, MappedStructure)> = Vec::new();
        for record in records {
            let Some(structure) = run.admit::<V1Structure>(KIND, &record, &self.schemas)? else {
                continue;
            };
            match mapping::structure(&structure, &self.reference) {
                Err(problems) => run.reject(KIND, &record, problems)?,
                Ok(m) => {
                    if let Some(d) = &run.options.departement {
                        let referenced = run.referenced.as_ref().is_some_and(|r| {
                            r.contains(&fingerprint(KIND, &structure.source, &structure.id))
                        });
                        if !referenced && !in_departement(m.profile.address.as_ref(), &[], d) {
                            run.summary.structures.out_of_area += 1;
                            continue;
                        }
                    }
                    run.dropped(KIND, &record, &m.dropped)?;
                    mapped.push((record, structure, m));
                }
            }
        }
        let held = self
            .held(
                KIND,
                mapped
                    .iter()
                    .map(|(_, s, _)| (s.source.clone(), s.id.clone())),
            )
            .await?;
        let places: HashMap<String, (String, u64, u64)> = mapped
            .iter()
            .map(|(r, s, _)| (s.id.clone(), (s.source.clone(), r.position, r.line)))
            .collect();
        let mut batch = ImportBatch::default();
        for (record, structure, m) in mapped {
            let key = (structure.source.clone(), structure.id.clone());
            let hash = mapping::content_hash(&(
                m.name.as_str(),
                m.siret.as_ref().map(|s| s.as_str()),
                &m.profile,
            ));
            let h = held.get(&key);
            let decision = decide(h, &hash, m.date_maj);
            let (organisation_id, expected, version) = match (&decision, h) {
                (Decision::Create, _) => (OrganisationId::new(), None, 1),
                (Decision::Update, Some(h)) => (
                    OrganisationId(h.record.local_id),
                    Some(h.current_version),
                    h.current_version + 1,
                ),
                (other, _) => {
                    self.count_skip(KIND, &record, other, run)?;
                    continue;
                }
            };
            if run.options.dry_run {
                run.planned.insert(
                    fingerprint(KIND, &structure.source, &structure.id),
                    (organisation_id, m.profile.address.clone()),
                );
            }
            batch.organisations.push(OrganisationWrite {
                organisation: Organisation {
                    id: organisation_id,
                    name: m.name,
                    kind: OrganisationKind::Offerer,
                    siret: m.siret,
                    created_at: run.now,
                },
                profile: m.profile,
                expected_profile_version: expected,
                record: ImportedRecord {
                    kind: KIND,
                    source: structure.source,
                    id: structure.id,
                    local_id: organisation_id.0,
                    date_maj: m.date_maj,
                    content_hash: hash,
                    imported_version: version,
                    imported_at: run.now,
                },
            });
        }
        self.apply(KIND, batch, &places, run).await
    }

    fn count_skip(
        &self,
        kind: RecordKind,
        record: &Incoming,
        decision: &Decision,
        run: &mut Run<'_>,
    ) -> Result<(), ImportError> {
        match decision {
            Decision::Unchanged => run.counts(kind).unchanged += 1,
            Decision::KeptLocal => {
                run.counts(kind).kept_local += 1;
                run.report(record.line(
                    kind,
                    "kept_local",
                    FieldProblem::new("date_maj", "import.local_edit_newer"),
                ))?;
            }
            Decision::Outdated => {
                run.counts(kind).outdated += 1;
                run.report(record.line(
                    kind,
                    "outdated",
                    FieldProblem::new("date_maj", "import.older_than_held"),
                ))?;
            }
            Decision::Create | Decision::Update | Decision::Verify => {}
        }
        Ok(())
    }

    /// Writes a batch. `places` says where each record of the batch was in its file (by id),
    /// for the report lines of records the store could not write as asked.
    async fn apply(
        &self,
        kind: RecordKind,
        batch: ImportBatch,
        places: &HashMap<String, (String, u64, u64)>,
        run: &mut Run<'_>,
    ) -> Result<(), ImportError> {
        let count = |creating: bool| match kind {
            RecordKind::Structure => batch
                .organisations
                .iter()
                .filter(|w| w.expected_profile_version.is_none() == creating)
                .count() as u64,
            RecordKind::Service => batch
                .offers
                .iter()
                .filter(|w| {
                    w.expected_version.is_none() == creating && w.entry.action != "verified"
                })
                .count() as u64,
        };
        let (created, updated) = (count(true), count(false));
        let verified = batch
            .offers
            .iter()
            .filter(|w| w.entry.action == "verified")
            .count() as u64;
        let outcome =
            if run.options.dry_run || (batch.offers.is_empty() && batch.organisations.is_empty()) {
                BatchOutcome::default()
            } else {
                self.store.apply_import(&batch).await?
            };
        let conflicts = outcome.conflicts.len() as u64;
        let sirets_dropped = outcome.sirets_dropped.len() as u64;
        let line = |kind: RecordKind, id: String, outcome, field: &str, code: &str| {
            let (source, position, line) = places
                .get(&id)
                .map_or((None, 0, 0), |(s, p, l)| (Some(s.clone()), *p, *l));
            ReportLine {
                kind: kind.as_str(),
                position,
                line,
                source,
                id: Some(id),
                outcome,
                field: field.into(),
                code: code.into(),
                value: None,
            }
        };
        for id in outcome.sirets_dropped {
            run.report(line(
                RecordKind::Structure,
                id,
                "field_dropped",
                "siret",
                "import.siret_taken",
            ))?;
        }
        for (k, id) in outcome.conflicts {
            run.report(line(k, id, "conflict", "*", "import.changed_during_import"))?;
        }
        let c = run.counts(kind);
        c.created += created;
        c.updated += updated;
        c.verified += verified;
        c.conflicts += conflicts;
        c.with_dropped_fields += sirets_dropped;
        // Conflicted writes were counted as updates above.
        c.updated = c.updated.saturating_sub(conflicts);
        Ok(())
    }

    async fn services_chunk(
        &self,
        records: Vec<Incoming>,
        run: &mut Run<'_>,
    ) -> Result<(), ImportError> {
        const KIND: RecordKind = RecordKind::Service;
        let mut admitted: Vec<(Incoming, V1Service)> = Vec::new();
        for record in records {
            if let Some(service) = run.admit::<V1Service>(KIND, &record, &self.schemas)? {
                admitted.push((record, service));
            }
        }
        // The structures these services belong to, and their addresses.
        let structures = self
            .held(
                RecordKind::Structure,
                admitted
                    .iter()
                    .map(|(_, s)| (s.source.clone(), s.structure_id.clone())),
            )
            .await?;
        let organisation_ids: Vec<OrganisationId> = structures
            .values()
            .map(|h| OrganisationId(h.record.local_id))
            .collect();
        let addresses: HashMap<OrganisationId, Option<Location>> = self
            .store
            .profiles_of(&organisation_ids)
            .await?
            .into_iter()
            .map(|(id, p)| (id, p.profile.address))
            .collect();

        let mut mapped: Vec<(Incoming, OrganisationId, MappedService)> = Vec::new();
        for (record, service) in admitted {
            let key = (service.source.clone(), service.structure_id.clone());
            let owner = match structures.get(&key) {
                Some(h) => {
                    let id = OrganisationId(h.record.local_id);
                    Some((id, addresses.get(&id).cloned().flatten()))
                }
                None => run
                    .planned
                    .get(&fingerprint(
                        RecordKind::Structure,
                        &service.source,
                        &service.structure_id,
                    ))
                    .cloned(),
            };
            let Some((organisation_id, address)) = owner else {
                run.reject(
                    KIND,
                    &record,
                    vec![
                        FieldProblem::new("structure_id", "import.structure_unknown")
                            .with_value(&Value::String(service.structure_id.clone())),
                    ],
                )?;
                continue;
            };
            match mapping::service(
                &service,
                address.as_ref(),
                &self.reference,
                &run.default_theme,
            ) {
                Err(problems) => run.reject(KIND, &record, problems)?,
                Ok(m) => {
                    let outside = run.options.departement.as_ref().is_some_and(|d| {
                        !in_departement(m.content.locations.first(), &m.content.eligibility_zone, d)
                    });
                    if outside {
                        run.summary.services.out_of_area += 1;
                        continue;
                    }
                    run.dropped(KIND, &record, &m.dropped)?;
                    mapped.push((record, organisation_id, m));
                }
            }
        }

        let held = self
            .held(
                KIND,
                mapped
                    .iter()
                    .map(|(_, _, m)| (m.origin.source.clone(), m.origin.id.clone())),
            )
            .await?;
        let places: HashMap<String, (String, u64, u64)> = mapped
            .iter()
            .map(|(r, _, m)| {
                (
                    m.origin.id.clone(),
                    (m.origin.source.clone(), r.position, r.line),
                )
            })
            .collect();
        let mut batch = ImportBatch::default();
        for (record, organisation_id, m) in mapped {
            let key = (m.origin.source.clone(), m.origin.id.clone());
            let hash = mapping::content_hash(&(organisation_id, &m.content, &m.origin));
            let h = held.get(&key);
            let decision = decide(h, &hash, m.date_maj);
            let verified_at = day_start(m.date_maj).min(run.now);
            let write = match (&decision, h) {
                (Decision::Create, _) => {
                    let offer = Offer {
                        id: OfferId::new(),
                        organisation_id,
                        organisation_name: String::new(),
                        status: OfferStatus::Published,
                        content: m.content,
                        temporary_changes: Vec::new(),
                        origin: Some(m.origin),
                        review: None,
                        version: 1,
                        created_at: run.now,
                        updated_at: run.now,
                        last_verified_at: verified_at,
                        published_at: Some(run.now),
                    };
                    Some((offer, None, "imported", vec!["*".to_owned()]))
                }
                (Decision::Update | Decision::Verify, Some(h)) => {
                    let mut offer = match self.offers.offer(OfferId(h.record.local_id)).await {
                        Ok(o) => o,
                        Err(StoreError::NotFound) => continue,
                        Err(e) => return Err(e.into()),
                    };
                    let expected = offer.version;
                    let (action, fields) = if matches!(decision, Decision::Verify) {
                        ("verified", Vec::new())
                    } else {
                        let merged = merge(&offer.content, m.content);
                        let fields = offer.content.changed_fields(&merged);
                        offer.content = merged;
                        offer.organisation_id = organisation_id;
                        offer.origin = Some(m.origin);
                        ("imported", fields)
                    };
                    offer.version = expected + 1;
                    offer.updated_at = run.now;
                    offer.last_verified_at = offer.last_verified_at.max(verified_at);
                    Some((offer, Some(expected), action, fields))
                }
                (other, _) => {
                    self.count_skip(KIND, &record, other, run)?;
                    None
                }
            };
            let Some((offer, expected_version, action, fields)) = write else {
                continue;
            };
            batch.offers.push(OfferWrite {
                entry: OfferHistoryEntry {
                    offer: offer.id,
                    version: offer.version,
                    at: run.now,
                    actor: None,
                    action: action.into(),
                    fields,
                    reason: None,
                },
                record: ImportedRecord {
                    kind: KIND,
                    source: key.0,
                    id: key.1,
                    local_id: offer.id.0,
                    date_maj: m.date_maj,
                    content_hash: hash,
                    imported_version: offer.version,
                    imported_at: run.now,
                },
                expected_version,
                offer,
            });
        }
        self.apply(KIND, batch, &places, run).await
    }
}

/// A service's own place, as the département filter sees it before mapping.
fn mapping_place(service: &V1Service) -> Option<Location> {
    let place = Location {
        postcode: service.code_postal.clone(),
        commune_code: service.code_insee.clone(),
        ..Location::default()
    };
    (place != Location::default()).then_some(place)
}

/// How an export names PEPS and where PEPS is reached (for `lien_source`).
#[derive(Debug, Clone)]
pub struct ExportSettings {
    /// The data·inclusion `source` of every exported record (`peps-89`).
    pub source: String,
    pub public_url: String,
}

/// Pages through the published catalogue as v1 records.
pub struct ExportPages {
    store: Arc<dyn CatalogueExchange>,
    settings: ExportSettings,
    after_organisation: Option<OrganisationId>,
    after_offer: Option<OfferId>,
    structures_done: bool,
    services_done: bool,
}

/// Records per page read from the store.
const EXPORT_PAGE: u32 = 1_000;

impl ExportPages {
    pub fn new(store: Arc<dyn CatalogueExchange>, settings: ExportSettings) -> Self {
        Self {
            store,
            settings,
            after_organisation: None,
            after_offer: None,
            structures_done: false,
            services_done: false,
        }
    }

    /// The next structures, or `None` at the end.
    pub async fn next_structures(&mut self) -> CoreResult<Option<Vec<V1Structure>>> {
        if self.structures_done {
            return Ok(None);
        }
        let page = self
            .store
            .public_organisations(self.after_organisation, EXPORT_PAGE)
            .await?;
        self.structures_done = page.len() < EXPORT_PAGE as usize;
        let Some((last, _)) = page.last() else {
            return Ok(None);
        };
        self.after_organisation = Some(last.id);
        Ok(Some(
            page.iter()
                .map(|(org, profile)| {
                    let updated = profile.as_ref().map_or(org.created_at, |p| p.updated_at);
                    v1::structure(
                        org,
                        profile.as_ref().map(|p| &p.profile),
                        updated,
                        &self.settings.source,
                        &self.settings.public_url,
                    )
                })
                .collect(),
        ))
    }

    /// The next services, or `None` at the end.
    pub async fn next_services(&mut self) -> CoreResult<Option<Vec<V1Service>>> {
        if self.services_done {
            return Ok(None);
        }
        let page = self
            .store
            .published_offers(self.after_offer, EXPORT_PAGE)
            .await?;
        self.services_done = page.len() < EXPORT_PAGE as usize;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        self.after_offer = Some(last.id);
        Ok(Some(
            page.iter()
                .map(|offer| v1::service(offer, &self.settings.source, &self.settings.public_url))
                .collect(),
        ))
    }
}

impl From<ImportError> for CoreError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Store(s) => CoreError::Store(s),
            ImportError::UnknownTheme(_) => CoreError::Invalid(crate::error::ValidationError::new(
                "default_theme",
                "import.default_theme.unknown",
            )),
            ImportError::InvalidDepartement(_) => CoreError::Invalid(
                crate::error::ValidationError::new("departement", "import.departement.invalid"),
            ),
            other => CoreError::Store(StoreError::unavailable(other)),
        }
    }
}
