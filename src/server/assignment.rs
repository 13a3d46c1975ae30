//! Glue between the places where chats wait or agents free up and auto-assignment
//! ([`crate::domain::conversations::auto_assign`]): live presence in, `assigned` events out
//! to the hub. Auto-assignment is a convenience on top of the queue, so a database error is
//! logged and never fails the request that triggered it (the chat keeps waiting and the next
//! trigger tries again).

use super::state::AppState;
use crate::db;
use crate::domain::conversations::auto_assign::{auto_assign, auto_assign_for_agent};
use crate::realtime::protocol::{Event, EventKind, PresenceState};
use uuid::Uuid;

/// Publishes what a run assigned, or logs why it failed.
fn publish(state: &AppState, result: Result<Vec<Event>, sqlx::Error>) {
    match result {
        Ok(events) => {
            for event in events {
                state.realtime.hub.publish(event);
            }
        }
        Err(e) => tracing::error!(error = %e, "auto-assignment failed"),
    }
}

/// A chat of `site_id` started waiting (new, or reopened): assign what can be.
pub async fn after_site_change(state: &AppState, site_id: Uuid) {
    let presence = &state.realtime.presence;
    let result = auto_assign(&state.pool, site_id, |agent| {
        presence.state(agent) != PresenceState::Offline
    })
    .await;
    publish(state, result);
}

/// `user_id` may take chats again (resolved one, connected, switched "Available" on):
/// assign what waits on every site of their groups.
pub async fn after_agent_freed(state: &AppState, user_id: Uuid) {
    let presence = &state.realtime.presence;
    let result = auto_assign_for_agent(&state.pool, user_id, |agent| {
        presence.state(agent) != PresenceState::Offline
    })
    .await;
    publish(state, result);
}

/// `conversation_id` was resolved: its assignee (whoever resolved it) has a free slot.
/// A chat resolved while still waiting freed nobody, and nothing runs.
pub async fn after_resolved(state: &AppState, conversation_id: Uuid) {
    match db::conversations::find(&state.pool, conversation_id).await {
        Ok(Some(conv)) => {
            if let Some(assignee) = conv.assignee_id {
                after_agent_freed(state, assignee).await;
            }
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "auto-assignment failed (reading the chat)"),
    }
}

/// `conversation_id` (started, or reopened) waits: [`after_site_change`] for its site.
pub async fn after_chat_waiting(state: &AppState, conversation_id: Uuid) {
    match db::conversations::find(&state.pool, conversation_id).await {
        Ok(Some(conv)) => after_site_change(state, conv.site_id).await,
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "auto-assignment failed (reading the chat)"),
    }
}

/// Whether an event puts a chat back in the queue (a visitor wrote in a resolved chat).
pub fn is_reopen(event: &Event) -> bool {
    matches!(&event.kind, EventKind::Status { status } if status == "waiting")
}

/// [`after_chat_waiting`] in the background: for the socket, which must not wait on it.
pub fn spawn_after_chat_waiting(state: &AppState, conversation_id: Uuid) {
    let state = state.clone();
    tokio::spawn(async move { after_chat_waiting(&state, conversation_id).await });
}

/// [`after_agent_freed`] in the background: for the socket, which must not wait on it.
pub fn spawn_after_agent_freed(state: &AppState, user_id: Uuid) {
    let state = state.clone();
    tokio::spawn(async move { after_agent_freed(&state, user_id).await });
}
