//! The printable plan: one self-contained HTML page (no script, no remote resource) that any
//! browser prints or saves as PDF, for people without a device and for the counter. Each step
//! shows the person's language beside the French, each column with its own `lang` and `dir`
//! so right-to-left scripts and their punctuation lay out correctly; facts common to both
//! (where, when, documents) carry labels in both languages.

use chrono::NaiveDate;
use std::fmt::Write;

use crate::api::plan_views::{direction, orientation_view};
use peps_core::domain::Language;
use peps_core::i18n;
use peps_core::plans::{Step, StepStatus};
use peps_core::services::PlanDetail;

/// Nothing but the inline style may load or run.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STYLE: &str = r#"
@page { size: A4; margin: 14mm; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 190mm; color: #000; background: #fff; font-size: 13pt;
  line-height: 1.5; font-family: "Noto Sans", "Noto Sans Arabic", "Noto Naskh Arabic",
  "Noto Nastaliq Urdu", "Noto Sans Ethiopic", "Noto Sans Bengali", "Noto Sans Tamil",
  "Noto Sans Georgian", "Noto Sans SC", "Noto Sans CJK SC", "Arial Unicode MS", system-ui,
  sans-serif; }
header { border-bottom: 2pt solid #000; margin-bottom: 10pt; }
h1 { font-size: 20pt; margin: 0 0 4pt; }
h2 { font-size: 16pt; margin: 10pt 0; }
h3 { font-size: 14pt; margin: 0 0 4pt; }
.subtitle { margin: 0 0 6pt; }
.step { break-inside: avoid; page-break-inside: avoid; border: 1pt solid #000;
  border-radius: 3pt; padding: 8pt 10pt; margin: 0 0 10pt; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 14pt; }
.columns.single { grid-template-columns: 1fr; }
.columns > section + section { border-inline-start: 1pt dashed #555; padding-inline-start: 12pt; }
ol.tasks { list-style: none; padding: 0; margin: 4pt 0; }
ol.tasks li::before { content: "\2610\00a0"; font-size: 15pt; }
.note { font-size: 10pt; font-style: italic; }
dl { display: grid; grid-template-columns: fit-content(45%) minmax(0, 1fr); gap: 2pt 10pt;
  margin: 8pt 0 0; border-top: 1pt solid #999; padding-top: 6pt; }
dt { font-weight: bold; }
dt, dd { min-width: 0; overflow-wrap: anywhere; }
dd { margin: 0; }
.done { text-decoration: line-through; }
footer { margin-top: 12pt; font-size: 10pt; }
"#;

/// A value set inside translated text (a date, a time, a name): wrapped in Unicode's first-strong
/// isolate so its own direction holds whatever the sentence's is, and the sentence's punctuation
/// does not drift into it. Numeric values have no strong letter and come out left to right.
fn isolate(value: &str) -> String {
    format!("\u{2068}{value}\u{2069}")
}

/// Facts that are always written left to right whatever the page's direction (a French
/// address, a phone number, an email, a web address): isolated, so "03 86 72 10 10" never
/// prints as "10 10 72 86 03" and a street number stays before its street in Arabic.
fn ltr(value: &str) -> String {
    format!("<span lang=\"fr\" dir=\"ltr\">{}</span>", escape(value))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Text with newlines kept as line breaks.
fn paragraph(text: &str) -> String {
    escape(text).replace('\n', "<br>")
}

struct Labels<'a> {
    reader: &'a str,
    bilingual: bool,
}

impl Labels<'_> {
    fn one(&self, key: &str, lang: &str) -> String {
        i18n::text(key, lang)
    }

    /// "label in the reader's language / label in French", each tagged with its language.
    fn both(&self, key: &str, args: &[(&str, &str)]) -> String {
        let args: Vec<(&str, String)> = args.iter().map(|(k, v)| (*k, isolate(v))).collect();
        self.both_with(key, |_| args.clone())
    }

    /// Like `both`, with arguments written for each language (a date in each one's own format).
    fn both_with<'k>(&self, key: &str, args: impl Fn(&str) -> Vec<(&'k str, String)>) -> String {
        let text = |lang: &str| {
            let args = args(lang);
            let borrowed: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            i18n::text_with(key, lang, &borrowed)
        };
        let reader = text(self.reader);
        let french = text(Language::REFERENCE);
        if !self.bilingual || reader == french {
            return format!(
                "<span lang=\"{}\" dir=\"{}\">{}</span>",
                self.reader,
                direction(self.reader),
                escape(&reader)
            );
        }
        format!(
            "<span lang=\"{}\" dir=\"{}\">{}</span> / <span lang=\"fr\" dir=\"ltr\">{}</span>",
            self.reader,
            direction(self.reader),
            escape(&reader),
            escape(&french)
        )
    }
}

