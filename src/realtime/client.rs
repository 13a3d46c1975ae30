//! The browser side of the socket (hydrate build): one connection that comes back by itself.
//!
//! - Reconnects with exponential backoff and jitter, capped at 30 s ([`backoff_ms`]), and at
//!   once when the browser says it is `online` again or the tab becomes visible.
//! - Pings every 25 s (the server closes sockets silent for 60 s).
//! - Remembers the last sequence applied per subscription and resumes from it after every
//!   reconnect, so the server replays exactly what was missed.
//! - Says `hello` with the visitor token, when it has one (agents use their cookie).
//! - Keeps every `Send` in an outbox, in order, until the server says it is stored (`sent`):
//!   what is written while offline goes out on reconnect, and a send whose answer was lost
//!   goes out again with the same idempotency key (stored once). Typing and read marks are
//!   ephemeral: written only while connected.

use super::protocol::{
    decode_server, encode_client, ClientFrame, ErrorCode, ServerFrame, HEARTBEAT_SECS,
};
use futures_util::future::{select, Either};
use futures_util::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use uuid::Uuid;

pub use super::protocol::{backoff_ms, ConnStatus};

/// A frame waiting to be written; `written` is per connection (reset on reconnect).
struct Outgoing {
    frame: ClientFrame,
    written: bool,
}

struct Shared {
    stopped: Cell<bool>,
    connected: Cell<bool>,
    cursors: RefCell<HashMap<Uuid, i64>>,
    wake: RefCell<Option<futures_channel::oneshot::Sender<()>>>,
    /// A wake-up that came while no backoff was running (say, mid-attempt): the next backoff
    /// is skipped instead of the signal being lost.
    wake_pending: Cell<bool>,
    /// Sends not yet confirmed, oldest first.
    outbox: RefCell<VecDeque<Outgoing>>,
    /// Ephemeral frames for the current connection.
    ephemeral: RefCell<Vec<ClientFrame>>,
    /// Tells the running connection that there is something to write. Unbounded, but it
    /// carries only wake-ups, at most one per user action.
    kick: RefCell<Option<futures_channel::mpsc::UnboundedSender<()>>>,
}

impl Shared {
    fn kick(&self) {
        if let Some(tx) = self.kick.borrow().as_ref() {
            let _ = tx.unbounded_send(());
        }
    }
}

/// A running connection; dropping it (or calling [`Connection::stop`]) ends it.
pub struct Connection {
    shared: Rc<Shared>,
    _listeners: Vec<WindowListenerHandle>,
}

impl Connection {
    /// Opens `/ws` on this origin and keeps it open. `on_frame` sees every server frame;
    /// `status` follows the connection.
    pub fn start(
        hello: Option<String>,
        status: RwSignal<ConnStatus>,
        on_frame: impl Fn(ServerFrame) + 'static,
    ) -> Connection {
        let shared = Rc::new(Shared {
            stopped: Cell::new(false),
            connected: Cell::new(false),
            cursors: RefCell::new(HashMap::new()),
            wake: RefCell::new(None),
            wake_pending: Cell::new(false),
            outbox: RefCell::new(VecDeque::new()),
            ephemeral: RefCell::new(Vec::new()),
            kick: RefCell::new(None),
        });
        // Back online, or back in view: retry now instead of waiting out the backoff.
        let wake = {
            let shared = shared.clone();
            move |only_if_visible: bool| {
                // A live connection needs no wake-up (the heartbeat notices a dead one).
                if shared.connected.get()
                    || (only_if_visible
                        && document().visibility_state() != web_sys::VisibilityState::Visible)
                {
                    return;
                }
                match shared.wake.borrow_mut().take() {
                    Some(tx) => {
                        let _ = tx.send(());
                    }
                    None => shared.wake_pending.set(true),
                }
            }
        };
        let on_online = wake.clone();
        let listeners = vec![
            window_event_listener_untyped("online", move |_| on_online(false)),
            window_event_listener_untyped("visibilitychange", move |_| wake(true)),
        ];
        let url = {
            let loc = window().location();
            let scheme = if loc.protocol().ok().as_deref() == Some("https:") {
                "wss"
            } else {
                "ws"
            };
            format!("{scheme}://{}/ws", loc.host().unwrap_or_default())
        };
        wasm_bindgen_futures::spawn_local(run(
            url,
            hello,
            status,
            Rc::new(on_frame),
            shared.clone(),
        ));
        Connection {
            shared,
            _listeners: listeners,
        }
    }

