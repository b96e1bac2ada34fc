//! HTTP tests, one binary: in-process (poem's TestClient) for breadth, and a real server on
//! 127.0.0.1:0 for the paths that matter. Every scenario runs on SQLite, and on PostgreSQL
//! when PEPS_TEST_DATABASE_URL is set.

mod access;
mod auth;
mod bad_input;
mod browser;
mod catalogue;
mod data_inclusion;
mod end_to_end;
mod hidden_places;
mod oidc_provider;
mod openapi;
mod plans;
mod provider_sign_in;
mod second_factor;
mod side_doors;
mod step_templates;
mod strong_sign_in;
mod support;
mod wallet;
mod web;
mod web_notices;
mod web_plans;
