//! Request guards around the router: page access by role, and the hardening of server
//! function calls (cross-site refusal, body size cap, error status codes).

use super::{auth, state::AppState};
use crate::error::AppError;
use crate::model::Role;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{header, HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;

/// Largest server-function body accepted (forms and JSON; uploads get their own route).
pub const MAX_API_BODY: usize = 64 * 1024;

/// The header server_fn puts on error responses.
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";

fn error_response(err: AppError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::to_string(&err).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Whether a state-changing request comes from another site. Browsers send `Origin` on
/// POSTs; when it is missing we fall back to `Sec-Fetch-Site`. Non-browser clients send
/// neither and pass (they carry no ambient cookies to abuse).
pub fn is_cross_site(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        return match (origin_host, host) {
            (Some(o), Some(h)) => !o.eq_ignore_ascii_case(h),
            _ => true,
        };
    }
    matches!(
        headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
        Some("cross-site")
    )
}

/// Guards `/api/*` (server functions): refuses cross-site writes, caps the body with a 400
/// instead of a panic or a 500, and gives error responses the status their [`AppError`] names
/// (server_fn itself answers every error with 500).
pub async fn api_guard(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    if req.method() != Method::GET && req.method() != Method::HEAD && is_cross_site(req.headers()) {
        return error_response(AppError::Forbidden("Cross-site request refused.".into()));
    }
    let too_big = || {
        error_response(AppError::BadRequest(format!(
            "Request body too large (the limit is {} KiB).",
            MAX_API_BODY / 1024
        )))
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_API_BODY) {
        return too_big();
    }
    let (parts, body) = req.into_parts();
    let bytes = match http_body_util::Limited::new(body, MAX_API_BODY)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return too_big(),
    };
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes: Bytes = match http_body_util::Limited::new(body, 1024 * 1024)
        .collect()
        .await
    {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::from_u16(err.status()).unwrap_or(parts.status);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Guards the staff pages: `/agent/*` needs a signed-in user (else a redirect to `/login`),
/// `/admin/*` an admin (an agent gets the page that says so, with status 403).
pub async fn page_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let is_admin_area = path == "/admin" || path.starts_with("/admin/");
    let is_agent_area = path == "/agent" || path.starts_with("/agent/");
    if !(is_admin_area || is_agent_area) {
        return next.run(req).await;
    }
    match auth::user_from_headers(&state.pool, req.headers()).await {
        Err(e) => error_response(e),
        Ok(None) => {
            let target = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/agent");
            let next_q: String = url_encode(target);
            Redirect::to(&format!("/login?next={next_q}")).into_response()
        }
        Ok(Some(user)) if is_admin_area && user.info().role != Role::Admin => {
            forbidden_page(&user.info())
        }
        Ok(Some(_)) => next.run(req).await,
    }
}

/// The page an agent gets for an admin URL, with status 403. Rendered here rather than by the
/// Leptos app so that no admin page code runs at all for a non-admin.
fn forbidden_page(user: &crate::model::UserInfo) -> Response {
    let name = user
        .name
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let body = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Admins only — Switchboard</title><link rel="stylesheet" href="/pkg/switchboard.css"></head>
<body><header class="topbar"><span class="brand">Switchboard</span>
<nav aria-label="Main"><a href="/agent">Dashboard</a></nav>
<div class="user-menu" role="group" aria-label="User menu"><span class="user-name">{name}</span><span class="user-role">{role}</span>
<form method="post" action="/api/logout"><button type="submit">Sign out</button></form></div></header>
<main class="page"><section class="forbidden"><h1>403 — Admins only</h1>
<p>You are signed in as {name} ({role}). Settings are for admins; ask an admin if you need access.</p>
<p><a href="/agent">Back to the dashboard</a></p></section></main></body></html>"#,
        role = user.role
    );
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn cross_site_detection() {
        assert!(!is_cross_site(&headers(&[
            ("host", "a.test:3000"),
            ("origin", "http://a.test:3000")
        ])));
        assert!(is_cross_site(&headers(&[
            ("host", "a.test:3000"),
            ("origin", "http://evil.test")
        ])));
        assert!(is_cross_site(&headers(&[
            ("host", "a.test:3000"),
            ("origin", "null")
        ])));
        assert!(is_cross_site(&headers(&[
            ("host", "a.test"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!is_cross_site(&headers(&[
            ("host", "a.test"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!is_cross_site(&headers(&[("host", "a.test")])));
    }

    #[test]
    fn encodes_next() {
        assert_eq!(
            url_encode("/admin/agents?x=1&y"),
            "/admin/agents%3Fx%3D1%26y"
        );
    }
}
