//! Canned responses: texts an agent inserts with a shortcut ("/hello"). Personal ones belong
//! to one agent; site-wide ones (made by admins) serve every agent who may see that site.
//! A shortcut means one thing per scope (per agent, per site).

use crate::db::{self, canned::CannedRow, Pool};
use uuid::Uuid;

/// The longest shortcut, in characters (the schema's limit).
pub const MAX_SHORTCUT_CHARS: usize = 32;
/// The longest response text, in characters (the schema's limit).
pub const MAX_BODY_CHARS: usize = 5000;

/// Why a canned-response action was refused.
#[derive(Debug, thiserror::Error)]
pub enum CannedError {
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("You already have a response with the shortcut /{0}.")]
    DuplicatePersonal(String),
    #[error("This site already has a response with the shortcut /{0}.")]
    DuplicateSite(String),
    #[error("No such response.")]
    NotFound,
    #[error("No such site.")]
    UnknownSite,
    #[error("You can delete only your own responses.")]
    NotYours,
    #[error("You may not see this site.")]
    SiteForbidden,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

fn invalid(field: &'static str, message: &str) -> CannedError {
    CannedError::Invalid {
        field,
        message: message.to_string(),
    }
}

/// A shortcut: trimmed, lower-cased, a typed leading "/" dropped; 1–32 of a–z, 0–9, "-", "_".
pub fn shortcut(raw: &str) -> Result<String, CannedError> {
    let v = raw.trim();
    // People type the shortcut as they will use it ("/hello"); the slash is not part of it.
    let v = v.strip_prefix('/').unwrap_or(v).to_lowercase();
    if v.is_empty() {
        return Err(invalid("shortcut", "Shortcut is required."));
    }
    if v.chars().count() > MAX_SHORTCUT_CHARS {
        return Err(invalid(
            "shortcut",
            "A shortcut can be at most 32 characters.",
        ));
    }
    if !v
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(invalid(
            "shortcut",
            "A shortcut can use only letters a–z, digits, \"-\" and \"_\" (no spaces).",
        ));
    }
    Ok(v)
}

/// A response's text: trimmed, 1–5,000 characters.
pub fn body(raw: &str) -> Result<&str, CannedError> {
    let v = raw.trim();
    let n = v.chars().count();
    if n == 0 {
        return Err(invalid("body", "Text is required."));
    }
    if n > MAX_BODY_CHARS {
        return Err(invalid("body", "The text can be at most 5000 characters."));
    }
    Ok(v)
}

/// The responses `user` may use: their own and the site-wide ones of sites they may see (or
/// of `site` only). Asking for a site they may not see is refused rather than answered empty.
pub async fn usable(
    pool: &Pool,
    user: Uuid,
    site: Option<Uuid>,
) -> Result<Vec<CannedRow>, CannedError> {
    if let Some(site) = site {
        if !db::conversations::agent_can_see_site(pool, user, site).await? {
            return Err(CannedError::SiteForbidden);
        }
    }
    Ok(db::canned::usable_by(pool, user, site).await?)
}

/// Stores a personal response of `owner`.
pub async fn create_personal(
    pool: &Pool,
    owner: Uuid,
    raw_shortcut: &str,
    raw_body: &str,
) -> Result<CannedRow, CannedError> {
    let shortcut = shortcut(raw_shortcut)?;
    let body = body(raw_body)?;
    db::canned::insert(pool, None, Some(owner), &shortcut, body)
        .await?
        .ok_or(CannedError::DuplicatePersonal(shortcut))
}

/// Stores a site-wide response (the caller has checked that `admin` is an admin); audited.
pub async fn create_site_wide(
    pool: &Pool,
    admin: Uuid,
    site: Uuid,
    raw_shortcut: &str,
    raw_body: &str,
) -> Result<CannedRow, CannedError> {
    let shortcut = shortcut(raw_shortcut)?;
    let body = body(raw_body)?;
    let mut tx = pool.begin().await?;
    if !db::canned::site_exists(&mut *tx, site).await? {
        return Err(CannedError::UnknownSite);
    }
    let row = db::canned::insert(&mut *tx, Some(site), None, &shortcut, body)
        .await?
        .ok_or(CannedError::DuplicateSite(shortcut))?;
    db::audit::record(
        &mut *tx,
        db::audit::Entry {
            actor_id: Some(admin),
            action: "canned.create",
            entity: "site",
            entity_id: Some(site.to_string()),
            before: None,
            after: Some(serde_json::json!({ "id": row.id, "shortcut": row.shortcut })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Deletes one of `user`'s personal responses. A site-wide response or another agent's is
/// not theirs to delete.
pub async fn delete_personal(pool: &Pool, user: Uuid, id: Uuid) -> Result<(), CannedError> {
    if db::canned::delete_personal(pool, id, user).await? {
        return Ok(());
    }
    match db::canned::find(pool, id).await? {
        None => Err(CannedError::NotFound),
        Some(_) => Err(CannedError::NotYours),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_are_normalised_and_checked() {
        assert_eq!(shortcut("  /Hello_1 ").unwrap(), "hello_1");
        assert_eq!(shortcut("re-fund").unwrap(), "re-fund");
        for bad in ["", " / ", "two words", "café", &"a".repeat(33)] {
            let e = shortcut(bad).unwrap_err();
            assert!(
                matches!(
                    e,
                    CannedError::Invalid {
                        field: "shortcut",
                        ..
                    }
                ),
                "{bad:?}"
            );
        }
        assert!(shortcut(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn bodies_are_trimmed_and_bounded() {
        assert_eq!(
            body("  Hi {{visitor.name}} ").unwrap(),
            "Hi {{visitor.name}}"
        );
        assert!(matches!(
            body(" \n "),
            Err(CannedError::Invalid { field: "body", .. })
        ));
        assert!(body(&"x".repeat(5001)).is_err());
    }
}
