//! Queries on `conversations`, `conversation_events` and `messages`.

use sqlx::{FromRow, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

/// The columns of a conversation that access checks and delivery need.
#[derive(Debug, Clone, FromRow)]
pub struct ConversationRow {
    pub id: Uuid,
    pub site_id: Uuid,
    pub contact_id: Uuid,
    pub group_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub status: String,
    pub last_seq: i64,
}

/// A stored event row.
#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub conversation_id: Uuid,
    pub seq: i64,
    pub payload: serde_json::Value,
    pub agents_only: bool,
    pub created_at: OffsetDateTime,
}

/// Creates a conversation (status waiting).
pub async fn insert(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
    contact_id: Uuid,
    group_id: Option<Uuid>,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO conversations (site_id, contact_id, group_id) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(site_id)
    .bind(contact_id)
    .bind(group_id)
    .fetch_one(db)
    .await
}

/// Finds a conversation.
pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<ConversationRow>> {
    sqlx::query_as(
        "SELECT id, site_id, contact_id, group_id, assignee_id, status, last_seq
         FROM conversations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Takes the next sequence number. The row lock this takes is held until the transaction
/// ends, so a conversation's events commit in sequence order.
pub async fn next_seq(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "UPDATE conversations SET last_seq = last_seq + 1, updated_at = now() WHERE id = $1 RETURNING last_seq",
    )
    .bind(id)
    .fetch_one(db)
    .await
}

/// Appends an event row.
pub async fn insert_event(
    db: impl PgExecutor<'_>,
    conversation_id: Uuid,
    seq: i64,
    kind: &str,
    payload: &serde_json::Value,
    agents_only: bool,
) -> sqlx::Result<OffsetDateTime> {
    sqlx::query_scalar(
        "INSERT INTO conversation_events (conversation_id, seq, kind, payload, agents_only)
         VALUES ($1, $2, $3, $4, $5) RETURNING created_at",
    )
    .bind(conversation_id)
    .bind(seq)
    .bind(kind)
    .bind(payload)
    .bind(agents_only)
    .fetch_one(db)
    .await
}

/// Events with `after < seq < before` in order, at most `limit`; private ones only for agents.
pub async fn events_between(
    db: impl PgExecutor<'_>,
    conversation_id: Uuid,
    after: i64,
    before: i64,
    include_agents_only: bool,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as(
        "SELECT conversation_id, seq, payload, agents_only, created_at FROM conversation_events
         WHERE conversation_id = $1 AND seq > $2 AND seq < $3 AND ($4 OR NOT agents_only)
         ORDER BY seq LIMIT $5",
    )
    .bind(conversation_id)
    .bind(after)
    .bind(before)
    .bind(include_agents_only)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Fields of a new message.
pub struct NewMessage<'a> {
    pub conversation_id: Uuid,
    pub seq: i64,
    pub author_kind: &'a str,
    pub author_user_id: Option<Uuid>,
    pub author_contact_id: Option<Uuid>,
    pub body: &'a str,
    pub private_note: bool,
    pub key: &'a str,
}

/// Inserts a message; `None` if this conversation already has a message with this key.
pub async fn insert_message(
    db: impl PgExecutor<'_>,
    m: NewMessage<'_>,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "INSERT INTO messages (conversation_id, seq, author_kind, author_user_id, author_contact_id,
                               body, private_note, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (conversation_id, idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(m.conversation_id)
    .bind(m.seq)
    .bind(m.author_kind)
    .bind(m.author_user_id)
    .bind(m.author_contact_id)
    .bind(m.body)
    .bind(m.private_note)
    .bind(m.key)
    .fetch_optional(db)
    .await
}

/// The stored message with this idempotency key: (id, seq).
pub async fn message_by_key(
    db: impl PgExecutor<'_>,
    conversation_id: Uuid,
    key: &str,
) -> sqlx::Result<Option<(Uuid, i64)>> {
    sqlx::query_as(
        "SELECT id, seq FROM messages WHERE conversation_id = $1 AND idempotency_key = $2",
    )
    .bind(conversation_id)
    .bind(key)
    .fetch_optional(db)
    .await
}

/// Marks the other side's messages up to `up_to_seq` delivered (or read, which implies
/// delivered); returns the highest sequence that changed, if any.
pub async fn mark_receipt(
    db: impl PgExecutor<'_>,
    conversation_id: Uuid,
    other_side: &str,
    up_to_seq: i64,
    read: bool,
) -> sqlx::Result<Option<i64>> {
    let sql = if read {
        "UPDATE messages SET read_at = now(), delivered_at = coalesce(delivered_at, now())
         WHERE conversation_id = $1 AND author_kind = $2 AND seq <= $3 AND read_at IS NULL AND NOT private_note
         RETURNING seq"
    } else {
        "UPDATE messages SET delivered_at = now()
         WHERE conversation_id = $1 AND author_kind = $2 AND seq <= $3 AND delivered_at IS NULL AND NOT private_note
         RETURNING seq"
    };
    let seqs: Vec<i64> = sqlx::query_scalar(sql)
        .bind(conversation_id)
        .bind(other_side)
        .bind(up_to_seq)
        .fetch_all(db)
        .await?;
    Ok(seqs.into_iter().max())
}

/// Whether a staff user may see conversations of a site: admins always; agents when they
/// belong to a group of that site.
pub async fn agent_can_see_site(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    site_id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.active AND u.role = 'admin')
             OR EXISTS (SELECT 1 FROM group_members gm JOIN groups g ON g.id = gm.group_id
                        WHERE gm.user_id = $1 AND g.site_id = $2 AND g.archived_at IS NULL)",
    )
    .bind(user_id)
    .bind(site_id)
    .fetch_one(db)
    .await
}

