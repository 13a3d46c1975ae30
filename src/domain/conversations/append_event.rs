//! Appends one event to a conversation's log inside the caller's transaction.

use crate::db;
use crate::realtime::protocol::{Event, EventKind};
use sqlx::PgConnection;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// Takes the next sequence number and stores the event; the caller commits, then publishes.
pub async fn append_event(
    tx: &mut PgConnection,
    conversation_id: Uuid,
    kind: EventKind,
) -> sqlx::Result<Event> {
    let seq = db::conversations::next_seq(&mut *tx, conversation_id).await?;
    store_event(tx, conversation_id, seq, kind).await
}

/// Stores the event under a sequence number the caller already took in this transaction
/// (a message takes it first, for its own row).
pub async fn store_event(
    tx: &mut PgConnection,
    conversation_id: Uuid,
    seq: i64,
    kind: EventKind,
) -> sqlx::Result<Event> {
    let payload = serde_json::to_value(&kind).unwrap_or_default();
    let at = db::conversations::insert_event(
        &mut *tx,
        conversation_id,
        seq,
        kind.name(),
        &payload,
        kind.agents_only(),
    )
    .await?;
    Ok(Event {
        conversation_id,
        seq,
        at: at.format(&Rfc3339).unwrap_or_default(),
        kind,
    })
}

/// Rebuilds an event from its stored row.
pub fn event_from_row(row: &db::conversations::EventRow) -> Option<Event> {
    let kind: EventKind = serde_json::from_value(row.payload.clone()).ok()?;
    Some(Event {
        conversation_id: row.conversation_id,
        seq: row.seq,
        at: row.created_at.format(&Rfc3339).unwrap_or_default(),
        kind,
    })
}
