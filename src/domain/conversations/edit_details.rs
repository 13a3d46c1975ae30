//! Rename a conversation and tag it: both searchable later, both seen live by other agents.

use super::{access::visible_conversation, append_event::append_event, ConversationError, Viewer};
use crate::db::{self, Pool};
use crate::realtime::protocol::{Event, EventKind};
use uuid::Uuid;

/// The longest title.
pub const MAX_TITLE: usize = 120;
/// How many tags one conversation may carry.
pub const MAX_TAGS: usize = 20;

/// A tag as stored: trimmed, lowercase, 1–32 letters, digits, spaces, `-` or `_`.
pub fn clean_tag(raw: &str) -> Result<String, ConversationError> {
    let tag = raw
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let ok = (1..=32).contains(&tag.chars().count())
        && tag
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_');
    if ok {
        Ok(tag)
    } else {
        Err(ConversationError::InvalidBody(
            "A tag is 1–32 letters, digits, spaces, - or _.".into(),
        ))
    }
}

/// Renames `conversation` (an empty title clears it); the `details` event to publish.
pub async fn rename_conversation(
    pool: &Pool,
    agent: &Viewer,
    conversation: Uuid,
    title: &str,
) -> Result<Event, ConversationError> {
    if !agent.is_agent() {
        return Err(ConversationError::Forbidden);
    }
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.chars().count() > MAX_TITLE {
        return Err(ConversationError::InvalidBody(format!(
            "A title is at most {MAX_TITLE} characters."
        )));
    }
    visible_conversation(pool, agent, conversation).await?;
    let mut tx = pool.begin().await?;
    let (title, tags) = db::workspace::rename(
        &mut *tx,
        conversation,
        Some(title.as_str()).filter(|t| !t.is_empty()),
    )
    .await?;
    let event = append_event(&mut tx, conversation, EventKind::Details { title, tags }).await?;
    tx.commit().await?;
    Ok(event)
}

/// Adds (`add`) or removes a tag; the `details` event to publish.
pub async fn change_tag(
    pool: &Pool,
    agent: &Viewer,
    conversation: Uuid,
    raw: &str,
    add: bool,
) -> Result<Event, ConversationError> {
    if !agent.is_agent() {
        return Err(ConversationError::Forbidden);
    }
    let tag = clean_tag(raw)?;
    let conv = visible_conversation(pool, agent, conversation).await?;
    let mut tx = pool.begin().await?;
    let (title, tags) = db::workspace::change_tag(&mut *tx, conv.id, &tag, add).await?;
    if tags.len() > MAX_TAGS {
        // Rolled back with the transaction.
        return Err(ConversationError::InvalidBody(format!(
            "A conversation carries at most {MAX_TAGS} tags."
        )));
    }
    let event = append_event(&mut tx, conversation, EventKind::Details { title, tags }).await?;
    tx.commit().await?;
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::clean_tag;

    #[test]
    fn tags_are_trimmed_lowercased_and_checked() {
        assert_eq!(clean_tag("  Billing   Issue ").unwrap(), "billing issue");
        assert_eq!(clean_tag("vip_2").unwrap(), "vip_2");
        assert!(clean_tag("").is_err());
        assert!(clean_tag("<b>").is_err());
        assert!(clean_tag(&"x".repeat(33)).is_err());
    }
}
