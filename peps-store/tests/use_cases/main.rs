//! Use-case tests: each names one rule of a service and checks it on the real store, on SQLite
//! and (when `PEPS_TEST_DATABASE_URL` is set) on PostgreSQL, with a manual clock. A broken rule
//! fails here in a short test that says which, before any HTTP scenario does.

mod catalogue;
mod imports;
mod support;
mod wallet;
