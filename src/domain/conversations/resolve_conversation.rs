//! An agent resolves a conversation: the visitor is told, and may rate it. A visitor's next
//! message reopens it (see `send_message`).

use super::{access::visible_conversation, append_event::append_event, ConversationError, Viewer};
use crate::db::{self, Pool};
use crate::realtime::protocol::{Event, EventKind};
use uuid::Uuid;

/// Resolves `conversation` as `agent`. Returns the `status` event to publish, or `None` when
/// it was resolved already (resolving twice changes nothing).
pub async fn resolve_conversation(
    pool: &Pool,
    agent: &Viewer,
    conversation: Uuid,
) -> Result<Option<Event>, ConversationError> {
    if !agent.is_agent() {
        return Err(ConversationError::Forbidden);
    }
    visible_conversation(pool, agent, conversation).await?;
    let mut tx = pool.begin().await?;
    if !db::conversations::set_resolved(&mut *tx, conversation).await? {
        return Ok(None);
    }
    let event = append_event(
        &mut tx,
        conversation,
        EventKind::Status {
            status: "resolved".into(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(event))
}
