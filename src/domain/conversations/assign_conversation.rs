//! "Assign to me": an agent takes a waiting chat. Two agents racing for the same chat: exactly
//! one wins (a conditional update), the other is told.

use super::{access::visible_conversation, append_event::append_event, ConversationError, Viewer};
use crate::db::{self, Pool};
use crate::realtime::protocol::{Event, EventKind};
use uuid::Uuid;

/// Why a chat could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum AssignError {
    #[error("Someone else took this chat, or it is no longer waiting.")]
    Taken,
    #[error(transparent)]
    Conversation(#[from] ConversationError),
}

impl From<sqlx::Error> for AssignError {
    fn from(e: sqlx::Error) -> Self {
        AssignError::Conversation(ConversationError::Db(e))
    }
}

/// Assigns a waiting conversation to `agent`; returns the `assigned` event to publish.
pub async fn assign_to_me(
    pool: &Pool,
    agent: &Viewer,
    conversation: Uuid,
) -> Result<Event, AssignError> {
    let Viewer::Agent { user_id, name } = agent else {
        return Err(ConversationError::Forbidden.into());
    };
    visible_conversation(pool, agent, conversation).await?;
    let mut tx = pool.begin().await?;
    if !db::conversations::take_waiting(&mut *tx, conversation, *user_id).await? {
        return Err(AssignError::Taken);
    }
    let event = append_event(
        &mut tx,
        conversation,
        EventKind::Assigned {
            agent_id: Some(*user_id),
            agent_name: Some(name.clone()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(event)
}
