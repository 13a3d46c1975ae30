//! Database queries, one module per table group. Plain functions over a Postgres
//! executor: no HTTP, no Leptos, no rules beyond what the schema enforces.

pub mod admin;
pub mod assignment;
pub mod attachment_store;
pub mod attachments;
pub mod audit;
pub mod bus;
pub mod canned;
pub mod cases;
pub mod contacts;
pub mod conversations;
pub mod login_attempts;
pub mod message_batch;
pub mod sessions;
pub mod site_look;
pub mod site_rules;
pub mod site_settings;
pub mod sites;
pub mod users;
pub mod workspace;

/// The pool type used everywhere on the server.
pub type Pool = sqlx::PgPool;

/// Runs the migrations in `migrations/` (embedded into the binary at compile time).
pub async fn migrate(pool: &Pool) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate!("./migrations").run(pool).await
}
