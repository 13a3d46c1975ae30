//! "Assign to me": an agent takes a waiting chat. Two agents racing for the same chat: exactly
//! one wins (a conditional update), the other is told. "Assign": an agent hands a chat to a
//! chosen colleague, conditional on the assignee they saw.

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
    // Seeing a chat (group members keep read access) is not serving it: level-2 specialists
    // take only chats transferred to their group.
    if !db::workspace::may_serve(pool, *user_id, conversation).await? {
        return Err(ConversationError::BadTarget(
            "Level-2 specialists take only chats transferred to their group.".into(),
        )
        .into());
    }
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

/// "Assign": gives a conversation to `target` (who must work on its site). `expected` is the
/// assignee the actor saw; if it changed meanwhile nothing happens and they are told.
pub async fn assign_to_agent(
    pool: &Pool,
    actor: &Viewer,
    conversation: Uuid,
    expected: Option<Uuid>,
    target: Uuid,
) -> Result<Event, ConversationError> {
    if !actor.is_agent() {
        return Err(ConversationError::Forbidden);
    }
    let conv = visible_conversation(pool, actor, conversation).await?;
    let agents = db::workspace::site_agents(pool, conv.site_id).await?;
    let Some(to) = agents.iter().find(|a| a.id == target) else {
        return Err(ConversationError::BadTarget(
            "That agent does not work on this site.".into(),
        ));
    };
    let mut tx = pool.begin().await?;
    if !db::workspace::reassign(&mut *tx, conversation, expected, target).await? {
        return Err(ConversationError::Changed);
    }
    let event = append_event(
        &mut tx,
        conversation,
        EventKind::Assigned {
            agent_id: Some(target),
            agent_name: Some(to.name.clone()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(event)
}
