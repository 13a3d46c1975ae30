//! Admin settings for how a site's widget looks and what it accepts: pre-chat fields,
//! appearance (colour, position, title, welcome, language) and attachments. Each area saves
//! on its own under the site's version; every function checks the admin role on the server.

// A form's fields are a server function's arguments (the pre-chat form has eight); the
// macro's generated client code would not see an `allow` on the function itself.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use crate::model::{Appearance, PreChat};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A site's widget settings as the "Widget" page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookInfo {
    pub site_id: Uuid,
    /// Sent back with a save; a newer version on the server means the form is stale.
    pub version: i32,
    pub prechat: PreChat,
    pub appearance: Appearance,
    /// The size limit in whole MB (rounded up, for a limit set in bytes elsewhere).
    pub attachment_max_mb: i64,
    pub attachment_types: Vec<String>,
    pub archived: bool,
}

#[cfg(feature = "ssr")]
mod convert {
    //! Domain values and errors into what crosses the wire.

    use super::*;
    use crate::domain::settings::look::{LookSettings, MB};
    use crate::domain::site_admin::SiteAdminError;

    pub fn look(s: LookSettings) -> LookInfo {
        LookInfo {
            site_id: s.site_id,
            version: s.version,
            prechat: s.prechat,
            appearance: s.appearance,
            attachment_max_mb: (s.attachment_max_bytes + MB - 1) / MB,
            attachment_types: s.attachment_types,
            archived: s.archived,
        }
    }

    /// A checkbox as an HTML form sends it: present ("on") when ticked.
    pub fn ticked(v: &Option<String>) -> bool {
        v.as_deref().is_some_and(|v| v != "false" && v != "off")
    }

    pub fn error(e: SiteAdminError) -> AppError {
        match e {
            SiteAdminError::Invalid { field, message } => AppError::invalid(field, message),
            SiteAdminError::Db(e) => {
                tracing::error!(error = %e, "widget settings query failed");
                AppError::Internal
            }
            e @ (SiteAdminError::UnknownSite
            | SiteAdminError::UnknownGroup
            | SiteAdminError::UnknownAgent) => AppError::NotFound(e.to_string()),
            // Stale, archived, and any other state conflict.
            e => AppError::Conflict(e.to_string()),
        }
    }
}

/// One site's widget settings (admins only).
#[server(endpoint = "admin/widget/get")]
pub async fn get_look(site_id: Uuid) -> Result<LookInfo, AppError> {
    use crate::server::auth;
    auth::require_admin().await?;
    let state = auth::state()?;
    crate::domain::settings::look::look(&state.pool, site_id)
        .await
        .map(convert::look)
        .map_err(convert::error)
}

/// Saves which pre-chat fields show and which are required, if the site is still at
/// `version` (admins only). Each field is two checkboxes ("on" or absent).
#[server(endpoint = "admin/widget/prechat")]
pub async fn save_prechat(
    site_id: Uuid,
    version: i32,
    name_show: Option<String>,
    name_required: Option<String>,
    email_show: Option<String>,
    email_required: Option<String>,
    phone_show: Option<String>,
    phone_required: Option<String>,
) -> Result<LookInfo, AppError> {
    use crate::model::FieldRule;
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    let rule = |show: &Option<String>, required: &Option<String>| FieldRule {
        show: convert::ticked(show),
        required: convert::ticked(required),
    };
    let prechat = PreChat {
        name: rule(&name_show, &name_required),
        email: rule(&email_show, &email_required),
        phone: rule(&phone_show, &phone_required),
    };
    crate::domain::settings::look::save_prechat(&state.pool, admin.id, site_id, version, prechat)
        .await
        .map(convert::look)
        .map_err(convert::error)
}

/// Saves the widget's colour (hex), launcher position ("left"/"right"), title, welcome text
/// and language, if the site is still at `version` (admins only).
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "admin/widget/appearance")]
pub async fn save_appearance(
    site_id: Uuid,
    version: i32,
    color: String,
    position: String,
    title: String,
    welcome: String,
    language: String,
) -> Result<LookInfo, AppError> {
    use crate::domain::settings::look::{self, AppearanceForm};
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    let form = AppearanceForm {
        color: &color,
        position: &position,
        title: &title,
        welcome: &welcome,
        language: &language,
    };
    look::save_appearance(&state.pool, admin.id, site_id, version, form)
        .await
        .map(convert::look)
        .map_err(convert::error)
}

/// Saves the attachment size limit (`max_mb`, whole MB from 1 to 100) and the allowed types
/// (one per line: `type/subtype` or `type/*`), if the site is still at `version` (admins only).
#[server(endpoint = "admin/widget/attachments")]
pub async fn save_attachments(
    site_id: Uuid,
    version: i32,
    max_mb: String,
    types: String,
) -> Result<LookInfo, AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    crate::domain::settings::look::save_attachments(
        &state.pool,
        admin.id,
        site_id,
        version,
        &max_mb,
        &types,
    )
    .await
    .map(convert::look)
    .map_err(convert::error)
}
