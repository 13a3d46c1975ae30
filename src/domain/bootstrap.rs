//! First start: on an empty database, create the first admin and a demo site.

use crate::db::{self, Pool};
use crate::domain::accounts::{create_user::create_user, AccountError};
use crate::domain::secrets::random_token;
use crate::model::Role;

/// What first start created; the password is printed once and never stored in clear.
pub struct FirstStart {
    pub admin_email: String,
    pub admin_password: String,
    pub password_generated: bool,
    pub site_key: String,
}

/// Creates the first admin (from the given credentials or a generated password) and a demo
/// site, if there are no users yet. Returns `None` when the database was already set up.
/// An advisory lock keeps two nodes starting at once from both doing it.
pub async fn first_start(
    pool: &Pool,
    admin_email: Option<String>,
    admin_password: Option<String>,
) -> Result<Option<FirstStart>, AccountError> {
    let mut lock = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock(7300)")
        .execute(&mut *lock)
        .await?;
    let result = async {
        if db::users::count(pool).await? > 0 {
            return Ok(None);
        }
        let email = admin_email.unwrap_or_else(|| "admin@switchboard.local".to_string());
        let (password, generated) = match admin_password {
            Some(p) => (p, false),
            None => (random_token(12), true),
        };
        create_user(pool, None, "Administrator", &email, &password, Role::Admin).await?;
        let site_key = random_token(12);
        if db::sites::first(pool).await?.is_none() {
            db::sites::insert(pool, &site_key, "Demo site", &random_token(32)).await?;
        }
        Ok(Some(FirstStart {
            admin_email: email.trim().to_lowercase(),
            admin_password: password,
            password_generated: generated,
            site_key,
        }))
    }
    .await;
    sqlx::query("SELECT pg_advisory_unlock(7300)")
        .execute(&mut *lock)
        .await?;
    result
}
