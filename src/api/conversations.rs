//! Agent actions on a conversation that are not chat traffic (that rides the socket).

use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

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
