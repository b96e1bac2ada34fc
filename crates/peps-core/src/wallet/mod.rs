//! The document wallet: a person's private folder of proofs, encrypted at rest, shared only with
//! whom the person allows, every access recorded for them.

pub mod crypto;
pub mod ports;
pub mod sniff;
pub mod zip_stream;
