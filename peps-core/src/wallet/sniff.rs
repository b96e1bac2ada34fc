//! Deciding a file's type from its first bytes, never from its name or the client's header.
//! A wallet holds scans and photos of papers; anything that a browser or an OS could run
//! (SVG, HTML, scripts, executables) is refused by name so the person understands why.

use serde::{Deserialize, Serialize};

/// How many leading bytes [`sniff`] needs to decide.
pub const SNIFF_LEN: usize = 512;

/// The types a wallet may hold. Which of them a deployment accepts is configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    Pdf,
    Jpeg,
    Png,
    Webp,
    Heic,
}

impl MediaType {
    pub const ALL: [MediaType; 5] = [Self::Pdf, Self::Jpeg, Self::Png, Self::Webp, Self::Heic];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Jpeg => "jpeg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Heic => "heic",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim().to_ascii_lowercase();
        let raw = if raw == "jpg" { "jpeg" } else { raw.as_str() };
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Heic => "image/heic",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Heic => "heic",
        }
    }
}

/// A type recognised and always refused, named in the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dangerous {
    Svg,
    Html,
    Script,
    Executable,
}

impl Dangerous {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Svg => "svg",
            Self::Html => "html",
            Self::Script => "script",
            Self::Executable => "executable",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Known(MediaType),
    Dangerous(Dangerous),
    Unknown,
}

/// The type of a file from its first bytes (up to [`SNIFF_LEN`]; fewer when the file is
/// shorter).
pub fn sniff(head: &[u8]) -> Sniffed {
    if let Some(t) = media_type(head) {
        return Sniffed::Known(t);
    }
    if let Some(d) = dangerous(head) {
        return Sniffed::Dangerous(d);
    }
    Sniffed::Unknown
}

fn media_type(head: &[u8]) -> Option<MediaType> {
    const HEIF_BRANDS: [&[u8; 4]; 8] = [
        b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1",
    ];
    if head.starts_with(b"%PDF-") {
        Some(MediaType::Pdf)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaType::Jpeg)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(MediaType::Png)
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(MediaType::Webp)
    } else if head.len() >= 12
        && &head[4..8] == b"ftyp"
        && HEIF_BRANDS.iter().any(|b| &head[8..12] == *b)
    {
        Some(MediaType::Heic)
    } else {
        None
    }
}

fn dangerous(head: &[u8]) -> Option<Dangerous> {
    const EXECUTABLES: [&[u8]; 7] = [
        b"MZ",
        b"\x7fELF",
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    ];
    if EXECUTABLES.iter().any(|m| head.starts_with(m)) {
        return Some(Dangerous::Executable);
    }
    let text = leading_text(head);
    if text.starts_with("#!") {
        return Some(Dangerous::Script);
    }
    if text.contains("<svg") || text.starts_with("<!doctype svg") {
        return Some(Dangerous::Svg);
    }
    const HTML: [&str; 9] = [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<script",
        "<iframe",
        "<meta",
        "<title",
        "<?xml",
    ];
    if HTML.iter().any(|tag| text.starts_with(tag)) || text.contains("<script") {
        // XHTML and other XML can run script in a browser as well: refused with HTML.
        return Some(Dangerous::Html);
    }
    None
}

/// The head as lower-case text, without a byte-order mark, leading white space or comments
/// that browsers skip.
fn leading_text(head: &[u8]) -> String {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = text.trim_start();
    while let Some(after) = rest.strip_prefix("<!--") {
        rest = after.split_once("-->").map_or("", |(_, r)| r).trim_start();
    }
    rest.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_types_are_recognised_by_content() {
        assert_eq!(
            sniff(b"%PDF-1.7\n%\xe2\xe3"),
            Sniffed::Known(MediaType::Pdf)
        );
        assert_eq!(
            sniff(b"\xff\xd8\xff\xe0\0\x10JFIF"),
            Sniffed::Known(MediaType::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Sniffed::Known(MediaType::Png)
        );
        assert_eq!(
            sniff(b"RIFF\x24\0\0\0WEBPVP8 "),
            Sniffed::Known(MediaType::Webp)
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"),
            Sniffed::Known(MediaType::Heic)
        );
    }

    #[test]
    fn active_content_is_refused_by_name_whatever_it_is_called() {
        let svg = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert_eq!(sniff(svg), Sniffed::Dangerous(Dangerous::Svg));
        assert_eq!(
            sniff(b"  <svg onload=alert(1)>"),
            Sniffed::Dangerous(Dangerous::Svg)
        );
        assert_eq!(
            sniff(b"\xef\xbb\xbf<!DOCTYPE html><html>"),
            Sniffed::Dangerous(Dangerous::Html)
        );
        assert_eq!(
            sniff(b"<!-- x --> <HTML><body>"),
            Sniffed::Dangerous(Dangerous::Html)
        );
        assert_eq!(
            sniff(b"hello <script>alert(1)</script>"),
            Sniffed::Dangerous(Dangerous::Html)
        );
        assert_eq!(
            sniff(b"#!/bin/sh\nrm -rf /"),
            Sniffed::Dangerous(Dangerous::Script)
        );
        assert_eq!(
            sniff(b"MZ\x90\0\x03"),
            Sniffed::Dangerous(Dangerous::Executable)
        );
        assert_eq!(
            sniff(b"\x7fELF\x02\x01"),
            Sniffed::Dangerous(Dangerous::Executable)
        );
    }

    #[test]
    fn anything_else_is_unknown() {
        assert_eq!(sniff(b""), Sniffed::Unknown);
        assert_eq!(sniff(b"PK\x03\x04"), Sniffed::Unknown);
        assert_eq!(sniff(b"plain text"), Sniffed::Unknown);
        assert_eq!(sniff(b" %PDF-1.4"), Sniffed::Unknown);
    }

    #[test]
    fn type_names_parse_back() {
        for t in MediaType::ALL {
            assert_eq!(MediaType::parse(t.as_str()), Some(t));
        }
        assert_eq!(MediaType::parse("JPG"), Some(MediaType::Jpeg));
        assert_eq!(MediaType::parse("svg"), None);
    }
}
