//! Queries on `cases` (offline messages agents follow up).

use sqlx::PgExecutor;
use uuid::Uuid;

/// Stores an open case.
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
