//! Queries for a site's working hours and greetings, and for the automatic messages they
//! cause (the greeting when a chat starts, the busy reply when nobody answers).

use sqlx::PgExecutor;
use uuid::Uuid;

/// A site's stored schedule (`None`: always open).
pub async fn working_hours(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar("SELECT working_hours FROM sites WHERE id = $1")
        .bind(site_id)
        .fetch_optional(db)
        .await
        .map(Option::flatten)
}

/// Replaces a site's schedule and moves it to its next version.
pub async fn set_working_hours(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
    actor: Uuid,
    hours: Option<&serde_json::Value>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sites SET working_hours = $2, version = version + 1, updated_by = $3,
             updated_at = now()
         WHERE id = $1",
    )
    .bind(site_id)
    .bind(hours)
    .bind(actor)
    .execute(db)
    .await?;
    Ok(())
}

/// A site's stored greetings document.
pub async fn greetings(db: impl PgExecutor<'_>, site_id: Uuid) -> sqlx::Result<serde_json::Value> {
    sqlx::query_scalar("SELECT greetings FROM sites WHERE id = $1")
        .bind(site_id)
        .fetch_optional(db)
        .await
        .map(Option::unwrap_or_default)
}

/// Replaces a site's greetings and moves it to its next version.
pub async fn set_greetings(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
    actor: Uuid,
    greetings: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE sites SET greetings = $2, version = version + 1, updated_by = $3,
             updated_at = now()
         WHERE id = $1",
    )
    .bind(site_id)
    .bind(greetings)
    .bind(actor)
    .execute(db)
    .await?;
    Ok(())
}

/// A waiting chat that is owed the busy reply.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwedBusyReply {
    pub conversation_id: Uuid,
    pub site_name: String,
    pub text: String,
}

/// Waiting (or assigned but unanswered) chats nobody has answered for longer than their site's busy-reply minutes and
/// that have not had the busy reply yet; oldest first, at most `limit`.
pub async fn owed_busy_replies(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> sqlx::Result<Vec<OwedBusyReply>> {
    sqlx::query_as(
        "SELECT c.id AS conversation_id, s.name AS site_name, s.greetings->>'busy_text' AS text
         FROM sites s
         JOIN conversations c ON c.site_id = s.id AND c.status IN ('waiting', 'assigned')
         WHERE s.archived_at IS NULL
           AND jsonb_typeof(s.greetings->'busy_minutes') = 'number'
           AND coalesce(s.greetings->>'busy_text', '') <> ''
           AND coalesce(c.waiting_since, c.created_at)
               < now() - make_interval(mins => (s.greetings->>'busy_minutes')::int)
           AND NOT EXISTS (SELECT 1 FROM messages m
                           WHERE m.conversation_id = c.id
                             AND (m.idempotency_key = 'auto:busy'
                                  OR (m.author_kind = 'agent' AND NOT m.private_note)))
         ORDER BY coalesce(c.waiting_since, c.created_at)
         LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

/// A site's name and greetings document (what starting a chat needs for the greeting).
pub async fn name_and_greetings(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
) -> sqlx::Result<(String, serde_json::Value)> {
    sqlx::query_as("SELECT name, greetings FROM sites WHERE id = $1")
        .bind(site_id)
        .fetch_one(db)
        .await
}
