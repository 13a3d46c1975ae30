//! Admin settings for what a site says on its own: the auto-greeting, the busy reply after N
//! minutes without an answer, and the away message above the offline form. Admins only; a
//! stale form is refused with who changed it.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A site's greetings as the form shows and sends them (empty text = none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GreetingsSettings {
    pub site_id: Uuid,
    /// The site's version when read; a newer one on save means the form is stale.
    pub version: i32,
    pub greeting: String,
    pub busy_text: String,
    /// Whole minutes, or empty for no busy reply.
    pub busy_minutes: String,
    pub away: String,
}

#[cfg(feature = "ssr")]
fn to_settings(
    site_id: Uuid,
    version: i32,
    g: crate::domain::settings::greetings::Greetings,
) -> GreetingsSettings {
    GreetingsSettings {
        site_id,
        version,
        greeting: g.greeting.unwrap_or_default(),
        busy_text: g.busy_text.unwrap_or_default(),
        busy_minutes: g.busy_minutes.map(|m| m.to_string()).unwrap_or_default(),
        away: g.away.unwrap_or_default(),
    }
}

/// A site's greetings (admins only).
#[server(endpoint = "admin/greetings/get")]
pub async fn greetings(site_id: Uuid) -> Result<GreetingsSettings, AppError> {
    use crate::api::admin::convert::error;
    use crate::server::auth;
    auth::require_admin().await?;
    let state = auth::state()?;
    let site = crate::domain::site_admin::site(&state.pool, site_id)
        .await
        .map_err(error)?;
    let g = crate::domain::settings::greetings::load(&state.pool, site_id)
        .await
        .map_err(error)?;
    Ok(to_settings(site_id, site.version, g))
}

/// Saves a site's greetings if the form is not stale (admins only); returns them as stored,
/// with the site's new version.
#[server(endpoint = "admin/greetings/save", input = server_fn::codec::Json)]
pub async fn save_greetings(form: GreetingsSettings) -> Result<GreetingsSettings, AppError> {
    use crate::api::admin::convert::error;
    use crate::domain::settings::greetings::{save, GreetingsForm};
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    let g = save(
        &state.pool,
        admin.id,
        form.site_id,
        form.version,
        &GreetingsForm {
            greeting: &form.greeting,
            busy_text: &form.busy_text,
            busy_minutes: &form.busy_minutes,
            away: &form.away,
        },
    )
    .await
    .map_err(error)?;
    let site = crate::domain::site_admin::site(&state.pool, form.site_id)
        .await
        .map_err(error)?;
    Ok(to_settings(form.site_id, site.version, g))
}
