//! What the plan page receives: a person's plans as the core read them, every text in the
//! page's language where a translation is current (its language, direction and provenance
//! kept, so a machine translation is marked and the French is one tap away), dates in the
//! reader's own format. No rule here: who may read which plan is the core's `plan_detail`.

use serde::Serialize;

use super::views::LinkView;
use crate::api::plan_views::{direction, orientation_view};
use peps_core::catalogue::Provenance;
use peps_core::domain::{Language, Localized};
use peps_core::i18n;
use peps_core::plans::{PlanStatus, Step, StepStatus};
use peps_core::services::PlanDetail;

/// Where a signed-in account lands: a person on their plan, everyone else on their account
/// (navigation, not a rule: the plan page itself asks the core what the viewer may read).
pub fn landing(role: peps_core::domain::Role) -> &'static str {
    match role {
        peps_core::domain::Role::Person => "plans",
        _ => "account",
    }
}

/// A text with the language and direction it is written in.
#[derive(Debug, Clone, Serialize)]
pub struct TextView {
    pub value: String,
    pub lang: String,
    pub dir: &'static str,
}

impl TextView {
    fn of(read: &Localized<'_, str>) -> Self {
        Self {
            value: read.value.to_owned(),
            lang: read.language.to_owned(),
            dir: direction(read.language),
        }
    }
}

/// The French a step was written in, shown (folded) beside a translation.
#[derive(Debug, Clone, Serialize)]
pub struct FrenchStep {
    pub title: String,
    pub explanation: Vec<String>,
    pub tasks: Vec<String>,
}

