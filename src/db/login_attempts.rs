//! Queries on `login_attempts` (for the sign-in lockout).

use sqlx::PgExecutor;

/// Records one sign-in attempt.
pub async fn record(
    db: impl PgExecutor<'_>,
    email: &str,
    ip: &str,
    succeeded: bool,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO login_attempts (email, ip, succeeded) VALUES ($1, $2, $3)")
        .bind(email)
        .bind(ip)
        .bind(succeeded)
        .execute(db)
        .await?;
    Ok(())
}

/// Failed attempts for this email and IP within the last `window_secs` seconds.
pub async fn recent_failures(
    db: impl PgExecutor<'_>,
    email: &str,
    ip: &str,
    window_secs: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM login_attempts
         WHERE email = $1 AND ip = $2 AND NOT succeeded
           AND attempted_at > now() - make_interval(secs => $3)",
    )
    .bind(email)
    .bind(ip)
    .bind(window_secs as f64)
    .fetch_one(db)
    .await
}

/// Drops attempts older than a day (housekeeping).
pub async fn prune(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    let done =
        sqlx::query("DELETE FROM login_attempts WHERE attempted_at < now() - interval '1 day'")
            .execute(db)
            .await?;
    Ok(done.rows_affected())
}
