//! The HTTP server: configuration, database start-up, the axum router with the Leptos
//! routes and server functions, middleware, and graceful shutdown.

pub mod assignment;
pub mod auth;
pub mod automations;
pub mod config;
pub mod embedded_pg;
pub mod files;
pub mod metrics;
pub mod middleware;
pub mod pages;
pub mod router;
pub mod state;
pub mod widget;

use config::Config;
use embedded_pg::EmbeddedPostgres;
use sqlx::postgres::PgPoolOptions;
use std::time::Duration;

/// Runs Switchboard until Ctrl-C or SIGTERM; returns the process exit code.
/// Start-up failures are printed as one line naming what to fix.
pub async fn run() -> i32 {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };

    let mut embedded = None;
    let database_url = match &config.database_url {
        Some(url) => url.clone(),
        None => match EmbeddedPostgres::start(&config.data_dir).await {
            Ok(pg) => {
                let url = pg.database_url();
                embedded = Some(pg);
                url
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        },
    };

    let code = serve(config, &database_url).await;
    if let Some(pg) = embedded {
        if let Err(e) = pg.stop().await {
            eprintln!("error: {e}");
        }
    }
    code
}

/// Connects, migrates, bootstraps and serves; split from [`run`] so the embedded cluster is
/// stopped whatever happens here.
async fn serve(config: Config, database_url: &str) -> i32 {
    let pool = match connect_sized(database_url, config.db_max_connections).await {
        Ok(p) => p,
        Err(e) => {
            let source = if config.database_url.is_some() {
                "DATABASE_URL"
            } else {
                "the embedded Postgres"
            };
            eprintln!(
                "error: cannot connect to the database given by {source} at {}: {e}",
                config::redact_url(database_url)
            );
            return 1;
        }
    };
    if let Err(e) = crate::db::migrate(&pool).await {
        eprintln!("error: database migration failed: {e}");
        return 1;
    }
    match crate::domain::bootstrap::first_start(
        &pool,
        config.admin_email.clone(),
        config.admin_password.clone(),
    )
    .await
    {
        Ok(Some(first)) => {
            println!("Switchboard first start: created the admin account and a demo site.");
            println!("  Sign in at: {}/login", config.public_url);
            println!("  Email:      {}", first.admin_email);
            if first.password_generated {
                println!(
                    "  Password:   {}   (shown only this once: keep it or change it)",
                    first.admin_password
                );
            } else {
                println!("  Password:   (from SWITCHBOARD_ADMIN_PASSWORD)");
            }
            println!(
                "  Demo page:  {}/demo (site key {})",
                config.public_url, first.site_key
            );
        }
        Ok(None) => {}
        Err(e) => {
            eprintln!("error: first-start setup failed: {e}");
            return 1;
        }
    }

    let listener = match tokio::net::TcpListener::bind(config.addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "error: cannot listen on SWITCHBOARD_ADDR={}: {e}",
                config.addr
            );
            return 1;
        }
    };
    let public_url = config.public_url.clone();
    // A wrong bucket or credentials should show at start, not at the first upload; the store
    // may be briefly unreachable, so this warns rather than refusing to start.
    // (Bounded: the S3 client retries for minutes before giving up.)
    let probe = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        config.attachment_store.probe(),
    );
    match probe.await {
        Ok(Ok(())) => tracing::info!(store = ?config.attachment_store, "attachment store ready"),
        Ok(Err(e)) => {
            tracing::warn!(store = ?config.attachment_store, error = %e, "attachment store not answering")
        }
        Err(_) => {
            tracing::warn!(store = ?config.attachment_store, "attachment store not answering within 10 s")
        }
    }
    metrics::install();
    let state = match state::AppState::clustered(pool.clone(), config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    state.realtime.spawn_sweeper();
    automations::spawn_busy_replies(state.clone());
    let app = router::build(state);
    println!("Switchboard is running at {public_url}");
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    pool.close().await;
    match served {
        Ok(()) => {
            tracing::info!("stopped");
            0
        }
        Err(e) => {
            eprintln!("error: server failed: {e}");
            1
        }
    }
}

/// Opens the pool with a short connect timeout, so a wrong address fails fast.
pub async fn connect(url: &str) -> Result<sqlx::PgPool, sqlx::Error> {
    connect_sized(url, 20).await
}

/// [`connect`] with a pool of at most `max` connections.
pub async fn connect_sized(url: &str, max: u32) -> Result<sqlx::PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
