//! The browser side of the socket (both WASM bundles): one connection that comes back by itself.
//!
//! - Reconnects with exponential backoff and jitter, capped at 30 s ([`backoff_ms`]), and at
//!   once when the browser says it is `online` again or the tab becomes visible (an attempt
//!   still connecting then is dropped: started while the network was down, it can hang).
//! - Pings every 25 s (the server closes sockets silent for 60 s).
//! - Remembers the last sequence applied per subscription and resumes from it after every
//!   reconnect, so the server replays exactly what was missed.
//! - Says `hello` with the visitor token, when it has one (agents use their cookie).
//! - Keeps every `Send` in an outbox, in order, until the server says it is stored (`sent`):
//!   what is written while offline goes out on reconnect, and a send whose answer was lost
//!   goes out again with the same idempotency key (stored once). Typing and read marks are
//!   ephemeral: written only while connected.
//!
//! How: event handlers on a plain `web_sys::WebSocket` and `gloo_timers` callbacks, not an
//! async task. The task version (gloo-net's socket stream and sink, futures' `select`,
//! channels to wake it) cost the widget about 25 KB of code; the same logic as callbacks is a
//! fraction of that, and the widget is downloaded by every visitor of every customer site.
//!
//! All state is in one `Shared`. Its life: `connect` makes a socket and sets the three
//! handlers (made once, reused for every socket) → `opened`: hello, subscriptions, heartbeat
//! → `welcome` (in `message`): online, the outbox is written → `closed`: status
//! `Reconnecting` and a backoff timer that calls `connect` again. A socket that is given up
//! (woken up while connecting, stopped) loses its handlers before it is closed, so nothing it
//! does later arrives. `error` is not listened to: a failing socket always fires `close` too.
//! Handlers, timers and window listeners hold a `Weak` only: the `Connection` owns the one
//! `Rc`, so dropping it stops and frees everything.

use super::protocol::{
    decode_server, encode_client, ClientFrame, ErrorCode, ServerFrame, HEARTBEAT_SECS,
};
use gloo_timers::callback::{Interval, Timeout};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use uuid::Uuid;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, WebSocket};

pub use super::protocol::{backoff_ms, ConnStatus};

/// A send waiting to be confirmed; `written` is per connection (reset on reconnect).
struct Outgoing {
    frame: ClientFrame,
    written: bool,
}

struct Shared {
    /// Itself, for the callbacks it hands out.
    me: Weak<Shared>,
    url: String,
    hello: Option<String>,
    /// Told every change of the connection's state (a signal's setter, in the views).
    status: Box<dyn Fn(ConnStatus)>,
    on_frame: Box<dyn Fn(ServerFrame)>,
    stopped: Cell<bool>,
    /// Open and welcomed.
    connected: Cell<bool>,
    /// Attempts since the last welcome or wake-up: picks the next backoff.
    attempt: Cell<u32>,
    /// Followed conversations, each with the highest sequence seen (a page follows a few).
    cursors: RefCell<Vec<(Uuid, i64)>>,
    /// Sends not yet confirmed, oldest first.
    outbox: RefCell<Vec<Outgoing>>,
    /// The socket being tried or open.
    socket: RefCell<Option<WebSocket>>,
    /// Without a socket: the backoff before the next attempt. With one: the retry of
    /// rate-limited sends. (Dropping a gloo timer cancels it.)
    timer: RefCell<Option<Timeout>>,
    /// Pings while a socket is open.
    heartbeat: RefCell<Option<Interval>>,
    on_open: Closure<dyn FnMut()>,
    on_message: Closure<dyn FnMut(MessageEvent)>,
    on_close: Closure<dyn FnMut()>,
}

/// A callback that runs `f` if the connection still exists (one closure type for all).
fn upgrade_then(me: &Weak<Shared>, f: fn(&Shared)) -> impl FnMut() + 'static {
    let me = me.clone();
    move || {
        if let Some(s) = me.upgrade() {
            f(&s)
        }
    }
}

impl Shared {
    fn connect(&self) {
        if self.stopped.get() {
            return;
        }
        match WebSocket::new(&self.url) {
            Ok(ws) => {
                ws.set_onopen(Some(self.on_open.as_ref().unchecked_ref()));
                ws.set_onmessage(Some(self.on_message.as_ref().unchecked_ref()));
                ws.set_onclose(Some(self.on_close.as_ref().unchecked_ref()));
                *self.socket.borrow_mut() = Some(ws);
            }
            // Refused at once (a bad URL, a content security policy): try again later.
            Err(_) => self.closed(),
        }
    }

