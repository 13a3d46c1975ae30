//! Queries behind the "Widget" admin page: a site's pre-chat form (`sites.prechat`), its
//! appearance (`sites.appearance`) and its attachment rules (`attachment_max_bytes`,
//! `attachment_types`). Every write moves the site to its next version and names who saved
//! it, like the other site settings, so a form loaded earlier is refused as stale.

use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// The look settings of a site as stored.
#[derive(Debug, Clone, FromRow)]
pub struct LookRow {
    pub id: Uuid,
    pub version: i32,
    pub prechat: serde_json::Value,
    pub appearance: serde_json::Value,
    pub attachment_max_bytes: i64,
    pub attachment_types: Vec<String>,
    pub archived: bool,
}

/// One site's look settings (archived ones too: the page says so rather than failing).
pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<LookRow>> {
    sqlx::query_as(
        "SELECT id, version, prechat, appearance, attachment_max_bytes, attachment_types,
                archived_at IS NOT NULL AS archived
         FROM sites WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Saves the pre-chat form document.
pub async fn set_prechat(
    db: impl PgExecutor<'_>,
    id: Uuid,
    actor: Uuid,
    prechat: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sites SET prechat = $2, version = version + 1, updated_by = $3, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(prechat)
    .bind(actor)
    .execute(db)
    .await?;
    Ok(())
}

/// Saves the appearance document (replacing it whole: every key is in the form).
pub async fn set_appearance(
    db: impl PgExecutor<'_>,
    id: Uuid,
    actor: Uuid,
    appearance: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sites SET appearance = $2, version = version + 1, updated_by = $3,
             updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(appearance)
    .bind(actor)
    .execute(db)
    .await?;
    Ok(())
}

/// Saves the attachment size limit and type allowlist.
pub async fn set_attachments(
    db: impl PgExecutor<'_>,
    id: Uuid,
    actor: Uuid,
    max_bytes: i64,
    types: &[String],
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sites SET attachment_max_bytes = $2, attachment_types = $3,
             version = version + 1, updated_by = $4, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(max_bytes)
    .bind(types)
    .bind(actor)
    .execute(db)
    .await?;
    Ok(())
}
