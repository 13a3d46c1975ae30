//! Queries on `canned_responses`: personal ones (`owner_id`) and site-wide ones (`site_id`,
//! no owner).

use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// A canned response row.
#[derive(Debug, Clone, FromRow)]
pub struct CannedRow {
    pub id: Uuid,
    pub site_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub shortcut: String,
    pub body: String,
    /// Bumped by every edit; an edit names the version it started from. (Only the admin
    /// queries select it and the next field; elsewhere they take their defaults.)
    #[sqlx(default)]
    pub version: i64,
    /// Who made the last edit, for the "changed by NAME" refusal.
    #[sqlx(default)]
    pub updated_by_name: Option<String>,
}

/// `user`'s personal responses and the site-wide ones of the sites they may see (admins: all;
/// agents: sites of their non-archived groups), or of `site` only when given. Personal first,
/// then by shortcut.
pub async fn usable_by(
    db: impl PgExecutor<'_>,
    user: Uuid,
    site: Option<Uuid>,
) -> sqlx::Result<Vec<CannedRow>> {
    sqlx::query_as(
        "SELECT r.id, r.site_id, r.owner_id, r.shortcut, r.body FROM canned_responses r
         WHERE r.owner_id = $1
            OR (r.owner_id IS NULL AND ($2::uuid IS NULL OR r.site_id = $2)
                AND (EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.active AND u.role = 'admin')
                     OR EXISTS (SELECT 1 FROM group_members gm JOIN groups g ON g.id = gm.group_id
                                WHERE gm.user_id = $1 AND g.site_id = r.site_id
                                  AND g.archived_at IS NULL)))
         ORDER BY r.owner_id IS NULL, r.shortcut, r.id",
    )
    .bind(user)
    .bind(site)
    .fetch_all(db)
    .await
}

/// Stores a response; `None` when its scope (the owner, or the site) already has this
/// shortcut (unique indexes, so two saves at once store one).
pub async fn insert(
    db: impl PgExecutor<'_>,
    site_id: Option<Uuid>,
    owner_id: Option<Uuid>,
    shortcut: &str,
    body: &str,
) -> sqlx::Result<Option<CannedRow>> {
    // A conflict on either partial unique index means "taken"; the row's scope decides which
    // index can apply, so `ON CONFLICT DO NOTHING` without a target is exact here.
    sqlx::query_as(
        "INSERT INTO canned_responses (site_id, owner_id, shortcut, body) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING
         RETURNING id, site_id, owner_id, shortcut, body",
    )
    .bind(site_id)
    .bind(owner_id)
    .bind(shortcut)
    .bind(body)
    .fetch_optional(db)
    .await
}

/// Finds a response.
pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<CannedRow>> {
    sqlx::query_as(
        "SELECT id, site_id, owner_id, shortcut, body FROM canned_responses WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Deletes `owner`'s personal response `id`; `false` when there is none such.
pub async fn delete_personal(db: impl PgExecutor<'_>, id: Uuid, owner: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM canned_responses WHERE id = $1 AND owner_id = $2")
        .bind(id)
        .bind(owner)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A site's site-wide responses, by shortcut.
pub async fn site_wide(db: impl PgExecutor<'_>, site_id: Uuid) -> sqlx::Result<Vec<CannedRow>> {
    sqlx::query_as(
        "SELECT id, site_id, owner_id, shortcut, body, version FROM canned_responses
         WHERE site_id = $1 AND owner_id IS NULL ORDER BY shortcut, id",
    )
    .bind(site_id)
    .fetch_all(db)
    .await
}

/// Locks a site-wide response (for a change in a transaction); `None` when there is none
/// such (a personal response is not one).
pub async fn lock_site_wide(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<CannedRow>> {
    sqlx::query_as(
        "SELECT r.id, r.site_id, r.owner_id, r.shortcut, r.body, r.version,
                (SELECT u.name FROM users u WHERE u.id = r.updated_by) AS updated_by_name
         FROM canned_responses r
         WHERE r.id = $1 AND r.owner_id IS NULL FOR UPDATE OF r",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Changes a site-wide response (a new version, by `admin`); `false` when its site already
/// has another response with this shortcut (the unique index decides).
pub async fn update_site_wide(
    db: impl PgExecutor<'_>,
    id: Uuid,
    admin: Uuid,
    shortcut: &str,
    body: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE canned_responses SET shortcut = $2, body = $3, version = version + 1,
                updated_by = $4
         WHERE id = $1 AND owner_id IS NULL",
    )
    .bind(id)
    .bind(shortcut)
    .bind(body)
    .bind(admin)
    .execute(db)
    .await;
    match done {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Deletes a site-wide response.
pub async fn delete_site_wide(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM canned_responses WHERE id = $1 AND owner_id IS NULL")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Whether a site exists (archived ones included: an admin may still prepare responses).
pub async fn site_exists(db: impl PgExecutor<'_>, site_id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM sites WHERE id = $1)")
        .bind(site_id)
        .fetch_one(db)
        .await
}
