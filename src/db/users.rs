//! Queries on `users` (staff accounts).

use crate::model::{Role, UserInfo};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// A `users` row with the columns the server needs.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub active: bool,
    pub max_chats: i32,
}

impl UserRow {
    /// The public view of the row. An unknown role string cannot exist (CHECK constraint),
    /// so it falls back to the least privileged role rather than failing.
    pub fn info(&self) -> UserInfo {
        UserInfo {
            id: self.id,
            name: self.name.clone(),
            email: self.email.clone(),
            role: Role::parse(&self.role).unwrap_or(Role::Agent),
            active: self.active,
            max_chats: self.max_chats,
        }
    }
}

const COLUMNS: &str = "id, email, name, password_hash, role, active, max_chats";

/// Finds a user by (already lower-cased) email.
pub async fn find_by_email(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
        .bind(email)
        .fetch_optional(db)
        .await
}

/// Finds a user by id.
pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Every user, admins first, then by name.
pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<UserRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users ORDER BY active DESC, role = 'admin' DESC, lower(name), email"
    ))
    .fetch_all(db)
    .await
}

/// Number of users (0 means first start).
pub async fn count(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(db)
        .await
}

/// Number of active admins (the last one may not be demoted or deactivated).
pub async fn count_active_admins(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'admin' AND active")
        .fetch_one(db)
        .await
}

/// Fields of a new user.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
}

/// Inserts a user; `None` when the email is taken (unique index), so callers need no race-prone pre-check.
pub async fn insert(db: impl PgExecutor<'_>, user: NewUser<'_>) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!(
        "INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, $4)
         ON CONFLICT (email) DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind(user.email)
    .bind(user.name)
    .bind(user.password_hash)
    .bind(user.role.as_str())
    .fetch_optional(db)
    .await
}

/// Sets a user's role.
pub async fn set_role(db: impl PgExecutor<'_>, id: Uuid, role: Role) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE users SET role = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(role.as_str())
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets a user's name, (lower-cased) email and cap of simultaneous chats; `false` when
/// another account has that email (the unique index decides, so there is no race).
pub async fn update_profile(
    db: impl PgExecutor<'_>,
    id: Uuid,
    name: &str,
    email: &str,
    max_chats: i32,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET name = $2, email = $3, max_chats = $4, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(name)
    .bind(email)
    .bind(max_chats)
    .execute(db)
    .await;
    match done {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Activates or deactivates a user (deactivation also makes them unavailable).
pub async fn set_active(db: impl PgExecutor<'_>, id: Uuid, active: bool) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET active = $2, available = available AND $2, updated_at = now(),
                deactivated_at = CASE WHEN $2 THEN NULL ELSE now() END
         WHERE id = $1",
    )
    .bind(id)
    .bind(active)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Active agents and admins with the "Available" switch on who may take a site's chats
/// routed to `group`: admins, members of that group, or (no group) members of any group of
/// the site.
pub async fn available_for(
    db: impl PgExecutor<'_>,
    site_id: Uuid,
    group: Option<Uuid>,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT u.id FROM users u
         WHERE u.active AND u.available AND (
             u.role = 'admin'
             OR EXISTS (SELECT 1 FROM group_members gm JOIN groups g ON g.id = gm.group_id
                        WHERE gm.user_id = u.id AND g.site_id = $1 AND g.archived_at IS NULL
                          AND ($2::uuid IS NULL OR g.id = $2)))",
    )
    .bind(site_id)
    .bind(group)
    .fetch_all(db)
    .await
}

/// The "Available" switch of a user.
pub async fn available(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT available FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
}

/// Flips the "Available" switch of a user.
pub async fn set_available(db: impl PgExecutor<'_>, id: Uuid, on: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET available = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(on)
        .execute(db)
        .await?;
    Ok(())
}
