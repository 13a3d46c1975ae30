//! The `/ws` endpoint: one WebSocket per client, speaking [`super::protocol`].
//!
//! Agents are identified by their session cookie at upgrade (same-origin only); visitors by a
//! `hello` frame carrying their device token. Every subscribe and write checks access on the
//! server. Each socket runs one task that owns its subscriptions and, for each, the last
//! sequence it sent: live events from the hub are skipped when already sent and gaps are
//! filled from Postgres, so delivery is exactly once and in order.

use super::hub::{next_socket_id, Kick, KickReason, Member, Outbox, SocketId, SOCKET_QUEUE};
use super::protocol::{
    decode, encode, Author, ClientFrame, ErrorCode, Event, ServerFrame, HEARTBEAT_SECS,
    TYPING_EXPIRES_MS, TYPING_THROTTLE_MS,
};
use super::{hub::Hub, presence::Presence, rate_limit::RateLimiter};
use crate::db;
use crate::domain::conversations::{
    access::visible_conversation, append_event::event_from_row, record_receipt::record_receipt,
    send_batch::SendRequest, ConversationError, Viewer,
};
use crate::server::{assignment, auth, middleware::is_cross_site, state::AppState};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use http::HeaderMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Most sockets are idle widgets, so a socket's memory is kept to what it uses. The read
/// buffer is allocated at this size and tungstenite grows it when a longer frame arrives
/// (up to the transport cap), so 512 bytes costs no feature: pings, hellos and receipts fit,
/// a long message makes it grow. (tungstenite's 128 KiB default cost ~94 KB per socket; the
/// 4 KiB used until 2026-11-22 was a third of an idle socket's memory.)
const READ_BUFFER: usize = 512;
/// Not an allocation: the write buffer grows with the frames written (and stays at the
/// largest); this is only how much may gather before tungstenite writes to the socket.
const WRITE_BUFFER: usize = 4 * 1024;
/// Transport cap: frames above this close the socket (protects memory). Frames between
/// `MAX_FRAME_BYTES` and this get an error event and the socket stays up.
const TRANSPORT_MAX: usize = 256 * 1024;
/// A resume further behind than this gets `resync` instead of the backlog.
pub const MAX_BACKLOG: i64 = 1000;
/// A socket that cannot take a frame within this time is dropped (it resumes later).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// A socket that has not said `hello` (or carried a cookie) by then is closed.
const IDENTIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// The realtime services of one node.
pub struct Realtime {
    pub hub: Hub,
    /// A socket silent this long is closed (protocol default: 60 s).
    pub silence_timeout: Duration,
    pub presence: Presence,
    pub limiter: RateLimiter,
    typing: Mutex<HashMap<(Uuid, Uuid), Instant>>,
}

impl Realtime {
    /// Realtime services over a hub, closing sockets silent for `silence_timeout`.
    pub fn new(hub: Hub, silence_timeout: Duration) -> Realtime {
        Realtime {
            hub,
            silence_timeout,
            presence: Presence::default(),
            limiter: RateLimiter::default(),
            typing: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a typing event from `typist` in `conversation` may be relayed now
    /// (at most one per [`TYPING_THROTTLE_MS`]).
    fn typing_allowed(&self, conversation: Uuid, typist: Uuid) -> bool {
        let now = Instant::now();
        let throttle = Duration::from_millis(TYPING_THROTTLE_MS);
        let mut t = self.typing.lock().unwrap_or_else(|e| e.into_inner());
        if t.len() > 10_000 {
            t.retain(|_, at| now.duration_since(*at) < throttle);
        }
        match t.get(&(conversation, typist)) {
            Some(at) if now.duration_since(*at) < throttle => false,
            _ => {
                t.insert((conversation, typist), now);
                true
            }
        }
    }

    /// Starts the periodic presence sweep (idle after 5 minutes without activity).
    pub fn spawn_sweeper(self: &Arc<Self>) {
        let rt = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            loop {
                tick.tick().await;
                let Some(rt) = rt.upgrade() else { break };
                rt.presence.sweep(&rt.hub, super::presence::IDLE_AFTER);
            }
        });
    }
}

