//! Queries behind the agent workspace: the lists (waiting, chatting), one conversation's
//! details and its visitor, and the changes agents make (assign, transfer, reopen, rename, tag).
//!
//! Every list query applies the same visibility rule as `conversations::agent_can_see_site`
//! inside SQL, so paging and totals count only what the user may see.

use sqlx::{FromRow, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

/// `c` is visible to `$1`: admins see every site; agents the sites of their groups.
const SEES_SITE: &str = "(EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.role = 'admin')
     OR EXISTS (SELECT 1 FROM group_members gm JOIN groups g ON g.id = gm.group_id
                WHERE gm.user_id = $1 AND g.archived_at IS NULL AND g.site_id = c.site_id))";

/// `$1` may serve (take) conversation `c`: admins always; level-1 members of its group (or of
/// its site when unrouted); level-2 members only when it was transferred to their group.
pub const MAY_SERVE: &str = "(EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.role = 'admin')
     OR EXISTS (SELECT 1 FROM group_members gm JOIN groups g ON g.id = gm.group_id
                WHERE gm.user_id = $1 AND g.archived_at IS NULL
                  AND ((g.id = c.group_id AND (gm.level = 1 OR c.transferred))
                       OR (c.group_id IS NULL AND g.site_id = c.site_id AND gm.level = 1))))";

/// One row of the "Waiting" or "Chatting" list, with what the info card shows.
#[derive(Debug, Clone, FromRow)]
pub struct ListRow {
    pub id: Uuid,
    pub site_name: String,
    pub visitor_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub metadata: serde_json::Value,
    pub status: String,
    pub title: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub assignee_name: Option<String>,
    pub waiting_since: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub last_seq: i64,
    pub last_message: Option<String>,
    /// The site's response-time targets (read with the row, so a saved change shows at once).
    pub first_response_target_secs: Option<i32>,
    pub resolution_target_secs: Option<i32>,
}

const LIST_COLUMNS: &str = "c.id, s.name AS site_name, k.name AS visitor_name, k.email, k.phone,
    k.metadata, c.status, c.title, c.assignee_id, u.name AS assignee_name, c.waiting_since,
    c.created_at, c.last_seq, s.first_response_target_secs, s.resolution_target_secs,
    (SELECT m.body FROM messages m WHERE m.conversation_id = c.id AND NOT m.private_note
     ORDER BY m.seq DESC LIMIT 1) AS last_message
    FROM conversations c JOIN sites s ON s.id = c.site_id JOIN contacts k ON k.id = c.contact_id
    LEFT JOIN users u ON u.id = c.assignee_id";

/// Waiting chats `$1` may take, oldest first: a page and the total.
pub async fn waiting(
    db: &super::Pool,
    user: Uuid,
    limit: i64,
) -> sqlx::Result<(Vec<ListRow>, i64)> {
    let filter = format!("c.status = 'waiting' AND {MAY_SERVE}");
    let rows = sqlx::query_as(&format!(
        "SELECT {LIST_COLUMNS} WHERE {filter}
         ORDER BY c.waiting_since NULLS LAST, c.created_at LIMIT $2"
    ))
    .bind(user)
    .bind(limit)
    .fetch_all(db)
    .await?;
    let total = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM conversations c WHERE {filter}"
    ))
    .bind(user)
    .fetch_one(db)
    .await?;
    Ok((rows, total))
}

/// Conversations in progress that `$1` may see: theirs first, then most recently active.
pub async fn chatting(
    db: &super::Pool,
    user: Uuid,
    limit: i64,
) -> sqlx::Result<(Vec<ListRow>, i64, i64)> {
    let filter =
        format!("c.status IN ('assigned', 'active') AND (c.assignee_id = $1 OR {SEES_SITE})");
    let rows = sqlx::query_as(&format!(
        "SELECT {LIST_COLUMNS} WHERE {filter}
         ORDER BY (c.assignee_id = $1) DESC, c.updated_at DESC LIMIT $2"
    ))
    .bind(user)
    .bind(limit)
    .fetch_all(db)
    .await?;
    let (total, mine): (i64, i64) = sqlx::query_as(&format!(
        "SELECT count(*), count(*) FILTER (WHERE c.assignee_id = $1)
         FROM conversations c WHERE {filter}"
    ))
    .bind(user)
    .fetch_one(db)
    .await?;
    Ok((rows, total, mine))
}

/// Whether `user` may take conversation `id` (see [`MAY_SERVE`]).
pub async fn may_serve(db: impl PgExecutor<'_>, user: Uuid, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(&format!(
        "SELECT EXISTS (SELECT 1 FROM conversations c WHERE c.id = $2 AND {MAY_SERVE})"
    ))
    .bind(user)
    .bind(id)
    .fetch_one(db)
    .await
}

