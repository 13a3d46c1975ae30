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
    /// The response was edited since the form was loaded (by this admin).
    #[error("This response was changed by {0}; reload to see it.")]
    Stale(String),
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

/// What the audit log keeps of a site-wide response.
fn site_json(r: &CannedRow) -> serde_json::Value {
    serde_json::json!({ "id": r.id, "shortcut": r.shortcut, "body": r.body })
}

/// Records a change to a site's responses in the audit log.
async fn audit_site(
    tx: &mut sqlx::PgConnection,
    admin: Uuid,
    action: &str,
    site: Uuid,
    before: Option<&CannedRow>,
    after: Option<&CannedRow>,
) -> Result<(), CannedError> {
    db::audit::record(
        tx,
        db::audit::Entry {
            actor_id: Some(admin),
            action,
            entity: "site",
            entity_id: Some(site.to_string()),
            before: before.map(site_json),
            after: after.map(site_json),
        },
    )
    .await?;
    Ok(())
}

/// A site's site-wide responses, by shortcut (for the admin page; the caller has checked
/// that the reader is an admin).
pub async fn site_wide(pool: &Pool, site: Uuid) -> Result<Vec<CannedRow>, CannedError> {
    if !db::canned::site_exists(pool, site).await? {
        return Err(CannedError::UnknownSite);
    }
    Ok(db::canned::site_wide(pool, site).await?)
}

/// Changes a site-wide response's shortcut and text (the caller has checked that `admin`
/// is an admin); audited with before and after.
pub async fn update_site_wide(
    pool: &Pool,
    admin: Uuid,
    id: Uuid,
    version: i64,
    raw_shortcut: &str,
    raw_body: &str,
) -> Result<CannedRow, CannedError> {
    let shortcut = shortcut(raw_shortcut)?;
    let body = body(raw_body)?;
    let mut tx = pool.begin().await?;
    let before = db::canned::lock_site_wide(&mut *tx, id)
        .await?
        .ok_or(CannedError::NotFound)?;
    let site = before.site_id.ok_or(CannedError::NotFound)?;
    // Locked above, so no edit can slip in between this check and the update.
    if before.version != version {
        return Err(CannedError::Stale(
            before
                .updated_by_name
                .clone()
                .unwrap_or_else(|| "another admin".into()),
        ));
    }
    if !db::canned::update_site_wide(&mut *tx, id, admin, &shortcut, body).await? {
        return Err(CannedError::DuplicateSite(shortcut));
    }
    let after = CannedRow {
        shortcut,
        body: body.to_string(),
        version: before.version + 1,
        ..before.clone()
    };
    audit_site(
        &mut tx,
        admin,
        "canned.update",
        site,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Deletes a site-wide response (the caller has checked that `admin` is an admin); audited
/// with what it was.
pub async fn delete_site_wide(pool: &Pool, admin: Uuid, id: Uuid) -> Result<(), CannedError> {
    let mut tx = pool.begin().await?;
    let before = db::canned::lock_site_wide(&mut *tx, id)
        .await?
        .ok_or(CannedError::NotFound)?;
    let site = before.site_id.ok_or(CannedError::NotFound)?;
    db::canned::delete_site_wide(&mut *tx, id).await?;
    audit_site(&mut tx, admin, "canned.delete", site, Some(&before), None).await?;
    tx.commit().await?;
    Ok(())
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
