//! Sending many messages at once: the write path under load.
//!
//! [`store_batch`] stores a batch of sends (from any conversations and senders) in ONE
//! transaction with set-based statements and one commit, so Postgres pays one fsync and a
//! handful of statements per batch instead of five statements and an fsync per message:
//!
//! 1. lock the batch's conversations (`FOR UPDATE`, in id order) and read assignee and status;
//! 2. look up the keys already stored (a retry gets the stored message back, as today);
//! 3. lock the named attachments and check each may still be sent;
//! 4. take every conversation's sequence numbers for the batch in one `UPDATE … FROM
//!    unnest(…)` (a conversation with *n* new messages moves `last_seq` by *n*);
//! 5. insert the message rows, then the event rows, each with one `INSERT … SELECT FROM
//!    unnest(…)`; link the attachments with one `UPDATE`; commit.
//!
//! The guarantees are those of [`super::send_message::send_message`], which stays the path
//! for the rare cases a batch hands back as [`Outcome::PerMessage`]:
//! - the first (non-note) agent reply in an unassigned conversation, which claims it, and a
//!   visitor writing in a resolved conversation, which reopens it: each needs an extra event
//!   *before* the message and happens once per chat, so the batch leaves them to the
//!   existing transaction rather than re-implement those rules set-wise;
//! - a second send with the same (conversation, key) within one batch: run after the batch
//!   commits, the per-message path finds the first one's row and answers `duplicate`;
//! - everything in a batch whose transaction failed (a deadlock with another writer, a key
//!   that a concurrent writer stored first): each message is then tried alone, so one bad
//!   message costs the others a retry, never their answer.
//!
//! Expected refusals (bad key, note by a visitor, empty body, a file already sent or not of
//! this conversation) are decided per message before anything is written, so they fail alone
//! and the rest of the batch is stored.

use super::{send_message::Sent, ConversationError, Viewer};
use crate::db::{
    self,
    attachments::AttachmentRow,
    message_batch::{EventRows, MessageRows},
    Pool,
};
use crate::realtime::protocol::{clean_body, AttachmentRef, Event, EventKind};
use std::collections::{HashMap, HashSet};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// One send, as the socket received it (whose access the caller has checked).
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub viewer: Viewer,
    pub conversation_id: Uuid,
    /// The client's idempotency key.
    pub key: String,
    pub body: String,
    /// A private note (agents only).
    pub note: bool,
    /// A file uploaded for this conversation to send with the message.
    pub attachment: Option<Uuid>,
}

impl SendRequest {
    /// The request as the per-message path takes it.
    pub fn draft(&self) -> super::send_message::MessageDraft<'_> {
        super::send_message::MessageDraft {
            key: &self.key,
            body: &self.body,
            note: self.note,
            attachment: self.attachment,
        }
    }
}

/// What became of one request of a batch.
// One per request of a batch that lives for one batch: boxing the answer would only add an
// allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Outcome {
    /// Answered: stored by the batch (with its event), found stored before, or refused.
    Done(Result<Sent, ConversationError>),
    /// To be sent alone with `send_message` after the batch committed (see the module doc).
    PerMessage,
}

/// A request that passed every check and will be stored by the batch.
struct Fresh {
    index: usize,
    message_id: Uuid,
    body: String,
    attachment: Option<AttachmentRef>,
}

/// Stores `requests` in one transaction; returns one [`Outcome`] per request, in order.
/// A `Done(Ok)` with an event is committed when this returns; publish it then.
pub async fn store_batch(pool: &Pool, requests: &[SendRequest]) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = requests.iter().map(|_| None).collect();
    // Checks that need no database: they fail alone, before anything is locked.
    for (i, r) in requests.iter().enumerate() {
        if r.key.is_empty() || r.key.len() > 100 {
            outcomes[i] = Some(Outcome::Done(Err(ConversationError::InvalidKey)));
        } else if r.note && !r.viewer.is_agent() {
            outcomes[i] = Some(Outcome::Done(Err(ConversationError::NoteNotAllowed)));
        }
    }
    let live: Vec<usize> = (0..requests.len())
        .filter(|i| outcomes[*i].is_none())
        .collect();
    if live.is_empty() {
        return outcomes.into_iter().map(Option::unwrap).collect();
    }
    match write(pool, requests, &live, &mut outcomes).await {
        Ok(()) => {}
        Err(e) => {
            // Nothing of this batch was stored: every message that was not refused on its own
            // is tried alone, so whatever failed fails only itself.
            tracing::warn!(error = %e, size = live.len(), "batch write failed; sending its messages one by one");
            metrics::counter!("switchboard_write_batches_failed_total").increment(1);
            for &i in &live {
                if !matches!(outcomes[i], Some(Outcome::Done(Err(_)))) {
                    outcomes[i] = Some(Outcome::PerMessage);
                }
            }
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::PerMessage))
        .collect()
}

