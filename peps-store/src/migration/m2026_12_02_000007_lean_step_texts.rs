//! Lean step texts: a step made from a template keeps the template's reference (id, and the
//! new `template_version` column) and only the fields the worker adapted, instead of a copy
//! of the template's texts in every language (~30 KB per step).
//!
//! Existing rows are rewritten in pages, with sea-query statements that run on SQLite and
//! PostgreSQL alike. The built-in templates decide which fields a step follows: a field
//! follows its template when its French is the template's, or when most of its copied
//! translations were made from that French (the template was corrected since the step was
//! made, the worker did not adapt it: it now reads the corrected text, and the version part of
//! that field is left unknown so that the next start notes the correction in the plan's
//! history). Any other field — and every field of a step whose template is not built in (a
//! collectivity's own) — is kept as the worker's, so that every step reads as before.
//! Going down rebuilds the full copies from the built-in templates.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use std::collections::BTreeMap;
use std::sync::Arc;

use peps_core::domain::{Language, SourceHash, SourceText};
use peps_core::plans::{
    StepContent, StepTemplate, StepTexts, StepTranslation, TEXT_FIELDS, TemplateLibrary,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PlanSteps {
    Table,
    Id,
    Template,
    TemplateVersion,
    Content,
}

/// Rows rewritten per statement batch: a page of full copies is a few megabytes.
const PAGE: u64 = 200;

/// A step's texts as stored before this migration: the French and every translation.
#[derive(serde::Serialize, serde::Deserialize)]
struct FullCopy {
    french: StepTexts,
    #[serde(default)]
    translations: BTreeMap<String, StepTranslation>,
}

/// The version part a field gets when its template text changed under it: unknown, so that
/// the next start notes the correction in the plan's history.
const UNKNOWN: &str = "0";

/// Whether a field of a full copy still follows its template: its French is the template's,
/// or at least two of its copied translations, and most of them, were made from its French
/// (an adapted field's copied translations were made from the template's former French).
fn follows(same_as_template: bool, own_hash: &SourceHash, translated_from: &[&SourceHash]) -> bool {
    let current = translated_from.iter().filter(|h| **h == own_hash).count();
    same_as_template || (current >= 2 && current * 2 > translated_from.len())
}

/// A full copy made lean, and the template version to record; `None` for a row already lean.
pub(crate) fn lean(
    template: Option<&Arc<StepTemplate>>,
    content: &str,
) -> Option<(String, Option<String>)> {
    let full: FullCopy = serde_json::from_str(content).ok()?;
    let Some(template) = template else {
        let mut lean = StepContent::free(full.french);
        lean.translations = full.translations;
        lean.prune();
        return Some((serde_json::to_string(&lean).ok()?, None));
    };
    let french = template.texts.get(Language::REFERENCE)?;
    let made = |pick: fn(&StepTranslation) -> Option<&SourceHash>| -> Vec<&SourceHash> {
        full.translations.values().filter_map(pick).collect()
    };
    let follow = [
        follows(
            full.french.title == french.title,
            &full.french.title.source_hash(),
            &made(|t| t.title.as_ref().map(|f| &f.source_hash)),
        ),
        follows(
            full.french.explanation == french.explanation,
            &full.french.explanation.source_hash(),
            &made(|t| t.explanation.as_ref().map(|f| &f.source_hash)),
        ),
        follows(
            full.french.tasks == french.tasks,
            &full.french.tasks.source_hash(),
            &made(|t| t.tasks.as_ref().map(|f| &f.source_hash)),
        ),
    ];
    let unchanged = [
        full.french.title == french.title,
        full.french.explanation == french.explanation,
        full.french.tasks == french.tasks,
    ];
    let mut lean = StepContent::from_template(template.clone());
    lean.title = (!follow[0]).then_some(full.french.title);
    lean.explanation = (!follow[1]).then_some(full.french.explanation);
    lean.tasks = (!follow[2]).then_some(full.french.tasks);
    lean.translations = full.translations;
    lean.prune();
    let current = template.version();
    let version: Vec<&str> = current
        .split('.')
        .zip(follow.iter().zip(unchanged))
        .map(|(part, (follows, unchanged))| {
            if *follows && !unchanged {
                UNKNOWN
            } else {
                part
            }
        })
        .collect();
    debug_assert_eq!(version.len(), TEXT_FIELDS.len());
    Some((serde_json::to_string(&lean).ok()?, Some(version.join("."))))
}

/// A lean row made a full copy again (for going down), from the built-in template.
fn full(template: Option<&Arc<StepTemplate>>, content: &str) -> Option<String> {
    if serde_json::from_str::<FullCopy>(content).is_ok() {
        return None;
    }
    let mut lean: StepContent = serde_json::from_str(content).ok()?;
    lean.follow(template.cloned());
    let mut translations = lean.translations.clone();
    if let Some(template) = template {
        let french = lean.french();
        let copied = StepContent::from_template(template.clone());
        for code in template.texts.keys() {
            if code == Language::REFERENCE {
                continue;
            }
            let read = copied.localized(code);
            let mut text = StepContent::free(french.clone());
            text.translate(
                code,
                StepTexts {
                    title: read.title.value.to_owned(),
                    explanation: read.explanation.value.to_owned(),
                    tasks: read.tasks.value.to_vec(),
                },
                read.title.provenance,
            );
            let made = text.translations.remove(code).unwrap_or_default();
            let entry = translations.entry(code.clone()).or_default();
            let own = lean.own_fields();
            if !own.contains(&"title") {
                entry.title = made.title;
            }
            if !own.contains(&"explanation") {
                entry.explanation = made.explanation;
            }
            if !own.contains(&"tasks") {
                entry.tasks = made.tasks;
            }
        }
    }
    serde_json::to_string(&FullCopy {
        french: lean.french(),
        translations,
    })
    .ok()
}

/// Rewrites every row's `content` (and `template_version`) with `rewrite`, page by page.
async fn rewrite_rows(
    manager: &SchemaManager<'_>,
    rewrite: impl Fn(Option<&str>, &str) -> Option<(String, Option<String>)>,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let mut after: Option<uuid::Uuid> = None;
    loop {
        let mut page = Query::select();
        page.columns([PlanSteps::Id, PlanSteps::Template, PlanSteps::Content])
            .from(PlanSteps::Table)
            .order_by(PlanSteps::Id, Order::Asc)
            .limit(PAGE);
        if let Some(after) = after {
            page.and_where(Expr::col(PlanSteps::Id).gt(after));
        }
        let rows = db.query_all(&page).await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = Some(last.try_get::<uuid::Uuid>("", "id")?);
        for row in &rows {
            let id: uuid::Uuid = row.try_get("", "id")?;
            let template: Option<String> = row.try_get("", "template")?;
            let content: String = row.try_get("", "content")?;
            let Some((content, version)) = rewrite(template.as_deref(), &content) else {
                continue;
            };
            let mut update = Query::update();
            update
                .table(PlanSteps::Table)
                .value(PlanSteps::Content, content)
                .and_where(Expr::col(PlanSteps::Id).eq(id));
            if let Some(version) = version {
                update.value(PlanSteps::TemplateVersion, version);
            }
            db.execute(&update).await?;
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(PlanSteps::Table)
                    .add_column(string_len_null(PlanSteps::TemplateVersion, 64))
                    .to_owned(),
            )
            .await?;
        let library = TemplateLibrary::builtin();
        rewrite_rows(manager, |template, content| {
            lean(template.and_then(|id| library.shared(id)), content)
        })
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let library = TemplateLibrary::builtin();
        rewrite_rows(manager, |template, content| {
            full(template.and_then(|id| library.shared(id)), content).map(|c| (c, None))
        })
        .await?;
        // Plain SQL that SQLite (3.35 and later) and PostgreSQL both take.
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE plan_steps DROP COLUMN template_version")
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peps_core::catalogue::Provenance;

    fn rsa() -> Arc<StepTemplate> {
        TemplateLibrary::builtin()
            .shared("demander-le-rsa")
            .unwrap()
            .clone()
    }

    /// The full copy a step made from the template stored before this migration.
    fn full_copy(template: &Arc<StepTemplate>) -> FullCopy {
        let content = StepContent::from_template(template.clone());
        let french = content.french();
        let mut translations = BTreeMap::new();
        for code in template.texts.keys().filter(|c| *c != Language::REFERENCE) {
            let read = content.localized(code);
            let mut copy = StepContent::free(french.clone());
            copy.translate(
                code,
                StepTexts {
                    title: read.title.value.to_owned(),
                    explanation: read.explanation.value.to_owned(),
                    tasks: read.tasks.value.to_vec(),
                },
                Provenance::Machine,
            );
            translations.insert(code.clone(), copy.translations.remove(code).unwrap());
        }
        FullCopy {
            french,
            translations,
        }
    }

    #[test]
    fn a_copied_template_step_keeps_only_its_adapted_field() {
        let template = rsa();
        let mut copy = full_copy(&template);
        let copied_size = serde_json::to_string(&copy).unwrap().len();
        copy.french.explanation = "Votre référent vous aide mardi.".into();
        let (lean_json, version) =
            lean(Some(&template), &serde_json::to_string(&copy).unwrap()).unwrap();
        assert_eq!(version, Some(template.version()));
        let mut lean: StepContent = serde_json::from_str(&lean_json).unwrap();
        assert_eq!(lean.own_fields(), vec!["explanation"]);
        assert!(lean_json.len() * 20 < copied_size, "{lean_json}");
        lean.follow(Some(template.clone()));
        assert_eq!(lean.french(), copy.french);
        assert!(!lean.localized("ar").title.fallback);
        assert!(lean.localized("ar").explanation.fallback);
        // Already lean: left alone.
        assert!(super::lean(Some(&template), &lean_json).is_none());
        // And back.
        let back: FullCopy =
            serde_json::from_str(&full(Some(&template), &lean_json).unwrap()).unwrap();
        assert_eq!(back.french, copy.french);
        assert_eq!(back.translations.len(), copy.translations.len());
    }

    #[test]
    fn a_field_copied_from_a_since_corrected_template_follows_it_and_is_noted() {
        let template = rsa();
        let mut copy = full_copy(&template);
        // The template's title at the time, with the translations made from it.
        copy.french.title = "Demander le RSA (ancienne version)".into();
        let old = copy.french.title.source_hash();
        for t in copy.translations.values_mut() {
            t.title.as_mut().unwrap().source_hash = old.clone();
        }
        let (lean_json, version) =
            lean(Some(&template), &serde_json::to_string(&copy).unwrap()).unwrap();
        let lean: StepContent = serde_json::from_str(&lean_json).unwrap();
        assert!(lean.own_fields().is_empty());
        assert_eq!(
            StepTemplate::changed_fields(&version.unwrap(), &template.version()),
            vec!["title"]
        );
    }

    #[test]
    fn a_free_step_and_an_unknown_template_keep_every_field() {
        let template = rsa();
        let copy = full_copy(&template);
        let json = serde_json::to_string(&copy).unwrap();
        // No template in the library (a free step, or a template the collectivity removed).
        let (lean_json, version) = lean(None, &json).unwrap();
        assert_eq!(version, None);
        let lean: StepContent = serde_json::from_str(&lean_json).unwrap();
        assert_eq!(lean.own_fields(), vec!["title", "explanation", "tasks"]);
        assert_eq!(lean.french(), copy.french);
        assert!(!lean.localized("ar").title.fallback);
    }
}
