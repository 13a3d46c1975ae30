//! Who may see a conversation: its own visitor; admins; agents of a group of its site
//! (or its assignee). Checked on every subscribe and write, never taken from the client.

use super::{ConversationError, Viewer};
use crate::db::{self, conversations::ConversationRow, Pool};
use uuid::Uuid;

/// The conversation, if `viewer` may see it. Another visitor's conversation reads as
/// "not found"-like `Forbidden` with no detail, so nothing about it leaks.
pub async fn visible_conversation(
    pool: &Pool,
    viewer: &Viewer,
    conversation_id: Uuid,
) -> Result<ConversationRow, ConversationError> {
    let conv = db::conversations::find(pool, conversation_id)
        .await?
        .ok_or(ConversationError::Forbidden)?;
    let allowed = match viewer {
        Viewer::Visitor { contact_id, .. } => conv.contact_id == *contact_id,
        Viewer::Agent { user_id, .. } => {
            conv.assignee_id == Some(*user_id)
                || db::conversations::agent_can_see_site(pool, *user_id, conv.site_id).await?
        }
    };
    if allowed {
        Ok(conv)
    } else {
        Err(ConversationError::Forbidden)
    }
}