    /// Subscribes to a conversation (now and after every reconnect) from `after_seq`.
    /// Subscribing again replays from `after_seq` (the server keeps one subscription).
    pub fn track(&self, conversation: Uuid, after_seq: i64) {
        self.shared
            .cursors
            .borrow_mut()
            .insert(conversation, after_seq);
        // Tracked while connected: subscribe now (a later reconnect resubscribes anyway).
        self.send_now(ClientFrame::Subscribe {
            conversation_id: conversation,
            after_seq,
        });
    }

    /// Stops following a conversation (now and after reconnects).
    pub fn untrack(&self, conversation: Uuid) {
        if self
            .shared
            .cursors
            .borrow_mut()
            .remove(&conversation)
            .is_some()
        {
            self.send_now(ClientFrame::Unsubscribe {
                conversation_id: conversation,
            });
        }
    }

    /// Whether a conversation is followed.
    pub fn tracks(&self, conversation: Uuid) -> bool {
        self.shared.cursors.borrow().contains_key(&conversation)
    }

    /// Queues a message send: written now if connected, else on reconnect; kept until the
    /// server confirms it (`sent`) or refuses it for good (an error naming its key).
    pub fn send(&self, frame: ClientFrame) {
        self.shared.outbox.borrow_mut().push_back(Outgoing {
            frame,
            written: false,
        });
        self.shared.kick();
    }

    /// Writes a frame that only matters now (typing, read marks); dropped when offline.
    pub fn send_now(&self, frame: ClientFrame) {
        if self.shared.connected.get() {
            self.shared.ephemeral.borrow_mut().push(frame);
            self.shared.kick();
        }
    }

