//! Sending a message: validated, stored once per idempotency key, appended to the log.

use super::{
    append_event::{append_event, store_event},
    ConversationError, Viewer,
};
use crate::db::{self, conversations::NewMessage, Pool};
use crate::realtime::protocol::{clean_body, Event, EventKind};
use uuid::Uuid;

/// The result of a send.
#[derive(Debug, Clone)]
pub struct Sent {
    pub message_id: Uuid,
    pub seq: i64,
    /// The new event to publish; `None` when the key had been stored before (a retry).
    pub event: Option<Event>,
    /// An event the message caused, to publish before it: an agent's first reply to an
    /// unassigned conversation makes them its agent (`assigned`); a visitor writing in a
    /// resolved conversation reopens it (`status` waiting, same history).
    pub preceding: Option<Event>,
}

/// What the sender wrote.
#[derive(Debug, Clone, Copy)]
pub struct MessageDraft<'a> {
    /// The client's idempotency key.
    pub key: &'a str,
    pub body: &'a str,
    /// A private note (agents only).
    pub note: bool,
    /// A file uploaded for this conversation to send with the message.
    pub attachment: Option<Uuid>,
}

/// Stores a message by `viewer` (whose access the caller has checked). A retry with the same
/// key returns the stored message and stores nothing: the unique constraint on
/// (conversation, key) decides, so concurrent retries cannot both insert.
pub async fn send_message(
    pool: &Pool,
    viewer: &Viewer,
    conversation_id: Uuid,
    draft: MessageDraft<'_>,
) -> Result<Sent, ConversationError> {
    let MessageDraft {
        key,
        body,
        note,
        attachment,
    } = draft;
    if key.is_empty() || key.len() > 100 {
        return Err(ConversationError::InvalidKey);
    }
    if note && !viewer.is_agent() {
        return Err(ConversationError::NoteNotAllowed);
    }
    if let Some((message_id, seq)) =
        db::conversations::message_by_key(pool, conversation_id, key).await?
    {
        return Ok(Sent {
            message_id,
            seq,
            event: None,
            preceding: None,
        });
    }
    // A file of this conversation that no message carries yet.
    let attachment = match attachment {
        Some(id) => Some(
            db::attachments::unsent(pool, id, conversation_id)
                .await?
                .ok_or(ConversationError::NoSuchAttachment)?,
        ),
        None => None,
    };
    // A file may go without words: its name stands in for them.
    let body = match (&attachment, body.trim().is_empty()) {
        (Some(a), true) => a.filename.as_str(),
        _ => body,
    };
    let body = clean_body(body).map_err(ConversationError::InvalidBody)?;
    let author = viewer.author();
    let (author_kind, user_id, contact_id) = match viewer {
        Viewer::Visitor { contact_id, .. } => ("visitor", None, Some(*contact_id)),
        Viewer::Agent { user_id, .. } => ("agent", Some(*user_id), None),
    };
    let mut tx = pool.begin().await?;
    let preceding = match viewer {
        Viewer::Agent { user_id, name } if !note => {
            if db::conversations::claim_if_unassigned(&mut *tx, conversation_id, *user_id).await? {
                let kind = EventKind::Assigned {
                    agent_id: Some(*user_id),
                    agent_name: Some(name.clone()),
                };
                Some(append_event(&mut tx, conversation_id, kind).await?)
            } else {
                None
            }
        }
        Viewer::Visitor { .. } => {
            if db::conversations::reopen_if_resolved(&mut *tx, conversation_id).await? {
                let kind = EventKind::Status {
                    status: "waiting".into(),
                };
                Some(append_event(&mut tx, conversation_id, kind).await?)
            } else {
                None
            }
        }
        _ => None,
    };
    let seq = db::conversations::next_seq(&mut *tx, conversation_id).await?;
    let inserted = db::conversations::insert_message(
        &mut *tx,
        NewMessage {
            conversation_id,
            seq,
            author_kind,
            author_user_id: user_id,
            author_contact_id: contact_id,
            body,
            private_note: note,
            key,
        },
    )
    .await?;
    let Some(message_id) = inserted else {
        // A concurrent retry stored it first: give back the stored one, use no sequence number.
        tx.rollback().await?;
        let (message_id, seq) = db::conversations::message_by_key(pool, conversation_id, key)
            .await?
            .ok_or(ConversationError::NotFound)?;
        return Ok(Sent {
            message_id,
            seq,
            event: None,
            preceding: None,
        });
    };
    if let Some(a) = &attachment {
        if !db::attachments::link(&mut *tx, a.id, message_id).await? {
            // Sent with another message meanwhile; dropping `tx` rolls this one back.
            return Err(ConversationError::NoSuchAttachment);
        }
    }
    // The message row took `seq`; the event row records it under the same number.
    let kind = EventKind::Message {
        message_id,
        author,
        body: body.to_string(),
        note,
        key: key.to_string(),
        attachment,
    };
    let event = store_event(&mut tx, conversation_id, seq, kind).await?;
    tx.commit().await?;
    Ok(Sent {
        message_id,
        seq,
        event: Some(event),
        preceding,
    })
}
