//! sea-orm entities: the table shapes, private to this crate. Conversions to and from domain
//! types live in the adapter file of each port.

pub mod account;
pub mod activation_code;
pub mod audit_event;
pub mod credential;
pub mod document_reminder;
pub mod document_request;
pub mod external_link;
pub mod import_job;
pub mod imported_record;
pub mod lease;
pub mod mandate;
pub mod membership;
pub mod offer;
pub mod offer_history;
pub mod offer_reminder;
pub mod one_time_value;
pub mod organisation;
pub mod organisation_profile;
pub mod plan;
pub mod plan_event;
pub mod plan_step;
pub mod plan_worker;
pub mod recovery_code;
pub mod referent;
pub mod second_factor;
pub mod session;
pub mod sign_in_request;
pub mod step_message;
pub mod step_reminder;
pub mod throttle;
pub mod wallet_consent;
pub mod wallet_document;
pub mod wallet_event;
pub mod wallet_file;
pub mod wallet_grant;
