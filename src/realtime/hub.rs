//! The hub: the one place that decides who receives an event.
//!
//! Sockets register per conversation (after the access check in `socket.rs`), and agent
//! sockets also register as staff (for presence). Publishing never waits: every socket has a
//! bounded queue, and a socket whose queue is full is a slow consumer — it is dropped from
//! the hub and told to close ("kicked"); its client reconnects and resumes from its last
//! sequence, so it loses nothing, and nobody else is slowed by it.
//!
//! Cross-node delivery goes through the [`Bus`] trait: the hub announces each persisted event
//! to the bus (ids only), and the bus on another node reads it from Postgres and hands it to
//! that node's hub with [`Hub::deliver`]. Ephemeral frames (typing, presence, queue refresh,
//! sign-out kicks) travel as [`Signal`]s. Receivers fill any gap from Postgres, so a lost bus
//! message delays nothing that a later event or a resume does not repair. The hub remembers
//! the highest sequence it delivered per conversation, so a node never delivers an event
//! twice (its own announcement coming back, or a bus message racing a local publish).

pub use super::bus::Signal;
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

    /// Tells other nodes something their sockets need live but that is not stored
    /// (typing, presence, queue refresh, sign-out).
    fn signal(&self, _signal: Signal) {}
}

/// The single-node bus.
pub struct InProcessBus;

impl Bus for InProcessBus {
    fn announce(&self, _event: &Event) {}
}

#[derive(Default)]
struct Rooms {
    conversations: HashMap<Uuid, Vec<Member>>,
    /// conversation → the highest sequence delivered here, kept while the room exists
    /// (dedupe: a node never delivers an event twice; the bus fetches only newer ones).
    delivered: HashMap<Uuid, i64>,
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
        self.join_at(conversation, assignee, member, 0)
    }

    /// [`Hub::join`] for a socket that read the conversation at sequence `seen` and reads its
    /// backlog after joining: a room created here starts its dedupe mark at `seen` (older
    /// events reach this socket through the backlog), so the bus never refetches them.
    pub fn join_at(&self, conversation: Uuid, assignee: Option<Uuid>, member: Member, seen: i64) {
        let mut rooms = self.write();
        if let Some(a) = assignee {
            rooms.assignees.insert(conversation, a);
        }
        if !rooms.conversations.contains_key(&conversation) {
            rooms.delivered.insert(conversation, seen);
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
                rooms.delivered.remove(&conversation);
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

    /// Closes every socket of a staff user on every node (deactivation); returns how many
    /// were on this node.
    pub fn sign_out(&self, user: Uuid) -> usize {
        self.bus.signal(Signal::SignOut { user });
        self.sign_out_here(user)
    }

    /// Closes every socket of a staff user on this node (a sign-out from another node).
    pub fn sign_out_here(&self, user: Uuid) -> usize {
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

    /// Sends a signal to the other nodes (the caller has handled this node).
    pub fn signal(&self, signal: Signal) {
        self.bus.signal(signal);
    }

    /// Of the announced `(conversation, seq)` pairs, those this node should fetch: it has
    /// sockets in the conversation and has not delivered that sequence yet.
    pub fn wanted(&self, announced: &[(Uuid, i64)]) -> Vec<(Uuid, i64)> {
        let rooms = self.read();
        announced
            .iter()
            .filter(|(c, seq)| rooms.delivered.get(c).is_some_and(|d| seq > d))
            .copied()
            .collect()
    }

    /// Every conversation with sockets here and the highest sequence delivered to it: what a
    /// bus that lost its connection reads again from Postgres.
    pub fn delivered_marks(&self) -> Vec<(Uuid, i64)> {
        self.read()
            .delivered
            .iter()
            .map(|(c, s)| (*c, *s))
            .collect()
    }

    /// Number of sockets registered here (for metrics).
    pub fn sockets(&self) -> usize {
        let rooms = self.read();
        rooms.conversations.values().map(Vec::len).sum::<usize>() + rooms.staff.len()
    }

    /// Delivers a stored event to this node's sockets: private events to agents only.
    /// An event at or below the conversation's delivered mark was delivered already (or
    /// reached the sockets through their backlog or a gap fill) and is dropped.
    pub fn deliver(&self, event: Event) {
        self.deliver_inner(event, false);
    }

    /// [`Hub::deliver`] for an event another node stored: the bus refreshes the queues once
    /// per message, not per event.
    pub fn deliver_from_bus(&self, event: Event) {
        self.deliver_inner(event, true);
    }

    fn deliver_inner(&self, event: Event, via_bus: bool) {
        let conversation = event.conversation_id;
        let agents_only = event.kind.agents_only();
        let queues_move = matches!(
            event.kind,
            EventKind::Assigned { .. } | EventKind::Status { .. }
        );
        {
            let mut rooms = self.write();
            let here = rooms.conversations.contains_key(&conversation);
            match &event.kind {
                EventKind::Assigned { agent_id, .. } if here => {
                    match agent_id {
                        Some(a) => rooms.assignees.insert(conversation, *a),
                        None => rooms.assignees.remove(&conversation),
                    };
                }
                // Reopened by the visitor: nobody's until an agent joins again.
                EventKind::Status { status } if here && status == "waiting" => {
                    rooms.assignees.remove(&conversation);
                }
                _ => {}
            }
            let fresh = match rooms.delivered.get_mut(&conversation) {
                Some(mark) if *mark >= event.seq => false,
                Some(mark) => {
                    *mark = event.seq;
                    true
                }
                None => false, // nobody here listens to it
            };
            if !fresh {
                drop(rooms);
                if queues_move && !via_bus {
                    self.queue_changed_here();
                }
                return;
            }
        }
        crate::server::metrics::delivered(&event, via_bus);
        self.send_to_room(conversation, Arc::new(ServerFrame::Event(event)), |m| {
            !agents_only || m.is_agent()
        });
        if queues_move && !via_bus {
            self.queue_changed_here();
        }
    }

    /// Sends a typing frame to a conversation's sockets except `except`, here and on the
    /// other nodes.
    pub fn relay(&self, conversation: Uuid, frame: ServerFrame, except: SocketId) {
        self.bus.signal(Signal::Relay {
            conversation,
            frame: Box::new(frame.clone()),
        });
        self.relay_here(conversation, frame, except);
    }

    /// Sends a transient frame to this node's sockets of a conversation except `except`.
    pub fn relay_here(&self, conversation: Uuid, frame: ServerFrame, except: SocketId) {
        self.send_to_room(conversation, Arc::new(frame), |m| m.socket != except);
    }

    /// Tells every staff socket on every node that the queues changed (no content: each
    /// dashboard refetches through an access-checked server function, so nothing leaks to
    /// agents of other sites).
    pub fn queue_changed(&self) {
        self.bus.signal(Signal::QueueChanged);
        self.queue_changed_here();
    }

    /// [`Hub::queue_changed`] for this node's staff sockets only.
    pub fn queue_changed_here(&self) {
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
        let Rooms {
            conversations,
            delivered,
            assignees,
            staff,
        } = &mut *rooms;
        conversations.retain(|conv, room| {
            room.retain(|m| !sockets.contains(&m.socket));
            if room.is_empty() {
                delivered.remove(conv);
                assignees.remove(conv);
            }
            !room.is_empty()
        });
        staff.retain(|id, _| !sockets.contains(id));
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