/// Where to go for a step: a catalogue offer (a link to its page) or a place described by
/// the referent.
#[derive(Debug, Clone, Serialize)]
pub struct WhereView {
    /// `/{lang}/offers/{id}` for a catalogue offer still published.
    pub offer_url: Option<String>,
    /// The offer is no longer published.
    pub unavailable: bool,
    pub name: Option<String>,
    pub organisation: Option<String>,
    pub address: Option<String>,
    pub phone: Option<LinkView>,
    pub email: Option<LinkView>,
    pub website: Option<LinkView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepCard {
    pub number: usize,
    /// `planned`, `in_progress`, `done`… (a class; the label says it in words).
    pub status: &'static str,
    pub status_label: String,
    pub title: TextView,
    pub explanation: Vec<String>,
    pub explanation_lang: String,
    pub explanation_dir: &'static str,
    pub tasks: Vec<String>,
    pub tasks_lang: String,
    pub tasks_dir: &'static str,
    /// Some text shown is a machine translation.
    pub machine: bool,
    /// Some text has no translation in the page's language: it is shown in French.
    pub fallback: bool,
    /// The French original, when some text shown is a translation.
    pub french: Option<FrenchStep>,
    pub who_acts: String,
    /// "À faire avant le …", the date isolated and in the reader's format.
    pub due: Option<String>,
    pub appointment: Option<String>,
    pub place: Option<WhereView>,
    pub documents: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanCard {
    pub title: TextView,
    /// The French title, when the title shown is a translation.
    pub french_title: Option<String>,
    pub title_machine: bool,
    pub closed: bool,
    pub done: usize,
    pub total: usize,
    pub print_url: String,
    pub steps: Vec<StepCard>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlansPage {
    pub plans: Vec<PlanCard>,
    /// The person's referents of now, by name.
    pub referents: Vec<String>,
    /// The viewer is not a person (a worker, an admin…): they have no plan of their own.
    pub staff: bool,
}

/// A value set inside a translated sentence (a date, a time): in Unicode's first-strong
/// isolate, so it keeps its own direction in a right-to-left sentence.
fn isolate(value: &str) -> String {
    format!("\u{2068}{value}\u{2069}")
}

fn paragraphs(text: &str) -> Vec<String> {
    text.split('\n')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `tel:` wants the digits alone; a French number also works from abroad with +33.
fn tel_uri(phone: &str) -> String {
    let digits: String = phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    match digits.strip_prefix('0') {
        Some(rest) if digits.len() == 10 => format!("tel:+33{rest}"),
        _ => format!("tel:{digits}"),
    }
}

fn place(step: &Step, detail: &PlanDetail, lang: &str) -> Option<WhereView> {
    let orientation = step.orientation.as_ref()?;
    let view = orientation_view(orientation, &detail.offers);
    let website = view
        .url
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
    Some(WhereView {
        offer_url: view
            .offer_id
            .filter(|_| view.available)
            .map(|id| format!("/{lang}/offers/{id}")),
        unavailable: !view.available,
        name: view.name,
        organisation: view.organisation,
        address: view.address.filter(|a| !a.is_empty()),
        phone: view.phone.map(|p| LinkView {
            url: tel_uri(&p),
            text: p,
        }),
        email: view.email.map(|e| LinkView {
            url: format!("mailto:{e}"),
            text: e,
        }),
        website: website.map(|w| LinkView {
            text: w
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned(),
            url: w,
        }),
    })
}

fn step_card(step: &Step, number: usize, detail: &PlanDetail, lang: &str) -> StepCard {
    let read = step.content.localized(lang);
    let translated = [
        read.title.language,
        read.explanation.language,
        read.tasks.language,
    ]
    .iter()
    .any(|l| *l != Language::REFERENCE);
    let machine = [
        read.title.provenance,
        read.explanation.provenance,
        read.tasks.provenance,
    ]
    .contains(&Provenance::Machine);
    let fallback = lang != Language::REFERENCE
        && (read.title.fallback || read.explanation.fallback || read.tasks.fallback);
    let status = step.status.as_str();
    StepCard {
        number,
        status,
        status_label: i18n::text(&format!("plans.status.{status}"), lang),
        title: TextView::of(&read.title),
        explanation: paragraphs(read.explanation.value),
        explanation_lang: read.explanation.language.to_owned(),
        explanation_dir: direction(read.explanation.language),
        tasks: read.tasks.value.to_vec(),
        tasks_lang: read.tasks.language.to_owned(),
        tasks_dir: direction(read.tasks.language),
        machine,
        fallback,
        french: translated.then(|| FrenchStep {
            title: step.content.french_title().to_owned(),
            explanation: paragraphs(step.content.french_explanation()),
            tasks: step.content.french_tasks().to_vec(),
        }),
        who_acts: i18n::text(&format!("plans.who_acts.{}", step.who_acts.as_str()), lang),
        due: step.due_on.map(|due| {
            i18n::text_with(
                "plans.print.due_on",
                lang,
                &[("date", &isolate(&i18n::format_date(due, lang)))],
            )
        }),
        appointment: step.appointment_at.map(|at| {
            i18n::text_with(
                "plans.print.appointment",
                lang,
                &[
                    ("date", &isolate(&i18n::format_date(at.date(), lang))),
                    ("time", &isolate(&i18n::format_time(at.time(), lang))),
                ],
            )
        }),
        place: place(step, detail, lang),
        documents: step
            .documents
            .iter()
            .map(|kind| i18n::text(&format!("documents.kind.{kind}"), lang))
            .collect(),
    }
}

/// One plan as its reader reads it in `language`.
pub fn plan_card(detail: &PlanDetail, language: &Language) -> PlanCard {
    let lang = language.code();
    let title = detail.plan.title.localized(lang);
    PlanCard {
        french_title: (title.language != Language::REFERENCE)
            .then(|| detail.plan.title.french.clone()),
        title_machine: title.provenance == Provenance::Machine,
        title: TextView::of(&title),
        closed: detail.plan.status == PlanStatus::Closed,
        done: detail
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Done)
            .count(),
        total: detail.steps.len(),
        print_url: format!("/{lang}/plans/{}/print", detail.plan.id.0),
        steps: detail
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| step_card(step, i + 1, detail, lang))
            .collect(),
    }
}

/// Sample data for the rendering test: a machine-translated step with an appointment at a
/// catalogue offer, a step done.
pub fn sample(lang: &Language) -> PlansPage {
    let code = lang.code();
    let text = |value: &str| TextView {
        value: value.to_owned(),
        lang: code.to_owned(),
        dir: direction(code),
    };
    let step = |number: usize, status: StepStatus, title: &str| StepCard {
        number,
        status: status.as_str(),
        status_label: i18n::text(&format!("plans.status.{}", status.as_str()), code),
        title: text(title),
        explanation: vec!["Présentez-vous à l'accueil avec ce plan.".to_owned()],
        explanation_lang: code.to_owned(),
        explanation_dir: direction(code),
        tasks: vec!["Prendre le bus 4".to_owned()],
        tasks_lang: code.to_owned(),
        tasks_dir: direction(code),
        machine: true,
        fallback: true,
        french: Some(FrenchStep {
            title: title.to_owned(),
            explanation: vec!["Présentez-vous à l'accueil avec ce plan.".to_owned()],
            tasks: vec!["Prendre le bus 4".to_owned()],
        }),
        who_acts: i18n::text("plans.who_acts.person", code),
        due: Some(i18n::text_with(
            "plans.print.due_on",
            code,
            &[("date", &isolate("20/11/2026"))],
        )),
        appointment: Some(i18n::text_with(
            "plans.print.appointment",
            code,
            &[
                ("date", &isolate("10/11/2026")),
                ("time", &isolate("14:30")),
            ],
        )),
        place: Some(WhereView {
            offer_url: Some(format!("/{code}/offers/1")),
            unavailable: false,
            name: Some("Banque alimentaire".to_owned()),
            organisation: Some("Restos du cœur".to_owned()),
            address: Some("12 rue de Paris 89000 Auxerre".to_owned()),
            phone: Some(LinkView {
                url: "tel:+33386004242".to_owned(),
                text: "03 86 00 42 42".to_owned(),
            }),
            email: Some(LinkView {
                url: "mailto:contact@example.org".to_owned(),
                text: "contact@example.org".to_owned(),
            }),
            website: Some(LinkView {
                url: "https://example.org".to_owned(),
                text: "example.org".to_owned(),
            }),
        }),
        documents: vec![i18n::text("documents.kind.identity", code)],
    };
    PlansPage {
        plans: vec![PlanCard {
            title: text("Se nourrir cette semaine"),
            french_title: Some("Se nourrir cette semaine".to_owned()),
            title_machine: true,
            closed: true,
            done: 1,
            total: 2,
            print_url: format!("/{code}/plans/x/print"),
            steps: vec![
                step(1, StepStatus::InProgress, "Aller à la banque alimentaire"),
                step(2, StepStatus::Done, "Demander le RSA"),
            ],
        }],
        referents: vec!["Inès Haddad".to_owned()],
        staff: true,
    }
}
