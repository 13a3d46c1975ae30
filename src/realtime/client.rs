//! The browser side of the socket (hydrate build): one connection that comes back by itself.
//!
//! - Reconnects with exponential backoff and jitter, capped at 30 s ([`backoff_ms`]), and at
//!   once when the browser says it is `online` again or the tab becomes visible.
//! - Pings every 25 s (the server closes sockets silent for 60 s).
//! - Remembers the last sequence applied per subscription and resumes from it after every
//!   reconnect, so the server replays exactly what was missed.
//! - Says `hello` with the visitor token, when it has one (agents use their cookie).

use super::protocol::{encode_client, ClientFrame, ServerFrame, HEARTBEAT_SECS};
use futures_util::future::{select, Either};
use futures_util::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use uuid::Uuid;

pub use super::protocol::{backoff_ms, ConnStatus};

struct Shared {
    stopped: Cell<bool>,
    cursors: RefCell<HashMap<Uuid, i64>>,
    wake: RefCell<Option<futures_channel::oneshot::Sender<()>>>,
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
            cursors: RefCell::new(HashMap::new()),
            wake: RefCell::new(None),
        });
        // Back online, or back in view: retry now instead of waiting out the backoff.
        let wake = {
            let shared = shared.clone();
            move |_: web_sys::Event| {
                let visible = document().visibility_state() == web_sys::VisibilityState::Visible;
                if visible {
                    if let Some(tx) = shared.wake.borrow_mut().take() {
                        let _ = tx.send(());
                    }
                }
            }
        };
        let listeners = vec![
            window_event_listener_untyped("online", wake.clone()),
            window_event_listener_untyped("visibilitychange", wake),
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
    pub fn track(&self, conversation: Uuid, after_seq: i64) {
        self.shared
            .cursors
            .borrow_mut()
            .insert(conversation, after_seq);
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

async fn run(
    url: String,
    hello: Option<String>,
    status: RwSignal<ConnStatus>,
    on_frame: Rc<dyn Fn(ServerFrame)>,
    shared: Rc<Shared>,
) {
    let mut attempt: u32 = 0;
    while !shared.stopped.get() {
        if let Ok(ws) = WebSocket::open(&url) {
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
            let mut heartbeat = gloo_timers::future::IntervalStream::new(HEARTBEAT_SECS * 1000);
            while open && !shared.stopped.get() {
                match select(rx.next(), heartbeat.next()).await {
                    Either::Left((Some(Ok(Message::Text(text))), _)) => {
                        let Ok(frame) = serde_json::from_str::<ServerFrame>(&text) else {
                            continue;
                        };
                        match &frame {
                            ServerFrame::Welcome { .. } => {
                                attempt = 0;
                                status.set(ConnStatus::Online);
                            }
                            ServerFrame::Event(e) => {
                                let mut cursors = shared.cursors.borrow_mut();
                                if let Some(c) = cursors.get_mut(&e.conversation_id) {
                                    *c = (*c).max(e.seq);
                                }
                            }
                            _ => {}
                        }
                        on_frame(frame);
                    }
                    Either::Left((Some(Ok(Message::Bytes(_))), _)) => {}
                    Either::Left(_) => open = false,
                    Either::Right(_) => {
                        open = tx
                            .send(Message::Text(encode_client(&ClientFrame::Ping)))
                            .await
                            .is_ok();
                    }
                }
            }
            let _ = tx.close().await;
        }
        if shared.stopped.get() {
            break;
        }
        status.set(ConnStatus::Reconnecting);
        let delay = backoff_ms(attempt, js_sys::Math::random());
        attempt = attempt.saturating_add(1);
        let (wake_tx, wake_rx) = futures_channel::oneshot::channel();
        *shared.wake.borrow_mut() = Some(wake_tx);
        let _ = select(gloo_timers::future::TimeoutFuture::new(delay), wake_rx).await;
        shared.wake.borrow_mut().take();
    }
}
