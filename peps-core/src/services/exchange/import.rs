//! The import engine: an extract read in chunks, each record validated, mapped and compared
//! with what PEPS holds, each chunk written in one transaction.

use crate::catalogue::OfferAction;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::BufRead;
use std::path::Path;

use super::Exchange;
use super::area::{in_departement, mapping_place};
use super::options::{ImportFiles, ImportOptions};
use super::outcome::*;
use crate::catalogue::data_inclusion::import::{self as mapping, MappedService, MappedStructure};
use crate::catalogue::data_inclusion::read::{RawRecord, RecordError, RecordReader};
use crate::catalogue::data_inclusion::schema::{FieldProblem, V1Schemas};
use crate::catalogue::data_inclusion::{V1Service, V1Structure};
use crate::catalogue::offer::Location;
use crate::catalogue::{Offer, OfferContent, OfferStatus};
use crate::domain::DepartementCode;
use crate::domain::*;
use crate::error::StoreError;
use crate::ports::*;

/// How often a background job's progress is saved while it runs.
pub(super) const PROGRESS_EVERY: chrono::Duration = chrono::Duration::seconds(2);

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
    /// A background job whose progress is saved as the run goes.
    job: Option<&'a mut ImportJob>,
    /// When the job's progress was last saved.
    saved_at: Option<DateTime<Utc>>,
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
    merged.confidential_address = existing.confidential_address;
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
    /// Imports a data·inclusion extract. One bad record never stops the run: it is counted
    /// and reported to `observer`. Only an unreadable file, a report that cannot be written or
    /// the store failing stops it — and rerunning then converges.
    pub async fn import(
        &self,
        files: &ImportFiles,
        options: &ImportOptions,
        observer: &mut dyn ImportObserver,
    ) -> Result<ImportSummary, ImportError> {
        self.run(files, options, observer, None).await
    }

    /// [`Exchange::import`], saving `job`'s progress every [`PROGRESS_EVERY`] of the clock
    /// between chunks, so that an admin following it sees it move.
    pub(super) async fn run(
        &self,
        files: &ImportFiles,
        options: &ImportOptions,
        observer: &mut dyn ImportObserver,
        job: Option<&mut ImportJob>,
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
            job,
            saved_at: None,
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
                self.checkpoint(&mut run, &progress).await;
            }
        }
        Ok(run.summary)
    }

    /// Saves a background job's progress, at most every [`PROGRESS_EVERY`]. A failed save
    /// only delays what the admin sees; the import goes on.
    async fn checkpoint(&self, run: &mut Run<'_>, progress: &Progress) {
        let Some(job) = run.job.as_deref_mut() else {
            return;
        };
        let now = self.clock.now();
        if run.saved_at.is_some_and(|at| now - at < PROGRESS_EVERY) {
            return;
        }
        run.saved_at = Some(now);
        job.details["progress"] = serde_json::json!(progress);
        if let Err(e) = self.store.save_import_job(job).await {
            tracing::warn!(job = %job.id, error = %e, "cannot save an import job's progress");
        }
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
        departement: &DepartementCode,
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
        let known: Vec<OrganisationId> = held
            .values()
            .map(|h| OrganisationId(h.record.local_id))
            .collect();
        // A confidential address stays confidential when the source updates the structure.
        let confidential: std::collections::HashSet<OrganisationId> = self
            .store
            .profiles_of(&known)
            .await?
            .into_iter()
            .filter(|(_, p)| p.profile.confidential_address)
            .map(|(id, _)| id)
            .collect();
        let mut batch = ImportBatch::default();
        for (record, structure, mut m) in mapped {
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
            m.profile.confidential_address |= confidential.contains(&organisation_id);
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
                    w.expected_version.is_none() == creating
                        && w.entry.action != OfferAction::Verified
                })
                .count() as u64,
        };
        let (created, updated) = (count(true), count(false));
        let verified = batch
            .offers
            .iter()
            .filter(|w| w.entry.action == OfferAction::Verified)
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
        let profiles = self.store.profiles_of(&organisation_ids).await?;
        // An organisation PEPS keeps confidential stays so, and so do its imported offers,
        // whatever the source says (data·inclusion v1 has no such notion).
        let confidential: std::collections::HashSet<OrganisationId> = profiles
            .iter()
            .filter(|(_, p)| p.profile.confidential_address)
            .map(|(id, _)| *id)
            .collect();
        let addresses: HashMap<OrganisationId, Option<Location>> = profiles
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
        for (record, organisation_id, mut m) in mapped {
            let key = (m.origin.source.clone(), m.origin.id.clone());
            let hash = mapping::content_hash(&(organisation_id, &m.content, &m.origin));
            m.content.confidential_address |= confidential.contains(&organisation_id);
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
                    Some((offer, None, OfferAction::Imported, vec!["*".to_owned()]))
                }
                (Decision::Update | Decision::Verify, Some(h)) => {
                    let mut offer = match self.offers.offer(OfferId(h.record.local_id)).await {
                        Ok(o) => o,
                        Err(StoreError::NotFound) => continue,
                        Err(e) => return Err(e.into()),
                    };
                    let expected = offer.version;
                    let (action, fields) = if matches!(decision, Decision::Verify) {
                        (OfferAction::Verified, Vec::new())
                    } else {
                        let merged = merge(&offer.content, m.content);
                        let fields = offer.content.changed_fields(&merged);
                        offer.content = merged;
                        offer.organisation_id = organisation_id;
                        offer.origin = Some(m.origin);
                        (OfferAction::Imported, fields)
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
                    action,
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
