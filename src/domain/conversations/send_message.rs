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

/// Stores a message by `viewer` (whose access the caller has checked). A retry with the same
/// key returns the stored message and stores nothing: the unique constraint on
/// (conversation, key) decides, so concurrent retries cannot both insert.
pub async fn send_message(
    pool: &Pool,
    viewer: &Viewer,
    conversation_id: Uuid,
    key: &str,
    body: &str,
    note: bool,
) -> Result<Sent, ConversationError> {
    if key.is_empty() || key.len() > 100 {
        return Err(ConversationError::InvalidKey);
    }
    let body = clean_body(body).map_err(ConversationError::InvalidBody)?;
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
    // The message row took `seq`; the event row records it under the same number.
    let kind = EventKind::Message {
        message_id,
        author,
        body: body.to_string(),
        note,
        key: key.to_string(),
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
