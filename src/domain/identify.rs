//! The host site tells us who the visitor is: `identify({user_id, email, name, user_hash})`
//! with `user_hash` = hex HMAC-SHA256(site identity secret, user_id). When it verifies
//! (compared in constant time), the contact becomes registered and every conversation that
//! guests of this site started with the same email (case-insensitive) is attached to it, so
//! the visitor sees all their guest messages, on any device. A hash that does not verify
//! merges nothing, reveals nothing, and is logged.

use crate::db::{self, Pool};
use crate::domain::secrets::{random_token, token_hash};
use crate::domain::{validate, visitors};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// What the host page passed to `Switchboard.identify`.
#[derive(Debug, Clone)]
pub struct Identity<'a> {
    pub user_id: &'a str,
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
    pub user_hash: &'a str,
}

/// Why identify() did nothing.
#[derive(Debug, thiserror::Error)]
pub enum IdentifyError {
    #[error("This chat is not available (unknown site).")]
    UnknownSite,
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
    /// Deliberately vague: the visitor learns nothing about the account or the secret.
    #[error("We could not verify who you are.")]
    NotVerified,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// A verified visitor: the token their device now keeps, and their latest conversation.
#[derive(Debug, Clone)]
pub struct Identified {
    pub contact_id: Uuid,
    pub visitor_token: String,
    pub conversation_id: Option<Uuid>,
    pub name: String,
    /// Conversations attached by this call.
    pub merged: u64,
}

/// hex HMAC-SHA256(secret, user_id): what the host site's server computes.
pub fn user_hash(secret: &str, user_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `hash` is the HMAC of `user_id`, compared in constant time.
pub fn verify(secret: &str, user_id: &str, hash: &str) -> bool {
    let Ok(given) = hex::decode(hash.trim().to_ascii_lowercase()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(user_id.as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// Verifies the identity and registers the visitor; `current_token` is this device's guest
/// token, if any (its conversations are attached too).
pub async fn identify(
    pool: &Pool,
    site_key: &str,
    current_token: Option<&str>,
    who: Identity<'_>,
) -> Result<Identified, IdentifyError> {
    let site = db::sites::identity(pool, site_key)
        .await?
        .ok_or(IdentifyError::UnknownSite)?;
    let user_id = who.user_id.trim();
    if user_id.is_empty() || user_id.chars().count() > 255 {
        return Err(IdentifyError::Invalid {
            field: "user_id",
            message: "user_id must be 1 to 255 characters.",
        });
    }
    if !verify(&site.identity_secret, user_id, who.user_hash) {
        tracing::warn!(site = %site.id, user_id, "identify refused: user_hash does not verify");
        return Err(IdentifyError::NotVerified);
    }
    let email = match who.email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => Some(
            validate::email(e).map_err(|message| IdentifyError::Invalid {
                field: "email",
                message,
            })?,
        ),
        None => None,
    };
    let name = match who.name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => Some(validate::name(n).map_err(|message| IdentifyError::Invalid {
            field: "name",
            message,
        })?),
        None => None,
    };
    // The guest on this device (same site, not someone else's registered contact).
    let device_guest = match current_token {
        Some(t) => match visitors::authenticate(pool, t).await? {
            Some(v)
                if v.site_id == site.id
                    && !db::contacts::is_verified(pool, v.contact_id).await? =>
            {
                Some(v.contact_id)
            }
            _ => None,
        },
        None => None,
    };
    let mut tx = pool.begin().await?;
    let contact_id = db::contacts::upsert_registered(
        &mut *tx,
        site.id,
        user_id,
        name.as_deref(),
        email.as_deref(),
    )
    .await?;
    let merged = db::contacts::attach_guest_conversations(
        &mut *tx,
        site.id,
        contact_id,
        email.as_deref(),
        device_guest,
    )
    .await?;
    let token = random_token(32);
    let expires = OffsetDateTime::now_utc() + Duration::days(i64::from(site.visitor_token_days));
    db::contacts::insert_token(&mut *tx, &token_hash(&token), contact_id, expires).await?;
    tx.commit().await?;
    tracing::info!(site = %site.id, contact = %contact_id, merged, "visitor identified");
    let conversation_id = db::conversations::latest_for_contact(pool, site.id, contact_id).await?;
    Ok(Identified {
        contact_id,
        visitor_token: token,
        conversation_id,
        name: name.unwrap_or_else(|| "Visitor".into()),
        merged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_forgeries_do_not() {
        // A known vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
        assert_eq!(
            user_hash("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        let good = user_hash("s3cret", "user-42");
        assert!(verify("s3cret", "user-42", &good));
        assert!(verify("s3cret", "user-42", &good.to_uppercase()));
        assert!(!verify("s3cret", "user-43", &good));
        assert!(!verify("other", "user-42", &good));
        assert!(!verify("s3cret", "user-42", &good[..62]));
        assert!(!verify("s3cret", "user-42", "not hex"));
        assert!(!verify("s3cret", "user-42", ""));
    }
}