/// `GET /ws`: upgrades to a WebSocket.
pub async fn ws_handler(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Response {
    // The cookie identifies an agent only on same-origin upgrades (no cross-site hijacking).
    let agent = if is_cross_site(&headers) {
        None
    } else {
        auth::user_from_headers(&state.pool, &headers)
            .await
            .ok()
            .flatten()
    };
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(TRANSPORT_MAX)
        .max_message_size(TRANSPORT_MAX)
        .max_frame_size(TRANSPORT_MAX)
        .on_upgrade(move |socket| {
            let viewer = agent.map(|u| Viewer::Agent {
                user_id: u.id,
                name: u.name,
            });
            run(socket, state, viewer)
        })
}

struct Session {
    state: AppState,
    id: SocketId,
    viewer: Option<Viewer>,
    /// Per subscribed conversation: the last sequence sent to this socket.
    cursors: HashMap<Uuid, i64>,
    /// The bounded queue the hub fills for this socket (see [`SOCKET_QUEUE`]), made when the
    /// socket first joins the hub (subscribe, or an agent's staff room): an idle widget
    /// never joins, and a tokio channel allocates its first block and its cache-padded
    /// state (~1 KB) when created.
    queue: Option<(Outbox, mpsc::Receiver<Arc<ServerFrame>>)>,
    kick: Arc<Kick>,
}

/// The next frame the hub queued, or never while the socket has no queue.
async fn from_hub(
    queue: &mut Option<(Outbox, mpsc::Receiver<Arc<ServerFrame>>)>,
) -> Option<Arc<ServerFrame>> {
    match queue {
        Some((_, inbox)) => inbox.recv().await,
        None => std::future::pending().await,
    }
}

// One task per socket runs this future; an idle socket's memory is mostly this future, so
// it holds only what waiting needs. Handling a frame or a hub event (database queries, the
// writer) is a much larger state machine: it is boxed for the moment it runs
// (`Box::pin(...)` below) instead of being reserved inline in every idle task. A plain fn
// returning an `async move` block rather than an `async fn`: an async fn keeps its
// arguments and the locals moved out of them side by side.
// `tests::an_idle_socket_task_stays_small` keeps it so.
fn run(
    mut socket: WebSocket,
    state: AppState,
    viewer: Option<Viewer>,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut s = Session {
        state,
        id: next_socket_id(),
        viewer: None,
        cursors: HashMap::new(),
        queue: None,
        kick: Arc::new(Kick::default()),
    };
    let mut replies: Vec<Arc<ServerFrame>> = Vec::new();
    if let Some(v) = viewer {
        replies.extend(s.identified(v).into_iter().map(Arc::new));
    }
    async move {
        let started = Instant::now();
        let silence = s.state.realtime.silence_timeout;
        metrics::gauge!("switchboard_connections").increment(1.0);
        let mut last_heard = Instant::now();
        let close_reason = 'outer: loop {
            for frame in replies.drain(..) {
                metrics::counter!("switchboard_frames_out_total").increment(1);
                let text = encode(&frame);
                let sending = socket.send(Message::Text(text.into()));
                match tokio::time::timeout(SEND_TIMEOUT, sending).await {
                    Ok(Ok(())) => {}
                    _ => break 'outer None,
                }
            }
            let deadline = if s.viewer.is_none() {
                (started + IDENTIFY_TIMEOUT).min(last_heard + silence)
            } else {
                last_heard + silence
            };
            tokio::select! {
                biased;
                reason = s.kick.kicked() => break Some(match reason {
                    KickReason::Slow => (4001, "slow consumer: reconnect and resume"),
                    KickReason::SignedOut => (4003, "signed out"),
                }),
                msg = socket.recv() => match msg {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break None,
                    Some(Ok(Message::Text(text))) => {
                        last_heard = Instant::now();
                        metrics::counter!("switchboard_frames_in_total").increment(1);
                        replies = Box::pin(s.on_text(text.as_str())).await;
                    }
                    Some(Ok(Message::Binary(_))) => {
                        last_heard = Instant::now();
                        replies.push(Arc::new(ServerFrame::error(ErrorCode::Malformed, "binary frames are not supported; send JSON text")));
                    }
                    Some(Ok(_)) => last_heard = Instant::now(), // ping/pong frames
                },
                Some(frame) = from_hub(&mut s.queue) => replies = Box::pin(s.on_hub(frame)).await,
                _ = tokio::time::sleep_until(deadline.into()) => {
                    break Some(if s.viewer.is_none() { (4002, "not identified") } else { (4000, "silent for 60 s") });
                }
            }
        };
        if let Some((code, reason)) = close_reason {
            let _ = socket
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })))
                .await;
        }
        metrics::gauge!("switchboard_connections").decrement(1.0);
        s.cleanup();
    }
}

