//! The signed-in agent's own settings on the dashboard.

use crate::error::AppError;
use leptos::prelude::*;

/// Whether the "Available" switch is on (only available agents get new chats; with nobody
/// available the widget offers the offline form).
#[server(endpoint = "agents/availability")]
pub async fn my_availability() -> Result<bool, AppError> {
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    crate::db::users::available(&state.pool, user.id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "reading availability failed");
            AppError::Internal
        })
}

/// Turns the "Available" switch on or off; answers the new state.
#[server(endpoint = "agents/set_available")]
pub async fn set_available(available: bool) -> Result<bool, AppError> {
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    crate::db::users::set_available(&state.pool, user.id, available)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "changing availability failed");
            AppError::Internal
        })?;
    tracing::info!(user = %user.id, available, "availability changed");
    Ok(available)
}
