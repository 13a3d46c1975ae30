//! "Transfer": an agent hands a chat to another agent or to a group, with an optional note
//! the receiving side reads (agents only). A chat transferred to a group waits in that
//! group's queue, where its level-2 specialists may take it too.

use super::{access::visible_conversation, append_event::append_event, ConversationError, Viewer};
use crate::db::{self, Pool};
use crate::realtime::protocol::{Event, EventKind};
use uuid::Uuid;

/// Where a chat goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferTarget {
    Agent(Uuid),
    Group(Uuid),
}

/// The longest transfer note.
pub const MAX_NOTE: usize = 1000;

/// Transfers `conversation`; `expected` is the assignee the actor saw. Returns the events to
/// publish: the assignment change, then the transfer (with the note).
pub async fn transfer_conversation(
    pool: &Pool,
    actor: &Viewer,
    conversation: Uuid,
    expected: Option<Uuid>,
    target: TransferTarget,
    note: Option<&str>,
) -> Result<Vec<Event>, ConversationError> {
    let Viewer::Agent { name: by, .. } = actor else {
        return Err(ConversationError::Forbidden);
    };
    let conv = visible_conversation(pool, actor, conversation).await?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(ConversationError::InvalidBody(format!(
            "A transfer note is at most {MAX_NOTE} characters."
        )));
    }
    let mut tx = pool.begin().await?;
    let (moved, assigned, to) = match target {
        TransferTarget::Agent(agent) => {
            let agents = db::workspace::site_agents(pool, conv.site_id).await?;
            let Some(a) = agents.into_iter().find(|a| a.id == agent) else {
                return Err(ConversationError::BadTarget(
                    "That agent does not work on this site.".into(),
                ));
            };
            // A site's transfer rule: level-2 specialists are reached through their group
            // unless the admin allows choosing them directly.
            if a.level == Some(2)
                && !db::workspace::direct_level2_allowed(pool, conv.site_id).await?
            {
                return Err(ConversationError::BadTarget(format!(
                    "{} is a level-2 specialist: transfer to their group instead.",
                    a.name
                )));
            }
            let moved =
                db::workspace::transfer_to_agent(&mut *tx, conversation, expected, agent).await?;
            let assigned = EventKind::Assigned {
                agent_id: Some(agent),
                agent_name: Some(a.name.clone()),
            };
            (moved, assigned, a.name)
        }
        TransferTarget::Group(group) => {
            let groups = db::workspace::site_groups(pool, conv.site_id).await?;
            let Some(g) = groups.into_iter().find(|g| g.id == group) else {
                return Err(ConversationError::BadTarget(
                    "That group does not belong to this site.".into(),
                ));
            };
            if g.members == 0 {
                return Err(ConversationError::BadTarget(format!(
                    "The group {} has no members yet.",
                    g.name
                )));
            }
            let moved =
                db::workspace::transfer_to_group(&mut *tx, conversation, expected, group).await?;
            let assigned = EventKind::Assigned {
                agent_id: None,
                agent_name: None,
            };
            (moved, assigned, g.name)
        }
    };
    if !moved {
        return Err(ConversationError::Changed);
    }
    let first = append_event(&mut tx, conversation, assigned).await?;
    let second = append_event(
        &mut tx,
        conversation,
        EventKind::Transferred {
            by: by.clone(),
            to,
            note: note.map(str::to_string),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(vec![first, second])
}
