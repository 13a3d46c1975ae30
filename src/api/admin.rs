//! Admin settings: sites (name, key, embed snippet, allowed origins, guest mode, identity
//! secret), groups with their specialist members, and the audit log. Every function checks
//! the admin role on the server, so an agent calling one directly gets 403.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A site as the admin pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    pub id: Uuid,
    /// The public key the embed snippet names.
    pub key: String,
    pub name: String,
    pub allowed_origins: Vec<String>,
    pub guest_mode: bool,
    pub guest_group_id: Option<Uuid>,
    /// Sent back with an edit; a newer version on the server means the form is stale.
    pub version: i32,
    pub archived: bool,
    /// The `<script>` tag customers paste into their pages.
    pub embed_snippet: String,
}

/// A member of a group and their specialist level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub user_id: Uuid,
    pub name: String,
    /// 1: serves visitor-initiated chats; 2: only transferred chats.
    pub level: i16,
}

/// A group of a site with its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub id: Uuid,
    pub name: String,
    pub members: Vec<MemberInfo>,
}

/// One audit log entry, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// The admin who made the change (`None` for the system or a deleted account).
    pub actor: Option<String>,
    /// "YYYY-MM-DD HH:MM:SS UTC".
    pub at: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    /// Compact JSON of the state before and after (absent when there was none).
    pub before: Option<String>,
    pub after: Option<String>,
}

#[cfg(feature = "ssr")]
pub(crate) mod convert {
    //! Rows and domain errors into what crosses the wire.

    use super::*;
    use crate::db::admin::AdminSiteRow;
    use crate::domain::site_admin::{GroupWithMembers, SiteAdminError};

    pub fn site(r: AdminSiteRow, public_url: &str) -> SiteInfo {
        SiteInfo {
            embed_snippet: format!(
                r#"<script src="{public_url}/widget.js" data-site="{}" async></script>"#,
                r.key
            ),
            id: r.id,
            key: r.key,
            name: r.name,
            allowed_origins: r.allowed_origins,
            guest_mode: r.guest_mode,
            guest_group_id: r.guest_group_id,
            version: r.version,
            archived: r.archived,
        }
    }

    pub fn group(g: GroupWithMembers) -> GroupInfo {
        GroupInfo {
            id: g.group.id,
            name: g.group.name,
            members: g
                .members
                .into_iter()
                .map(|m| MemberInfo {
                    user_id: m.user_id,
                    name: m.name,
                    level: m.level,
                })
                .collect(),
        }
    }

    pub fn error(e: SiteAdminError) -> AppError {
        match e {
            SiteAdminError::Invalid { field, message } => AppError::invalid(field, message),
            e @ (SiteAdminError::UnknownSite
            | SiteAdminError::UnknownGroup
            | SiteAdminError::UnknownAgent) => AppError::NotFound(e.to_string()),
            e @ (SiteAdminError::Archived
            | SiteAdminError::Stale(_)
            | SiteAdminError::LastGuestMember) => AppError::Conflict(e.to_string()),
            SiteAdminError::DuplicateGroup(_) => AppError::invalid("name", e.to_string()),
            SiteAdminError::Db(e) => {
                tracing::error!(error = %e, "admin settings query failed");
                AppError::Internal
            }
        }
    }
}

/// Every site, live ones first (admins only).
#[server(endpoint = "admin/sites/list")]
pub async fn list_sites() -> Result<Vec<SiteInfo>, AppError> {
    use crate::server::auth;
    auth::require_admin().await?;
    let state = auth::state()?;
    let rows = crate::domain::site_admin::sites(&state.pool)
        .await
        .map_err(convert::error)?;
    Ok(rows
        .into_iter()
        .map(|r| convert::site(r, &state.config.public_url))
        .collect())
}

/// Creates a site with a generated key (admins only).
#[server(endpoint = "admin/sites/create")]
pub async fn create_site(name: String) -> Result<SiteInfo, AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    crate::domain::site_admin::create_site(&state.pool, admin.id, &name)
        .await
        .map(|r| convert::site(r, &state.config.public_url))
        .map_err(convert::error)
}

