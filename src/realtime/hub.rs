//! The hub: the one place that decides who receives an event.
//!
//! Sockets register per conversation (after the access check in `socket.rs`), and agent
//! sockets also register as staff (for presence). Publishing never waits: every socket has a
//! bounded queue, and a socket whose queue is full is a slow consumer — it is dropped from
//! the hub and told to close ("kicked"); its client reconnects and resumes from its last
//! sequence, so it loses nothing, and nobody else is slowed by it.
//!
//! Cross-node delivery goes through the [`Bus`] trait: the hub announces each persisted event
//! to the bus, and a bus implementation on another node hands it to that node's hub with
//! [`Hub::deliver`]. Receivers fill any gap from Postgres, so a lost bus message delays
//! nothing that a later event or a resume does not repair.

use super::protocol::{Event, EventKind, ServerFrame};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::{mpsc, Notify};
use uuid::Uuid;

/// Frames queued for one socket.
pub type Outbox = mpsc::Sender<Arc<ServerFrame>>;

/// How many frames may wait for one socket before it counts as a slow consumer.
pub const SOCKET_QUEUE: usize = 256;

/// A socket's identity within this process.
pub type SocketId = u64;

static NEXT_SOCKET: AtomicU64 = AtomicU64::new(1);

/// A fresh socket id.
pub fn next_socket_id() -> SocketId {
    NEXT_SOCKET.fetch_add(1, Ordering::Relaxed)
}

/// Why the hub told a socket to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KickReason {
    /// Its queue was full: it should reconnect and resume.
    Slow,
    /// Its user was deactivated: it must not come back with the same credentials.
    SignedOut,
}

/// How the hub tells a socket's task to close.
#[derive(Default)]
pub struct Kick {
    notify: Notify,
    signed_out: AtomicBool,
}

impl Kick {
    fn slow(&self) {
        self.notify.notify_one();
    }

    fn sign_out(&self) {
        self.signed_out.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    /// Waits until the hub kicks this socket, and says why.
    pub async fn kicked(&self) -> KickReason {
        self.notify.notified().await;
        if self.signed_out.load(Ordering::SeqCst) {
            KickReason::SignedOut
        } else {
            KickReason::Slow
        }
    }
}

/// One registered socket.
#[derive(Clone)]
pub struct Member {
    pub socket: SocketId,
    /// The staff user behind the socket; `None` for visitors. Staff sockets also receive
    /// private (agents-only) events.
    pub user: Option<Uuid>,
    pub outbox: Outbox,
    /// Told when the hub drops this socket.
    pub kick: Arc<Kick>,
}

impl Member {
    /// Whether this is a staff socket.
    pub fn is_agent(&self) -> bool {
        self.user.is_some()
    }
}

/// Carries announcements between nodes. The in-process default does nothing.
pub trait Bus: Send + Sync + 'static {
    /// Tells other nodes that `event` was stored (an implementation sends ids, not bodies).
    fn announce(&self, event: &Event);
}

/// The single-node bus.
pub struct InProcessBus;

impl Bus for InProcessBus {
    fn announce(&self, _event: &Event) {}
}

#[derive(Default)]
struct Rooms {
    conversations: HashMap<Uuid, Vec<Member>>,
    /// conversation → its assignee, so an agent's presence reaches their visitors.
    assignees: HashMap<Uuid, Uuid>,
    staff: HashMap<SocketId, Member>,
}

/// Routes events to sockets.
pub struct Hub {
    rooms: RwLock<Rooms>,
    bus: Arc<dyn Bus>,
}

