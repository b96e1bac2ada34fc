//! The document wallet: a person's private folder of proofs, encrypted at rest, shared only with
//! whom the person allows, every access recorded for them.

pub mod crypto;
pub mod document;
pub mod keyring;
pub mod sharing;
pub mod sniff;
pub mod zip_stream;

/// The wallet's ports live with the others; these names keep the paths adopters already use.
pub use crate::ports::wallet as ports;
pub use crate::ports::wallet as repository;

pub use document::{Document, DocumentFields, DocumentFile, Expiry, Uploader};
pub use repository::{FilePlacement, WalletRepository};
pub use sharing::{
    Access, DocumentRequest, Grant, GrantScope, Grantee, ReferentAccess, ReferentConsent,
    RequestStatus, WalletAction, WalletEvent,
};
