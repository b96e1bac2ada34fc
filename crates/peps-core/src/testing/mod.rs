//! For adapter authors and tests (cargo feature `testing`): an in-memory reference adapter of
//! every identity port, and the conformance suite every adapter must pass.

pub mod conformance;
pub mod memory;

pub use memory::MemoryStore;
