//! Canned responses: the ones the signed-in agent may use (their own and their sites'),
//! creating and deleting personal ones, and site-wide ones for admins.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A canned response as the composer and the responses page use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canned {
    pub id: Uuid,
    /// Without the "/" (typed as "/shortcut" in the composer).
    pub shortcut: String,
    /// May hold the placeholders `{{visitor.name}}` and `{{agent.name}}`.
    pub body: String,
    /// The agent's own (`true`) or site-wide (`false`).
    pub personal: bool,
    /// A site-wide response's version, which an edit sends back (a stale one gets 409).
    #[serde(default)]
    pub version: i64,
}

#[cfg(feature = "ssr")]
mod convert {
    //! Rows and domain errors into what crosses the wire.

    use super::*;
    use crate::db::canned::CannedRow;
    use crate::domain::canned::CannedError;

    pub fn canned(r: CannedRow) -> Canned {
        Canned {
            id: r.id,
            personal: r.owner_id.is_some(),
            version: r.version,
            shortcut: r.shortcut,
            body: r.body,
        }
    }

    pub fn error(e: CannedError) -> AppError {
        match e {
            CannedError::Invalid { field, message } => AppError::invalid(field, message),
            e @ (CannedError::DuplicatePersonal(_)
            | CannedError::DuplicateSite(_)
            | CannedError::Stale(_)) => AppError::Conflict(e.to_string()),
            e @ (CannedError::NotFound | CannedError::UnknownSite) => {
                AppError::NotFound(e.to_string())
            }
            e @ (CannedError::NotYours | CannedError::SiteForbidden) => {
                AppError::Forbidden(e.to_string())
            }
            CannedError::Db(e) => {
                tracing::error!(error = %e, "canned response query failed");
                AppError::Internal
            }
        }
    }
}

/// The responses the signed-in agent may use: their personal ones first, then the site-wide
/// ones of the sites they may see (of `site_id` only, when given), each by shortcut.
#[server(endpoint = "canned/list")]
pub async fn canned_responses(site_id: Option<Uuid>) -> Result<Vec<Canned>, AppError> {
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    let rows = crate::domain::canned::usable(&state.pool, user.id, site_id)
        .await
        .map_err(convert::error)?;
    Ok(rows.into_iter().map(convert::canned).collect())
}

/// Saves a personal response. The shortcut is trimmed and lower-cased; a shortcut the agent
/// already uses is a 409.
#[server(endpoint = "canned/create")]
pub async fn create_canned(shortcut: String, body: String) -> Result<Canned, AppError> {
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    crate::domain::canned::create_personal(&state.pool, user.id, &shortcut, &body)
        .await
        .map(convert::canned)
        .map_err(convert::error)
}

/// Saves a site-wide response (admins only): every agent of that site may use it.
#[server(endpoint = "canned/create_site")]
pub async fn create_site_canned(
    site_id: Uuid,
    shortcut: String,
    body: String,
) -> Result<Canned, AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    crate::domain::canned::create_site_wide(&state.pool, admin.id, site_id, &shortcut, &body)
        .await
        .map(convert::canned)
        .map_err(convert::error)
}

/// A site's site-wide responses, by shortcut (admins only).
#[server(endpoint = "canned/site_list")]
pub async fn site_canned(site_id: Uuid) -> Result<Vec<Canned>, AppError> {
    use crate::server::auth;
    auth::require_admin().await?;
    let state = auth::state()?;
    let rows = crate::domain::canned::site_wide(&state.pool, site_id)
        .await
        .map_err(convert::error)?;
    Ok(rows.into_iter().map(convert::canned).collect())
}

/// Changes a site-wide response's shortcut and text (admins only); a shortcut the site
/// already uses, or an edit of a version someone else changed meanwhile, is a 409.
#[server(endpoint = "canned/site_update")]
pub async fn update_site_canned(
    id: Uuid,
    version: i64,
    shortcut: String,
    body: String,
) -> Result<Canned, AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    crate::domain::canned::update_site_wide(&state.pool, admin.id, id, version, &shortcut, &body)
        .await
        .map(convert::canned)
        .map_err(convert::error)
}

/// Deletes a site-wide response (admins only).
#[server(endpoint = "canned/site_delete")]
pub async fn delete_site_canned(id: Uuid) -> Result<(), AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    crate::domain::canned::delete_site_wide(&state.pool, admin.id, id)
        .await
        .map_err(convert::error)
}

/// Deletes one of the agent's own responses (site-wide and other agents' ones: 403).
#[server(endpoint = "canned/delete")]
pub async fn delete_canned(id: Uuid) -> Result<(), AppError> {
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    crate::domain::canned::delete_personal(&state.pool, user.id, id)
        .await
        .map_err(convert::error)
}
