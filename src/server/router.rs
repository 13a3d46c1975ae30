//! The axum router: health probes, the demo page, every Leptos page and server function,
//! static files, and the middleware stack.

use super::{middleware, pages, state::AppState};
use crate::ui::{shell, App};
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

/// Builds the application router (used by `main` and by the integration tests).
pub fn build(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let ctx_state = state.clone();
    // The widget's bundle is what every visitor who opens the chat downloads: the release
    // build leaves Brotli and gzip -9 copies beside it (.ci/build-widget), served as they are
    // instead of compressing 500 KB of WASM again on every request (and at a lower level).
    let widget_pkg = std::path::Path::new(&*options.site_root).join("widget-pkg");
    Router::new()
        .route("/healthz", get(pages::healthz))
        .route("/readyz", get(pages::readyz))
        .route("/metrics", get(super::metrics::handler))
        .route("/demo", get(pages::demo))
        .route("/ws", get(crate::realtime::socket::ws_handler))
        .route(
            "/files",
            post(super::files::upload).layer(DefaultBodyLimit::max(super::files::MAX_UPLOAD_BYTES)),
        )
        .route("/files/{id}", get(super::files::download))
        .route("/widget/{key}", get(super::widget::page))
        .route("/widget/{key}/config", get(super::widget::config))
        .nest_service(
            "/widget-pkg",
            ServeDir::new(widget_pkg)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(ctx_state.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::page_guard,
        ))
        .layer(axum::middleware::from_fn(middleware::api_guard))
        // gzip for pages, JS, CSS and WASM (what a visitor downloads when the chat opens).
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
