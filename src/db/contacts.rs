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

/// The site's registered contact for a host-site user id, created if new. Name and email
/// follow what the host site says now.
pub async fn upsert_registered(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
    external_id: &str,
    name: Option<&str>,
    email: Option<&str>,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "INSERT INTO contacts (site_id, external_id, verified, name, email)
         VALUES ($1, $2, true, $3, $4)
         ON CONFLICT (site_id, external_id) WHERE external_id IS NOT NULL
         DO UPDATE SET name = COALESCE(EXCLUDED.name, contacts.name),
                       email = COALESCE(EXCLUDED.email, contacts.email),
                       last_seen_at = now()
         RETURNING id",
    )
    .bind(site_id)
    .bind(external_id)
    .bind(name)
    .bind(email)
    .fetch_one(db)
    .await
}

/// Moves to `registered` every conversation of this site's guest contacts (not registered
/// ones) with this email, case-insensitive, plus those of `also` (the guest on this device).
/// Returns how many conversations moved.
pub async fn attach_guest_conversations(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
    registered: Uuid,
    email: Option<&str>,
    also: Option<Uuid>,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "UPDATE conversations SET contact_id = $2, updated_at = now()
         WHERE site_id = $1 AND contact_id <> $2 AND contact_id IN (
             SELECT id FROM contacts
             WHERE site_id = $1 AND external_id IS NULL
               AND (($3::text IS NOT NULL AND lower(email) = lower($3)) OR id = $4)
         )",
    )
    .bind(site_id)
    .bind(registered)
    .bind(email)
    .bind(also)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Whether a contact was registered by a verified identify().
pub async fn is_verified(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    Ok(
        sqlx::query_scalar::<_, bool>("SELECT verified FROM contacts WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?
            .unwrap_or(false),
    )
}

/// Merges keys into a contact's metadata (newer values win) and marks them seen now.
pub async fn merge_metadata(
    db: impl PgExecutor<'_>,
    id: Uuid,
    doc: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE contacts SET metadata = metadata || $2::jsonb, last_seen_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(doc)
    .execute(db)
    .await?;
    Ok(())
}
