//! "Reopen" on a resolved chat: back to the agent who had it, or to the queue.

use super::{access::visible_conversation, append_event::append_event, ConversationError, Viewer};
use crate::db::{self, Pool};
use crate::realtime::protocol::{Event, EventKind};
use uuid::Uuid;

/// Reopens `conversation`; the `status` event to publish. A chat that is not resolved (someone
/// reopened it first, or the visitor wrote again) is a [`ConversationError::Changed`].
pub async fn reopen_conversation(
    pool: &Pool,
    agent: &Viewer,
    conversation: Uuid,
) -> Result<Event, ConversationError> {
    if !agent.is_agent() {
        return Err(ConversationError::Forbidden);
    }
    visible_conversation(pool, agent, conversation).await?;
    let mut tx = pool.begin().await?;
    let Some(status) = db::workspace::reopen(&mut *tx, conversation).await? else {
        return Err(ConversationError::Changed);
    };
    let event = append_event(&mut tx, conversation, EventKind::Status { status }).await?;
    tx.commit().await?;
    Ok(event)
}
