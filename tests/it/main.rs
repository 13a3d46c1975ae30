#![cfg(feature = "ssr")]
//! The integration suite, as one test binary: one link instead of one per file keeps the
//! build small on disk and quick on 2 cores. Each module drives the real router over its
//! own Postgres database (`#[sqlx::test]`).

// Helpers serve every module; not each one uses all of them.
#[allow(dead_code)]
mod common;

mod accounts;
mod admin;
mod assignment;
mod attachment_store;
mod batched_writes;
mod binary;
mod canned;
mod cases;
mod cluster;
mod frame_fuzz;
mod realtime;
mod site_look;
mod site_rules;
mod site_settings;
mod widget;
mod workspace;
