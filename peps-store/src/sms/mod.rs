//! [`SmsSender`] adapters: a log (the default: nothing is sent) and Brevo's transactional SMS
//! API ([`brevo`]), chosen by the `notifications.sms` setting. Message bodies are never
//! logged: they go to a person's phone and may say more than a log should.

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

use peps_core::domain::Phone;
use peps_core::ports::{NotifyError, Sms, SmsSender};

pub mod brevo;

pub use brevo::BrevoSms;

/// Writes one log line per text message: the last two digits of the number and the
/// language, never the body (it goes to a person's phone and may say more than a log should).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogSms;

#[async_trait]
impl SmsSender for LogSms {
    async fn send(&self, sms: &Sms) -> Result<(), NotifyError> {
        let segments = peps_core::sms::sms_segments(&sms.body);
        tracing::info!(
            to_ending = number_ending(&sms.to),
            language = sms.language.code(),
            chars = sms.body.chars().count(),
            segments = segments.segments,
            encoding = %segments.encoding.letter(),
            "text message (log adapter, not sent)"
        );
        Ok(())
    }
}

/// The last two digits of a number: enough for an operator to tell two messages apart, too
/// little to find the person.
pub(crate) fn number_ending(phone: &Phone) -> String {
    let digits: Vec<char> = phone
        .as_str()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    digits[digits.len().saturating_sub(2)..].iter().collect()
}

/// What `notifications.sms*` says.
#[derive(Clone)]
pub struct SmsSettings {
    /// `log` (the default) or `brevo`.
    pub provider: String,
    /// The provider's API key (a secret).
    pub api_key: String,
    /// The alphanumeric sender shown on the phone (3 to 11 letters and digits).
    pub sender: String,
    /// The provider's API base address; empty for the provider's own.
    pub base_url: String,
    /// How long one request may take before it counts as a (transient) failure.
    pub timeout: Duration,
}

impl Default for SmsSettings {
    fn default() -> Self {
        Self {
            provider: "log".to_owned(),
            api_key: String::new(),
            sender: String::new(),
            base_url: String::new(),
            timeout: Duration::from_secs(10),
        }
    }
}

impl std::fmt::Debug for SmsSettings {
    // The API key is a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSettings")
            .field("provider", &self.provider)
            .field(
                "api_key",
                &if self.api_key.is_empty() {
                    "<empty>"
                } else {
                    "<redacted>"
                },
            )
            .field("sender", &self.sender)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why the SMS settings cannot be used. Each message names the setting to fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SmsConfigError {
    #[error("notifications.sms must be \"log\" or \"brevo\" (got {0:?})")]
    Provider(String),
    #[error(
        "notifications.sms_api_key is missing: {0} needs its API key (set notifications.sms_api_key_file, or PEPS_NOTIFICATIONS__SMS_API_KEY)"
    )]
    MissingKey(&'static str),
    #[error(
        "notifications.sms_sender {0:?} is not a valid sender: 3 to 11 letters (A-Z, a-z) and digits, at least one letter, no spaces or accents"
    )]
    Sender(String),
    #[error("notifications.sms_base_url must start with https:// or http:// (got {0:?})")]
    BaseUrl(String),
    #[error("notifications.sms_timeout_seconds must be between 1 and 120")]
    Timeout,
    #[error("text messages: cannot build the HTTP client: {0}")]
    Client(String),
}

/// An alphanumeric sender: what the phone shows instead of a number. French operators accept
/// 3 to 11 ASCII letters and digits with at least one letter (an all-digit sender would pass
/// for a phone number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderName(String);