impl Session {
    fn rt(&self) -> &Realtime {
        &self.state.realtime
    }

    /// This socket as the hub knows it (its queue made on first use).
    fn member(&mut self) -> Member {
        let user = self.agent_id();
        let (outbox, _) = self
            .queue
            .get_or_insert_with(|| mpsc::channel(SOCKET_QUEUE));
        Member {
            socket: self.id,
            user,
            outbox: outbox.clone(),
            kick: self.kick.clone(),
        }
    }

    fn me(&self) -> Option<Author> {
        self.viewer.as_ref().map(Viewer::author)
    }

    fn agent_id(&self) -> Option<Uuid> {
        match &self.viewer {
            Some(Viewer::Agent { user_id, .. }) => Some(*user_id),
            _ => None,
        }
    }

    /// Sets the socket's identity; returns the welcome frame and, for agents, who is online.
    fn identified(&mut self, viewer: Viewer) -> Vec<ServerFrame> {
        self.viewer = Some(viewer);
        let mut out = vec![ServerFrame::Welcome {
            me: self.me().expect("just identified"),
            heartbeat_secs: HEARTBEAT_SECS,
        }];
        if let Some(Viewer::Agent { user_id, name }) = self.viewer.clone() {
            let member = self.member();
            self.rt().hub.join_staff(member);
            self.rt().presence.connected(&self.rt().hub, user_id, &name);
            assignment::spawn_after_agent_freed(&self.state, user_id);
            out.extend(self.rt().presence.snapshot());
        }
        out
    }

    fn cleanup(&self) {
        for conv in self.cursors.keys() {
            self.rt().hub.leave(*conv, self.id);
        }
        if let Some(agent) = self.agent_id() {
            self.rt().hub.leave_staff(self.id);
            self.rt().presence.disconnected(&self.rt().hub, agent);
        }
    }

    async fn on_text(&mut self, text: &str) -> Vec<Arc<ServerFrame>> {
        let frame = match decode(text) {
            Ok(f) => f,
            Err(e) => return vec![Arc::new(e.to_frame())],
        };
        if let Some(agent) = self.agent_id() {
            if !matches!(frame, ClientFrame::Ping) {
                self.rt().presence.active(&self.rt().hub, agent);
            }
        }
        let replies = match frame {
            ClientFrame::Ping => vec![ServerFrame::Pong],
            ClientFrame::Hello { visitor_token } => self.hello(&visitor_token).await,
            _ if self.viewer.is_none() => vec![ServerFrame::error(
                ErrorCode::Unauthenticated,
                "Say hello with a visitor token first (or connect signed in).",
            )],
            ClientFrame::Subscribe {
                conversation_id,
                after_seq,
            } => return self.subscribe(conversation_id, after_seq).await,
            ClientFrame::Unsubscribe { conversation_id } => {
                self.cursors.remove(&conversation_id);
                self.rt().hub.leave(conversation_id, self.id);
                vec![]
            }
            ClientFrame::Send {
                conversation_id,
                key,
                body,
                note,
                attachment,
            } => {
                self.send(conversation_id, key, body, note, attachment)
                    .await
            }
            ClientFrame::Typing { conversation_id } => self.typing(conversation_id).await,
            ClientFrame::Delivered {
                conversation_id,
                up_to_seq,
            } => self.receipt(conversation_id, up_to_seq, false).await,
            ClientFrame::Read {
                conversation_id,
                up_to_seq,
            } => self.receipt(conversation_id, up_to_seq, true).await,
        };
        replies.into_iter().map(Arc::new).collect()
    }

    async fn hello(&mut self, token: &str) -> Vec<ServerFrame> {
        if self.viewer.is_some() {
            return vec![ServerFrame::error(
                ErrorCode::Malformed,
                "This socket is already identified.",
            )];
        }
        match crate::domain::visitors::authenticate(&self.state.pool, token).await {
            Ok(Some(v)) => self.identified(Viewer::Visitor {
                contact_id: v.contact_id,
                name: v.name,
            }),
            Ok(None) => vec![ServerFrame::error(
                ErrorCode::Unauthenticated,
                "This visitor token is unknown or expired.",
            )],
            Err(e) => internal(e.into()),
        }
    }

