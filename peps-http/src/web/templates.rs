//! The page templates (minijinja): built in with `include_str!`, each replaceable by a file of
//! the same name in the collectivity's folder, read once at start. Texts come from the locale
//! files through `t("web.…")`; a key missing from both the page's language and English is an
//! error, so a broken template or override is caught by the rendering test and at start.

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, State};
use std::path::Path;

use peps_core::i18n;

/// Every template, by name, with its built-in text.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("home.html", include_str!("templates/home.html")),
    ("results.html", include_str!("templates/results.html")),
    ("offer.html", include_str!("templates/offer.html")),
    ("sign_in.html", include_str!("templates/sign_in.html")),
    ("activate.html", include_str!("templates/activate.html")),
    ("account.html", include_str!("templates/account.html")),
    ("plans.html", include_str!("templates/plans.html")),
    (
        "second_factor.html",
        include_str!("templates/second_factor.html"),
    ),
    (
        "recovery_codes.html",
        include_str!("templates/recovery_codes.html"),
    ),
    ("signed_out.html", include_str!("templates/signed_out.html")),
    (
        "admin_requests.html",
        include_str!("templates/admin_requests.html"),
    ),
    (
        "admin_outbox.html",
        include_str!("templates/admin_outbox.html"),
    ),
    ("languages.html", include_str!("templates/languages.html")),
    ("legal.html", include_str!("templates/legal.html")),
    (
        "accessibility.html",
        include_str!("templates/accessibility.html"),
    ),
    ("error.html", include_str!("templates/error.html")),
];

/// The templates that are pages (the others are included by them).
pub const PAGES: &[&str] = &[
    "home.html",
    "results.html",
    "offer.html",
    "sign_in.html",
    "activate.html",
    "account.html",
    "plans.html",
    "second_factor.html",
    "recovery_codes.html",
    "signed_out.html",
    "languages.html",
    "legal.html",
    "accessibility.html",
    "error.html",
];

/// `t("web.key", name=value…)`: the text in the page's language (`lang` in the context).
fn translate(state: &State, key: &str, args: Kwargs) -> Result<String, Error> {
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "fr".to_owned());
    if !i18n::has_text(key, &lang) && !i18n::has_text(key, "en") {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            format!("no text for {key:?} in the locale files"),
        ));
    }
    let names: Vec<&str> = args.args().collect();
    let mut pairs = Vec::with_capacity(names.len());
    for name in &names {
        let value: minijinja::Value = args.get(name)?;
        pairs.push((*name, value.to_string()));
    }
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (*n, v.as_str())).collect();
    Ok(i18n::text_with(key, &lang, &borrowed))
}

/// The built-in templates, with the files of `dir` (when given) replacing theirs. A file whose
/// name is not a known template is refused, so a typo does not go unnoticed.
pub fn environment(dir: Option<&Path>) -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_function("t", translate);
    for (name, text) in TEMPLATES {
        let text = match dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
            Some(path) => std::fs::read_to_string(&path)
                .map_err(|e| format!("web.templates_dir: reading {}: {e}", path.display()))?,
            None => (*text).to_owned(),
        };
        env.add_template_owned(*name, text)
            .map_err(|e| format!("web.templates_dir: template {name}: {e:#}"))?;
    }
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("web.templates_dir: reading {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".html") && !TEMPLATES.iter().any(|(n, _)| *n == name) {
                return Err(format!(
                    "web.templates_dir: {name} is not a PEPS template (known: {})",
                    TEMPLATES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    Ok(env)
}
