//! Queries behind the admin settings pages: sites as admins edit them, groups and their
//! members, and the audit log read back. Writes take an executor so the domain can run them
//! in one transaction with their audit entry.

use serde::Serialize;
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// The site columns the admin pages show and edit.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AdminSiteRow {
    pub id: Uuid,
    pub key: String,
    pub name: String,
    pub allowed_origins: Vec<String>,
    pub guest_mode: bool,
    pub guest_group_id: Option<Uuid>,
    pub version: i32,
    pub archived: bool,
    /// Who saved the current version (`None` before any admin edit).
    pub updated_by_name: Option<String>,
}

const SITE_COLUMNS: &str = "s.id, s.key, s.name, s.allowed_origins, s.guest_mode, s.guest_group_id,
     s.version, s.archived_at IS NOT NULL AS archived, u.name AS updated_by_name";

/// Every site, live ones first, each by name.
pub async fn list_sites(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<AdminSiteRow>> {
    sqlx::query_as(&format!(
        "SELECT {SITE_COLUMNS} FROM sites s LEFT JOIN users u ON u.id = s.updated_by
         ORDER BY s.archived_at IS NOT NULL, lower(s.name), s.created_at"
    ))
    .fetch_all(db)
    .await
}

/// One site; `lock` takes its row lock (for a change in a transaction).
pub async fn find_site(
    db: impl PgExecutor<'_>,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<AdminSiteRow>> {
    let suffix = if lock { " FOR UPDATE OF s" } else { "" };
    sqlx::query_as(&format!(
        "SELECT {SITE_COLUMNS} FROM sites s LEFT JOIN users u ON u.id = s.updated_by
         WHERE s.id = $1{suffix}"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Creates a site. Guest mode starts off: it needs a guest group with members first.
pub async fn insert_site(
    db: impl PgExecutor<'_>,
    key: &str,
    name: &str,
    identity_secret: &str,
    actor: Uuid,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO sites (key, name, identity_secret, guest_mode, updated_by)
         VALUES ($1, $2, $3, false, $4) RETURNING id",
    )
    .bind(key)
    .bind(name)
    .bind(identity_secret)
    .bind(actor)
    .fetch_one(db)
    .await
}

/// The editable settings of a site, saved together.
pub struct SiteUpdate<'a> {
    pub name: &'a str,
    pub allowed_origins: &'a [String],
    pub guest_mode: bool,
    pub guest_group_id: Option<Uuid>,
}

/// Saves the settings and moves the site to its next version.
pub async fn update_site(
    db: impl PgExecutor<'_>,
    id: Uuid,
    actor: Uuid,
    u: SiteUpdate<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sites SET name = $2, allowed_origins = $3, guest_mode = $4, guest_group_id = $5,
             version = version + 1, updated_by = $6, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(u.name)
    .bind(u.allowed_origins)
    .bind(u.guest_mode)
    .bind(u.guest_group_id)
    .bind(actor)
    .execute(db)
    .await?;
    Ok(())
}

/// Archives a site: the widget stops answering for its key.
pub async fn archive_site(db: impl PgExecutor<'_>, id: Uuid, actor: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sites SET archived_at = now(), version = version + 1, updated_by = $2,
             updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(actor)
    .execute(db)
    .await?;
    Ok(())
}

/// Replaces the identity secret; hashes made with the old one no longer verify.
pub async fn set_identity_secret(
    db: impl PgExecutor<'_>,
    id: Uuid,
    secret: &str,
    actor: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sites SET identity_secret = $2, identity_rotated_at = now(), updated_by = $3,
             updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(secret)
    .bind(actor)
    .execute(db)
    .await?;
    Ok(())
}

/// A group of a site.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct GroupRow {
    pub id: Uuid,
    pub site_id: Uuid,
    pub name: String,
}

/// The live groups of a site, by name.
pub async fn groups_of_site(db: impl PgExecutor<'_>, site_id: Uuid) -> sqlx::Result<Vec<GroupRow>> {
    sqlx::query_as(
        "SELECT id, site_id, name FROM groups WHERE site_id = $1 AND archived_at IS NULL
         ORDER BY lower(name)",
    )
    .bind(site_id)
    .fetch_all(db)
    .await
}

/// One live group.
pub async fn find_group(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<GroupRow>> {
    sqlx::query_as("SELECT id, site_id, name FROM groups WHERE id = $1 AND archived_at IS NULL")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Creates a group; `None` when the site already has one of that name (any case).
pub async fn insert_group(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
    name: &str,
) -> sqlx::Result<Option<GroupRow>> {
    sqlx::query_as(
        "INSERT INTO groups (site_id, name) VALUES ($1, $2)
         ON CONFLICT (site_id, lower(name)) DO NOTHING RETURNING id, site_id, name",
    )
    .bind(site_id)
    .bind(name)
    .fetch_optional(db)
    .await
}

/// A member of a group, with the agent's name.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct MemberRow {
    pub group_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub level: i16,
}

/// The members of every live group of a site.
pub async fn members_of_site(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
) -> sqlx::Result<Vec<MemberRow>> {
    sqlx::query_as(
        "SELECT gm.group_id, gm.user_id, u.name, gm.level
         FROM group_members gm JOIN groups g ON g.id = gm.group_id JOIN users u ON u.id = gm.user_id
         WHERE g.site_id = $1 AND g.archived_at IS NULL
         ORDER BY gm.level, lower(u.name)",
    )
    .bind(site_id)
    .fetch_all(db)
    .await
}

/// How many members a group has.
pub async fn member_count(db: impl PgExecutor<'_>, group_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM group_members WHERE group_id = $1")
        .bind(group_id)
        .fetch_one(db)
        .await
}

/// Whether a live site with guest mode on routes its guests to this group.
pub async fn serves_guests(db: impl PgExecutor<'_>, group_id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sites
                        WHERE guest_group_id = $1 AND guest_mode AND archived_at IS NULL)",
    )
    .bind(group_id)
    .fetch_one(db)
    .await
}

/// Adds an agent to a group at a level, or changes their level; returns the previous level.
pub async fn upsert_member(
    db: impl PgExecutor<'_>,
    group_id: Uuid,
    user_id: Uuid,
    level: i16,
) -> sqlx::Result<Option<i16>> {
    // The CTE reads the row as it was before the upsert (same snapshot).
    sqlx::query_scalar(
        "WITH old AS (SELECT level FROM group_members WHERE group_id = $1 AND user_id = $2),
              up AS (INSERT INTO group_members (group_id, user_id, level) VALUES ($1, $2, $3)
                     ON CONFLICT (group_id, user_id) DO UPDATE SET level = EXCLUDED.level)
         SELECT level FROM old",
    )
    .bind(group_id)
    .bind(user_id)
    .bind(level)
    .fetch_optional(db)
    .await
}

/// Removes an agent from a group; returns the level they had, `None` if they were not in it.
pub async fn delete_member(
    db: impl PgExecutor<'_>,
    group_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<Option<i16>> {
    sqlx::query_scalar(
        "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2 RETURNING level",
    )
    .bind(group_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// One audit log entry with the actor's name.
#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub actor_name: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// When, as "YYYY-MM-DD HH:MM:SS UTC".
    pub at: String,
}

/// The latest `limit` audit entries, newest first.
pub async fn latest_audit(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<AuditRow>> {
    sqlx::query_as(
        "SELECT a.id, u.name AS actor_name, a.action, a.entity, a.entity_id, a.before, a.after,
                to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS at
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
         ORDER BY a.at DESC, a.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}