    /// Access check for an action on a conversation this socket has not subscribed to.
    async fn check(&self, conversation: Uuid) -> Result<(), ConversationError> {
        if self.cursors.contains_key(&conversation) {
            return Ok(());
        }
        let viewer = self.viewer.as_ref().ok_or(ConversationError::Forbidden)?;
        visible_conversation(&self.state.pool, viewer, conversation)
            .await
            .map(|_| ())
    }

    async fn subscribe(&mut self, conversation: Uuid, after_seq: i64) -> Vec<Arc<ServerFrame>> {
        let viewer = self.viewer.clone().expect("checked by caller");
        let conv = match visible_conversation(&self.state.pool, &viewer, conversation).await {
            Ok(c) => c,
            Err(e) => return vec![Arc::new(conversation_error(e, None))],
        };
        let after = after_seq.max(0);
        if after > conv.last_seq {
            return vec![Arc::new(ServerFrame::Resync {
                conversation_id: conversation,
                last_seq: conv.last_seq,
            })];
        }
        // Join before reading the backlog: whatever commits from now on is queued for us,
        // and the cursor below drops what the backlog already covered.
        let member = self.member();
        self.rt()
            .hub
            .join_at(conversation, conv.assignee_id, member, conv.last_seq);
        let rows = match db::conversations::events_between(
            &self.state.pool,
            conversation,
            after,
            i64::MAX,
            viewer.is_agent(),
            MAX_BACKLOG + 1,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => {
                self.rt().hub.leave(conversation, self.id);
                return internal(e.into()).into_iter().map(Arc::new).collect();
            }
        };
        if rows.len() as i64 > MAX_BACKLOG {
            self.rt().hub.leave(conversation, self.id);
            return vec![Arc::new(ServerFrame::Resync {
                conversation_id: conversation,
                last_seq: conv.last_seq,
            })];
        }
        let last = rows.last().map_or(after, |r| r.seq).max(after);
        self.cursors.insert(conversation, last);
        let mut out = vec![Arc::new(ServerFrame::Subscribed {
            conversation_id: conversation,
            last_seq: last.max(conv.last_seq),
        })];
        out.extend(
            rows.iter()
                .filter_map(event_from_row)
                .map(|e| Arc::new(ServerFrame::Event(e))),
        );
        if let Some(frame) = conv.assignee_id.and_then(|a| self.rt().presence.frame(a)) {
            out.push(Arc::new(frame));
        }
        out
    }

    async fn send(
        &mut self,
        conversation: Uuid,
        key: String,
        body: String,
        note: bool,
        attachment: Option<Uuid>,
    ) -> Vec<ServerFrame> {
        if let Err(e) = self.check(conversation).await {
            return vec![conversation_error(e, Some(key))];
        }
        if let Some(Viewer::Visitor { contact_id, .. }) = &self.viewer {
            if let Err(wait) = self.rt().limiter.take(*contact_id) {
                return vec![ServerFrame::Error {
                    code: ErrorCode::RateLimited,
                    message: "You are sending messages too fast; this one will be retried.".into(),
                    key: Some(key),
                    retry_after_ms: Some(wait.as_millis() as u64),
                }];
            }
        }
        let viewer = self.viewer.clone().expect("checked by caller");
        let request = SendRequest {
            viewer,
            conversation_id: conversation,
            key: key.clone(),
            body,
            note,
            attachment,
        };
        // The node's writer stores it in its next batch and publishes its events once
        // committed. When the writer's queue is full this waits for room: this socket's task
        // reads no further frame meanwhile (backpressure on the writing socket; nothing is
        // dropped, and its hub deliveries wait in its own bounded queue as during any write).
        match self.state.writer.send(request).await {
            Ok(sent) => {
                let duplicate = sent.event.is_none();
                if !duplicate {
                    metrics::counter!("switchboard_messages_stored_total").increment(1);
                }
                if sent.preceding.as_ref().is_some_and(assignment::is_reopen) {
                    assignment::spawn_after_chat_waiting(&self.state, conversation);
                }
                vec![ServerFrame::Sent {
                    key,
                    conversation_id: conversation,
                    seq: sent.seq,
                    message_id: sent.message_id,
                    duplicate,
                }]
            }
            Err(e) => vec![conversation_error(e, Some(key))],
        }
    }

