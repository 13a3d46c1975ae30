//! Plain axum handlers beside the Leptos routes: health probes and the demo host page.

use super::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};

/// `/healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `/readyz`: the database answers.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&state.pool)
        .await
    {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// `/demo`: a sample host page, as a customer's site would be, for the first site.
/// It embeds the widget exactly as a customer's page would.
pub async fn demo(State(state): State<AppState>) -> impl IntoResponse {
    let site = crate::db::sites::first(&state.pool).await.ok().flatten();
    let (name, key) = site
        .map(|s| (s.name, s.key))
        .unwrap_or_else(|| ("No site yet".into(), String::new()));
    let name = html_escape(&name);
    let key = html_escape(&key);
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo shop — Switchboard</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}</style>
</head>
<body>
<h1>Demo shop</h1>
<p>This page stands for a customer's website. It embeds the chat widget of the site
<strong>{name}</strong> (site key <code>{key}</code>) with one script tag:</p>
<pre><code>&lt;script src="/widget.js" data-site="{key}" async&gt;&lt;/script&gt;</code></pre>
<p>The chat button sits at the bottom right of this page.</p>
<script src="/widget.js" data-site="{key}" async></script>
</body>
</html>"#
    ))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
