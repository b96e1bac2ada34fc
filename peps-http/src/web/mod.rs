//! The web pages: server-rendered HTML for people and the workers at their side, on the same
//! use cases as the JSON API (no rule here, no call to the API). Every task is a link or a
//! form; the one script only adds conveniences. Each page's language is in its address
//! (`/ar/search`), so a worker can hand over a link in the person's language.
//!
//! Built with the default cargo feature `web`; an API-only server leaves it out.

mod admin;
mod branding;
mod pages;
mod plans;
mod search;
mod templates;
mod views;
mod visit;

use std::path::PathBuf;
use std::sync::Arc;

use minijinja::{Environment, context};
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, EndpointExt, IntoResponse, Middleware, Request, Response, Route, get};
use serde::Serialize;

pub use branding::{Branding, Colour, FooterLink, MIN_CONTRAST};
pub use templates::{PAGES, TEMPLATES};

use peps_core::domain::Language;
use views::{SiteView, UserView};
use visit::Visit;

/// The pages' Content-Security-Policy: nothing from another origin, no inline script or style.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

const CSS: &str = include_str!("assets/site.css");
const JS: &str = include_str!("assets/enhance.js");

/// How the pages look and behave, from the `[web]` configuration.
#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    pub branding: Branding,
    /// A folder whose `*.html` files replace the built-in templates of the same name.
    pub templates_dir: Option<PathBuf>,
    /// `server.public_url`: cookies are marked `Secure` when it is https.
    pub public_url: String,
}

/// The loaded templates and branding, ready to render pages.
pub struct Site {
    env: Environment<'static>,
    branding: Branding,
    css: String,
    version: String,
    secure_cookies: bool,
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site")
            .field("name", &self.branding.name)
            .field("secure_cookies", &self.secure_cookies)
            .finish_non_exhaustive()
    }
}

impl Default for Site {
    fn default() -> Self {
        Self::load(WebSettings::default()).expect("the built-in templates and branding are valid")
    }
}

impl Site {
    /// Checks the colours' contrast, reads the template overrides and renders every page with
    /// sample data in French and Arabic: a broken override stops the start, with its name.
    pub fn load(settings: WebSettings) -> Result<Self, String> {
        settings.branding.check_contrast()?;
        let env = templates::environment(settings.templates_dir.as_deref())?;
        let b = &settings.branding;
        let css = format!(
            ":root{{--primary:{};--on-primary:{};--link:{}}}\n{CSS}",
            b.primary.css(),
            b.on_primary.css(),
            b.link.css()
        );
        let version = {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(format!("{css}{JS}").as_bytes());
            digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
        };
        let site = Self {
            env,
            branding: settings.branding,
            css,
            version,
            secure_cookies: settings.public_url.starts_with("https://"),
        };
        for lang in ["fr", "ar"] {
            let lang = Language::parse(lang).expect("supported");
            for name in PAGES {
                site.render_sample(name, &lang)
                    .map_err(|e| format!("web template {name} ({}): {e}", lang.code()))?;
            }
        }
        Ok(site)
    }

    fn view(&self) -> SiteView {
        let b = &self.branding;
        SiteView {
            name: b.name.clone(),
            logo_url: b
                .logo
                .as_ref()
                .map(|_| format!("/static/logo?v={}", self.version)),
            logo_alt: b.logo_alt.clone(),
            footer_links: b.footer_links.clone(),
            legal_url: b.legal_notice_url.clone(),
            accessibility_url: b.accessibility_url.clone(),
            css_url: format!("/static/site.css?v={}", self.version),
            js_url: format!("/static/enhance.js?v={}", self.version),
        }
    }