impl SenderName {
    pub fn parse(raw: &str) -> Result<Self, SmsConfigError> {
        let name = raw.trim();
        let valid = (3..=11).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric())
            && name.chars().any(|c| c.is_ascii_alphabetic());
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(SmsConfigError::Sender(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The SMS sender the settings name.
pub fn sms_sender(settings: &SmsSettings) -> Result<Arc<dyn SmsSender>, SmsConfigError> {
    match settings.provider.trim() {
        "log" | "" => Ok(Arc::new(LogSms)),
        "brevo" => Ok(Arc::new(BrevoSms::new(settings)?)),
        other => Err(SmsConfigError::Provider(other.to_owned())),
    }
}

/// The SMS sender a bare provider name gives: `log` only, since a real provider needs its key
/// and sender ([`sms_sender`] takes them).
pub fn sms_from_setting(setting: &str) -> Result<Arc<dyn SmsSender>, SmsConfigError> {
    sms_sender(&SmsSettings {
        provider: setting.to_owned(),
        ..SmsSettings::default()
    })
}

/// A number as international digits without `+` (E.164 digits: `33612345678`), as SMS APIs
/// want it. People write numbers many ways: `+33 6 12 34 56 78`, `0033 6…`, `+33 (0)6…`,
/// `+33 06…`, and French national numbers `06 12 34 56 78` (the overseas departments'
/// mobiles, written the same way, get their own country codes: 0690/0691 Guadeloupe, 0694
/// Guyane, 0696/0697 Martinique, 0692/0693 Réunion, 0639 Mayotte). `None` for what cannot be
/// made international (short numbers such as 115, a national number of another country).
pub fn international_digits(phone: &Phone) -> Option<String> {
    let written = phone.as_str().trim();
    let international = written.starts_with('+') || written.starts_with("00");
    // "+33 (0)6…": the trunk 0 in brackets is not dialled from abroad.
    let written = if international {
        written.replace("(0)", "")
    } else {
        written.to_owned()
    };
    let digits: String = written.chars().filter(char::is_ascii_digit).collect();
    let e164 = if written.starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else if digits.len() == 10 && digits.starts_with('0') && !digits.starts_with("00") {
        let overseas = [
            ("0690", "590"),
            ("0691", "590"),
            ("0694", "594"),
            ("0696", "596"),
            ("0697", "596"),
            ("0692", "262"),
            ("0693", "262"),
            ("0639", "262"),
        ];
        match overseas.iter().find(|(p, _)| digits.starts_with(p)) {
            Some((_, code)) => format!("{code}{}", &digits[1..]),
            None => format!("33{}", &digits[1..]),
        }
    } else {
        return None;
    };
    // "+33 06…": the French trunk 0 written after the country code (France and its overseas
    // codes never dial a 0 there; Italy's +39 0… does, so only these).
    let e164 = match ["33", "262", "590", "594", "596"]
        .iter()
        .find(|code| e164.starts_with(&format!("{code}0")))
    {
        Some(code) => format!("{code}{}", &e164[code.len() + 1..]),
        None => e164,
    };
    ((8..=15).contains(&e164.len()) && !e164.starts_with('0')).then_some(e164)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(raw: &str) -> Option<String> {
        international_digits(&Phone::parse(raw).unwrap())
    }

    #[test]
    fn numbers_as_people_write_them_become_international_digits() {
        for (written, expected) in [
            ("06 12 34 56 78", "33612345678"),
            ("06.12.34.56.78", "33612345678"),
            ("0612345678", "33612345678"),
            ("+33 6 12 34 56 78", "33612345678"),
            ("+33 (0)6 12 34 56 78", "33612345678"),
            ("0033 6 12 34 56 78", "33612345678"),
            ("07 81 00 00 00", "33781000000"),
            ("0690 12 34 56", "590690123456"),
            ("0694 12 34 56", "594694123456"),
            ("0696 12 34 56", "596696123456"),
            ("0692 12 34 56", "262692123456"),
            ("0639 12 34 56", "262639123456"),
            ("+32 470 12 34 56", "32470123456"),
            ("+212 6 12 34 56 78", "212612345678"),
            ("+33 06 12 34 56 78", "33612345678"),
            ("+262 0692 12 34 56", "262692123456"),
            ("+39 06 1234 5678", "390612345678"),
        ] {
            assert_eq!(digits(written).as_deref(), Some(expected), "{written}");
        }
        for refused in ["115", "3114", "612345678", "+33 6", "1234567890123456"] {
            assert_eq!(digits(refused), None, "{refused}");
        }
    }

    #[test]
    fn senders_are_3_to_11_letters_and_digits() {
        for ok in ["PEPS", "CCAS89", "Auxerre", "PEPS2026abc"] {
            assert_eq!(SenderName::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "PE",
            "PEPS Auxerre",
            "Département",
            "123456",
            "PEPS-89",
            "ABCDEFGHIJKL",
        ] {
            assert!(SenderName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_name_their_mistake() {
        let brevo = |key: &str, sender: &str| SmsSettings {
            provider: "brevo".into(),
            api_key: key.into(),
            sender: sender.into(),
            ..SmsSettings::default()
        };
        assert!(sms_sender(&SmsSettings::default()).is_ok());
        assert!(sms_sender(&brevo("xkeysib-secret", "PEPS")).is_ok());
        assert_eq!(
            sms_sender(&brevo("", "PEPS")).err(),
            Some(SmsConfigError::MissingKey("brevo"))
        );
        assert!(matches!(
            sms_sender(&brevo("xkeysib-secret", "PEPS 89")).err(),
            Some(SmsConfigError::Sender(_))
        ));
        assert!(matches!(
            sms_from_setting("ovh").err(),
            Some(SmsConfigError::Provider(_))
        ));
        let settings = brevo("xkeysib-secret", "PEPS");
        assert!(!format!("{settings:?}").contains("xkeysib-secret"));
    }
}
