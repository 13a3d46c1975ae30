//! Set-based queries for storing a batch of messages in one transaction (see
//! `domain::conversations::send_batch`): every statement takes arrays (`unnest`), so a batch
//! of any size costs the same handful of round trips and one commit.

use super::attachments::AttachmentRow;
use sqlx::{FromRow, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

/// What the batch needs to know about a conversation it writes to.
#[derive(Debug, Clone, FromRow)]
pub struct LockedConversation {
    pub id: Uuid,
    pub assignee_id: Option<Uuid>,
    pub status: String,
}

/// Locks these conversations' rows until the transaction ends, in id order (two batches on
/// two nodes lock their common conversations in the same order, so they cannot deadlock),
/// and reads what the assign/reopen rules need. Unknown ids are simply absent.
pub async fn lock_conversations(
    tx: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<LockedConversation>> {
    sqlx::query_as(
        "SELECT id, assignee_id, status FROM conversations WHERE id = ANY($1)
         ORDER BY id FOR UPDATE",
    )
    .bind(ids)
    .fetch_all(tx)
    .await
}

/// The messages already stored under these (conversation, idempotency key) pairs:
/// (conversation, key, message id, seq).
pub async fn stored_keys(
    tx: &mut PgConnection,
    conversations: &[Uuid],
    keys: &[String],
) -> sqlx::Result<Vec<(Uuid, String, Uuid, i64)>> {
    sqlx::query_as(
        "SELECT m.conversation_id, m.idempotency_key, m.id, m.seq
         FROM unnest($1::uuid[], $2::text[]) AS k(c, key)
         JOIN messages m ON m.conversation_id = k.c AND m.idempotency_key = k.key",
    )
    .bind(conversations)
    .bind(keys)
    .fetch_all(tx)
    .await
}

/// Locks and reads the named attachments of these conversations (whether each may still be
/// sent is the caller's rule: same conversation, no message yet).
pub async fn lock_attachments(
    tx: &mut PgConnection,
    ids: &[Uuid],
    conversations: &[Uuid],
) -> sqlx::Result<Vec<AttachmentRow>> {
    sqlx::query_as(
        "SELECT id, conversation_id, message_id, sha256, filename, content_type, size_bytes
         FROM attachments WHERE id = ANY($1) AND conversation_id = ANY($2)
         ORDER BY id FOR UPDATE",
    )
    .bind(ids)
    .bind(conversations)
    .fetch_all(tx)
    .await
}

/// Takes `counts[i]` sequence numbers for conversation `ids[i]` in one statement; returns
/// each conversation's new `last_seq` (the batch uses `last_seq - count + 1 ..= last_seq`).
pub async fn take_seqs(
    tx: &mut PgConnection,
    ids: &[Uuid],
    counts: &[i64],
) -> sqlx::Result<Vec<(Uuid, i64)>> {
    sqlx::query_as(
        "UPDATE conversations c SET last_seq = c.last_seq + n.n, updated_at = now()
         FROM unnest($1::uuid[], $2::bigint[]) AS n(id, n)
         WHERE c.id = n.id
         RETURNING c.id, c.last_seq",
    )
    .bind(ids)
    .bind(counts)
    .fetch_all(tx)
    .await
}

/// The columns of the message rows of a batch, one entry per message.
#[derive(Debug, Default)]
pub struct MessageRows {
    pub id: Vec<Uuid>,
    pub conversation_id: Vec<Uuid>,
    pub seq: Vec<i64>,
    pub author_kind: Vec<&'static str>,
    pub author_user_id: Vec<Option<Uuid>>,
    pub author_contact_id: Vec<Option<Uuid>>,
    pub body: Vec<String>,
    pub private_note: Vec<bool>,
    pub key: Vec<String>,
}

/// Inserts the messages; returns how many were inserted. A (conversation, key) already
/// present is skipped, so a count below the batch's size means a concurrent writer got in
/// (the caller then rolls back rather than leave a gap in the sequence).
pub async fn insert_messages(tx: &mut PgConnection, rows: &MessageRows) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "INSERT INTO messages (id, conversation_id, seq, author_kind, author_user_id,
                               author_contact_id, body, private_note, idempotency_key)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::uuid[],
                              $6::uuid[], $7::text[], $8::bool[], $9::text[])
         ON CONFLICT (conversation_id, idempotency_key) DO NOTHING",
    )
    .bind(&rows.id)
    .bind(&rows.conversation_id)
    .bind(&rows.seq)
    .bind(&rows.author_kind)
    .bind(&rows.author_user_id)
    .bind(&rows.author_contact_id)
    .bind(&rows.body)
    .bind(&rows.private_note)
    .bind(&rows.key)
    .execute(tx)
    .await?;
    Ok(done.rows_affected())
}

/// The columns of the event rows of a batch, one entry per event.
#[derive(Debug, Default)]
pub struct EventRows {
    pub conversation_id: Vec<Uuid>,
    pub seq: Vec<i64>,
    pub kind: Vec<&'static str>,
    pub payload: Vec<serde_json::Value>,
    pub agents_only: Vec<bool>,
}

/// Inserts the events; returns their `created_at` (the transaction's start time, the same for
/// every row of the batch), or `None` for an empty batch.
pub async fn insert_events(
    tx: &mut PgConnection,
    rows: &EventRows,
) -> sqlx::Result<Option<OffsetDateTime>> {
    let at: Vec<OffsetDateTime> = sqlx::query_scalar(
        "INSERT INTO conversation_events (conversation_id, seq, kind, payload, agents_only)
         SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::jsonb[], $5::bool[])
         RETURNING created_at",
    )
    .bind(&rows.conversation_id)
    .bind(&rows.seq)
    .bind(&rows.kind)
    .bind(&rows.payload)
    .bind(&rows.agents_only)
    .fetch_all(tx)
    .await?;
    Ok(at.first().copied())
}

/// Ties files to the messages that sent them (`attachments[i]` to `messages[i]`); returns how
/// many were linked (fewer than asked means another message took one first).
pub async fn link_attachments(
    tx: &mut PgConnection,
    attachments: &[Uuid],
    messages: &[Uuid],
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "UPDATE attachments a SET message_id = u.m
         FROM unnest($1::uuid[], $2::uuid[]) AS u(a, m)
         WHERE a.id = u.a AND a.message_id IS NULL",
    )
    .bind(attachments)
    .bind(messages)
    .execute(tx)
    .await?;
    Ok(done.rows_affected())
}
