//! What the templates receive: plain, already localised values built from the use cases'
//! results. The same structures, filled with sample data, feed the rendering test.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use serde::Serialize;

use peps_core::catalogue::ListKind;
use peps_core::catalogue::offer::{ChangeKind, FreshnessState, Offer, Provenance};
use peps_core::catalogue::synthetic::Commune;
use peps_core::domain::{Direction, Language};
use peps_core::i18n;

/// What every page shows around its content.
#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    pub name: String,
    pub logo_url: Option<String>,
    pub logo_alt: String,
    pub footer_links: Vec<super::branding::FooterLink>,
    pub legal_url: String,
    pub accessibility_url: String,
    pub css_url: String,
    pub js_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub name: String,
    /// A person (not staff): the header links to their plan.
    pub is_person: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Opt {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct SearchForm {
    pub q: String,
    pub commune: String,
    pub radius: String,
    pub theme: String,
    pub topic: String,
    pub audience: String,
    pub cost: String,
    pub open_now: bool,
    /// The browser's position ("47.798,3.570"), kept across pages and refinements.
    pub near: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchOptions {
    pub themes: Vec<Opt>,
    pub topics: Vec<Opt>,
    pub audiences: Vec<Opt>,
    pub costs: Vec<Opt>,
    pub radii: Vec<Opt>,
    pub communes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ThemeLink {
    pub label: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HomePage {
    pub themes: Vec<ThemeLink>,
    pub options: SearchOptions,
}

/// Today's state of an offer: `open`, `closed` or `unknown`, and its sentence.
#[derive(Debug, Clone, Serialize)]
pub struct OpenState {
    pub kind: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub url: String,
    pub title: String,
    pub title_lang: String,
    pub title_dir: &'static str,
    pub summary: Option<String>,
    pub organisation: String,
    pub place: Option<String>,
    pub distance: Option<String>,
    pub open: Option<OpenState>,
    pub change: Option<String>,
    pub freshness: Option<String>,
    /// How the reader's word found this offer when its text does not say it: (topic label,
    /// the word as read).
    pub matched: Option<(String, String)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResultsPage {
    pub form: SearchForm,
    pub options: SearchOptions,
    pub errors: Vec<FieldError>,
    pub total: Option<usize>,
    /// Words of the reader's query no offer answers, left out of the search.
    pub ignored: Vec<String>,
    pub cards: Vec<Card>,
    pub next_url: Option<String>,
    pub first_url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlaceView {
    pub lines: Vec<String>,
    pub osm_url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HoursRow {
    pub day: String,
    pub today: bool,
    /// `None`: closed that day.
    pub times: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeView {
    pub from: String,
    pub to: String,
    pub closed: bool,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Labelled {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    pub url: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OfferPage {
    pub title: String,
    pub content_lang: String,
    pub content_dir: &'static str,
    pub machine: bool,
    pub fallback: bool,
    pub original_url: String,
    pub organisation: String,
    pub summary: Option<String>,
    pub paragraphs: Vec<String>,
    pub theme: String,
    pub audiences: Vec<String>,
    pub audience_details: Option<String>,
    pub cost: Option<String>,
    pub cost_details: Option<String>,
    pub access_conditions: Option<String>,
    pub places: Vec<PlaceView>,
    /// The streets are withheld for this reader (see `OfferContent::confidential_address`).
    pub address_withheld: bool,
    pub hours: Vec<HoursRow>,
    pub hours_notes: Vec<String>,
    pub open: Option<OpenState>,
    pub changes: Vec<ChangeView>,
    pub phone: Option<LinkView>,
    pub email: Option<LinkView>,
    pub website: Option<LinkView>,
    pub accessibility: Vec<Labelled>,
    pub acceslibre_url: Option<String>,
    pub others: Vec<LinkView>,
    pub freshness: Option<String>,
    pub verified_on: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct SignInPage {
    pub login: String,
    pub code: String,
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
    /// Identity providers to sign in with (FranceConnect, ProConnect), as configured.
    pub providers: Vec<ProviderButton>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ProviderButton {
    pub key: String,
    pub label: String,
}

/// After signing out of PEPS, the way to sign out of the provider too.
#[derive(Debug, Clone, Serialize)]
pub struct SignedOutPage {
    pub provider_logout_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountPage {
    pub name: String,
    pub login: String,
    /// For staff only: their second factor.
    pub second_factor: Option<SecondFactorView>,
    /// The identity providers this account is linked to.
    pub linked: Vec<ProviderButton>,
    /// Said once, after a sign-in that linked a provider.
    pub notice: Option<String>,
    /// For admins: how many staff sign-ins wait for their approval.
    pub sign_in_requests: Option<usize>,
    /// For admins: how many messages the outbox could not send.
    pub parked_messages: Option<u64>,
    /// For a person: their text messages.
    pub text_messages: Option<TextMessagesView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TextMessagesView {
    pub phone: Option<String>,
    pub wanted: bool,
    /// `web.sms.on` before and after the number.
    pub on_before: String,
    pub on_after: String,
}

impl TextMessagesView {
    /// The sentence is cut around the number, so the page isolates the number itself
    /// (`<bdi dir="ltr">`) and it reads the right way in Arabic.
    pub fn new(phone: Option<String>, wanted: bool, lang: &peps_core::domain::Language) -> Self {
        let sentence = peps_core::i18n::text_with("web.sms.on", lang.code(), &[("phone", "\u{0}")]);
        let (before, after) = sentence.split_once('\u{0}').unwrap_or((&sentence, ""));
        Self {
            on_before: before.to_owned(),
            on_after: after.to_owned(),
            phone,
            wanted,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SecondFactorView {
    pub enabled: bool,
    pub required: bool,
    pub recovery_codes_left: usize,
    /// Where to set one up, when it is not yet.
    pub setup_url: Option<String>,
}

/// The second-factor page: the code asked at sign-in, or the set-up of an authenticator.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SecondFactorPage {
    /// Setting up (else: asking the code of an authenticator already set up).
    pub enrolling: bool,
    /// The QR code of the `otpauth://` address, inline SVG drawn here (empty when a wrong
    /// first code is shown again: the key is not repeated).
    pub qr_svg: String,
    /// The key to type by hand, in groups of four characters.
    pub secret_groups: Vec<String>,
    pub errors: Vec<FieldError>,
}

/// The recovery codes, shown once after setting up.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryCodesPage {
    pub codes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LanguageLink {
    pub code: String,
    pub native: String,
    pub dir: &'static str,
    pub url: String,
    pub current: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LanguagesPage {
    pub languages: Vec<LanguageLink>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorPage {
    pub status: u16,
    pub message: String,
}

pub fn dir(language: &Language) -> &'static str {
    match language.direction() {
        Direction::Rtl => "rtl",
        Direction::Ltr => "ltr",
    }
}

fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

const WEEKDAYS: [&str; 7] = ["mo", "tu", "we", "th", "fr", "sa", "su"];

/// "Open, closes at 17:00", "Closed, opens at 14:00", "Closed today", from the hours in force
/// today (regular or temporarily changed).
pub fn open_state(offer: &Offer, now: NaiveDateTime, lang: &str) -> Option<OpenState> {
    let intervals = offer.hours_on(now.date())?;
    let minute = (now.hour() * 60 + now.minute()) as u16;
    if let Some((_, end)) = intervals.iter().find(|(s, e)| *s <= minute && minute < *e) {
        let text = if *end >= 1440 {
            i18n::text("web.open.open_until_midnight", lang)
        } else {
            i18n::text_with("web.open.closes_at", lang, &[("time", &hhmm(*end))])
        };
        return Some(OpenState { kind: "open", text });
    }
    let text = match intervals.iter().find(|(s, _)| *s > minute) {
        Some((start, _)) => i18n::text_with("web.open.opens_at", lang, &[("time", &hhmm(*start))]),
        None => i18n::text("web.open.closed_today", lang),
    };
    Some(OpenState {
        kind: "closed",
        text,
    })
}

/// Monday to Sunday of the current week, with the hours in force on each of those dates.
pub fn hours_table(offer: &Offer, today: NaiveDate, lang: &str) -> Vec<HoursRow> {
    if offer.hours_on(today).is_none() {
        return Vec::new();
    }
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    (0..7)
        .map(|i| {
            let day = monday + Duration::days(i);
            let intervals = offer.hours_on(day).unwrap_or_default();
            HoursRow {
                day: i18n::text(&format!("web.day.{}", WEEKDAYS[i as usize]), lang),
                today: day == today,
                times: (!intervals.is_empty()).then(|| {
                    intervals
                        .iter()
                        .map(|(s, e)| format!("{}–{}", hhmm(*s), hhmm((*e).min(1440))))
                        .collect::<Vec<_>>()
                        .join(", ")
                }),
            }
        })
        .collect()
}

pub fn distance(km: f64, lang: &str) -> String {
    let rounded = if km < 10.0 {
        format!("{:.1}", km)
    } else {
        format!("{:.0}", km)
    };
    let decimal = if matches!(lang, "en" | "zh-Hans" | "ta" | "bn" | "am" | "ti" | "so") {
        rounded
    } else {
        rounded.replace('.', ",")
    };
    i18n::text_with("web.results.distance", lang, &[("km", &decimal)])
}

fn freshness_notice(
    offer: &Offer,
    now: chrono::DateTime<chrono::Utc>,
    grace: Duration,
    lang: &str,
) -> Option<String> {
    (offer.freshness(now, grace).state == FreshnessState::Unverified).then(|| {
        i18n::text_with(
            "catalogue.unverified_since",
            lang,
            &[(
                "date",
                &i18n::format_date(offer.last_verified_at.date_naive(), lang),
            )],
        )
    })
}

/// What the readers' views need from the catalogue service besides the offer.
pub struct Context<'a> {
    pub reference: &'a peps_core::catalogue::ReferenceData,
    pub language: &'a Language,
    pub now: chrono::DateTime<chrono::Utc>,
    pub local_now: NaiveDateTime,
    pub grace: Duration,
}

impl Context<'_> {
    fn lang(&self) -> &str {
        self.language.code()
    }

    fn label(&self, kind: ListKind, code: &str) -> String {
        self.reference
            .label(kind, code, self.lang())
            .text
            .to_owned()
    }
}

fn text_dir(code: &str) -> &'static str {
    Language::parse(code).map_or("ltr", |l| dir(&l))
}

fn change_notice(offer: &Offer, today: NaiveDate) -> Option<String> {
    offer.change_on(today).map(|c| c.message.clone())
}

pub fn card(
    offer: &Offer,
    distance_km: Option<f64>,
    matched: &[(String, String)],
    ctx: &Context<'_>,
) -> Card {
    let texts = offer.content.localized(ctx.lang());
    let place = offer
        .content
        .locations
        .iter()
        .find_map(|l| l.commune.clone());
    Card {
        url: format!("/{}/offers/{}", ctx.lang(), offer.id.0),
        title: texts.title.to_owned(),
        title_lang: texts.language.to_owned(),
        title_dir: text_dir(texts.language),
        summary: texts.summary.map(str::to_owned),
        organisation: offer.organisation_name.clone(),
        place,
        distance: distance_km.map(|d| distance(d, ctx.lang())),
        open: open_state(offer, ctx.local_now, ctx.lang()),
        change: change_notice(offer, ctx.local_now.date()),
        freshness: freshness_notice(offer, ctx.now, ctx.grace, ctx.lang()),
        matched: matched.first().map(|(word, topic)| {
            let kind = if topic.contains("--") {
                peps_core::catalogue::ListKind::Topics
            } else {
                peps_core::catalogue::ListKind::TopicCategories
            };
            (
                ctx.reference.label(kind, topic, ctx.lang()).text.to_owned(),
                word.clone(),
            )
        }),
    }
}

fn yes_no(value: Option<bool>, key: &str, lang: &str) -> Option<Labelled> {
    value.map(|v| Labelled {
        label: i18n::text(&format!("web.offer.access.{key}"), lang),
        value: i18n::text(if v { "web.yes" } else { "web.no" }, lang),
    })
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

pub fn offer_page(offer: &Offer, others: &[Offer], ctx: &Context<'_>) -> OfferPage {
    let lang = ctx.lang();
    let c = &offer.content;
    let texts = c.localized(lang);
    let today = ctx.local_now.date();
    let places = c
        .locations
        .iter()
        .map(|l| {
            let mut lines = Vec::new();
            lines.extend(l.address.clone());
            lines.extend(l.address_complement.clone());
            let town = [l.postcode.clone(), l.commune.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            if !town.is_empty() {
                lines.push(town);
            }
            PlaceView {
                lines,
                osm_url: l.point().map(|(lat, lon)| {
                    format!(
                        "https://www.openstreetmap.org/?mlat={lat:.5}&mlon={lon:.5}#map=18/{lat:.5}/{lon:.5}"
                    )
                }),
            }
        })
        .collect();
    let hours_notes = c
        .opening_hours
        .as_deref()
        .and_then(|raw| peps_core::catalogue::opening_hours::OpeningHours::parse(raw).ok())
        .map(|h| h.comments().into_iter().map(str::to_owned).collect())
        .unwrap_or_default();
    let a = &c.accessibility;
    OfferPage {
        title: texts.title.to_owned(),
        content_lang: texts.language.to_owned(),
        content_dir: text_dir(texts.language),
        machine: texts.provenance == Provenance::Machine,
        fallback: texts.fallback,
        original_url: format!("/fr/offers/{}", offer.id.0),
        organisation: offer.organisation_name.clone(),
        summary: texts.summary.map(str::to_owned),
        paragraphs: texts
            .description
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        theme: ctx.label(ListKind::Themes, &c.theme),
        audiences: c
            .audiences
            .iter()
            .map(|a| ctx.label(ListKind::Audiences, a))
            .collect(),
        audience_details: c.audience_details.clone(),
        cost: c.cost.as_deref().map(|k| ctx.label(ListKind::Costs, k)),
        cost_details: c.cost_details.clone(),
        access_conditions: c.access_conditions.clone(),
        address_withheld: c.confidential_address && c.locations.iter().all(|l| l.address.is_none()),
        places,
        hours: hours_table(offer, today, lang),
        hours_notes,
        open: open_state(offer, ctx.local_now, lang),
        changes: offer
            .temporary_changes
            .iter()
            .filter(|ch| ch.ends_on >= today)
            .map(|ch| ChangeView {
                from: i18n::format_date(ch.starts_on, lang),
                to: i18n::format_date(ch.ends_on, lang),
                closed: matches!(ch.kind, ChangeKind::Closed),
                message: ch.message.clone(),
            })
            .collect(),
        phone: c.contact.phone.as_ref().map(|p| LinkView {
            url: tel_uri(p),
            text: p.clone(),
        }),
        email: c.contact.email.as_ref().map(|e| LinkView {
            url: format!("mailto:{e}"),
            text: e.clone(),
        }),
        website: c.website.as_ref().map(|w| LinkView {
            url: w.clone(),
            text: w
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned(),
        }),
        accessibility: [
            yes_no(a.step_free_access, "step_free", lang),
            yes_no(a.adapted_toilets, "toilets", lang),
            yes_no(a.hearing_loop, "hearing_loop", lang),
            yes_no(a.sign_language, "sign_language", lang),
            yes_no(a.easy_to_read_documents, "easy_to_read", lang),
        ]
        .into_iter()
        .flatten()
        .collect(),
        acceslibre_url: a.acceslibre_url.clone(),
        others: others
            .iter()
            .filter(|o| o.id != offer.id)
            .take(10)
            .map(|o| LinkView {
                url: format!("/{lang}/offers/{}", o.id.0),
                text: o.content.localized(lang).title.to_owned(),
            })
            .collect(),
        freshness: freshness_notice(offer, ctx.now, ctx.grace, lang),
        verified_on: i18n::format_date(offer.last_verified_at.date_naive(), lang),
    }
}

/// The communes a reader may name (the Yonne's, until the search issue ships a full list).
pub fn communes() -> &'static [Commune] {
    static COMMUNES: std::sync::LazyLock<Vec<Commune>> =
        std::sync::LazyLock::new(peps_core::catalogue::synthetic::communes);
    &COMMUNES
}

/// "latitude,longitude" in decimal degrees, as the "around me" script sends it.
pub fn parse_point(text: &str) -> Option<(f64, f64)> {
    let (lat, lon) = text.split_once(',')?;
    let lat: f64 = lat.trim().parse().ok()?;
    let lon: f64 = lon.trim().parse().ok()?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

/// Three decimals: about 100 m, enough to sort by distance; no finer position travels in
/// links or logs.
pub fn format_point(latitude: f64, longitude: f64) -> String {
    format!("{latitude:.3},{longitude:.3}")
}

/// The centre of the commune the reader typed, as people write it ("saint-florentin",
/// "St Florentin", "89100"), anywhere in France; among homonyms, the most populous one that
/// can be placed.
pub fn find_commune(name: &str) -> Option<(f64, f64)> {
    peps_core::places::communes()
        .find(name)
        .iter()
        .find_map(|c| c.centre)
}
