//! Queries for auto-assignment: a site's mode and waiting chats, the agents who could take
//! them with their load, and the locks that keep concurrent runs from over-assigning.

use sqlx::{FromRow, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

/// A waiting, unassigned conversation as auto-assignment needs it.
#[derive(Debug, Clone, FromRow)]
pub struct WaitingRow {
    pub id: Uuid,
    pub group_id: Option<Uuid>,
    /// Reached its group through "Transfer": level-2 members may take it too.
    pub transferred: bool,
}

/// One group membership, of an active agent with "Available" on, in a group of one site.
#[derive(Debug, Clone, FromRow)]
pub struct MembershipRow {
    pub user_id: Uuid,
    pub group_id: Uuid,
    pub level: i16,
    pub archived: bool,
}

/// An agent's load: how many chats they hold and how many they may hold.
#[derive(Debug, Clone, FromRow)]
pub struct AgentLoadRow {
    pub id: Uuid,
    pub name: String,
    pub max_chats: i32,
    /// Chats assigned to them and not resolved (status `assigned` or `active`), every site.
    pub open_chats: i64,
    pub last_assigned_at: Option<OffsetDateTime>,
}

/// A site's `assignment_mode` (`off`, `round_robin`, `least_busy`); `None` for no such site.
pub async fn mode(db: impl PgExecutor<'_>, site_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT assignment_mode FROM sites WHERE id = $1")
        .bind(site_id)
        .fetch_optional(db)
        .await
}

/// Takes the site's auto-assignment lock until the transaction ends: runs for one site, on
/// any node, go one at a time. (The key is a hash; a collision only serializes two sites.)
pub async fn lock_site(db: impl PgExecutor<'_>, site_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('auto_assign:' || $1::text, 0))")
        .bind(site_id)
        .execute(db)
        .await?;
    Ok(())
}

/// A site's waiting, unassigned chats, longest-waiting first, at most `limit`.
pub async fn waiting(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<WaitingRow>> {
    sqlx::query_as(
        "SELECT id, group_id, transferred FROM conversations
         WHERE site_id = $1 AND status = 'waiting' AND assignee_id IS NULL
         ORDER BY waiting_since NULLS LAST, created_at, id
         LIMIT $2",
    )
    .bind(site_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Memberships in the site's groups (archived ones flagged) of active agents with
/// "Available" on; whether they are connected is for the caller to say.
pub async fn memberships(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
) -> sqlx::Result<Vec<MembershipRow>> {
    sqlx::query_as(
        "SELECT gm.user_id, gm.group_id, gm.level, g.archived_at IS NOT NULL AS archived
         FROM group_members gm
         JOIN groups g ON g.id = gm.group_id
         JOIN users u ON u.id = gm.user_id
         WHERE g.site_id = $1 AND u.active AND u.available",
    )
    .bind(site_id)
    .fetch_all(db)
    .await
}

/// Locks these agents' rows (in id order, so two runs cannot deadlock) until the
/// transaction ends; returns those still active and available. An agent in groups of two
/// sites is counted by runs under two different site locks: this row lock makes the second
/// run wait and then count what the first one assigned.
pub async fn lock_agents(db: impl PgExecutor<'_>, ids: &[Uuid]) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT id FROM users WHERE id = ANY($1) AND active AND available
         ORDER BY id FOR UPDATE",
    )
    .bind(ids)
    .fetch_all(db)
    .await
}

/// The load of these agents. Read after [`lock_agents`], in a statement of its own, so the
/// count includes what a run that held the lock before committed.
pub async fn loads(db: impl PgExecutor<'_>, ids: &[Uuid]) -> sqlx::Result<Vec<AgentLoadRow>> {
    sqlx::query_as(
        "SELECT u.id, u.name, u.max_chats, u.last_assigned_at,
                (SELECT count(*) FROM conversations c
                 WHERE c.assignee_id = u.id AND c.status IN ('assigned', 'active')) AS open_chats
         FROM users u WHERE u.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(db)
    .await
}

/// Records that an agent was just given a chat (round robin's bookkeeping); returns the
/// time stored. The wall clock, not the transaction's start (`now()`), so several chats
/// assigned in one run still order their agents.
pub async fn mark_assigned(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<OffsetDateTime> {
    sqlx::query_scalar(
        "UPDATE users SET last_assigned_at = clock_timestamp() WHERE id = $1
         RETURNING last_assigned_at",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
}

/// The sites with auto-assignment on where this agent belongs to a group.
pub async fn sites_of_agent(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT DISTINCT s.id FROM group_members gm
         JOIN groups g ON g.id = gm.group_id
         JOIN sites s ON s.id = g.site_id
         WHERE gm.user_id = $1 AND s.assignment_mode <> 'off'
         ORDER BY s.id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}