    /// Renders a page template with the frame every page shares.
    #[allow(clippy::too_many_arguments)]
    fn render(
        &self,
        name: &str,
        lang: &Language,
        here: &str,
        title: &str,
        user: Option<UserView>,
        csrf: &str,
        page: &impl Serialize,
    ) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(context! {
            lang => lang.code(),
            dir => views::dir(lang),
            site => self.view(),
            here => here,
            title => title,
            user => user,
            csrf => csrf,
            page => minijinja::Value::from_serialize(page),
        })
    }

    /// Renders `name` with sample data (for the start-up check and the tests).
    pub fn render_sample(&self, name: &str, lang: &Language) -> Result<String, String> {
        let user = Some(UserView {
            name: "Marie Dupont".to_owned(),
            is_person: true,
        });
        let csrf = "0123456789abcdef";
        let result = match name {
            "home.html" => self.render(
                name,
                lang,
                "/",
                "PEPS",
                user,
                csrf,
                &pages::sample_home(lang),
            ),
            "results.html" => self.render(
                name,
                lang,
                "/search",
                "PEPS",
                user,
                csrf,
                &pages::sample_results(lang),
            ),
            "offer.html" => self.render(
                name,
                lang,
                "/offers/x",
                "PEPS",
                user,
                csrf,
                &pages::sample_offer(lang),
            ),
            "sign_in.html" | "activate.html" => self.render(
                name,
                lang,
                "/sign-in",
                "PEPS",
                None,
                csrf,
                &pages::sample_sign_in(lang),
            ),
            "account.html" => self.render(
                name,
                lang,
                "/account",
                "PEPS",
                user,
                csrf,
                &views::AccountPage {
                    name: "Marie Dupont".into(),
                    login: "marie.dupont.0042".into(),
                    second_factor: Some(views::SecondFactorView {
                        enabled: false,
                        required: false,
                        recovery_codes_left: 0,
                        setup_url: Some(format!("/{}/second-factor", lang.code())),
                    }),
                    linked: vec![views::ProviderButton {
                        key: "franceconnect".into(),
                        label: "FranceConnect".into(),
                    }],
                    notice: Some("FranceConnect".into()),
                    sign_in_requests: Some(2),
                    parked_messages: Some(1),
                    text_messages: Some(views::TextMessagesView::new(
                        Some("06 12 34 56 78".into()),
                        true,
                        lang,
                    )),
                },
            ),
            "plans.html" => self.render(
                name,
                lang,
                "/plans",
                "PEPS",
                user,
                csrf,
                &plans::sample(lang),
            ),
            "signed_out.html" => self.render(
                name,
                lang,
                "/sign-out",
                "PEPS",
                None,
                csrf,
                &views::SignedOutPage {
                    provider_logout_url: "https://fc.example/session/end?state=x".into(),
                },
            ),
            "second_factor.html" => self.render(
                name,
                lang,
                "/second-factor",
                "PEPS",
                None,
                csrf,
                &pages::sample_second_factor(true),
            ),
            "admin_requests.html" => self.render(
                name,
                lang,
                "/admin/sign-in-requests",
                "PEPS",
                user,
                csrf,
                &admin::sample(lang),
            ),
            "admin_outbox.html" => self.render(
                name,
                lang,
                "/admin/outbox",
                "PEPS",
                user,
                csrf,
                &admin::sample_outbox(lang),
            ),
            "recovery_codes.html" => self.render(
                name,
                lang,
                "/second-factor",
                "PEPS",
                user,
                csrf,
                &views::RecoveryCodesPage {
                    codes: vec!["k7m3-q9xh".into(), "2wza-8b4c".into()],
                },
            ),
            "languages.html" => self.render(
                name,
                lang,
                "/languages",
                "PEPS",
                None,
                csrf,
                &pages::languages_page(lang, "/"),
            ),
            "error.html" => self.render(
                name,
                lang,
                "/",
                "PEPS",
                None,
                csrf,
                &views::ErrorPage {
                    status: 404,
                    message: "…".into(),
                },
            ),
            _ => self.render(name, lang, "/", "PEPS", None, csrf, &()),
        };
        result.map_err(|e| format!("{e:#}"))
    }

    /// A complete HTML response; a template that fails to render gives a plain 500 page (and a
    /// log line) rather than half a page.
    #[allow(clippy::too_many_arguments)]
    fn page(
        &self,
        status: StatusCode,
        name: &str,
        lang: &Language,
        here: &str,
        title: &str,
        visit: &Visit,
        page: &impl Serialize,
    ) -> Response {
        let user = visit.viewer.as_ref().map(|v| UserView {
            name: v.account.display_name.as_str().to_owned(),
            is_person: v.account.role == peps_core::domain::Role::Person,
        });
        let full_title = if title.is_empty() {
            self.branding.name.clone()
        } else {
            format!("{title} — {}", self.branding.name)
        };
        let body = match self.render(name, lang, here, &full_title, user, &visit.csrf(), page) {
            Ok(body) => body,
            Err(err) => {
                tracing::error!(template = name, error = %format!("{err:#}"), "page did not render");
                return Response::builder()
                    .status(StatusCode::INTERNAL_SERVER_ERROR)
                    .content_type("text/html; charset=utf-8")
                    .body("<!doctype html><html lang=\"en\"><title>PEPS</title><h1>Error 500</h1></html>");
            }
        };
        let mut resp = Response::builder()
            .status(status)
            .content_type("text/html; charset=utf-8")
            .header(header::CONTENT_LANGUAGE, lang.code())
            .body(body);
        if visit.new_csrf {
            self.set_cookie(&mut resp, visit::CSRF_COOKIE, &visit.csrf_cookie);
        }
        resp
    }

    fn set_cookie(&self, resp: &mut Response, name: &str, value: &str) {
        if let Ok(v) = HeaderValue::from_str(&visit::set_cookie(name, value, self.secure_cookies)) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// Adds the pages to `route`: `/` (redirects to a language), `/<lang>/…` and `/static/…`.
pub fn mount(route: Route) -> Route {
    let mut route = route
        .at(
            "/static/site.css",
            get(pages::css).with(poem::middleware::Compression::new()),
        )
        .at(
            "/static/enhance.js",
            get(pages::js).with(poem::middleware::Compression::new()),
        )
        .at("/static/logo", get(pages::logo))
        .at(
            "/oidc/:provider/callback",
            get(pages::provider_callback).with(PageHeaders),
        );
    for info in Language::all() {
        let language = Language::parse(&info.code).expect("from the table");
        route = route.nest(
            format!("/{}", info.code),
            admin::with_admin_routes(pages::language_routes())
                .with(PageHeaders)
                .with(poem::middleware::Compression::new())
                .data(language),
        );
    }
    route
}

/// Answers `GET /` (which the API's catch-all route would otherwise take) with a redirect to
/// the reader's language.
pub struct RootRedirect;

impl<E: Endpoint> Middleware<E> for RootRedirect {
    type Output = RootRedirectEndpoint<E>;
    fn transform(&self, inner: E) -> Self::Output {
        RootRedirectEndpoint { inner }
    }
}

pub struct RootRedirectEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for RootRedirectEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if req.uri().path() == "/" && req.method() == poem::http::Method::GET {
            return pages::root.call(req).await;
        }
        Ok(self.inner.call(req).await?.into_response())
    }
}

