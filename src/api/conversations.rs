//! Agent actions on a conversation that are not chat traffic (that rides the socket).

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A chat waiting for an agent, as the "Waiting" list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingChat {
    pub conversation_id: Uuid,
    pub visitor_name: String,
    pub site_name: String,
    /// Seconds since the visitor started waiting.
    pub waiting_secs: i64,
    pub last_message: Option<String>,
}

/// The "Waiting" list: oldest first, the first 100, and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingList {
    pub total: i64,
    pub chats: Vec<WaitingChat>,
}

/// The chats the signed-in agent may take (their sites and groups; admins: all).
#[server(endpoint = "conversations/waiting")]
pub async fn waiting_chats() -> Result<WaitingList, AppError> {
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    let (rows, total) = crate::db::conversations::waiting_for(&state.pool, user.id, 100)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "listing waiting chats failed");
            AppError::Internal
        })?;
    let now = time::OffsetDateTime::now_utc();
    Ok(WaitingList {
        total,
        chats: rows
            .into_iter()
            .map(|r| WaitingChat {
                conversation_id: r.id,
                visitor_name: r.visitor_name.unwrap_or_else(|| "Visitor".into()),
                site_name: r.site_name,
                waiting_secs: r
                    .waiting_since
                    .map(|t| (now - t).whole_seconds().max(0))
                    .unwrap_or(0),
                last_message: r.last_message,
            })
            .collect(),
    })
}

/// "Assign to me": takes a waiting chat. If another agent took it first (or it is no longer
/// waiting) the answer is a 409 that says so.
#[server(endpoint = "conversations/assign_to_me")]
pub async fn assign_to_me(conversation_id: Uuid) -> Result<(), AppError> {
    use crate::domain::conversations::{
        assign_conversation::{assign_to_me, AssignError},
        ConversationError, Viewer,
    };
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    let agent = Viewer::Agent {
        user_id: user.id,
        name: user.name.clone(),
    };
    match assign_to_me(&state.pool, &agent, conversation_id).await {
        Ok(event) => {
            state.realtime.hub.publish(event);
            Ok(())
        }
        Err(e @ AssignError::Taken) => Err(AppError::Conflict(e.to_string())),
        Err(AssignError::Conversation(ConversationError::Db(e))) => {
            tracing::error!(error = %e, "assigning failed");
            Err(AppError::Internal)
        }
        Err(AssignError::Conversation(e)) => Err(AppError::Forbidden(e.to_string())),
    }
}

/// Resolves a conversation (agents who may see it). Resolving twice is fine.
#[server(endpoint = "conversations/resolve")]
pub async fn resolve_conversation(conversation_id: Uuid) -> Result<(), AppError> {
    use crate::domain::conversations::{
        resolve_conversation::resolve_conversation, ConversationError, Viewer,
    };
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    let agent = Viewer::Agent {
        user_id: user.id,
        name: user.name.clone(),
    };
    match resolve_conversation(&state.pool, &agent, conversation_id).await {
        Ok(Some(event)) => {
            state.realtime.hub.publish(event);
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(ConversationError::Db(e)) => {
            tracing::error!(error = %e, "resolving failed");
            Err(AppError::Internal)
        }
        Err(e @ ConversationError::NotFound) => Err(AppError::NotFound(e.to_string())),
        Err(e) => Err(AppError::Forbidden(e.to_string())),
    }
}
