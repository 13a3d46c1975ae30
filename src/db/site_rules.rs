//! Queries on a site's serving rules: `assignment_mode`, `allow_direct_level2` and the
//! response-time targets (`first_response_target_secs`, `resolution_target_secs`). Writes
//! move the site to its next version, like every admin edit of a site.

use serde::Serialize;
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// A site's serving rules as stored.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct RulesRow {
    /// `off`, `round_robin` or `least_busy`.
    pub assignment_mode: String,
    pub allow_direct_level2: bool,
    /// `None`: no target.
    pub first_response_target_secs: Option<i32>,
    pub resolution_target_secs: Option<i32>,
}

/// The rules of a site; `None` for no such site.
pub async fn find(db: impl PgExecutor<'_>, site_id: Uuid) -> sqlx::Result<Option<RulesRow>> {
    sqlx::query_as(
        "SELECT assignment_mode, allow_direct_level2, first_response_target_secs,
                resolution_target_secs
         FROM sites WHERE id = $1",
    )
    .bind(site_id)
    .fetch_optional(db)
    .await
}

/// Saves the assignment mode and the transfer rule; the site moves to its next version.
pub async fn set_rules(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
    actor: Uuid,
    assignment_mode: &str,
    allow_direct_level2: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sites SET assignment_mode = $2, allow_direct_level2 = $3,
             version = version + 1, updated_by = $4, updated_at = now()
         WHERE id = $1",
    )
    .bind(site_id)
    .bind(assignment_mode)
    .bind(allow_direct_level2)
    .bind(actor)
    .execute(db)
    .await?;
    Ok(())
}

/// Saves the response-time targets (`None`: no target); the site moves to its next version.
pub async fn set_targets(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
    actor: Uuid,
    first_response_secs: Option<i32>,
    resolution_secs: Option<i32>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sites SET first_response_target_secs = $2, resolution_target_secs = $3,
             version = version + 1, updated_by = $4, updated_at = now()
         WHERE id = $1",
    )
    .bind(site_id)
    .bind(first_response_secs)
    .bind(resolution_secs)
    .bind(actor)
    .execute(db)
    .await?;
    Ok(())
}
