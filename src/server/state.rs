//! Shared server state, available to handlers (axum `State`) and server functions (Leptos context).

use super::config::Config;
use crate::db::Pool;
use crate::realtime::hub::{Hub, InProcessBus};
use crate::realtime::socket::Realtime;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Cheap to clone: everything inside is reference-counted.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: Pool,
    pub config: Arc<Config>,
    pub realtime: Arc<Realtime>,
}

impl AppState {
    /// Builds the state; Leptos options come from our config rather than cargo-leptos's
    /// environment variables, so the binary runs the same whether cargo-leptos started it or not.
    pub fn new(pool: Pool, config: Config) -> AppState {
        let leptos_options = LeptosOptions::builder()
            .output_name("switchboard")
            .site_root(config.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(config.addr)
            .build();
        let socket_timeout = config.socket_timeout;
        AppState {
            leptos_options,
            pool,
            config: Arc::new(config),
            realtime: Arc::new(Realtime::new(
                Hub::new(Arc::new(InProcessBus)),
                socket_timeout,
            )),
        }
    }
}