impl Hub {
    /// A hub announcing to `bus`.
    pub fn new(bus: Arc<dyn Bus>) -> Hub {
        Hub {
            rooms: RwLock::new(Rooms::default()),
            bus,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Rooms> {
        // A panic while holding the lock leaves plain maps behind; keep serving.
        self.rooms.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Rooms> {
        self.rooms.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a socket for a conversation (its access was checked by the caller).
    pub fn join(&self, conversation: Uuid, assignee: Option<Uuid>, member: Member) {
        let mut rooms = self.write();
        if let Some(a) = assignee {
            rooms.assignees.insert(conversation, a);
        }
        let room = rooms.conversations.entry(conversation).or_default();
        room.retain(|m| m.socket != member.socket);
        room.push(member);
    }

    /// Removes a socket from a conversation.
    pub fn leave(&self, conversation: Uuid, socket: SocketId) {
        let mut rooms = self.write();
        if let Some(room) = rooms.conversations.get_mut(&conversation) {
            room.retain(|m| m.socket != socket);
            if room.is_empty() {
                rooms.conversations.remove(&conversation);
                rooms.assignees.remove(&conversation);
            }
        }
    }

    /// Registers an agent socket for staff-wide frames (presence).
    pub fn join_staff(&self, member: Member) {
        self.write().staff.insert(member.socket, member);
    }

    /// Removes a socket from the staff list.
    pub fn leave_staff(&self, socket: SocketId) {
        self.write().staff.remove(&socket);
    }

    /// Closes every socket of a staff user on this node (deactivation); returns how many.
    pub fn sign_out(&self, user: Uuid) -> usize {
        let sockets: Vec<SocketId> = {
            let rooms = self.read();
            rooms
                .staff
                .values()
                .filter(|m| m.user == Some(user))
                .map(|m| {
                    m.kick.sign_out();
                    m.socket
                })
                .collect()
        };
        self.drop_sockets(&sockets);
        sockets.len()
    }

    /// Number of sockets registered for a conversation (for tests and metrics).
    pub fn members(&self, conversation: Uuid) -> usize {
        self.read()
            .conversations
            .get(&conversation)
            .map_or(0, |r| r.len())
    }

    /// Publishes a stored event: delivered here, announced to other nodes.
    pub fn publish(&self, event: Event) {
        self.bus.announce(&event);
        self.deliver(event);
    }

    /// Delivers a stored event to this node's sockets: private events to agents only.
    pub fn deliver(&self, event: Event) {
        let conversation = event.conversation_id;
        let agents_only = event.kind.agents_only();
        match &event.kind {
            EventKind::Assigned { agent_id, .. } => {
                let mut rooms = self.write();
                match agent_id {
                    Some(a) => rooms.assignees.insert(conversation, *a),
                    None => rooms.assignees.remove(&conversation),
                };
            }
            // Reopened by the visitor: nobody's until an agent joins again.
            EventKind::Status { status } if status == "waiting" => {
                self.write().assignees.remove(&conversation);
            }
            _ => {}
        }
        let queues_move = matches!(
            event.kind,
            EventKind::Assigned { .. } | EventKind::Status { .. }
        );
        self.send_to_room(conversation, Arc::new(ServerFrame::Event(event)), |m| {
            !agents_only || m.is_agent()
        });
        if queues_move {
            self.queue_changed();
        }
    }

    /// Sends a transient frame (typing) to a conversation's sockets except `except`.
    pub fn relay(&self, conversation: Uuid, frame: ServerFrame, except: SocketId) {
        self.send_to_room(conversation, Arc::new(frame), |m| m.socket != except);
    }

    /// Tells every staff socket that the queues changed (no content: each dashboard refetches
    /// through an access-checked server function, so nothing leaks to agents of other sites).
    pub fn queue_changed(&self) {
        let frame = Arc::new(ServerFrame::QueueChanged);
        let mut slow = Vec::new();
        {
            let rooms = self.read();
            for m in rooms.staff.values() {
                offer(m, &frame, &mut slow);
            }
        }
        self.drop_sockets(&slow);
    }

    /// Sends an agent's presence to all staff sockets and to the sockets of conversations
    /// assigned to that agent.
    pub fn presence(&self, agent: Uuid, frame: ServerFrame) {
        let frame = Arc::new(frame);
        let mut slow = Vec::new();
        {
            let rooms = self.read();
            for m in rooms.staff.values() {
                offer(m, &frame, &mut slow);
            }
            for (conv, _) in rooms.assignees.iter().filter(|(_, a)| **a == agent) {
                for m in rooms.conversations.get(conv).into_iter().flatten() {
                    if !m.is_agent() {
                        offer(m, &frame, &mut slow);
                    }
                }
            }
        }
        self.drop_sockets(&slow);
    }

    fn send_to_room(
        &self,
        conversation: Uuid,
        frame: Arc<ServerFrame>,
        to: impl Fn(&Member) -> bool,
    ) {
        let mut slow = Vec::new();
        {
            let rooms = self.read();
            for m in rooms.conversations.get(&conversation).into_iter().flatten() {
                if to(m) {
                    offer(m, &frame, &mut slow);
                }
            }
        }
        self.drop_sockets(&slow);
    }

    /// Forgets sockets that were slow or gone, everywhere.
    fn drop_sockets(&self, sockets: &[SocketId]) {
        if sockets.is_empty() {
            return;
        }
        let mut rooms = self.write();
        rooms.conversations.retain(|_, room| {
            room.retain(|m| !sockets.contains(&m.socket));
            !room.is_empty()
        });
        rooms.staff.retain(|id, _| !sockets.contains(id));
    }
}

/// Queues a frame without waiting. A full queue means a slow consumer: it is kicked (its
/// socket closes and its client resumes later) instead of slowing this publisher down.
fn offer(m: &Member, frame: &Arc<ServerFrame>, slow: &mut Vec<SocketId>) {
    match m.outbox.try_send(frame.clone()) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(_)) => {
            tracing::info!(socket = m.socket, "slow consumer kicked");
            m.kick.slow();
            slow.push(m.socket);
        }
        Err(mpsc::error::TrySendError::Closed(_)) => slow.push(m.socket),
    }
}
