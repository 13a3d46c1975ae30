//! The node's message writer: one task that stores every `send` of this node in batches.
//!
//! Socket handlers hand their sends to [`Writer::send`] and wait for the answer. The task takes
//! whatever is queued (up to [`MAX_BATCH`]), stores it with
//! [`store_batch`](crate::domain::conversations::send_batch::store_batch) — one transaction,
//! set-based statements, one commit, so group commit spreads the fsync over the batch — then
//! publishes the batch's events to the hub back to back (the bus sender coalesces whatever is
//! queued, so a batch is announced in as few `NOTIFY`s as the 8,000-byte payload allows) and
//! answers each socket. No timer: under light load a batch is the one message
//! that arrived, under heavy load it is everything that queued while the previous batch was
//! being committed, so batching adds no wait of its own.
//!
//! The rare sends the batch hands back (first agent reply, a visitor reopening, a key twice
//! in one batch, a batch whose transaction failed) are sent one by one with
//! [`send_message`] in a task of their own, after the batch committed, so they do not hold
//! up the next batch.

use super::socket::Realtime;
use crate::db::Pool;
use crate::domain::conversations::{
    send_batch::{store_batch, Outcome, SendRequest},
    send_message::{send_message, Sent},
    ConversationError,
};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Sends waiting for the writer. When it is full (Postgres is slower than the sockets write),
/// [`Writer::send`] waits for room: the socket that sent stops reading its frames until
/// then — backpressure on the sockets that write, nothing dropped; sockets that are not
/// writing are not held up.
pub const QUEUE: usize = 4096;
/// At most this many sends per transaction (a bounded statement size and commit time).
pub const MAX_BATCH: usize = 512;

/// One send and where its answer goes.
struct Job {
    request: SendRequest,
    reply: oneshot::Sender<Result<Sent, ConversationError>>,
}

/// The handle sockets use; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts this node's writer task over `pool`, publishing to `rt`'s hub. The task ends
    /// when the last handle is dropped.
    pub fn spawn(pool: Pool, rt: Arc<Realtime>) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, rt, rx));
        Writer { tx }
    }

    /// Stores a message (the caller checked access) and returns once it is committed and its
    /// events are published. Waits for room in the queue when the writer is behind.
    pub async fn send(&self, request: SendRequest) -> Result<Sent, ConversationError> {
        let (reply, answer) = oneshot::channel();
        // The task ends only when the node shuts down (or a bug killed it): the socket answers
        // "please retry" and the client's outbox sends again with the same key.
        self.tx
            .send(Job { request, reply })
            .await
            .map_err(|_| ConversationError::Db(sqlx::Error::WorkerCrashed))?;
        answer
            .await
            .map_err(|_| ConversationError::Db(sqlx::Error::WorkerCrashed))?
    }
}

async fn run(pool: Pool, rt: Arc<Realtime>, mut rx: mpsc::Receiver<Job>) {
    loop {
        // Grown as needed: under light load a batch is one send, and reserving MAX_BATCH
        // jobs (~150 bytes each) for it would allocate tens of KB per message.
        let mut batch = Vec::new();
        if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            break; // every handle is gone: the node is shutting down
        }
        // Each batch in a task of its own, awaited: a bug that panics costs that batch's
        // senders a "please retry" (their oneshots drop), not the node its writer.
        if let Err(e) = tokio::spawn(write_batch(pool.clone(), rt.clone(), batch)).await {
            tracing::error!(error = %e, "a message batch panicked; its senders were asked to retry");
        }
    }
}

/// Stores one batch, publishes its events, answers its senders; hands the rest to
/// [`send_alone`].
async fn write_batch(pool: Pool, rt: Arc<Realtime>, batch: Vec<Job>) {
    let (requests, replies): (Vec<SendRequest>, Vec<_>) =
        batch.into_iter().map(|j| (j.request, j.reply)).unzip();
    let outcomes = store_batch(&pool, &requests).await;
    let mut answers = Vec::with_capacity(requests.len());
    let mut alone = Vec::new();
    for ((request, reply), outcome) in requests.into_iter().zip(replies).zip(outcomes) {
        match outcome {
            Outcome::Done(result) => {
                if let Ok(Sent {
                    event: Some(event), ..
                }) = &result
                {
                    rt.hub.publish(event.clone());
                }
                answers.push((reply, result));
            }
            Outcome::PerMessage => alone.push((request, reply)),
        }
    }
    for (reply, result) in answers {
        // The socket may have gone meanwhile; its message is stored all the same.
        let _ = reply.send(result);
    }
    if !alone.is_empty() {
        tokio::spawn(send_alone(pool, rt, alone));
    }
}

/// The per-message path for what a batch handed back, in arrival order.
async fn send_alone(
    pool: Pool,
    rt: Arc<Realtime>,
    jobs: Vec<(
        SendRequest,
        oneshot::Sender<Result<Sent, ConversationError>>,
    )>,
) {
    for (r, reply) in jobs {
        let result = send_message(&pool, &r.viewer, r.conversation_id, r.draft()).await;
        if let Ok(sent) = &result {
            if let Some(preceding) = &sent.preceding {
                rt.hub.publish(preceding.clone());
            }
            if let Some(event) = &sent.event {
                rt.hub.publish(event.clone());
            }
        }
        let _ = reply.send(result);
    }
}