/// The transaction of [`store_batch`] over the requests at `live`. On `Err` nothing was
/// stored and the caller hands the requests to the per-message path; `Done(Ok)` outcomes
/// with an event are set only once the commit succeeded.
async fn write(
    pool: &Pool,
    requests: &[SendRequest],
    live: &[usize],
    outcomes: &mut [Option<Outcome>],
) -> Result<(), sqlx::Error> {
    let mut conv_ids: Vec<Uuid> = live.iter().map(|&i| requests[i].conversation_id).collect();
    conv_ids.sort_unstable();
    conv_ids.dedup();
    let mut tx = pool.begin().await?;
    let conversations: HashMap<Uuid, db::message_batch::LockedConversation> =
        db::message_batch::lock_conversations(&mut tx, &conv_ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    let (kc, kk): (Vec<Uuid>, Vec<String>) = live
        .iter()
        .map(|&i| (requests[i].conversation_id, requests[i].key.clone()))
        .unzip();
    let stored: HashMap<(Uuid, String), (Uuid, i64)> =
        db::message_batch::stored_keys(&mut tx, &kc, &kk)
            .await?
            .into_iter()
            .map(|(c, k, id, seq)| ((c, k), (id, seq)))
            .collect();
    let wanted_files: Vec<Uuid> = live
        .iter()
        .filter_map(|&i| requests[i].attachment)
        .collect();
    let files: HashMap<Uuid, AttachmentRow> = if wanted_files.is_empty() {
        HashMap::new()
    } else {
        db::message_batch::lock_attachments(&mut tx, &wanted_files, &conv_ids)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect()
    };

    // Decide each request, in arrival order.
    let mut seen_keys: HashSet<(Uuid, &str)> = HashSet::new();
    let mut taken_files: HashSet<Uuid> = HashSet::new();
    let mut fresh: Vec<Fresh> = Vec::new();
    for &i in live {
        let r = &requests[i];
        let Some(conv) = conversations.get(&r.conversation_id) else {
            outcomes[i] = Some(Outcome::Done(Err(ConversationError::NotFound)));
            continue;
        };
        if let Some(&(message_id, seq)) = stored.get(&(r.conversation_id, r.key.clone())) {
            outcomes[i] = Some(Outcome::Done(Ok(Sent {
                message_id,
                seq,
                event: None,
                preceding: None,
            })));
            continue;
        }
        if !seen_keys.insert((r.conversation_id, r.key.as_str())) {
            // The same key twice in one batch: answered after the first is committed.
            outcomes[i] = Some(Outcome::PerMessage);
            continue;
        }
        let claims =
            matches!(r.viewer, Viewer::Agent { .. }) && !r.note && conv.assignee_id.is_none();
        let reopens = matches!(r.viewer, Viewer::Visitor { .. }) && conv.status == "resolved";
        if claims || reopens {
            outcomes[i] = Some(Outcome::PerMessage);
            continue;
        }
        let attachment = match r.attachment {
            None => None,
            Some(id) => match files.get(&id) {
                Some(a)
                    if a.conversation_id == r.conversation_id
                        && a.message_id.is_none()
                        && taken_files.insert(id) =>
                {
                    Some(a.to_ref())
                }
                _ => {
                    outcomes[i] = Some(Outcome::Done(Err(ConversationError::NoSuchAttachment)));
                    continue;
                }
            },
        };
        // A file may go without words: its name stands in for them.
        let body = match (&attachment, r.body.trim().is_empty()) {
            (Some(a), true) => a.filename.as_str(),
            _ => r.body.as_str(),
        };
        let body = match clean_body(body) {
            Ok(b) => b.to_string(),
            Err(e) => {
                if let Some(a) = &attachment {
                    taken_files.remove(&a.id);
                }
                outcomes[i] = Some(Outcome::Done(Err(ConversationError::InvalidBody(e))));
                continue;
            }
        };
        fresh.push(Fresh {
            index: i,
            message_id: Uuid::new_v4(),
            body,
            attachment,
        });
    }
    if fresh.is_empty() {
        tx.rollback().await?;
        return Ok(());
    }

    // Sequence numbers: each conversation moves by its count, once, for the whole batch.
    let mut counts: HashMap<Uuid, i64> = HashMap::new();
    for f in &fresh {
        *counts.entry(requests[f.index].conversation_id).or_default() += 1;
    }
    let (ids, ns): (Vec<Uuid>, Vec<i64>) = counts.iter().map(|(c, n)| (*c, *n)).unzip();
    let mut next: HashMap<Uuid, i64> = HashMap::new();
    for (id, last) in db::message_batch::take_seqs(&mut tx, &ids, &ns).await? {
        next.insert(id, last - counts[&id] + 1);
    }
    if next.len() != counts.len() {
        return Err(sqlx::Error::Protocol(
            "a locked conversation was not updated".into(),
        ));
    }

    let mut messages = MessageRows::default();
    let mut events = EventRows::default();
    let mut kinds: Vec<(usize, i64, EventKind)> = Vec::with_capacity(fresh.len());
    let (mut file_ids, mut file_msgs) = (Vec::new(), Vec::new());
    for f in fresh {
        let r = &requests[f.index];
        let seq = {
            let n = next.get_mut(&r.conversation_id).expect("counted above");
            *n += 1;
            *n - 1
        };
        let (author_kind, user_id, contact_id) = match &r.viewer {
            Viewer::Visitor { contact_id, .. } => ("visitor", None, Some(*contact_id)),
            Viewer::Agent { user_id, .. } => ("agent", Some(*user_id), None),
        };
        if let Some(a) = &f.attachment {
            file_ids.push(a.id);
            file_msgs.push(f.message_id);
        }
        messages.id.push(f.message_id);
        messages.conversation_id.push(r.conversation_id);
        messages.seq.push(seq);
        messages.author_kind.push(author_kind);
        messages.author_user_id.push(user_id);
        messages.author_contact_id.push(contact_id);
        messages.body.push(f.body.clone());
        messages.private_note.push(r.note);
        messages.key.push(r.key.clone());
        // The message row took `seq`; the event row records it under the same number.
        let kind = EventKind::Message {
            message_id: f.message_id,
            author: r.viewer.author(),
            body: f.body,
            note: r.note,
            key: r.key.clone(),
            attachment: f.attachment,
        };
        events.conversation_id.push(r.conversation_id);
        events.seq.push(seq);
        events.kind.push(kind.name());
        events
            .payload
            .push(serde_json::to_value(&kind).unwrap_or_default());
        events.agents_only.push(kind.agents_only());
        kinds.push((f.index, seq, kind));
    }
    let inserted = db::message_batch::insert_messages(&mut tx, &messages).await?;
    if inserted != messages.id.len() as u64 {
        // Cannot happen while every writer takes the conversation's row lock before
        // inserting; if it does, roll back rather than leave a hole in the sequence.
        return Err(sqlx::Error::Protocol(
            "a key of the batch was stored concurrently".into(),
        ));
    }
    let at = db::message_batch::insert_events(&mut tx, &events)
        .await?
        .map(|t| t.format(&Rfc3339).unwrap_or_default())
        .unwrap_or_default();
    if !file_ids.is_empty()
        && db::message_batch::link_attachments(&mut tx, &file_ids, &file_msgs).await?
            != file_ids.len() as u64
    {
        return Err(sqlx::Error::Protocol(
            "a locked attachment was taken".into(),
        ));
    }
    tx.commit().await?;
    metrics::histogram!("switchboard_write_batch_size").record(kinds.len() as f64);
    for (i, seq, kind) in kinds {
        let r = &requests[i];
        let message_id = match &kind {
            EventKind::Message { message_id, .. } => *message_id,
            _ => unreachable!("the batch stores messages only"),
        };
        outcomes[i] = Some(Outcome::Done(Ok(Sent {
            message_id,
            seq,
            event: Some(Event {
                conversation_id: r.conversation_id,
                seq,
                at: at.clone(),
                kind,
            }),
            preceding: None,
        })));
    }
    Ok(())
}

/// Stores `requests` like the writer does — one batch, then the per-message path for what
/// the batch handed back — and returns one answer per request, in order. Publishing is the
/// caller's; the node's writer (`realtime::writer`) does the same steps and publishes.
pub async fn send_batch(
    pool: &Pool,
    requests: &[SendRequest],
) -> Vec<Result<Sent, ConversationError>> {
    let outcomes = store_batch(pool, requests).await;
    let mut answers = Vec::with_capacity(requests.len());
    for (r, o) in requests.iter().zip(outcomes) {
        answers.push(match o {
            Outcome::Done(result) => result,
            Outcome::PerMessage => {
                super::send_message::send_message(pool, &r.viewer, r.conversation_id, r.draft())
                    .await
            }
        });
    }
    answers
}
