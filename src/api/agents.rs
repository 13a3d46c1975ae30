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
    if available {
        crate::server::assignment::after_agent_freed(&state, user.id).await;
    }
    Ok(available)
}

/// An agent's open chats against their cap ("Active agents" shows "2 / 5").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentLoad {
    pub id: uuid::Uuid,
    pub name: String,
    pub open_chats: i64,
    pub max_chats: i32,
}

/// The load of the colleagues the signed-in agent works with (admins: everyone).
#[server(endpoint = "agents/load")]
pub async fn team_load() -> Result<Vec<AgentLoad>, AppError> {
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    let rows = crate::db::workspace::team_load(&state.pool, user.id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "reading the team's load failed");
            AppError::Internal
        })?;
    Ok(rows
        .into_iter()
        .map(|r| AgentLoad {
            id: r.id,
            name: r.name,
            open_chats: r.open_chats,
            max_chats: r.max_chats,
        })
        .collect())
}
