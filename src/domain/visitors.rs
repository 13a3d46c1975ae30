//! Visitors: a contact per person, a device token per browser (kept in the host page's
//! storage by the widget; only its hash is stored here).

use crate::db::{self, Pool};
use crate::domain::secrets::{random_token, token_hash};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// A visitor authenticated by their device token.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub contact_id: Uuid,
    pub site_id: Uuid,
    pub name: String,
}

/// A newly registered visitor and the token their device keeps.
#[derive(Debug, Clone)]
pub struct Registered {
    pub contact_id: Uuid,
    pub token: String,
}

/// Creates a contact and a device token valid for `token_days`.
pub async fn register(
    pool: &Pool,
    site_id: Uuid,
    name: &str,
    email: Option<&str>,
    phone: Option<&str>,
    token_days: i64,
) -> sqlx::Result<Registered> {
    let mut tx = pool.begin().await?;
    let contact_id = db::contacts::insert(&mut *tx, site_id, name, email, phone).await?;
    let token = random_token(32);
    let expires = OffsetDateTime::now_utc() + Duration::days(token_days);
    db::contacts::insert_token(&mut *tx, &token_hash(&token), contact_id, expires).await?;
    tx.commit().await?;
    Ok(Registered { contact_id, token })
}

/// The visitor behind a device token, if the token is live.
pub async fn authenticate(pool: &Pool, token: &str) -> sqlx::Result<Option<Visitor>> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    Ok(db::contacts::for_token(pool, &token_hash(token))
        .await?
        .map(|v| Visitor {
            contact_id: v.contact_id,
            site_id: v.site_id,
            name: v.name.unwrap_or_else(|| "Visitor".into()),
        }))
}
