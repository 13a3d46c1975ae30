//! `GET /metrics` in the Prometheus text format: connections, frames and messages in and
//! out, delivery latency, bus lag and traffic, database pool use.
//!
//! **Who may read it.** Metrics tell traffic volumes and the shape of the installation,
//! nothing about conversations, but they are still not for the public: a request is served
//! when it comes from a loopback address *and* carries no `X-Forwarded-For` / `Forwarded`
//! header (so a reverse proxy on the same host does not expose it to the internet), or when
//! it carries `Authorization: Bearer $SWITCHBOARD_METRICS_TOKEN` (for a Prometheus on another
//! host). Anything else gets 404, as if there were no such page.
//!
//! Metric names (all prefixed `switchboard_`): `connections` (open WebSockets),
//! `frames_in_total` / `frames_out_total` (socket frames read / written),
//! `messages_stored_total` (messages this node stored), `events_delivered_total{path}` and
//! `delivery_latency_seconds{path}` (stored → handed to this node's sockets; `path` is
//! `local` or `bus`; measured against the event's database timestamp, so nodes need
//! synchronized clocks), `bus_lag_seconds` (sent by one node → received by another),
//! `bus_messages_sent_total`, `bus_signals_sent_total`, `bus_messages_received_total`,
//! `bus_dropped_total`, `db_pool_connections`, `db_pool_idle`, `db_pool_in_use`.

use super::state::AppState;
use crate::realtime::protocol::Event;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::OnceLock;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets (seconds): fine below 25 ms, where the targets are.
const BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Installs the process-wide recorder (once); `None` if another recorder was installed.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("seconds".into()), BUCKETS)
                .ok()?
                .install_recorder()
                .map_err(|e| tracing::warn!(error = %e, "metrics recorder not installed"))
                .ok()
        })
        .as_ref()
}

/// Records that a stored event was handed to this node's sockets.
pub fn delivered(event: &Event, via_bus: bool) {
    let path = if via_bus { "bus" } else { "local" };
    metrics::counter!("switchboard_events_delivered_total", "path" => path).increment(1);
    if let Ok(at) = OffsetDateTime::parse(&event.at, &Rfc3339) {
        let secs = (OffsetDateTime::now_utc() - at).as_seconds_f64().max(0.0);
        metrics::histogram!("switchboard_delivery_latency_seconds", "path" => path).record(secs);
    }
}

/// Whether this request may read the metrics (see the module documentation).
fn allowed(req: &Request, token: Option<&str>) -> bool {
    if let Some(token) = token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(given) = given {
            use sha2::{Digest, Sha256};
            // Equal-length digests compared whole: the time taken says nothing about the token.
            let (a, b) = (
                Sha256::digest(given.as_bytes()),
                Sha256::digest(token.as_bytes()),
            );
            if a.iter()
                .zip(b.iter())
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0
            {
                return true;
            }
        }
    }
    let loopback = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().is_loopback());
    let forwarded =
        req.headers().contains_key("x-forwarded-for") || req.headers().contains_key("forwarded");
    loopback && !forwarded
}

/// `GET /metrics`.
pub async fn handler(State(state): State<AppState>, req: Request) -> Response {
    if !allowed(&req, state.config.metrics_token.as_deref()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(handle) = install() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        )
            .into_response();
    };
    let size = state.pool.size() as f64;
    let idle = state.pool.num_idle() as f64;
    metrics::gauge!("switchboard_db_pool_connections").set(size);
    metrics::gauge!("switchboard_db_pool_idle").set(idle);
    metrics::gauge!("switchboard_db_pool_in_use").set((size - idle).max(0.0));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
