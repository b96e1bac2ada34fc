//! For adapter authors and tests (cargo feature `testing`): an in-memory reference adapter of
//! every port (`memory/<port>.rs`), and the conformance suites every adapter must pass
//! (`conformance/<capability>.rs`).

pub mod conformance;
pub mod memory;

pub use memory::{MemoryBlobStore, MemoryStore};
