//! Signing in and out, and who is signed in.

use crate::error::AppError;
use crate::model::UserInfo;
use leptos::prelude::*;

/// Signs in with email and password; sets the session cookie and redirects to `next`
/// (a local path) or the dashboard.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::server::auth;
    let state = auth::state()?;
    let parts = auth::parts()?;
    let (user, session) = crate::domain::accounts::sign_in::sign_in(
        &state.pool,
        &email,
        &password,
        &auth::client_ip(&parts),
        &auth::user_agent(&parts),
    )
    .await?;
    auth::set_cookie(&auth::session_cookie(
        &session,
        state.config.secure_cookies(),
    ));
    leptos_axum::redirect(&auth::after_sign_in(next.as_deref(), user.info().role));
    Ok(())
}

/// Signs out: ends the session on the server and clears the cookie.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::server::auth;
    let state = auth::state()?;
    let parts = auth::parts()?;
    if let Some(token) = auth::session_token(&parts.headers) {
        crate::domain::accounts::sign_out::sign_out(&state.pool, &token).await?;
    }
    auth::set_cookie(&auth::cleared_cookie(state.config.secure_cookies()));
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user, or `None`.
#[server(endpoint = "me")]
pub async fn me() -> Result<Option<UserInfo>, AppError> {
    Ok(crate::server::auth::current_user().await?.map(|u| u.info()))
}
