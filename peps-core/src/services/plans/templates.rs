//! Steps follow their template: a text the collectivity corrects reaches every step that did
//! not adapt that field, on the next read. This use case, run once at start (before serving),
//! writes the plan history's line for it: once per step and template version, so a plan's
//! reader can tell that a text changed and when, and no GET request ever writes.

use super::*;
use crate::plans::PlanAction;

/// The history's actor for a template correction: the collectivity, not a person (the nil
/// id, which names no account).
pub const COLLECTIVITY: AccountId = AccountId(uuid::Uuid::nil());

/// What [`Plans::follow_template_corrections`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateCorrections {
    /// Steps whose history now says that their template's texts were corrected.
    pub noted: u32,
    /// Steps brought to the template's new version without a history line: every field the
    /// correction touched was adapted by the worker, so the step reads as before.
    pub unaffected: u32,
    /// Templates that steps follow but the library no longer has, with their number of steps
    /// (the fields those steps did not adapt read empty: put the template back).
    pub missing: BTreeMap<String, u32>,
}

impl Plans {
    /// Notes in each plan's history the template corrections its steps received since the
    /// last run: `step.template_corrected`, with the template, the versions and the fields
    /// whose text changed (those the worker adapted are not listed: they did not change).
    /// Safe to run at every start and from several instances: a step already at the current
    /// version is left alone, and a write that races another is not repeated.
    pub async fn follow_template_corrections(&self) -> CoreResult<TemplateCorrections> {
        let mut report = TemplateCorrections::default();
        for (step_id, reference) in self.ports.plans.template_references().await? {
            let Some(template) = self.templates.shared(&reference.id) else {
                *report.missing.entry(reference.id).or_default() += 1;
                continue;
            };
            let current = template.version();
            if current == reference.version {
                continue;
            }
            let held = match self.ports.plans.step(step_id).await {
                Ok(s) => s,
                Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            };
            let own = held.content.own_fields();
            let fields: Vec<&str> = StepTemplate::changed_fields(&reference.version, &current)
                .into_iter()
                .filter(|f| !own.contains(f))
                .collect();
            let mut step = held.clone();
            step.template = Some(template.reference());
            step.version = held.version + 1;
            step.updated_at = self.now();
            let events = if fields.is_empty() {
                report.unaffected += 1;
                Vec::new()
            } else {
                report.noted += 1;
                vec![PlanEvent {
                    id: PlanEventId::new(),
                    plan: step.plan,
                    step: Some(step.id),
                    at: self.now(),
                    actor: COLLECTIVITY,
                    actor_role: Role::Admin,
                    action: PlanAction::TemplateCorrected,
                    detail: serde_json::json!({
                        "template": reference.id,
                        "from_version": reference.version,
                        "to_version": current,
                        "fields": fields,
                    }),
                    outbox: Vec::new(),
                }]
            };
            match self
                .ports
                .plans
                .update_step(&step, held.version, &events)
                .await
            {
                // Another instance (or an edit) wrote the step meanwhile: its next start
                // looks again.
                Ok(()) | Err(StoreError::Stale) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(report)
    }
}
