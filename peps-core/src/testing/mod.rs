//! For adapter authors and tests (cargo feature `testing`): an in-memory reference adapter of
//! every port, and the conformance suites every adapter must pass.

pub mod blob_conformance;
pub mod catalogue_conformance;
pub mod conformance;
pub mod memory;
pub mod memory_blobs;
mod memory_wallet;
pub mod plan_conformance;
pub mod wallet_conformance;

pub use memory::MemoryStore;
pub use memory_blobs::MemoryBlobStore;
