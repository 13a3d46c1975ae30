//! Delivery and read receipts: the other side's messages up to a sequence number.

use super::{append_event::append_event, ConversationError, Viewer};
use crate::db::{self, Pool};
use crate::realtime::protocol::{Event, EventKind, Side};
use uuid::Uuid;

/// Marks the other side's messages up to `up_to_seq` delivered (or read). Returns the event to
/// publish, or `None` when nothing changed (repeats cost one UPDATE and send nothing).
pub async fn record_receipt(
    pool: &Pool,
    viewer: &Viewer,
    conversation_id: Uuid,
    up_to_seq: i64,
    read: bool,
) -> Result<Option<Event>, ConversationError> {
    let (by, other) = match viewer {
        Viewer::Visitor { .. } => (Side::Visitor, "agent"),
        Viewer::Agent { .. } => (Side::Agent, "visitor"),
    };
    let mut tx = pool.begin().await?;
    let changed =
        db::conversations::mark_receipt(&mut *tx, conversation_id, other, up_to_seq, read).await?;
    let Some(max_seq) = changed else {
        tx.rollback().await?;
        return Ok(None);
    };
    let kind = if read {
        EventKind::Read {
            by,
            up_to_seq: max_seq,
        }
    } else {
        EventKind::Delivered {
            by,
            up_to_seq: max_seq,
        }
    };
    let event = append_event(&mut tx, conversation_id, kind).await?;
    tx.commit().await?;
    Ok(Some(event))
}