/// Everything the conversation pane shows about one conversation and its visitor.
#[derive(Debug, Clone, FromRow)]
pub struct DetailRow {
    pub id: Uuid,
    pub site_id: Uuid,
    pub site_name: String,
    pub contact_id: Uuid,
    pub visitor_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub verified: bool,
    pub metadata: serde_json::Value,
    pub status: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
    pub group_id: Option<Uuid>,
    pub group_name: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub assignee_name: Option<String>,
    pub transferred: bool,
    pub waiting_since: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub last_seq: i64,
}

/// One conversation with its visitor, site, group and assignee.
pub async fn detail(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<DetailRow>> {
    sqlx::query_as(
        "SELECT c.id, c.site_id, s.name AS site_name, c.contact_id, k.name AS visitor_name,
                k.email, k.phone, k.verified, k.metadata, c.status, c.title, c.tags, c.group_id,
                g.name AS group_name, c.assignee_id, u.name AS assignee_name, c.transferred,
                c.waiting_since, c.created_at, c.last_seq
         FROM conversations c JOIN sites s ON s.id = c.site_id JOIN contacts k ON k.id = c.contact_id
         LEFT JOIN groups g ON g.id = c.group_id LEFT JOIN users u ON u.id = c.assignee_id
         WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// A visitor's other conversation, for "Previous conversations".
#[derive(Debug, Clone, FromRow)]
pub struct PastRow {
    pub id: Uuid,
    pub status: String,
    pub title: Option<String>,
    pub created_at: OffsetDateTime,
    pub first_message: Option<String>,
}

/// The contact's other conversations, newest first (at most 20).
pub async fn previous(
    db: impl PgExecutor<'_>,
    contact_id: Uuid,
    except: Uuid,
) -> sqlx::Result<Vec<PastRow>> {
    sqlx::query_as(
        "SELECT c.id, c.status, c.title, c.created_at,
                (SELECT m.body FROM messages m WHERE m.conversation_id = c.id AND NOT m.private_note
                 ORDER BY m.seq LIMIT 1) AS first_message
         FROM conversations c WHERE c.contact_id = $1 AND c.id <> $2
         ORDER BY c.created_at DESC LIMIT 20",
    )
    .bind(contact_id)
    .bind(except)
    .fetch_all(db)
    .await
}

/// A staff member who may receive a conversation of a site, with their level there.
#[derive(Debug, Clone, FromRow)]
pub struct TargetAgent {
    pub id: Uuid,
    pub name: String,
    /// Their lowest level in the site's groups (1 serves visitors, 2 only transfers);
    /// `None` for admins outside every group.
    pub level: Option<i16>,
    pub open_chats: i64,
    pub max_chats: i32,
    pub available: bool,
}

/// Active staff who may work on the site: its group members, and admins.
pub async fn site_agents(db: impl PgExecutor<'_>, site_id: Uuid) -> sqlx::Result<Vec<TargetAgent>> {
    sqlx::query_as(
        "SELECT u.id, u.name,
                (SELECT min(gm.level) FROM group_members gm JOIN groups g ON g.id = gm.group_id
                 WHERE gm.user_id = u.id AND g.site_id = $1 AND g.archived_at IS NULL) AS level,
                (SELECT count(*) FROM conversations c
                 WHERE c.assignee_id = u.id AND c.status IN ('assigned', 'active')) AS open_chats,
                u.max_chats, u.available
         FROM users u
         WHERE u.active AND (u.role = 'admin' OR EXISTS (
               SELECT 1 FROM group_members gm JOIN groups g ON g.id = gm.group_id
               WHERE gm.user_id = u.id AND g.site_id = $1 AND g.archived_at IS NULL))
         ORDER BY lower(u.name)",
    )
    .bind(site_id)
    .fetch_all(db)
    .await
}

/// A group of a site, for "Transfer".
#[derive(Debug, Clone, FromRow)]
pub struct TargetGroup {
    pub id: Uuid,
    pub name: String,
    pub members: i64,
}

/// The site's groups (not archived).
pub async fn site_groups(db: impl PgExecutor<'_>, site_id: Uuid) -> sqlx::Result<Vec<TargetGroup>> {
    sqlx::query_as(
        "SELECT g.id, g.name, (SELECT count(*) FROM group_members gm WHERE gm.group_id = g.id) AS members
         FROM groups g WHERE g.site_id = $1 AND g.archived_at IS NULL ORDER BY lower(g.name)",
    )
    .bind(site_id)
    .fetch_all(db)
    .await
}

/// "Assign" to a chosen agent: conditional on the assignee the actor saw, so a chat someone
/// else changed meanwhile is not silently taken from them. `false` when it changed.
pub async fn reassign(
    db: impl PgExecutor<'_>,
    id: Uuid,
    expected: Option<Uuid>,
    agent: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE conversations SET assignee_id = $3,
                status = CASE WHEN status = 'active' AND assignee_id = $3 THEN 'active' ELSE 'assigned' END,
                assigned_at = now(), updated_at = now()
         WHERE id = $1 AND status <> 'resolved' AND assignee_id IS NOT DISTINCT FROM $2",
    )
    .bind(id)
    .bind(expected)
    .bind(agent)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// "Transfer" to a group: back in the queue of that group, marked transferred (so its
/// level-2 specialists may take it). Conditional on the assignee the actor saw.
pub async fn transfer_to_group(
    db: impl PgExecutor<'_>,
    id: Uuid,
    expected: Option<Uuid>,
    group: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE conversations SET group_id = $3, assignee_id = NULL, status = 'waiting',
                transferred = true, waiting_since = now(), updated_at = now()
         WHERE id = $1 AND status <> 'resolved' AND assignee_id IS NOT DISTINCT FROM $2",
    )
    .bind(id)
    .bind(expected)
    .bind(group)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// "Transfer" to an agent: theirs now (assigned), marked transferred.
pub async fn transfer_to_agent(
    db: impl PgExecutor<'_>,
    id: Uuid,
    expected: Option<Uuid>,
    agent: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE conversations SET assignee_id = $3, status = 'assigned', transferred = true,
                assigned_at = now(), updated_at = now()
         WHERE id = $1 AND status <> 'resolved' AND assignee_id IS NOT DISTINCT FROM $2",
    )
    .bind(id)
    .bind(expected)
    .bind(agent)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// "Reopen" a resolved chat: back to its assignee when it had one, else to the queue.
/// Returns the new status, `None` when it was not resolved.
pub async fn reopen(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "UPDATE conversations
         SET status = CASE WHEN assignee_id IS NULL THEN 'waiting' ELSE 'assigned' END,
             waiting_since = CASE WHEN assignee_id IS NULL THEN now() ELSE waiting_since END,
             resolved_at = NULL, updated_at = now()
         WHERE id = $1 AND status = 'resolved' RETURNING status",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Sets the title (None clears it); returns (title, tags) after the change.
pub async fn rename(
    db: impl PgExecutor<'_>,
    id: Uuid,
    title: Option<&str>,
) -> sqlx::Result<(Option<String>, Vec<String>)> {
    sqlx::query_as(
        "UPDATE conversations SET title = $2, updated_at = now() WHERE id = $1 RETURNING title, tags",
    )
    .bind(id)
    .bind(title)
    .fetch_one(db)
    .await
}

/// Adds or removes one tag atomically (two agents tagging at once both keep their tag);
/// returns (title, tags) after the change.
pub async fn change_tag(
    db: impl PgExecutor<'_>,
    id: Uuid,
    tag: &str,
    add: bool,
) -> sqlx::Result<(Option<String>, Vec<String>)> {
    let sql = if add {
        "UPDATE conversations SET tags = CASE WHEN $2 = ANY(tags) THEN tags ELSE array_append(tags, $2) END,
                updated_at = now()
         WHERE id = $1 RETURNING title, tags"
    } else {
        "UPDATE conversations SET tags = array_remove(tags, $2), updated_at = now()
         WHERE id = $1 RETURNING title, tags"
    };
    sqlx::query_as(sql).bind(id).bind(tag).fetch_one(db).await
}

/// An agent's load: open chats against their cap.
#[derive(Debug, Clone, FromRow)]
pub struct LoadRow {
    pub id: Uuid,
    pub name: String,
    pub open_chats: i64,
    pub max_chats: i32,
}

/// The load of the staff `$1` works with: everyone sharing a site with them (admins: all).
pub async fn team_load(db: impl PgExecutor<'_>, user: Uuid) -> sqlx::Result<Vec<LoadRow>> {
    sqlx::query_as(
        "SELECT u.id, u.name, u.max_chats,
                (SELECT count(*) FROM conversations c
                 WHERE c.assignee_id = u.id AND c.status IN ('assigned', 'active')) AS open_chats
         FROM users u
         WHERE u.active AND (u.id = $1
            OR EXISTS (SELECT 1 FROM users me WHERE me.id = $1 AND me.role = 'admin')
            OR EXISTS (SELECT 1 FROM group_members a JOIN groups ga ON ga.id = a.group_id
                       JOIN groups gb ON gb.site_id = ga.site_id
                       JOIN group_members b ON b.group_id = gb.id
                       WHERE a.user_id = u.id AND b.user_id = $1))
         ORDER BY lower(u.name)",
    )
    .bind(user)
    .fetch_all(db)
    .await
}

/// The site's transfer rule: whether a level-2 specialist may be chosen directly.
pub async fn direct_level2_allowed(db: impl PgExecutor<'_>, site_id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT allow_direct_level2 FROM sites WHERE id = $1")
        .bind(site_id)
        .fetch_one(db)
        .await
}
