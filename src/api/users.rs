//! Admin management of staff accounts. Every function checks the admin role on the server.

use crate::error::AppError;
use crate::model::{Role, UserInfo};
use leptos::prelude::*;
use uuid::Uuid;

/// Every staff account (admins only).
#[server(endpoint = "users/list")]
pub async fn list_users() -> Result<Vec<UserInfo>, AppError> {
    use crate::server::auth;
    auth::require_admin().await?;
    let state = auth::state()?;
    let rows = crate::db::users::list(&state.pool).await.map_err(|e| {
        tracing::error!(error = %e, "listing users failed");
        AppError::Internal
    })?;
    Ok(rows.iter().map(|r| r.info()).collect())
}

/// Creates an agent or admin with an initial password (admins only).
#[server(endpoint = "users/create")]
pub async fn create_user(
    name: String,
    email: String,
    password: String,
    role: Role,
) -> Result<UserInfo, AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    Ok(crate::domain::accounts::create_user::create_user(
        &state.pool,
        Some(admin.id),
        &name,
        &email,
        &password,
        role,
    )
    .await?)
}

/// Changes an account's role (admins only; not one's own).
#[server(endpoint = "users/role")]
pub async fn change_role(id: Uuid, role: Role) -> Result<UserInfo, AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    Ok(crate::domain::accounts::change_role::change_role(&state.pool, admin.id, id, role).await?)
}

/// Deactivates (ending their sessions at once) or reactivates an account (admins only).
#[server(endpoint = "users/active")]
pub async fn set_user_active(id: Uuid, active: bool) -> Result<UserInfo, AppError> {
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    let user =
        crate::domain::accounts::set_active::set_active(&state.pool, admin.id, id, active).await?;
    if !active {
        // Their HTTP sessions are gone; their open sockets go too.
        state.realtime.hub.sign_out(id);
    }
    Ok(user)
}

/// Saves an account's name, email and cap of simultaneous chats (`max_chats`, 1–50, as
/// typed) (admins only). Each bad field is a 400 naming it. A raised cap may let
/// auto-assignment hand the agent waiting chats at once.
#[server(endpoint = "users/save")]
pub async fn save_user(
    id: Uuid,
    name: String,
    email: String,
    max_chats: String,
) -> Result<UserInfo, AppError> {
    use crate::domain::accounts::edit_user::{edit_user, EditForm};
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    let form = EditForm {
        name: &name,
        email: &email,
        max_chats: &max_chats,
    };
    let user = edit_user(&state.pool, admin.id, id, form).await?;
    if user.active {
        crate::server::assignment::after_agent_freed(&state, user.id).await;
    }
    Ok(user)
}
