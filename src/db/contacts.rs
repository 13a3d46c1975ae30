//! Queries on `contacts` (visitors) and `visitor_tokens`.

use sqlx::{FromRow, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

/// The visitor behind a live token.
#[derive(Debug, Clone, FromRow)]
pub struct VisitorRow {
    pub contact_id: Uuid,
    pub site_id: Uuid,
    pub name: Option<String>,
}

/// Creates a contact for a site.
pub async fn insert(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
    name: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO contacts (site_id, name, email, phone) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(site_id)
    .bind(name)
    .bind(email)
    .bind(phone)
    .fetch_one(db)
    .await
}

/// Stores a device token (its hash) for a contact.
pub async fn insert_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    contact_id: Uuid,
    expires_at: OffsetDateTime,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO visitor_tokens (token_hash, contact_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(token_hash)
    .bind(contact_id)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The visitor a token belongs to, if it has not expired.
pub async fn for_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<VisitorRow>> {
    sqlx::query_as(
        "SELECT c.id AS contact_id, c.site_id, c.name
         FROM visitor_tokens t JOIN contacts c ON c.id = t.contact_id
         WHERE t.token_hash = $1 AND t.expires_at > now()",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}
