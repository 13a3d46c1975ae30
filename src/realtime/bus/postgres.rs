//! The Postgres bus: `LISTEN/NOTIFY` on the application database (the default; no extra
//! service). A notification carries one batch of ids (see [`super`]); payloads stay under
//! the 8,000-byte limit and one `NOTIFY` is sent per batch, since `NOTIFY` serializes
//! committing transactions on a global lock.

use super::{BusError, Inbound};
use crate::db::Pool;
use sqlx::postgres::PgListener;

/// The channel every node listens on.
pub const CHANNEL: &str = "switchboard_bus";

/// Sends one batch (its own short transaction).
pub async fn notify(pool: &Pool, payload: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Listens on [`CHANNEL`] with a dedicated connection and hands every notification to
/// `inbound`. The listener reconnects by itself; notifications sent meanwhile are lost, so
/// after a reconnect the node catches up from Postgres.
pub async fn listen(inbound: Inbound, pool: &Pool) -> Result<(), BusError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    tokio::spawn(async move {
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => inbound.receive(n.payload()).await,
                // Lost and already reconnected (eager reconnect): read what we missed.
                Ok(None) => inbound.catch_up().await,
                Err(e) => {
                    tracing::warn!(error = %e, "bus listener failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    });
    Ok(())
}
