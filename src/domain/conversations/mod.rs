//! Conversations: who may see one, and the actions that append to its event log.
//! Every persisted event takes the conversation's next sequence number in the same
//! transaction as the change it records.

pub mod access;
pub mod append_event;
pub mod assign_conversation;
pub mod auto_assign;
pub mod edit_details;
pub mod post_system_message;
pub mod rate_conversation;
pub mod read_workspace;
pub mod record_receipt;
pub mod reopen_conversation;
pub mod resolve_conversation;
pub mod send_batch;
pub mod send_busy_replies;
pub mod send_message;
pub mod start_chat;
pub mod start_conversation;
pub mod transfer_conversation;

use crate::realtime::protocol::{Author, ErrorCode, Side};
use uuid::Uuid;

/// Who is acting on a conversation.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// A visitor, with their contact.
    Visitor { contact_id: Uuid, name: String },
    /// A staff member.
    Agent { user_id: Uuid, name: String },
}

impl Viewer {
    /// Whether this viewer is staff (sees private notes).
    pub fn is_agent(&self) -> bool {
        matches!(self, Viewer::Agent { .. })
    }

    /// This viewer as the author of a message or a typing indicator.
    pub fn author(&self) -> Author {
        match self {
            Viewer::Visitor { contact_id, name } => Author {
                side: Side::Visitor,
                id: Some(*contact_id),
                name: name.clone(),
            },
            Viewer::Agent { user_id, name } => Author {
                side: Side::Agent,
                id: Some(*user_id),
                name: name.clone(),
            },
        }
    }
}

/// What can go wrong acting on a conversation.
#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error("No such conversation.")]
    NotFound,
    #[error("You may not see this conversation.")]
    Forbidden,
    #[error("{0}")]
    InvalidBody(String),
    #[error("Visitors cannot write private notes.")]
    NoteNotAllowed,
    #[error("The idempotency key must be 1–100 characters.")]
    InvalidKey,
    #[error("That file is not available to send (upload it to this conversation first).")]
    NoSuchAttachment,
    /// The chat changed since the agent looked (taken, transferred or resolved meanwhile).
    #[error("This chat changed meanwhile (someone else took, transferred or resolved it); the current state is shown now.")]
    Changed,
    /// The chosen agent or group cannot receive this chat.
    #[error("{0}")]
    BadTarget(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

impl ConversationError {
    /// The error code sent on the socket.
    pub fn code(&self) -> ErrorCode {
        match self {
            ConversationError::NotFound => ErrorCode::NotFound,
            ConversationError::Forbidden | ConversationError::NoteNotAllowed => {
                ErrorCode::Forbidden
            }
            ConversationError::InvalidBody(_)
            | ConversationError::InvalidKey
            | ConversationError::NoSuchAttachment
            | ConversationError::Changed
            | ConversationError::BadTarget(_) => ErrorCode::InvalidBody,
            ConversationError::Db(_) => ErrorCode::Internal,
        }
    }
}
