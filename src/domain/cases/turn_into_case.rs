//! "Turn chat into case": a resolved chat that needs follow-up becomes an open case. The case
//! takes the contact's name, email and phone and the visitor's first message; its first note,
//! by the agent, links to the transcript so whoever picks the case up can read the chat.

use crate::db::{self, cases::NewChatCase, Pool};
use uuid::Uuid;

/// Why a chat could not become a case.
#[derive(Debug, thiserror::Error)]
pub enum TurnIntoCaseError {
    #[error("No such conversation.")]
    NotFound,
    #[error("You may not see this conversation.")]
    Forbidden,
    #[error("Only a resolved chat can become a case.")]
    NotResolved,
    #[error("This chat is already a case.")]
    AlreadyCase,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// The path of a conversation's transcript in the agent workspace.
pub fn transcript_path(conversation_id: Uuid) -> String {
    format!("/agent/c/{conversation_id}")
}

/// The case's message: the visitor's first words, or a stand-in when they wrote nothing.
fn case_message(first_message: Option<&str>, name: Option<&str>) -> String {
    match first_message.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => m.to_string(),
        None => format!(
            "Chat with {}",
            name.map(str::trim)
                .filter(|n| !n.is_empty())
                .unwrap_or("Visitor")
        ),
    }
}

/// Makes a case of `conversation_id` for `agent` (who must see its site); returns its id.
/// One transaction: the conversation is share-locked (it cannot be reopened meanwhile), the
/// case and its transcript note are stored together, and the unique index on the case's
/// conversation makes a concurrent second attempt an `AlreadyCase`.
pub async fn turn_chat_into_case(
    pool: &Pool,
    agent: Uuid,
    conversation_id: Uuid,
) -> Result<Uuid, TurnIntoCaseError> {
    let mut tx = pool.begin().await?;
    let chat = db::cases::chat_for_case(&mut *tx, conversation_id)
        .await?
        .ok_or(TurnIntoCaseError::NotFound)?;
    if !db::conversations::agent_can_see_site(&mut *tx, agent, chat.site_id).await? {
        return Err(TurnIntoCaseError::Forbidden);
    }
    if chat.status != "resolved" {
        return Err(TurnIntoCaseError::NotResolved);
    }
    let message = case_message(chat.first_message.as_deref(), chat.name.as_deref());
    let id = db::cases::insert_from_chat(
        &mut *tx,
        NewChatCase {
            site_id: chat.site_id,
            contact_id: chat.contact_id,
            conversation_id,
            name: chat.name.as_deref(),
            email: chat.email.as_deref(),
            phone: chat.phone.as_deref(),
            message: &message,
        },
    )
    .await?
    .ok_or(TurnIntoCaseError::AlreadyCase)?;
    let note = format!("Transcript: {}", transcript_path(conversation_id));
    db::cases::insert_note(&mut *tx, id, agent, &note).await?;
    tx.commit().await?;
    tracing::info!(case = %id, conversation = %conversation_id, agent = %agent, "chat turned into a case");
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_the_first_words_or_a_stand_in() {
        assert_eq!(
            case_message(Some("  Where is my order? "), Some("Vera")),
            "Where is my order?"
        );
        assert_eq!(case_message(None, Some("Vera")), "Chat with Vera");
        assert_eq!(case_message(Some(" "), None), "Chat with Visitor");
        assert_eq!(case_message(None, Some("  ")), "Chat with Visitor");
    }

    #[test]
    fn the_transcript_path_is_the_workspace_route() {
        let id = Uuid::from_u128(7);
        assert_eq!(transcript_path(id), format!("/agent/c/{id}"));
    }
}
