//! Queries on `attachments` (files sent in conversations; the bytes live on disk).

use crate::realtime::protocol::AttachmentRef;
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// An attachment row.
#[derive(Debug, Clone, FromRow)]
pub struct AttachmentRow {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub message_id: Option<Uuid>,
    pub sha256: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
}

impl AttachmentRow {
    /// As messages carry it.
    pub fn to_ref(&self) -> AttachmentRef {
        AttachmentRef {
            id: self.id,
            filename: self.filename.clone(),
            content_type: self.content_type.clone(),
            size: self.size_bytes,
        }
    }
}

/// Records an uploaded file.
pub async fn insert(
    db: impl PgExecutor<'_>,
    conversation_id: Uuid,
    sha256: &str,
    filename: &str,
    content_type: &str,
    size: i64,
) -> sqlx::Result<AttachmentRow> {
    sqlx::query_as(
        "INSERT INTO attachments (conversation_id, sha256, filename, content_type, size_bytes)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING id, conversation_id, message_id, sha256, filename, content_type, size_bytes",
    )
    .bind(conversation_id)
    .bind(sha256)
    .bind(filename)
    .bind(content_type)
    .bind(size)
    .fetch_one(db)
    .await
}

/// An attachment by id.
pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<AttachmentRow>> {
    sqlx::query_as(
        "SELECT id, conversation_id, message_id, sha256, filename, content_type, size_bytes
         FROM attachments WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// A file of this conversation not yet sent with a message.
pub async fn unsent(
    db: impl PgExecutor<'_>,
    id: Uuid,
    conversation_id: Uuid,
) -> sqlx::Result<Option<AttachmentRef>> {
    let row: Option<AttachmentRow> = sqlx::query_as(
        "SELECT id, conversation_id, message_id, sha256, filename, content_type, size_bytes
         FROM attachments WHERE id = $1 AND conversation_id = $2 AND message_id IS NULL",
    )
    .bind(id)
    .bind(conversation_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| r.to_ref()))
}

/// Ties a file to the message that sent it; `false` if another message took it first.
pub async fn link(db: impl PgExecutor<'_>, id: Uuid, message_id: Uuid) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE attachments SET message_id = $2 WHERE id = $1 AND message_id IS NULL")
            .bind(id)
            .bind(message_id)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}