/// A contact's most recent conversation on a site (the one a returning visitor sees).
pub async fn latest_for_contact(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
    contact_id: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "SELECT id FROM conversations WHERE site_id = $1 AND contact_id = $2
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(site_id)
    .bind(contact_id)
    .fetch_optional(db)
    .await
}

/// Makes `agent` the assignee of a conversation nobody has taken yet (status active).
/// Returns whether it did: a concurrent claim by another agent wins cleanly.
pub async fn claim_if_unassigned(
    db: impl PgExecutor<'_>,
    id: Uuid,
    agent: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE conversations SET assignee_id = $2, status = 'active', updated_at = now()
         WHERE id = $1 AND assignee_id IS NULL",
    )
    .bind(id)
    .bind(agent)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a conversation resolved; `false` when it already was.
pub async fn set_resolved(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE conversations SET status = 'resolved', resolved_at = now(), updated_at = now()
         WHERE id = $1 AND status <> 'resolved'",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts a resolved conversation back in the queue (the visitor wrote again); `false` when it
/// was not resolved.
pub async fn reopen_if_resolved(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE conversations SET status = 'waiting', assignee_id = NULL, resolved_at = NULL,
                waiting_since = now(), updated_at = now()
         WHERE id = $1 AND status = 'resolved'",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores a rating; `false` when the conversation had one already.
pub async fn insert_rating(
    db: impl PgExecutor<'_>,
    conversation: Uuid,
    score: i16,
    feedback: Option<&str>,
    anonymous: bool,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO ratings (conversation_id, score, feedback, anonymous) VALUES ($1, $2, $3, $4)
         ON CONFLICT (conversation_id) DO NOTHING",
    )
    .bind(conversation)
    .bind(score)
    .bind(feedback)
    .bind(anonymous)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes a waiting chat for `agent` (status assigned). Conditional: `false` when someone took
/// it first or it is no longer waiting — never a silent overwrite.
pub async fn take_waiting(db: impl PgExecutor<'_>, id: Uuid, agent: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE conversations SET assignee_id = $2, status = 'assigned', assigned_at = now(),
                updated_at = now()
         WHERE id = $1 AND status = 'waiting' AND assignee_id IS NULL",
    )
    .bind(id)
    .bind(agent)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
