//! Queries on `sessions` (server-side sign-in sessions).

use super::users::UserRow;
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

/// Stores a new session under the hash of its token.
pub async fn insert(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    user_id: Uuid,
    expires_at: OffsetDateTime,
    ip: &str,
    user_agent: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(expires_at)
    .bind(ip)
    .bind(user_agent)
    .execute(db)
    .await?;
    Ok(())
}

/// The active user behind a live session, touching its last-seen time.
/// A deactivated user or an expired session yields `None`: that is what ends sessions "at once".
pub async fn user_for(db: impl PgExecutor<'_>, token_hash: &[u8]) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(
        "WITH s AS (
             UPDATE sessions SET last_seen_at = now()
             WHERE token_hash = $1 AND expires_at > now()
             RETURNING user_id)
         SELECT u.id, u.email, u.name, u.password_hash, u.role, u.active, u.max_chats
         FROM s JOIN users u ON u.id = s.user_id WHERE u.active",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Deletes one session (sign out).
pub async fn delete(db: impl PgExecutor<'_>, token_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes every session of a user (deactivation).
pub async fn delete_for_user(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Removes expired sessions (housekeeping).
pub async fn delete_expired(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= now()")
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
