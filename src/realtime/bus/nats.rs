//! The NATS bus (`SWITCHBOARD_BUS=nats://host:port`, for large installs): the same batches
//! of ids as the Postgres bus on one subject, without taking Postgres's `NOTIFY` lock. Core
//! NATS is at-most-once; what it drops is repaired like any lost bus message (gap fill,
//! resume), and after a reconnect the node catches up from Postgres.

use super::{BusError, Inbound};
use futures_util::StreamExt;

/// The default subject every node publishes and subscribes to.
pub const SUBJECT: &str = "switchboard.bus";

/// Sends one batch.
pub async fn publish(
    client: &async_nats::Client,
    subject: &str,
    payload: String,
) -> Result<(), async_nats::PublishError> {
    client.publish(subject.to_string(), payload.into()).await
}

/// Connects, subscribes, and hands every message to `inbound`.
pub async fn connect(
    url: &str,
    subject: &str,
    inbound: Inbound,
) -> Result<async_nats::Client, BusError> {
    let fail = |reason: String| BusError::Nats {
        url: url.to_string(),
        reason,
    };
    let reconnected = inbound.clone();
    let client = async_nats::ConnectOptions::new()
        .name("switchboard")
        .event_callback(move |event| {
            let inbound = reconnected.clone();
            async move {
                if matches!(event, async_nats::Event::Connected) {
                    tokio::spawn(async move { inbound.catch_up().await });
                }
            }
        })
        .connect(url)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let mut sub = client
        .subscribe(subject.to_string())
        .await
        .map_err(|e| fail(e.to_string()))?;
    tokio::spawn(async move {
        while let Some(msg) = sub.next().await {
            match std::str::from_utf8(&msg.payload) {
                Ok(text) => inbound.receive(text).await,
                Err(_) => tracing::warn!("non-UTF-8 bus message ignored"),
            }
        }
    });
    Ok(client)
}
