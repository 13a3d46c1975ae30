//! Who is calling: session cookies, the current user, and role checks, for server functions
//! (through Leptos context) and for middleware (through request headers).

use super::state::AppState;
use crate::db::users::UserRow;
use crate::domain::accounts::session::{self, NewSession};
use crate::error::AppError;
use crate::model::Role;
use axum::extract::ConnectInfo;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use http::{header, request::Parts, HeaderMap, HeaderValue};
use leptos::prelude::{use_context, ServerFnError};
use std::net::SocketAddr;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "sb_session";

/// The server state, from Leptos context (set by the router for every request).
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from context");
        AppError::Internal
    })
}

/// The request's head, from Leptos context.
pub fn parts() -> Result<Parts, AppError> {
    use_context::<Parts>().ok_or_else(|| {
        tracing::error!("request parts missing from context");
        AppError::Internal
    })
}

/// The session token sent by the browser, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_string())
}

/// The signed-in user for these headers, or `None`.
pub async fn user_from_headers(
    pool: &crate::db::Pool,
    headers: &HeaderMap,
) -> Result<Option<UserRow>, AppError> {
    match session_token(headers) {
        Some(token) => Ok(session::authenticate(pool, &token).await?),
        None => Ok(None),
    }
}

/// The signed-in user of the current server-function call or page render.
pub async fn current_user() -> Result<Option<UserRow>, AppError> {
    let state = state()?;
    let parts = parts()?;
    user_from_headers(&state.pool, &parts.headers).await
}

/// The signed-in user, or `Unauthenticated`.
pub async fn require_user() -> Result<UserRow, AppError> {
    current_user().await?.ok_or(AppError::Unauthenticated)
}

/// The signed-in admin, or `Forbidden` for agents (checked on the server, whatever the UI shows).
pub async fn require_admin() -> Result<UserRow, AppError> {
    let user = require_user().await?;
    if user.info().role == Role::Admin {
        Ok(user)
    } else {
        Err(AppError::Forbidden(
            "Only admins can do this. Ask an admin for access.".into(),
        ))
    }
}

/// The client's IP: the TCP peer, or, when the peer is a trusted proxy
/// (`SWITCHBOARD_TRUSTED_PROXIES`), the right-most `X-Forwarded-For` address that is not one
/// of our proxies (entries further left are whatever the client claimed).
pub fn client_ip(parts: &Parts) -> String {
    let trusted = use_context::<AppState>()
        .map(|s| s.config.trusted_proxies.clone())
        .unwrap_or_default();
    client_ip_from(parts, &trusted)
}

/// [`client_ip`] with the trusted proxies given.
pub fn client_ip_from(parts: &Parts, trusted: &[ipnet::IpNet]) -> String {
    let Some(peer) = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
    else {
        return "unknown".into();
    };
    if !trusted.iter().any(|n| n.contains(&peer)) {
        return peer.to_string();
    }
    let forwarded: Vec<std::net::IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !trusted.iter().any(|n| n.contains(*ip)))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer)
        .to_string()
}

/// The User-Agent header, or "".
pub fn user_agent(parts: &Parts) -> String {
    parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The Set-Cookie value for a new session: HttpOnly, SameSite=Lax, Secure over https.
pub fn session_cookie(session: &NewSession, secure: bool) -> String {
    Cookie::build((SESSION_COOKIE, session.token.clone()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .expires(session.expires_at)
        .build()
        .to_string()
}

/// The Set-Cookie value that removes the session cookie.
pub fn cleared_cookie(secure: bool) -> String {
    let mut c = Cookie::build((SESSION_COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .build();
    c.make_removal();
    c.to_string()
}

/// Adds a Set-Cookie header to the server function's response.
pub fn set_cookie(value: &str) {
    if let (Some(opts), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(value),
    ) {
        opts.append_header(header::SET_COOKIE, v);
    }
}

/// Where to go after signing in: a local path the user asked for, else their home.
pub fn after_sign_in(next: Option<&str>, role: Role) -> String {
    match next {
        // Only same-site paths: "/x" but not "//evil.example" or "/\evil".
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => match role {
            Role::Admin | Role::Agent => "/agent".to_string(),
        },
    }
}

/// Converts the unlikely `ServerFnError` from Leptos helpers into our error.
pub fn internal(e: ServerFnError) -> AppError {
    tracing::error!(error = %e, "server function helper failed");
    AppError::Internal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_local_only() {
        assert_eq!(
            after_sign_in(Some("/admin/agents"), Role::Admin),
            "/admin/agents"
        );
        assert_eq!(after_sign_in(Some("//evil.example"), Role::Agent), "/agent");
        assert_eq!(
            after_sign_in(Some("https://evil.example"), Role::Agent),
            "/agent"
        );
        assert_eq!(
            after_sign_in(Some("/\\evil.example"), Role::Agent),
            "/agent"
        );
        assert_eq!(after_sign_in(None, Role::Admin), "/agent");
    }
}
