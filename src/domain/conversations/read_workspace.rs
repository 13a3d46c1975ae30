//! What the agent workspace reads: its lists and one conversation with its visitor. Lists
//! apply the visibility rule in SQL (`db::workspace`); one conversation is checked here.

use super::{access::visible_conversation, ConversationError, Viewer};
use crate::db::{self, workspace::*, Pool};
use uuid::Uuid;

/// The largest page of a list (the dashboard asks for more with "Show more").
pub const MAX_PAGE: i64 = 1000;

/// One conversation as the pane shows it, with who may receive it.
#[derive(Debug, Clone)]
pub struct ConversationDetail {
    pub conversation: DetailRow,
    pub previous: Vec<PastRow>,
    pub agents: Vec<TargetAgent>,
    pub groups: Vec<TargetGroup>,
}

/// A conversation the agent may see, with its visitor, history and transfer targets.
pub async fn conversation_detail(
    pool: &Pool,
    agent: &Viewer,
    id: Uuid,
) -> Result<ConversationDetail, ConversationError> {
    if !agent.is_agent() {
        return Err(ConversationError::Forbidden);
    }
    visible_conversation(pool, agent, id).await?;
    let conversation = db::workspace::detail(pool, id)
        .await?
        .ok_or(ConversationError::NotFound)?;
    let previous = db::workspace::previous(pool, conversation.contact_id, id).await?;
    let agents = db::workspace::site_agents(pool, conversation.site_id).await?;
    let groups = db::workspace::site_groups(pool, conversation.site_id).await?;
    Ok(ConversationDetail {
        conversation,
        previous,
        agents,
        groups,
    })
}

/// The "Waiting" list page of `user`.
pub async fn waiting(pool: &Pool, user: Uuid, limit: i64) -> sqlx::Result<(Vec<ListRow>, i64)> {
    db::workspace::waiting(pool, user, limit.clamp(1, MAX_PAGE)).await
}

/// The "Chatting" list page of `user`: rows, total, and how many are theirs.
pub async fn chatting(
    pool: &Pool,
    user: Uuid,
    limit: i64,
) -> sqlx::Result<(Vec<ListRow>, i64, i64)> {
    db::workspace::chatting(pool, user, limit.clamp(1, MAX_PAGE)).await
}
