//! The widget's HTTP side: the loader's settings (a CORS request from the customer's page)
//! and the page the loader's iframe shows. Both refuse pages on origins the site does not
//! allow: the loader gets a message it logs, the iframe gets `frame-ancestors`.

use super::state::AppState;
use crate::domain::widget::{self, WidgetSite};
use crate::realtime::protocol::PresenceState;
use crate::ui::widget::{widget_shell, WidgetBoot};
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use leptos::prelude::provide_context;
use serde::Deserialize;

async fn load(state: &AppState, key: &str) -> Result<WidgetSite, Response> {
    match widget::site(&state.pool, key).await {
        Ok(Some(site)) => Ok(site),
        Ok(None) => Err((
            StatusCode::NOT_FOUND,
            "This chat is not available (unknown site).",
        )
            .into_response()),
        Err(e) => {
            tracing::error!(error = %e, "loading a widget site failed");
            Err(StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}

/// `GET /widget/{key}/config`: what the loader needs to draw the launcher. Answers any
/// origin's CORS request, with a 403 and a message for origins the site does not allow.
pub async fn config(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut res = match load(&state, &key).await {
        Err(res) => res,
        Ok(site) if !origin.is_empty() && !site.allows(&origin) => (
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({
                "error": format!("Switchboard: this site does not allow the chat widget on {origin}.")
            })),
        )
            .into_response(),
        Ok(site) => axum::Json(serde_json::json!({
            "position": site.settings.position,
            "color": site.settings.color,
            "title": site.settings.title,
            // The launcher's accessible name, in the widget's language (the loader has no
            // strings table of its own: it stays under 5 KB).
            "label": crate::ui::widget::text::strings(&site.settings.language).open_chat,
        }))
        .into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&origin) {
        if !origin.is_empty() {
            res.headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
    }
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Origin"));
    res
}

/// The query of the widget page: the embedding page's origin (set by the loader).
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    origin: Option<String>,
}

/// `GET /widget/{key}`: the widget, server-rendered, for the loader's iframe (or on its own).
pub async fn page(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<PageQuery>,
    req: Request<Body>,
) -> Response {
    let site = match load(&state, &key).await {
        Ok(site) => site,
        Err(res) => return res,
    };
    let parent_origin = q.origin.filter(|o| !o.is_empty());
    if let Some(origin) = &parent_origin {
        if !site.allows(origin) {
            return (
                StatusCode::FORBIDDEN,
                format!("This site does not allow the chat widget on {origin}."),
            )
                .into_response();
        }
    }
    // Only the allowed origins may frame the widget (any, when the list is empty).
    let ancestors = if site.allowed_origins.is_empty() {
        "*".to_string()
    } else {
        format!("'self' {}", site.allowed_origins.join(" "))
    };
    let presence = &state.realtime.presence;
    let online = match crate::domain::cases::someone_available(
        &state.pool,
        site.id,
        site.guest_group,
        |agent| presence.state(agent) != PresenceState::Offline,
    )
    .await
    {
        Ok(online) => online,
        Err(e) => {
            tracing::error!(error = %e, "checking availability failed");
            // Not knowing is not "offline": let the visitor start; nothing gets lost either way.
            true
        }
    };
    // Only an offline widget shows the away message; an unreadable setting shows the default.
    let away = if online {
        None
    } else {
        crate::domain::settings::greetings::load(&state.pool, site.id)
            .await
            .ok()
            .and_then(|g| g.away)
    };
    let boot = WidgetBoot {
        site_key: key,
        settings: site.settings,
        parent_origin,
        online,
        away,
    };
    let ctx = state.clone();
    let render = leptos_axum::render_app_async_with_context(
        move || provide_context(ctx.clone()),
        move || widget_shell(boot.clone()),
    );
    let mut res = render(req).await;
    if let Ok(v) = HeaderValue::from_str(&format!("frame-ancestors {ancestors}")) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}
