//! Signing in with email and password, with a lockout after repeated failures.

use super::{
    session::{self, NewSession},
    verify_password, AccountError, LOCKOUT_WINDOW_SECS, MAX_FAILED_SIGN_INS,
};
use crate::db::{self, users::UserRow, Pool};

/// A hash of a random password, verified when the email is unknown so that unknown and
/// known emails take the same time (no account enumeration by timing).
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

async fn dummy_hash() -> Result<&'static str, AccountError> {
    DUMMY_HASH
        .get_or_try_init(|| async {
            super::hash_password(&crate::domain::secrets::random_token(16)).await
        })
        .await
        .map(String::as_str)
}

/// Checks the credentials and opens a session. The lockout is checked first, so a locked-out
/// caller learns nothing about the password, even a right one.
pub async fn sign_in(
    pool: &Pool,
    email: &str,
    password: &str,
    ip: &str,
    user_agent: &str,
) -> Result<(UserRow, NewSession), AccountError> {
    let email = email.trim().to_lowercase();
    if email.is_empty() || password.is_empty() || email.len() > 254 || password.len() > 1024 {
        return Err(AccountError::InvalidCredentials);
    }
    let failures =
        db::login_attempts::recent_failures(pool, &email, ip, LOCKOUT_WINDOW_SECS).await?;
    if failures >= MAX_FAILED_SIGN_INS {
        return Err(AccountError::LockedOut);
    }
    let user = db::users::find_by_email(pool, &email).await?;
    let hash = match &user {
        Some(u) => u.password_hash.as_str(),
        None => dummy_hash().await?,
    };
    let password_ok = verify_password(password, hash).await;
    match user {
        Some(user) if password_ok && user.active => {
            db::login_attempts::record(pool, &email, ip, true).await?;
            let session = session::issue(pool, user.id, ip, user_agent).await?;
            tracing::info!(user = %user.id, "signed in");
            Ok((user, session))
        }
        _ => {
            db::login_attempts::record(pool, &email, ip, false).await?;
            tracing::info!(%ip, "failed sign-in");
            Err(AccountError::InvalidCredentials)
        }
    }
}