    /// Whether the socket is open and welcomed.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.get()
    }

    /// Ends the connection for good.
    pub fn stop(&self) {
        self.shared.stopped.set(true);
        if let Some(tx) = self.shared.wake.borrow_mut().take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Drops confirmed or finally refused sends from the outbox; a rate-limited one is kept and
/// written again later.
fn settle(shared: &Shared, frame: &ServerFrame) {
    let done = |f: &ClientFrame, k: &str| matches!(f, ClientFrame::Send { key, .. } if key == k);
    match frame {
        ServerFrame::Sent { key, .. } => {
            shared.outbox.borrow_mut().retain(|o| !done(&o.frame, key))
        }
        ServerFrame::Error {
            key: Some(key),
            code,
            retry_after_ms,
            ..
        } => {
            if *code == ErrorCode::RateLimited {
                for o in shared.outbox.borrow_mut().iter_mut() {
                    if done(&o.frame, key) {
                        o.written = false;
                    }
                }
                if let Some(tx) = shared.kick.borrow().clone() {
                    let wait = retry_after_ms.unwrap_or(1000).min(30_000) as u32;
                    wasm_bindgen_futures::spawn_local(async move {
                        gloo_timers::future::TimeoutFuture::new(wait).await;
                        let _ = tx.unbounded_send(());
                    });
                }
            } else {
                shared.outbox.borrow_mut().retain(|o| !done(&o.frame, key));
            }
        }
        _ => {}
    }
}

/// What wakes the writer half of a connection.
enum Wake {
    Beat,
    Write,
}

/// Serves one open socket until it ends: hello and subscriptions first, then frames in,
/// outbox and pings out.
async fn serve(
    ws: WebSocket,
    hello: &Option<String>,
    status: RwSignal<ConnStatus>,
    on_frame: &Rc<dyn Fn(ServerFrame)>,
    shared: &Rc<Shared>,
    attempt: &Cell<u32>,
) {
    let (mut tx, mut rx) = ws.split();
    let mut first: Vec<ClientFrame> = Vec::new();
    if let Some(token) = &hello {
        first.push(ClientFrame::Hello {
            visitor_token: token.clone(),
        });
    }
    for (conversation_id, after_seq) in shared.cursors.borrow().iter() {
        first.push(ClientFrame::Subscribe {
            conversation_id: *conversation_id,
            after_seq: *after_seq,
        });
    }
    let mut open = true;
    for f in first {
        open = open && tx.send(Message::Text(encode_client(&f))).await.is_ok();
    }
    // A new connection: every unconfirmed send goes out again, in order.
    for o in shared.outbox.borrow_mut().iter_mut() {
        o.written = false;
    }
    shared.ephemeral.borrow_mut().clear();
    let (kick_tx, kick_rx) = futures_channel::mpsc::unbounded::<()>();
    *shared.kick.borrow_mut() = Some(kick_tx);
    let heartbeat = gloo_timers::future::IntervalStream::new(HEARTBEAT_SECS * 1000);
    let mut wakes =
        futures_util::stream::select(heartbeat.map(|_| Wake::Beat), kick_rx.map(|_| Wake::Write));
    while open && !shared.stopped.get() {
        match select(rx.next(), wakes.next()).await {
            Either::Left((Some(Ok(Message::Text(text))), _)) => {
                let Some(frame) = decode_server(&text) else {
                    continue;
                };
                match &frame {
                    ServerFrame::Welcome { .. } => {
                        attempt.set(0);
                        shared.wake_pending.set(false);
                        shared.connected.set(true);
                        status.set(ConnStatus::Online);
                        shared.kick();
                    }
                    ServerFrame::Event(e) => {
                        let mut cursors = shared.cursors.borrow_mut();
                        if let Some(c) = cursors.get_mut(&e.conversation_id) {
                            *c = (*c).max(e.seq);
                        }
                    }
                    _ => settle(shared, &frame),
                }
                on_frame(frame);
            }
            Either::Left((Some(Ok(Message::Bytes(_))), _)) => {}
            Either::Left(_) => open = false,
            Either::Right((Some(Wake::Beat), _)) => {
                open = tx
                    .send(Message::Text(encode_client(&ClientFrame::Ping)))
                    .await
                    .is_ok();
            }
            Either::Right((Some(Wake::Write), _)) if shared.connected.get() => {
                let now: Vec<ClientFrame> = shared.ephemeral.borrow_mut().drain(..).collect();
                let queued: Vec<ClientFrame> = shared
                    .outbox
                    .borrow_mut()
                    .iter_mut()
                    .filter(|o| !o.written)
                    .map(|o| {
                        o.written = true;
                        o.frame.clone()
                    })
                    .collect();
                for f in queued.iter().chain(now.iter()) {
                    if open {
                        open = tx.send(Message::Text(encode_client(f))).await.is_ok();
                    }
                }
            }
            Either::Right(_) => {}
        }
    }
    shared.connected.set(false);
    shared.kick.borrow_mut().take();
    let _ = tx.close().await;
}

async fn run(
    url: String,
    hello: Option<String>,
    status: RwSignal<ConnStatus>,
    on_frame: Rc<dyn Fn(ServerFrame)>,
    shared: Rc<Shared>,
) {
    let attempt = Cell::new(0u32);
    while !shared.stopped.get() {
        // A wake-up (`online`, tab visible) while this attempt is not yet connected drops it
        // and retries at once: an attempt started while the network was down can hang.
        let (wake_tx, wake_rx) = futures_channel::oneshot::channel();
        *shared.wake.borrow_mut() = Some(wake_tx);
        let mut woken = false;
        if let Ok(ws) = WebSocket::open(&url) {
            let conn = serve(ws, &hello, status, &on_frame, &shared, &attempt);
            futures_util::pin_mut!(conn);
            woken = matches!(select(conn, wake_rx).await, Either::Right((Ok(()), _)));
        }
        shared.connected.set(false);
        shared.kick.borrow_mut().take();
        if shared.stopped.get() {
            break;
        }
        status.set(ConnStatus::Reconnecting);
        if woken || shared.wake_pending.replace(false) {
            // The network just changed: try again now, and start the backoff over.
            attempt.set(0);
            continue;
        }
        let delay = backoff_ms(attempt.get(), js_sys::Math::random());
        attempt.set(attempt.get().saturating_add(1));
        let (wake_tx, wake_rx) = futures_channel::oneshot::channel();
        *shared.wake.borrow_mut() = Some(wake_tx);
        if let Either::Right(_) =
            select(gloo_timers::future::TimeoutFuture::new(delay), wake_rx).await
        {
            // Woken by `online` / visibility: the old backoff no longer says anything.
            attempt.set(0);
        }
        shared.wake.borrow_mut().take();
    }
}
