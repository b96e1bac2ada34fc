//! The collectivity's identity on the pages: name, logo, colours, footer links, legal pages.
//! Colours are checked against WCAG 2.1 AA (4.5:1 for text) when the server starts, so a
//! configured palette can never make the pages unreadable.

use serde::Serialize;

/// A link shown in the footer of every page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FooterLink {
    pub label: String,
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct Branding {
    /// Shown in the header and the page titles, e.g. "Département de l'Yonne — PEPS".
    pub name: String,
    /// A logo file (PNG, SVG, WebP or JPEG) served from this server; `None`: the name alone.
    pub logo: Option<(Vec<u8>, &'static str)>,
    /// The logo's text alternative; empty when the name beside it says it all.
    pub logo_alt: String,
    /// Header and buttons background, with `on_primary` text on it.
    pub primary: Colour,
    pub on_primary: Colour,
    /// Links and focus outlines, on the white page background.
    pub link: Colour,
    pub footer_links: Vec<FooterLink>,
    /// Where the legal notice and the accessibility statement are; empty: PEPS's built-in
    /// pages (overridable templates `legal.html` and `accessibility.html`).
    pub legal_notice_url: String,
    pub accessibility_url: String,
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            name: "PEPS".to_owned(),
            logo: None,
            logo_alt: String::new(),
            primary: Colour::parse("#1d3f6e").expect("valid"),
            on_primary: Colour::parse("#ffffff").expect("valid"),
            link: Colour::parse("#1a4f8b").expect("valid"),
            footer_links: Vec::new(),
            legal_notice_url: String::new(),
            accessibility_url: String::new(),
        }
    }
}

/// An sRGB colour written `#rrggbb` (or `#rgb`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour([u8; 3]);

impl Colour {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let hex = raw.trim().strip_prefix('#').unwrap_or("");
        let digits: Vec<u8> = hex
            .chars()
            .map(|c| c.to_digit(16).map(|d| d as u8))
            .collect::<Option<_>>()
            .unwrap_or_default();
        match digits.as_slice() {
            [r, g, b] => Ok(Self([r * 17, g * 17, b * 17])),
            [r1, r2, g1, g2, b1, b2] => Ok(Self([r1 * 16 + r2, g1 * 16 + g2, b1 * 16 + b2])),
            _ => Err(format!("{raw:?} is not a colour written #rrggbb")),
        }
    }

    pub fn css(&self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0[0], self.0[1], self.0[2])
    }

    /// WCAG 2.1 relative luminance.
    fn luminance(&self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(self.0[0]) + 0.7152 * channel(self.0[1]) + 0.0722 * channel(self.0[2])
    }

    /// WCAG contrast ratio, from 1 to 21.
    pub fn contrast(&self, other: &Colour) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    }
}

/// WCAG 2.1 AA for normal text.
pub const MIN_CONTRAST: f64 = 4.5;

impl Branding {
    /// Refuses a palette in which some text would be hard to read, naming the pair.
    pub fn check_contrast(&self) -> Result<(), String> {
        let white = Colour([255, 255, 255]);
        for (what, fg, bg) in [
            (
                "web.colour_on_primary on web.colour_primary",
                self.on_primary,
                self.primary,
            ),
            ("web.colour_link on the white page", self.link, white),
            ("web.colour_primary on the white page", self.primary, white),
        ] {
            let ratio = fg.contrast(&bg);
            if ratio < MIN_CONTRAST {
                return Err(format!(
                    "{what}: contrast {ratio:.2}:1 ({} on {}) is below the {MIN_CONTRAST}:1 \
                     that WCAG 2.1 AA requires for text; choose a darker or lighter colour",
                    fg.css(),
                    bg.css()
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_ratios_match_wcag() {
        let black = Colour::parse("#000").unwrap();
        let white = Colour::parse("#ffffff").unwrap();
        assert!((black.contrast(&white) - 21.0).abs() < 0.01);
        assert!((white.contrast(&white) - 1.0).abs() < 0.01);
        // #767676 on white is the classic 4.54:1 grey.
        let grey = Colour::parse("#767676").unwrap();
        assert!((grey.contrast(&white) - 4.54).abs() < 0.01);
    }

    #[test]
    fn the_default_palette_passes_and_a_pale_one_is_refused() {
        Branding::default().check_contrast().unwrap();
        let pale = Branding {
            primary: Colour::parse("#ffcc00").unwrap(),
            ..Branding::default()
        };
        let err = pale.check_contrast().unwrap_err();
        assert!(err.contains("web.colour_on_primary"), "{err}");
        assert!(err.contains("4.5:1"), "{err}");
    }

    #[test]
    fn colours_must_be_hex() {
        assert!(Colour::parse("red").is_err());
        assert!(Colour::parse("#12345").is_err());
        assert_eq!(Colour::parse("#AbC").unwrap().css(), "#aabbcc");
    }
}
