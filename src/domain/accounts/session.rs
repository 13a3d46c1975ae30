//! Sessions: a random token in an HttpOnly cookie, its hash in Postgres.

use super::{AccountError, SESSION_DAYS};
use crate::db::{self, users::UserRow, Pool};
use crate::domain::secrets::{random_token, token_hash};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// A freshly issued session: the token goes into the cookie and nowhere else.
pub struct NewSession {
    pub token: String,
    pub expires_at: OffsetDateTime,
}

/// Issues a session for a user.
pub async fn issue(
    pool: &Pool,
    user_id: Uuid,
    ip: &str,
    user_agent: &str,
) -> Result<NewSession, AccountError> {
    let token = random_token(32);
    let expires_at = OffsetDateTime::now_utc() + Duration::days(SESSION_DAYS);
    let ua: String = user_agent.chars().take(512).collect();
    db::sessions::insert(pool, &token_hash(&token), user_id, expires_at, ip, &ua).await?;
    Ok(NewSession { token, expires_at })
}

/// The active user a session token belongs to, if the session is live.
pub async fn authenticate(pool: &Pool, token: &str) -> Result<Option<UserRow>, AccountError> {
    // Cheap sanity bound: real tokens are 43 characters; anything huge is not worth hashing.
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    Ok(db::sessions::user_for(pool, &token_hash(token)).await?)
}
