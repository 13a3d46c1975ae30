//! Shared server state, available to handlers (axum `State`) and server functions (Leptos context).

use super::config::Config;
use crate::db::Pool;
use crate::realtime::bus::{self, BusError, BusSetting, ClusterBus};
use crate::realtime::hub::{Bus, Hub, InProcessBus};
use crate::realtime::socket::Realtime;
use crate::realtime::writer::Writer;
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
    /// This node's message writer (batched durable inserts; see `realtime::writer`).
    pub writer: Writer,
}

impl AppState {
    /// Builds the state; Leptos options come from our config rather than cargo-leptos's
    /// environment variables, so the binary runs the same whether cargo-leptos started it or not.
    pub fn new(pool: Pool, config: Config) -> AppState {
        Self::with_bus(pool, config, Arc::new(InProcessBus))
    }

    /// The state with the cross-node bus `config.bus` names, connected and started
    /// (what the binary runs; [`AppState::new`] keeps everything in-process).
    pub async fn clustered(pool: Pool, config: Config) -> Result<AppState, BusError> {
        let setting = config.bus.clone();
        if setting == BusSetting::InProcess {
            return Ok(Self::new(pool, config));
        }
        let (cluster, rx) = ClusterBus::new();
        let state = Self::with_bus(pool.clone(), config, cluster);
        bus::start(&setting, pool, &state.realtime, rx).await?;
        Ok(state)
    }

    fn with_bus(pool: Pool, config: Config, bus: Arc<dyn Bus>) -> AppState {
        let leptos_options = LeptosOptions::builder()
            .output_name("switchboard")
            .site_root(config.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(config.addr)
            .build();
        let socket_timeout = config.socket_timeout;
        let realtime = Arc::new(Realtime::new(Hub::new(bus), socket_timeout));
        // One writer task per node, started with the state (needs a Tokio runtime).
        let writer = Writer::spawn(pool.clone(), realtime.clone());
        AppState {
            leptos_options,
            pool,
            config: Arc::new(config),
            realtime,
            writer,
        }
    }
}