    /// The socket is open: hello and subscriptions first; sends wait for `welcome`.
    fn opened(&self) {
        if let Some(token) = &self.hello {
            self.write(&ClientFrame::Hello {
                visitor_token: token.clone(),
            });
        }
        for &(conversation_id, after_seq) in self.cursors.borrow().iter() {
            self.write(&ClientFrame::Subscribe {
                conversation_id,
                after_seq,
            });
        }
        // A new connection: every unconfirmed send goes out again, in order.
        for o in self.outbox.borrow_mut().iter_mut() {
            o.written = false;
        }
        *self.heartbeat.borrow_mut() = Some(Interval::new(
            HEARTBEAT_SECS * 1000,
            upgrade_then(&self.me, Shared::ping),
        ));
    }

    fn ping(&self) {
        self.write(&ClientFrame::Ping);
    }

    /// A text frame: the client's bookkeeping, then `on_frame`.
    fn message(&self, text: String) {
        let Some(frame) = decode_server(&text) else {
            return;
        };
        match &frame {
            ServerFrame::Welcome { .. } => {
                self.attempt.set(0);
                self.connected.set(true);
                (self.status)(ConnStatus::Online);
                self.flush();
            }
            ServerFrame::Event(e) => {
                for (c, seq) in self.cursors.borrow_mut().iter_mut() {
                    if *c == e.conversation_id {
                        *seq = (*seq).max(e.seq);
                    }
                }
            }
            _ => self.settle(&frame),
        }
        // No borrow is held here: `on_frame` may send, track, or even drop the connection.
        (self.on_frame)(frame);
    }

    /// The socket closed (or could not be made): wait out the backoff, then try again.
    fn closed(&self) {
        self.hang_up();
        if self.stopped.get() {
            return;
        }
        (self.status)(ConnStatus::Reconnecting);
        let delay = backoff_ms(self.attempt.get(), js_sys::Math::random());
        self.attempt.set(self.attempt.get().saturating_add(1));
        *self.timer.borrow_mut() =
            Some(Timeout::new(delay, upgrade_then(&self.me, Shared::connect)));
    }

    /// Back online, or back in view: retry now instead of waiting out the backoff.
    fn wake(&self, only_if_visible: bool) {
        // A live connection needs no wake-up (the heartbeat notices a dead one).
        if self.stopped.get()
            || self.connected.get()
            || (only_if_visible
                && document().visibility_state() != web_sys::VisibilityState::Visible)
        {
            return;
        }
        if self.socket.borrow().is_some() {
            // Still connecting: drop this attempt, it may never finish.
            self.hang_up();
            (self.status)(ConnStatus::Reconnecting);
        }
        // The network just changed: the old backoff no longer says anything.
        self.timer.take();
        self.attempt.set(0);
        self.connect();
    }

    /// Forgets the socket (its handlers first, so it says nothing more) and its heartbeat.
    fn hang_up(&self) {
        self.connected.set(false);
        self.heartbeat.take();
        if let Some(ws) = self.socket.take() {
            ws.set_onopen(None);
            ws.set_onmessage(None);
            ws.set_onclose(None);
            let _ = ws.close();
        }
    }

    fn write(&self, frame: &ClientFrame) {
        if let Some(ws) = &*self.socket.borrow() {
            // A failed write means the socket is closing: `close` follows, and the outbox
            // goes out again on the next connection.
            let _ = ws.send_with_str(&encode_client(frame));
        }
    }

    /// Writes the sends not yet written on this connection, once welcomed.
    fn flush(&self) {
        if !self.connected.get() {
            return;
        }
        for o in self.outbox.borrow_mut().iter_mut().filter(|o| !o.written) {
            o.written = true;
            self.write(&o.frame);
        }
    }

    /// Drops confirmed or finally refused sends from the outbox; a rate-limited one is kept
    /// and written again after the wait the server asks for.
    fn settle(&self, frame: &ServerFrame) {
        let (key, retry) = match frame {
            ServerFrame::Sent { key, .. } => (key, None),
            ServerFrame::Error {
                key: Some(key),
                code,
                retry_after_ms,
                ..
            } => (
                key,
                (*code == ErrorCode::RateLimited)
                    .then(|| retry_after_ms.unwrap_or(1000).min(30_000) as u32),
            ),
            _ => return,
        };
        let mine = |o: &Outgoing| matches!(&o.frame, ClientFrame::Send { key: k, .. } if k == key);
        let mut outbox = self.outbox.borrow_mut();
        match retry {
            None => outbox.retain(|o| !mine(o)),
            Some(wait) => {
                for o in outbox.iter_mut().filter(|o| mine(o)) {
                    o.written = false;
                }
                *self.timer.borrow_mut() =
                    Some(Timeout::new(wait, upgrade_then(&self.me, Shared::flush)));
            }
        }
    }
}

