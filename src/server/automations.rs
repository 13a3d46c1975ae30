//! Background work the site does on its own: the busy reply ("All our agents are busy…")
//! for chats nobody answered within the site's minutes. Every node runs it; the reply's
//! fixed key makes a second node's attempt a no-op, so no leader election is needed.

use super::state::AppState;
use crate::domain::conversations::send_busy_replies::send_busy_replies;
use std::time::Duration;

/// How often owed busy replies are looked for: the reply comes at most this late. The query
/// reads only waiting chats of sites with a busy reply set, so running it often is cheap.
pub const BUSY_REPLY_EVERY: Duration = Duration::from_secs(5);

/// Starts the busy-reply loop for the life of the process.
pub fn spawn_busy_replies(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(BUSY_REPLY_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match send_busy_replies(&state.pool).await {
                Ok(events) => {
                    for event in events {
                        state.realtime.hub.publish(event);
                    }
                }
                // The next tick tries again; nothing is lost meanwhile.
                Err(e) => tracing::error!(error = %e, "sending busy replies failed"),
            }
        }
    });
}
