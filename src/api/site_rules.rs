//! Admin settings for how a site's chats are served: assignment mode, transfer rules and
//! response-time targets. Every function checks the admin role on the server, so an agent
//! calling one directly gets 403; saves carry the site's version (a stale form gets 409).

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A site's serving rules as the `/admin/rules` page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesInfo {
    pub site_id: Uuid,
    /// Sent back with a save; a newer version on the server means the form is stale.
    pub version: i32,
    /// `off`, `round_robin` or `least_busy`.
    pub assignment_mode: String,
    /// "Allow choosing a level-2 agent directly" when transferring.
    pub allow_direct_level2: bool,
    /// `None`: no target. Whole minutes (rounded up if stored otherwise).
    pub first_response_minutes: Option<i32>,
    pub resolution_minutes: Option<i32>,
}

#[cfg(feature = "ssr")]
fn info(r: crate::domain::settings::rules::SiteRules) -> RulesInfo {
    let minutes = |secs: Option<i32>| secs.map(|s| (s + 59) / 60);
    RulesInfo {
        site_id: r.site_id,
        version: r.version,
        assignment_mode: r.rules.assignment_mode,
        allow_direct_level2: r.rules.allow_direct_level2,
        first_response_minutes: minutes(r.rules.first_response_target_secs),
        resolution_minutes: minutes(r.rules.resolution_target_secs),
    }
}

/// The rules of a site (admins only).
#[server(endpoint = "admin/rules/get")]
pub async fn site_rules(site_id: Uuid) -> Result<RulesInfo, AppError> {
    use crate::server::auth;
    auth::require_admin().await?;
    let state = auth::state()?;
    crate::domain::settings::rules::rules(&state.pool, site_id)
        .await
        .map(info)
        .map_err(crate::api::admin::convert::error)
}

/// Saves the assignment mode (`off`, `round_robin`, `least_busy`) and the transfer rule
/// (`allow_direct_level2`: the checkbox, "on" or absent) if the site is still at `version`
/// (admins only). Switching assignment on hands out the chats already waiting at once.
#[server(endpoint = "admin/rules/save")]
pub async fn save_rules(
    site_id: Uuid,
    version: i32,
    assignment_mode: String,
    allow_direct_level2: Option<String>,
) -> Result<RulesInfo, AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    let form = crate::domain::settings::rules::RulesForm {
        version,
        assignment_mode: &assignment_mode,
        allow_direct_level2: allow_direct_level2.is_some_and(|v| v != "false" && v != "off"),
    };
    let saved = crate::domain::settings::rules::save_rules(&state.pool, admin.id, site_id, form)
        .await
        .map_err(crate::api::admin::convert::error)?;
    if saved.assign_now {
        crate::server::assignment::after_site_change(&state, site_id).await;
    }
    Ok(info(saved.rules))
}

/// Saves the first-response and resolution targets in minutes (empty: no target) if the
/// site is still at `version` (admins only).
#[server(endpoint = "admin/rules/targets")]
pub async fn save_targets(
    site_id: Uuid,
    version: i32,
    first_response_minutes: String,
    resolution_minutes: String,
) -> Result<RulesInfo, AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    let form = crate::domain::settings::rules::TargetsForm {
        version,
        first_response_minutes: &first_response_minutes,
        resolution_minutes: &resolution_minutes,
    };
    crate::domain::settings::rules::save_targets(&state.pool, admin.id, site_id, form)
        .await
        .map(info)
        .map_err(crate::api::admin::convert::error)
}
