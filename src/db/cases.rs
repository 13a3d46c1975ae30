//! Queries on `cases` and `case_notes` (offline messages and chats agents follow up).

use sqlx::{FromRow, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

/// Whether user `$1` may see the site of the case aliased `c`: admins every site, agents the
/// sites of their non-archived groups (the rule of `conversations::agent_can_see_site`).
const VISIBLE_SITE: &str =
    "(EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.active AND u.role = 'admin')
      OR EXISTS (SELECT 1 FROM group_members gm JOIN groups g ON g.id = gm.group_id
                 WHERE gm.user_id = $1 AND g.site_id = c.site_id AND g.archived_at IS NULL))";

/// The columns every case view needs (`c` is the case, `s` its site).
const CASE_COLUMNS: &str = "c.id, c.site_id, s.name AS site_name, c.name, c.email, c.phone,
     c.message, c.status, c.created_at, c.conversation_id";

/// A case as lists and the detail show it.
#[derive(Debug, Clone, FromRow)]
pub struct CaseRow {
    pub id: Uuid,
    pub site_id: Uuid,
    pub site_name: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: String,
    pub status: String,
    pub created_at: OffsetDateTime,
    pub conversation_id: Option<Uuid>,
}

/// A note on a case, with its author's name (`None` once the author is deleted).
#[derive(Debug, Clone, FromRow)]
pub struct NoteRow {
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: OffsetDateTime,
}

/// Stores an open case (from an offline message).
pub async fn insert(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
    name: &str,
    email: Option<&str>,
    phone: Option<&str>,
    message: &str,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO cases (site_id, name, email, phone, message) VALUES ($1, $2, $3, $4, $5)
         RETURNING id",
    )
    .bind(site_id)
    .bind(name)
    .bind(email)
    .bind(phone)
    .bind(message)
    .fetch_one(db)
    .await
}

/// The cases with `status` that `user` may see, newest first, one page; and how many there
/// are in all.
pub async fn list_visible(
    db: &crate::db::Pool,
    user: Uuid,
    status: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<CaseRow>, i64)> {
    let rows = sqlx::query_as(&format!(
        "SELECT {CASE_COLUMNS} FROM cases c JOIN sites s ON s.id = c.site_id
         WHERE c.status = $2 AND {VISIBLE_SITE}
         ORDER BY c.created_at DESC, c.id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(user)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    let total = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM cases c WHERE c.status = $2 AND {VISIBLE_SITE}"
    ))
    .bind(user)
    .bind(status)
    .fetch_one(db)
    .await?;
    Ok((rows, total))
}

/// Finds a case (access is the caller's business).
pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<CaseRow>> {
    sqlx::query_as(&format!(
        "SELECT {CASE_COLUMNS} FROM cases c JOIN sites s ON s.id = c.site_id WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Sets a case's status; `closed_at` follows it (set on closing, cleared on reopening).
pub async fn set_status(db: impl PgExecutor<'_>, id: Uuid, status: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE cases SET status = $2,
                closed_at = CASE WHEN $2 = 'closed' THEN coalesce(closed_at, now()) END
         WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .execute(db)
    .await?;
    Ok(())
}

/// Appends a note to a case.
pub async fn insert_note(
    db: impl PgExecutor<'_>,
    case_id: Uuid,
    author_id: Uuid,
    body: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO case_notes (case_id, author_id, body) VALUES ($1, $2, $3)")
        .bind(case_id)
        .bind(author_id)
        .bind(body)
        .execute(db)
        .await?;
    Ok(())
}

/// A case's notes, oldest first (the transcript link of a chat's case comes first).
pub async fn notes(db: impl PgExecutor<'_>, case_id: Uuid) -> sqlx::Result<Vec<NoteRow>> {
    sqlx::query_as(
        "SELECT u.name AS author_name, n.body, n.created_at
         FROM case_notes n LEFT JOIN users u ON u.id = n.author_id
         WHERE n.case_id = $1 ORDER BY n.created_at, n.id",
    )
    .bind(case_id)
    .fetch_all(db)
    .await
}

/// What a chat contributes to the case made from it.
#[derive(Debug, Clone, FromRow)]
pub struct ChatForCase {
    pub site_id: Uuid,
    pub contact_id: Uuid,
    pub status: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The visitor's first message with text, if they wrote one.
    pub first_message: Option<String>,
}

/// A conversation with its contact and first visitor message. The conversation row is
/// share-locked until the transaction ends, so it cannot be reopened while the case is made.
pub async fn chat_for_case(
    db: impl PgExecutor<'_>,
    conversation_id: Uuid,
) -> sqlx::Result<Option<ChatForCase>> {
    sqlx::query_as(
        "SELECT c.site_id, c.contact_id, c.status, k.name, k.email, k.phone,
                (SELECT m.body FROM messages m
                 WHERE m.conversation_id = c.id AND m.author_kind = 'visitor'
                   AND NOT m.private_note AND btrim(m.body) <> ''
                 ORDER BY m.seq LIMIT 1) AS first_message
         FROM conversations c JOIN contacts k ON k.id = c.contact_id
         WHERE c.id = $1
         FOR SHARE OF c",
    )
    .bind(conversation_id)
    .fetch_optional(db)
    .await
}

/// Fields of a case made from a chat.
pub struct NewChatCase<'a> {
    pub site_id: Uuid,
    pub contact_id: Uuid,
    pub conversation_id: Uuid,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub message: &'a str,
}

/// Stores an open case made from a chat; `None` when that chat already is a case (one case
/// per chat, enforced by a unique index, so two agents at once get one case).
pub async fn insert_from_chat(
    db: impl PgExecutor<'_>,
    c: NewChatCase<'_>,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "INSERT INTO cases (site_id, contact_id, conversation_id, name, email, phone, message)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (conversation_id) WHERE conversation_id IS NOT NULL DO NOTHING
         RETURNING id",
    )
    .bind(c.site_id)
    .bind(c.contact_id)
    .bind(c.conversation_id)
    .bind(c.name)
    .bind(c.email)
    .bind(c.phone)
    .bind(c.message)
    .fetch_optional(db)
    .await
}