/// Saves a site's name, allowed origins (one per line) and guest mode, if the site is still
/// at `version` (else 409 naming who changed it). `guest_mode` is the checkbox ("on" or
/// absent); `guest_group` a group id or empty.
#[server(endpoint = "admin/sites/save")]
pub async fn save_site(
    id: Uuid,
    version: i32,
    name: String,
    allowed_origins: String,
    guest_mode: Option<String>,
    guest_group: Option<String>,
) -> Result<SiteInfo, AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    let guest_group_id = match guest_group.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(g) => Some(
            g.parse::<Uuid>()
                .map_err(|_| AppError::invalid("guest_group", "Choose a group of this site."))?,
        ),
    };
    let form = crate::domain::site_admin::SiteForm {
        version,
        name: &name,
        allowed_origins: &allowed_origins,
        guest_mode: guest_mode.is_some_and(|v| v != "false" && v != "off"),
        guest_group_id,
    };
    crate::domain::site_admin::save_site(&state.pool, admin.id, id, form)
        .await
        .map(|r| convert::site(r, &state.config.public_url))
        .map_err(convert::error)
}

/// Archives a site at `version` (admins only): its widget stops loading.
#[server(endpoint = "admin/sites/archive")]
pub async fn archive_site(id: Uuid, version: i32) -> Result<(), AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    crate::domain::site_admin::archive_site(&state.pool, admin.id, id, version)
        .await
        .map_err(convert::error)
}

/// Replaces the site's identity secret and returns the new one, this once (admins only).
#[server(endpoint = "admin/sites/rotate_secret")]
pub async fn rotate_identity_secret(id: Uuid) -> Result<String, AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    crate::domain::site_admin::rotate_secret(&state.pool, admin.id, id)
        .await
        .map_err(convert::error)
}

/// The groups of a site with their members (admins only).
#[server(endpoint = "admin/groups/list")]
pub async fn list_groups(site_id: Uuid) -> Result<Vec<GroupInfo>, AppError> {
    use crate::server::auth;
    auth::require_admin().await?;
    let state = auth::state()?;
    let groups = crate::domain::site_admin::groups(&state.pool, site_id)
        .await
        .map_err(convert::error)?;
    Ok(groups.into_iter().map(convert::group).collect())
}

/// Creates a group of a site (admins only).
#[server(endpoint = "admin/groups/create")]
pub async fn create_group(site_id: Uuid, name: String) -> Result<GroupInfo, AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    crate::domain::site_admin::create_group(&state.pool, admin.id, site_id, &name)
        .await
        .map(|g| GroupInfo {
            id: g.id,
            name: g.name,
            members: Vec::new(),
        })
        .map_err(convert::error)
}

/// Adds an agent to a group at level 1 or 2, or changes their level (admins only).
#[server(endpoint = "admin/groups/add_member")]
pub async fn add_group_member(group_id: Uuid, user_id: Uuid, level: i16) -> Result<(), AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    crate::domain::site_admin::add_member(&state.pool, admin.id, group_id, user_id, level)
        .await
        .map_err(convert::error)
}

/// Removes an agent from a group (admins only).
#[server(endpoint = "admin/groups/remove_member")]
pub async fn remove_group_member(group_id: Uuid, user_id: Uuid) -> Result<(), AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    crate::domain::site_admin::remove_member(&state.pool, admin.id, group_id, user_id)
        .await
        .map_err(convert::error)
}

/// The latest 100 audit entries, newest first (admins only).
#[server(endpoint = "admin/audit")]
pub async fn audit_log() -> Result<Vec<AuditEntry>, AppError> {
    use crate::server::auth;
    auth::require_admin().await?;
    let state = auth::state()?;
    let rows = crate::db::admin::latest_audit(&state.pool, 100)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "reading the audit log failed");
            AppError::Internal
        })?;
    let json = |v: Option<serde_json::Value>| v.map(|v| v.to_string());
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            actor: r.actor_name,
            at: r.at,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            before: json(r.before),
            after: json(r.after),
        })
        .collect())
}
