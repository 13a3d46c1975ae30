//! Queries on `sites`.

use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// The columns of a site needed so far.
#[derive(Debug, Clone, FromRow)]
pub struct SiteRow {
    pub id: Uuid,
    pub key: String,
    pub name: String,
}

/// Creates a site with the given public key and identity secret.
pub async fn insert(
    db: impl PgExecutor<'_>,
    key: &str,
    name: &str,
    identity_secret: &str,
) -> sqlx::Result<SiteRow> {
    sqlx::query_as(
        "INSERT INTO sites (key, name, identity_secret) VALUES ($1, $2, $3) RETURNING id, key, name",
    )
    .bind(key)
    .bind(name)
    .bind(identity_secret)
    .fetch_one(db)
    .await
}

/// The oldest site that is not archived (the demo page shows it).
pub async fn first(db: impl PgExecutor<'_>) -> sqlx::Result<Option<SiteRow>> {
    sqlx::query_as(
        "SELECT id, key, name FROM sites WHERE archived_at IS NULL ORDER BY created_at LIMIT 1",
    )
    .fetch_optional(db)
    .await
}

/// What starting a chat needs to know about a site.
#[derive(Debug, Clone, FromRow)]
pub struct ChatSettings {
    pub id: Uuid,
    pub guest_mode: bool,
    pub guest_group_id: Option<Uuid>,
    pub prechat: serde_json::Value,
    pub visitor_token_days: i32,
}

/// The chat settings of a live (not archived) site, by its public key.
pub async fn chat_settings(
    db: impl PgExecutor<'_>,
    key: &str,
) -> sqlx::Result<Option<ChatSettings>> {
    sqlx::query_as(
        "SELECT id, guest_mode, guest_group_id, prechat, visitor_token_days
         FROM sites WHERE key = $1 AND archived_at IS NULL",
    )
    .bind(key)
    .fetch_optional(db)
    .await
}

/// What the widget needs to know about a site.
#[derive(Debug, Clone, FromRow)]
pub struct WidgetRow {
    pub id: Uuid,
    pub guest_group_id: Option<Uuid>,
    pub name: String,
    pub appearance: serde_json::Value,
    pub guest_mode: bool,
    pub prechat: serde_json::Value,
    pub allowed_origins: Vec<String>,
}

/// The widget settings of a live (not archived) site, by its public key.
pub async fn widget(db: impl PgExecutor<'_>, key: &str) -> sqlx::Result<Option<WidgetRow>> {
    sqlx::query_as(
        "SELECT id, guest_group_id, name, appearance, guest_mode, prechat, allowed_origins
         FROM sites WHERE key = $1 AND archived_at IS NULL",
    )
    .bind(key)
    .fetch_optional(db)
    .await
}

/// Replaces a site's allowed origins (empty = any origin).
pub async fn set_allowed_origins(
    db: impl PgExecutor<'_>,
    id: Uuid,
    origins: &[String],
) -> sqlx::Result<()> {
    sqlx::query("UPDATE sites SET allowed_origins = $2, version = version + 1, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(origins)
        .execute(db)
        .await?;
    Ok(())
}

/// Turns guest mode on or off.
pub async fn set_guest_mode(db: impl PgExecutor<'_>, id: Uuid, on: bool) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sites SET guest_mode = $2, version = version + 1, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(on)
    .execute(db)
    .await?;
    Ok(())
}

/// What a verified identify() needs: the site, its HMAC key and token lifetime.
#[derive(Debug, Clone, FromRow)]
pub struct IdentitySettings {
    pub id: Uuid,
    pub identity_secret: String,
    pub visitor_token_days: i32,
}

/// The identify() settings of a live site, by its public key.
pub async fn identity(
    db: impl PgExecutor<'_>,
    key: &str,
) -> sqlx::Result<Option<IdentitySettings>> {
    sqlx::query_as(
        "SELECT id, identity_secret, visitor_token_days FROM sites WHERE key = $1 AND archived_at IS NULL",
    )
    .bind(key)
    .fetch_optional(db)
    .await
}

/// A site's attachment rules: the size limit and the allowed types (`image/*` style).
pub async fn attachment_rules(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
) -> sqlx::Result<(i64, Vec<String>)> {
    sqlx::query_as("SELECT attachment_max_bytes, attachment_types FROM sites WHERE id = $1")
        .bind(site_id)
        .fetch_one(db)
        .await
}
