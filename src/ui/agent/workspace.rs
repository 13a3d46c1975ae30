//! The dashboard's shared state, given to every panel as context: the one socket, who I am,
//! when the queues changed, which conversation is open, and what is unread.
//!
//! Frames reach panels through handlers registered here (not a signal): a signal keeps only
//! its latest value, and two frames arriving between renders must both be applied.

use crate::realtime::protocol::{Author, ConnStatus};
use leptos::prelude::*;
use std::collections::HashMap;
use uuid::Uuid;

/// A frame handler of a panel.
#[cfg(feature = "browser")]
pub type Handler = std::rc::Rc<dyn Fn(&crate::realtime::protocol::ServerFrame)>;

/// The workspace context (all fields are cheap, copyable handles).
#[derive(Clone, Copy)]
pub struct Workspace {
    pub status: RwSignal<ConnStatus>,
    /// Bumped whenever the server says the queues changed (and on every reconnect).
    pub queues: RwSignal<u32>,
    /// The signed-in agent, from the socket's welcome.
    pub me: RwSignal<Option<Author>>,
    /// The conversation in the pane.
    pub current: RwSignal<Option<Uuid>>,
    /// Visitor messages not yet seen, per conversation of mine.
    pub unread: RwSignal<HashMap<Uuid, u32>>,
    /// New waiting chats that arrived while the tab was hidden.
    pub unseen_waiting: RwSignal<u32>,
    // Browser only: local (non-Send) values must not exist on the server, whose render may
    // end on another thread than it started (dropping them there panics).
    #[cfg(feature = "browser")]
    handlers: StoredValue<Vec<(u64, Handler)>, LocalStorage>,
    #[cfg(feature = "browser")]
    next_handler: StoredValue<u64>,
    #[cfg(feature = "browser")]
    conn: StoredValue<Option<std::rc::Rc<crate::realtime::client::Connection>>, LocalStorage>,
}

#[cfg_attr(not(feature = "browser"), allow(dead_code))]
impl Workspace {
    /// Fresh state (the connection is attached by [`Workspace::connect`] in the browser).
    pub fn new() -> Workspace {
        Workspace {
            status: RwSignal::new(ConnStatus::Connecting),
            queues: RwSignal::new(0),
            me: RwSignal::new(None),
            current: RwSignal::new(None),
            unread: RwSignal::new(HashMap::new()),
            unseen_waiting: RwSignal::new(0),
            #[cfg(feature = "browser")]
            handlers: StoredValue::new_local(Vec::new()),
            #[cfg(feature = "browser")]
            next_handler: StoredValue::new(0),
            #[cfg(feature = "browser")]
            conn: StoredValue::new_local(None),
        }
    }

    /// What the tab title counts.
    pub fn unread_total(&self) -> u32 {
        self.unread.with(|u| u.values().sum::<u32>()) + self.unseen_waiting.get()
    }

    /// Registers a panel's frame handler; the returned id unregisters it.
    #[cfg(feature = "browser")]
    pub fn on_frame(&self, handler: Handler) -> u64 {
        let id = self.next_handler.get_value();
        self.next_handler.set_value(id + 1);
        self.handlers.update_value(|h| h.push((id, handler)));
        id
    }

    /// Removes a handler (the panel went away).
    #[cfg(feature = "browser")]
    pub fn off_frame(&self, id: u64) {
        self.handlers.update_value(|h| h.retain(|(i, _)| *i != id));
    }

    /// Hands a frame to every registered panel.
    #[cfg(feature = "browser")]
    pub fn dispatch(&self, frame: &crate::realtime::protocol::ServerFrame) {
        // Cloned out first: a handler may register or unregister handlers.
        let handlers: Vec<Handler> = self
            .handlers
            .with_value(|h| h.iter().map(|(_, f)| f.clone()).collect());
        for h in handlers {
            h(frame);
        }
    }

    /// Keeps the page's connection.
    #[cfg(feature = "browser")]
    pub fn connect(&self, conn: crate::realtime::client::Connection) {
        self.conn.set_value(Some(std::rc::Rc::new(conn)));
    }

    /// Runs `f` with the connection, if there is one (in the browser).
    #[cfg(feature = "browser")]
    pub fn with_conn(&self, f: impl FnOnce(&crate::realtime::client::Connection)) {
        self.conn.with_value(|c| {
            if let Some(c) = c {
                f(c)
            }
        });
    }

    /// Marks a conversation's messages seen.
    pub fn seen(&self, conversation: Uuid) {
        if self
            .unread
            .with_untracked(|u| u.contains_key(&conversation))
        {
            self.unread.update(|u| {
                u.remove(&conversation);
            });
        }
    }
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace::new()
    }
}

/// The workspace of the current page.
pub fn use_workspace() -> Workspace {
    expect_context::<Workspace>()
}