/// A running connection; dropping it (or calling [`Connection::stop`]) ends it.
pub struct Connection {
    shared: Rc<Shared>,
    listeners: Vec<WindowListenerHandle>,
}

impl Connection {
    /// Opens `/ws` on this origin and keeps it open. `on_frame` sees every server frame
    /// (after the connection's own bookkeeping); `status` is told each change of state.
    pub fn start(
        hello: Option<String>,
        status: impl Fn(ConnStatus) + 'static,
        on_frame: impl Fn(ServerFrame) + 'static,
    ) -> Connection {
        let loc = window().location();
        let scheme = if loc.protocol().ok().as_deref() == Some("https:") {
            "wss"
        } else {
            "ws"
        };
        let url = format!("{scheme}://{}/ws", loc.host().unwrap_or_default());
        let shared = Rc::new_cyclic(|me: &Weak<Shared>| {
            let on_message = {
                let me = me.clone();
                move |e: MessageEvent| {
                    // Text frames only: the server sends no binary ones.
                    if let (Some(s), Some(text)) = (me.upgrade(), e.data().as_string()) {
                        s.message(text)
                    }
                }
            };
            Shared {
                me: me.clone(),
                url,
                hello,
                status: Box::new(status),
                on_frame: Box::new(on_frame),
                stopped: Cell::new(false),
                connected: Cell::new(false),
                attempt: Cell::new(0),
                cursors: RefCell::new(Vec::new()),
                outbox: RefCell::new(Vec::new()),
                socket: RefCell::new(None),
                timer: RefCell::new(None),
                heartbeat: RefCell::new(None),
                on_open: Closure::new(upgrade_then(me, Shared::opened)),
                on_message: Closure::new(on_message),
                on_close: Closure::new(upgrade_then(me, Shared::closed)),
            }
        });
        let wake = |only_if_visible: bool| {
            let me = Rc::downgrade(&shared);
            move |_| {
                if let Some(s) = me.upgrade() {
                    s.wake(only_if_visible)
                }
            }
        };
        let listeners = vec![
            window_event_listener_untyped("online", wake(false)),
            window_event_listener_untyped("visibilitychange", wake(true)),
        ];
        shared.connect();
        Connection { shared, listeners }
    }

    /// Subscribes to a conversation (now and after every reconnect) from `after_seq`.
    /// Subscribing again replays from `after_seq` (the server keeps one subscription).
    pub fn track(&self, conversation: Uuid, after_seq: i64) {
        {
            let mut cursors = self.shared.cursors.borrow_mut();
            match cursors.iter_mut().find(|(c, _)| *c == conversation) {
                Some((_, seq)) => *seq = after_seq,
                None => cursors.push((conversation, after_seq)),
            }
        }
        // Tracked while connected: subscribe now (a later reconnect resubscribes anyway).
        self.send_now(ClientFrame::Subscribe {
            conversation_id: conversation,
            after_seq,
        });
    }

    /// Stops following a conversation (now and after reconnects).
    pub fn untrack(&self, conversation: Uuid) {
        let mut cursors = self.shared.cursors.borrow_mut();
        if let Some(i) = cursors.iter().position(|(c, _)| *c == conversation) {
            cursors.swap_remove(i);
            drop(cursors);
            self.send_now(ClientFrame::Unsubscribe {
                conversation_id: conversation,
            });
        }
    }

    /// Whether a conversation is followed.
    pub fn tracks(&self, conversation: Uuid) -> bool {
        self.shared
            .cursors
            .borrow()
            .iter()
            .any(|(c, _)| *c == conversation)
    }

    /// Queues a message send: written now if connected, else on reconnect; kept until the
    /// server confirms it (`sent`) or refuses it for good (an error naming its key).
    pub fn send(&self, frame: ClientFrame) {
        self.shared.outbox.borrow_mut().push(Outgoing {
            frame,
            written: false,
        });
        self.shared.flush();
    }

    /// Writes a frame that only matters now (typing, read marks); dropped when offline.
    pub fn send_now(&self, frame: ClientFrame) {
        if self.shared.connected.get() {
            self.shared.write(&frame);
        }
    }

    /// Whether the socket is open and welcomed.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.get()
    }

    /// Ends the connection for good.
    pub fn stop(&self) {
        self.shared.stopped.set(true);
        self.shared.hang_up();
        self.shared.timer.take();
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.stop();
        for l in self.listeners.drain(..) {
            l.remove();
        }
    }
}