fn column(step: &Step, number: usize, lang: &str, labels: &Labels) -> String {
    let read = step.content.localized(lang);
    let mut html = format!(
        "<section lang=\"{}\" dir=\"{}\">",
        read.title.language,
        direction(read.title.language)
    );
    let heading = i18n::text_with("plans.print.step", lang, &[("number", &number.to_string())]);
    let done = if step.status == StepStatus::Done {
        " class=\"done\""
    } else {
        ""
    };
    let _ = write!(
        html,
        "<h3{done}>{} : {}</h3>",
        escape(&heading),
        escape(read.title.value)
    );
    if !read.explanation.value.is_empty() {
        let _ = write!(html, "<p>{}</p>", paragraph(read.explanation.value));
    }
    if !read.tasks.value.is_empty() {
        let _ = write!(
            html,
            "<p><strong>{}</strong></p><ol class=\"tasks\">",
            escape(&labels.one("plans.print.what_to_do", lang))
        );
        for task in read.tasks.value {
            let _ = write!(html, "<li>{}</li>", escape(task));
        }
        html.push_str("</ol>");
    }
    let machine = [
        read.title.provenance,
        read.explanation.provenance,
        read.tasks.provenance,
    ]
    .contains(&peps_core::catalogue::Provenance::Machine);
    let fallback = read.title.fallback || read.explanation.fallback || read.tasks.fallback;
    if fallback {
        let _ = write!(
            html,
            "<p class=\"note\">{}</p>",
            escape(&labels.one("plans.print.not_translated", lang))
        );
    } else if machine {
        let _ = write!(
            html,
            "<p class=\"note\">{}</p>",
            escape(&labels.one("plans.print.machine_translated", lang))
        );
    }
    html.push_str("</section>");
    html
}

fn facts(step: &Step, detail: &PlanDetail, labels: &Labels) -> String {
    let mut rows = Vec::new();
    let status_key = format!("plans.status.{}", step.status.as_str());
    rows.push((
        labels.both("plans.print.status", &[]),
        labels.both(&status_key, &[]),
    ));
    let who_key = format!("plans.who_acts.{}", step.who_acts.as_str());
    rows.push((
        labels.both("plans.print.who_acts", &[]),
        labels.both(&who_key, &[]),
    ));
    if let Some(orientation) = &step.orientation {
        let view = orientation_view(orientation, &detail.offers);
        let value = if view.available {
            let names = [view.name, view.organisation]
                .into_iter()
                .flatten()
                .map(|v| format!("<bdi lang=\"fr\">{}</bdi>", escape(&v)));
            let facts = [view.address, view.phone, view.email, view.url]
                .into_iter()
                .flatten()
                .map(|v| ltr(&v));
            names.chain(facts).collect::<Vec<_>>().join("<br>")
        } else {
            labels.both("plans.print.offer_unavailable", &[])
        };
        rows.push((labels.both("plans.print.where", &[]), value));
    }
    if let Some(due) = step.due_on {
        rows.push((
            String::new(),
            labels.both_with("plans.print.due_on", |lang| {
                vec![("date", isolate(&i18n::format_date(due, lang)))]
            }),
        ));
    }
    if let Some(at) = step.appointment_at {
        rows.push((
            String::new(),
            labels.both_with("plans.print.appointment", |lang| {
                vec![
                    ("date", isolate(&i18n::format_date(at.date(), lang))),
                    ("time", isolate(&i18n::format_time(at.time(), lang))),
                ]
            }),
        ));
    }
    if !step.documents.is_empty() {
        let list = step
            .documents
            .iter()
            .map(|kind| labels.both(&format!("documents.kind.{kind}"), &[]))
            .collect::<Vec<_>>()
            .join("<br>");
        rows.push((labels.both("plans.print.documents", &[]), list));
    }
    let mut html = String::from("<dl>");
    for (label, value) in rows {
        let _ = write!(html, "<dt>{label}</dt><dd>{value}</dd>");
    }
    html.push_str("</dl>");
    html
}

/// The page for `detail` in `language` (with French beside it unless it is French).
pub fn render(detail: &PlanDetail, language: &Language, today: NaiveDate) -> String {
    let lang = language.code();
    let bilingual = lang != Language::REFERENCE;
    let labels = Labels {
        reader: lang,
        bilingual,
    };
    let person = detail.person.display_name.as_str();
    let shown = detail.plan.title.localized(lang);
    let (title, title_lang) = (shown.value, shown.language);
    let mut html = String::with_capacity(16 * 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"{lang}\" dir=\"{dir}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{page_title}</title><style>{STYLE}</style></head><body>",
        dir = direction(lang),
        page_title = escape(&format!(
            "{} — {person}",
            i18n::text("plans.print.heading", lang)
        )),
    );
    let _ = write!(
        html,
        "<header><h1>{}</h1><p class=\"subtitle\">{}</p><p class=\"subtitle\">{}</p></header>",
        labels.both("plans.print.heading", &[]),
        labels.both("plans.print.person", &[("person", person)]),
        labels.both_with("plans.print.printed_on", |lang| vec![(
            "date",
            isolate(&i18n::format_date(today, lang))
        )]),
    );
    let _ = write!(
        html,
        "<h2><span lang=\"{title_lang}\" dir=\"{}\">{}</span>",
        direction(title_lang),
        escape(title)
    );
    if bilingual && title != detail.plan.title.french {
        let _ = write!(
            html,
            " / <span lang=\"fr\" dir=\"ltr\">{}</span>",
            escape(&detail.plan.title.french)
        );
    }
    html.push_str("</h2>");
    if detail.steps.is_empty() {
        let _ = write!(html, "<p>{}</p>", labels.both("plans.print.empty", &[]));
    }
    for (i, step) in detail.steps.iter().enumerate() {
        let columns = if bilingual {
            "columns"
        } else {
            "columns single"
        };
        let _ = write!(html, "<article class=\"step\"><div class=\"{columns}\">");
        html.push_str(&column(step, i + 1, lang, &labels));
        if bilingual {
            html.push_str(&column(step, i + 1, Language::REFERENCE, &labels));
        }
        html.push_str("</div>");
        html.push_str(&facts(step, detail, &labels));
        html.push_str("</article>");
    }
    html.push_str("<footer>PEPS</footer></body></html>");
    html
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