/// The pages' own security headers: strict CSP, no framing, not cached (they may show a
/// signed-in person's name).
pub struct PageHeaders;

impl<E: Endpoint> Middleware<E> for PageHeaders {
    type Output = PageHeadersEndpoint<E>;
    fn transform(&self, inner: E) -> Self::Output {
        PageHeadersEndpoint { inner }
    }
}

pub struct PageHeadersEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for PageHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let mut resp = self.inner.call(req).await?.into_response();
        let headers = resp.headers_mut();
        // A page that brings its own policy keeps it: the printable plan, which loads nothing
        // and runs nothing, its inline style aside (`plan_print::CONTENT_SECURITY_POLICY`).
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
        }
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(resp)
    }
}

/// The built-in site, loaded once per process (the default of [`crate::HttpSettings`]).
pub fn builtin() -> Arc<Site> {
    static BUILTIN: std::sync::LazyLock<Arc<Site>> =
        std::sync::LazyLock::new(|| Arc::new(Site::default()));
    BUILTIN.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_renders_with_sample_data_in_every_language() {
        let site = Site::default();
        for info in Language::all() {
            let lang = Language::parse(&info.code).unwrap();
            for name in PAGES {
                let html = site
                    .render_sample(name, &lang)
                    .unwrap_or_else(|e| panic!("{name} in {}: {e}", info.code));
                assert!(
                    html.contains(&format!(
                        "<html lang=\"{}\" dir=\"{}\">",
                        info.code,
                        views::dir(&lang)
                    )),
                    "{name} in {}",
                    info.code
                );
                assert!(
                    !html.contains("web."),
                    "{name} in {}: a key shows",
                    info.code
                );
                assert!(
                    !html.contains(" style="),
                    "{name}: inline style breaks the CSP"
                );
                assert!(
                    !html.contains("<script>"),
                    "{name}: inline script breaks the CSP"
                );
            }
        }
    }

    fn site_with(files: &[(&str, &str)]) -> Result<Site, String> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        Site::load(WebSettings {
            templates_dir: Some(dir.path().to_owned()),
            ..WebSettings::default()
        })
    }

    #[test]
    fn an_override_replaces_a_page_and_a_broken_one_stops_the_start() {
        let site = site_with(&[(
            "legal.html",
            "{% extends \"base.html\" %}{% block content %}<h1>Mentions du Département</h1>{% endblock %}",
        )])
        .unwrap();
        let html = site
            .render_sample("legal.html", &Language::french())
            .unwrap();
        assert!(html.contains("Mentions du Département"));

        let err = site_with(&[("home.html", "{% extends \"base.html\" %}{% block content %}{{ t(\"web.no_such_key\") }}{% endblock %}")]).unwrap_err();
        assert!(
            err.contains("home.html") && err.contains("web.no_such_key"),
            "{err}"
        );
        let err = site_with(&[("offer.html", "{% if %}")]).unwrap_err();
        assert!(err.contains("offer.html"), "{err}");
        let err = site_with(&[("offre.html", "x")]).unwrap_err();
        assert!(err.contains("offre.html is not a PEPS template"), "{err}");
        let err = site_with(&[(
            "results.html",
            "{% extends \"base.html\" %}{% block content %}{{ page.nothing_here }}{% endblock %}",
        )])
        .unwrap_err();
        assert!(err.contains("results.html"), "{err}");
    }

    #[test]
    fn a_palette_without_contrast_is_refused() {
        let err = Site::load(WebSettings {
            branding: Branding {
                link: Colour::parse("#aaaaaa").unwrap(),
                ..Branding::default()
            },
            ..WebSettings::default()
        })
        .unwrap_err();
        assert!(err.contains("web.colour_link"), "{err}");
    }

    #[test]
    fn the_css_has_the_configured_colours_and_only_logical_directions() {
        let site = Site::default();
        assert!(site.css.starts_with(":root{--primary:#1d3f6e;"));
        for physical in [
            "margin-left",
            "margin-right",
            "padding-left",
            "padding-right",
            "text-align: left",
            "text-align: right",
            " left:",
            " right:",
            "float:",
        ] {
            assert!(
                !CSS.contains(physical),
                "site.css uses {physical}: right-to-left pages would not mirror"
            );
        }
    }
}