    async fn typing(&mut self, conversation: Uuid) -> Vec<ServerFrame> {
        if let Err(e) = self.check(conversation).await {
            return vec![conversation_error(e, None)];
        }
        let me = self.me().expect("identified");
        if self
            .rt()
            .typing_allowed(conversation, me.id.unwrap_or_default())
        {
            self.rt().hub.relay(
                conversation,
                ServerFrame::Typing {
                    conversation_id: conversation,
                    author: me,
                    expires_ms: TYPING_EXPIRES_MS,
                },
                self.id,
            );
        }
        vec![]
    }

    async fn receipt(&mut self, conversation: Uuid, up_to: i64, read: bool) -> Vec<ServerFrame> {
        if let Err(e) = self.check(conversation).await {
            return vec![conversation_error(e, None)];
        }
        let viewer = self.viewer.clone().expect("checked by caller");
        match record_receipt(&self.state.pool, &viewer, conversation, up_to, read).await {
            Ok(Some(event)) => {
                self.rt().hub.publish(event);
                vec![]
            }
            Ok(None) => vec![],
            Err(e) => vec![conversation_error(e, None)],
        }
    }

    /// A frame from the hub: events pass through the conversation's cursor (skip what was
    /// sent, fill gaps from the database); other frames pass as they are.
    async fn on_hub(&mut self, frame: Arc<ServerFrame>) -> Vec<Arc<ServerFrame>> {
        let ServerFrame::Event(event) = frame.as_ref() else {
            return vec![frame];
        };
        let Some(&cursor) = self.cursors.get(&event.conversation_id) else {
            return vec![]; // unsubscribed meanwhile
        };
        if event.seq <= cursor {
            return vec![]; // already sent (from the backlog or a gap fill)
        }
        let mut out = Vec::new();
        if event.seq > cursor + 1 {
            match self.gap(event, cursor).await {
                Ok(missing) => {
                    out.extend(missing.into_iter().map(|e| Arc::new(ServerFrame::Event(e))))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "gap fill failed; asking the client to resync");
                    self.cursors.remove(&event.conversation_id);
                    self.rt().hub.leave(event.conversation_id, self.id);
                    return vec![Arc::new(ServerFrame::Resync {
                        conversation_id: event.conversation_id,
                        last_seq: cursor,
                    })];
                }
            }
        }
        self.cursors.insert(event.conversation_id, event.seq);
        out.push(frame);
        out
    }

    async fn gap(&self, event: &Event, cursor: i64) -> sqlx::Result<Vec<Event>> {
        let is_agent = self.viewer.as_ref().is_some_and(Viewer::is_agent);
        let rows = db::conversations::events_between(
            &self.state.pool,
            event.conversation_id,
            cursor,
            event.seq,
            is_agent,
            MAX_BACKLOG,
        )
        .await?;
        Ok(rows.iter().filter_map(event_from_row).collect())
    }
}

fn conversation_error(e: ConversationError, key: Option<String>) -> ServerFrame {
    if let ConversationError::Db(err) = &e {
        tracing::error!(error = %err, "conversation action failed");
    }
    let message = match &e {
        ConversationError::Db(_) => "Something went wrong on our side; please retry.".to_string(),
        other => other.to_string(),
    };
    ServerFrame::Error {
        code: e.code(),
        message,
        key,
        retry_after_ms: None,
    }
}

fn internal(e: ConversationError) -> Vec<ServerFrame> {
    vec![conversation_error(e, None)]
}

#[cfg(test)]
mod tests {
    /// The size of the future an async fn returns.
    fn future_size<A, B, C, F: std::future::Future>(_: impl Fn(A, B, C) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// An idle socket costs its task, and its task is `run`'s future (1,112 bytes on
    /// 2026-11-22, 1,768 as an `async fn`): frame handling must stay boxed (`on_text` alone is
    /// ~1.6 KB of database and writer state), or every idle widget pays for it.
    #[test]
    fn an_idle_socket_task_stays_small() {
        let n = future_size(super::run);
        eprintln!("run() future: {n} bytes");
        assert!(n <= 1536, "an idle socket's task is {n} bytes");
    }
}
