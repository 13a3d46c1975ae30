//! Signing out: the session row is deleted, so the cookie is worthless even if kept.

use super::AccountError;
use crate::db::{self, Pool};
use crate::domain::secrets::token_hash;

/// Ends the session behind `token` (a no-op for an unknown token).
pub async fn sign_out(pool: &Pool, token: &str) -> Result<(), AccountError> {
    db::sessions::delete(pool, &token_hash(token)).await?;
    Ok(())
}
