//! The site speaks on its own: the auto-greeting when a chat starts and the busy reply when
//! nobody has answered in time. Each is a `system` message under a fixed idempotency key, so
//! it is posted at most once per conversation even when two nodes try at the same moment.

use super::append_event::store_event;
use crate::db::{self, conversations::NewMessage};
use crate::realtime::protocol::{Author, Event, EventKind, Side};
use sqlx::PgConnection;
use uuid::Uuid;

/// Posts `body` as a system message signed `site_name` inside the caller's transaction;
/// `None` (and the caller should roll back) when a message with `key` is already there.
pub async fn post_system_message(
    tx: &mut PgConnection,
    conversation_id: Uuid,
    site_name: &str,
    body: &str,
    key: &str,
) -> sqlx::Result<Option<Event>> {
    // Taking the sequence number locks the conversation row first, so a concurrent poster
    // of the same key has committed (and is seen below) or waits behind us.
    let seq = db::conversations::next_seq(&mut *tx, conversation_id).await?;
    if db::conversations::message_by_key(&mut *tx, conversation_id, key)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let Some(message_id) = db::conversations::insert_message(
        &mut *tx,
        NewMessage {
            conversation_id,
            seq,
            author_kind: "system",
            author_user_id: None,
            author_contact_id: None,
            body,
            private_note: false,
            key,
        },
    )
    .await?
    else {
        return Ok(None);
    };
    let kind = EventKind::Message {
        message_id,
        author: Author {
            side: Side::System,
            id: None,
            name: site_name.to_string(),
        },
        body: body.to_string(),
        note: false,
        key: key.to_string(),
        attachment: None,
    };
    store_event(tx, conversation_id, seq, kind).await.map(Some)
}
