//! The cross-node bus: how the hubs of several Switchboard nodes behind a load balancer hear
//! about each other's events, typing, presence, queue changes and sign-outs.
//!
//! Two transports behind one [`Bus`] implementation, chosen by `SWITCHBOARD_BUS`:
//! Postgres `LISTEN/NOTIFY` (the default: no extra service; [`postgres`]) and NATS
//! (`nats://host:port`, for large installs; [`nats`]); `none` keeps everything in-process.
//!
//! **Only ids travel for stored events.** An event is announced as (conversation, sequence);
//! a node with sockets in that conversation reads it from Postgres and hands it to its hub,
//! whose per-conversation delivered mark drops anything already delivered (its own events
//! come back too and are ignored by node id). A lost bus message is repaired by the socket's
//! gap fill on the next event, by the client's resume, and after a bus reconnect by reading
//! everything newer than each room's mark ([`Inbound::catch_up`]).
//!
//! **Batching.** Signals go through one bounded queue per node; a single sender task takes
//! whatever accumulated while the previous send was in flight and sends it as one message
//! (one `NOTIFY` per batch, under its 8,000-byte payload limit), so under load the global
//! lock `NOTIFY` takes at commit is taken once per batch, not once per event.
//!
//! **Presence.** A change is signalled at once, and every node repeats the list of its
//! connected agents every [`HEARTBEAT`]; entries not repeated for [`PRESENCE_TTL`] expire,
//! so the agents of a node that was killed go offline everywhere (see
//! [`super::presence`]). Auto-assignment's "connected" uses this merged view.

pub mod nats;
pub mod postgres;

use super::hub::Bus;
use super::protocol::{Event, EventKind, PresenceState, ServerFrame};
use super::socket::Realtime;
use crate::db::{self, Pool};
use crate::domain::conversations::append_event::event_from_row;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::mpsc;
use uuid::Uuid;

/// How often a node repeats the list of its connected agents.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A node's report of an agent expires when not repeated for this long (3 heartbeats and a
/// half: one lost heartbeat does not flap an agent offline).
pub const PRESENCE_TTL: Duration = Duration::from_secs(7);
/// Signals waiting to be sent; beyond this (the transport is down) they are dropped and
/// counted, and the resume path repairs what they carried.
const QUEUE: usize = 100_000;
/// Agents per heartbeat signal, so one stays well under the `NOTIFY` payload limit.
const HEARTBEAT_CHUNK: usize = 40;

/// Which bus a node uses (`SWITCHBOARD_BUS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusSetting {
    /// `none`: a single node; nothing leaves the process.
    InProcess,
    /// Unset or `postgres`: `LISTEN/NOTIFY` on the application database.
    Postgres,
    /// `nats://host:port`: a NATS server, and the subject this installation's nodes share
    /// (`SWITCHBOARD_BUS_SUBJECT`, default `switchboard.bus`; give each installation its own
    /// when several share one NATS server).
    Nats { url: String, subject: String },
}

impl BusSetting {
    /// Parses `SWITCHBOARD_BUS` (and `SWITCHBOARD_BUS_SUBJECT` for NATS); `Err` carries the
    /// value that makes no sense.
    pub fn parse(raw: Option<&str>, subject: Option<&str>) -> Result<BusSetting, String> {
        match raw.map(str::trim) {
            None | Some("") | Some("postgres") => Ok(BusSetting::Postgres),
            Some("none") | Some("in-process") => Ok(BusSetting::InProcess),
            Some(url) if url.starts_with("nats://") && url.len() > "nats://".len() => {
                Ok(BusSetting::Nats {
                    url: url.to_string(),
                    subject: subject
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .unwrap_or(nats::SUBJECT)
                        .to_string(),
                })
            }
            Some(other) => Err(other.to_string()),
        }
    }
}

/// What one node tells the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Signal {
    /// An event was stored: conversation, sequence, and whether it moves the queues
    /// (assignment or status), so nodes without sockets in it still refresh dashboards.
    Event { c: Uuid, s: i64, q: bool },
    /// A transient frame (typing) for a conversation's sockets.
    Relay {
        conversation: Uuid,
        frame: Box<ServerFrame>,
    },
    /// An agent's state on the sending node changed.
    Presence {
        agent: Uuid,
        name: String,
        state: PresenceState,
    },
    /// The sending node's connected agents (repeated every [`HEARTBEAT`]).
    Heartbeat {
        agents: Vec<(Uuid, String, PresenceState)>,
    },
    /// Dashboards should refetch their queues.
    QueueChanged,
    /// Close this staff user's sockets (deactivated).
    SignOut { user: Uuid },
}

/// One bus message: the sending node, when it was sent, and a batch of signals.
#[derive(Debug, Deserialize)]
struct Envelope {
    /// Sending node.
    n: Uuid,
    /// Sent at, microseconds since the Unix epoch (for the bus lag metric).
    at: i64,
    s: Vec<Signal>,
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// A bus start-up failure.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot listen for bus notifications on Postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("cannot connect to the NATS server at SWITCHBOARD_BUS={url}: {reason}")]
    Nats { url: String, reason: String },
}

/// The hub's side of a clustered bus: queues signals for the sender task.
pub struct ClusterBus {
    tx: mpsc::Sender<Signal>,
}

impl ClusterBus {
    /// A bus and the receiving end its sender task reads (see [`start`]).
    pub fn new() -> (Arc<ClusterBus>, mpsc::Receiver<Signal>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Arc::new(ClusterBus { tx }), rx)
    }

    fn push(&self, signal: Signal) {
        if self.tx.try_send(signal).is_err() {
            metrics::counter!("switchboard_bus_dropped_total").increment(1);
            tracing::warn!("bus queue full or closed: a signal was dropped (resume repairs it)");
        }
    }
}

impl Bus for ClusterBus {
    fn announce(&self, event: &Event) {
        self.push(Signal::Event {
            c: event.conversation_id,
            s: event.seq,
            q: matches!(
                event.kind,
                EventKind::Assigned { .. } | EventKind::Status { .. }
            ),
        });
    }

    fn signal(&self, signal: Signal) {
        self.push(signal);
    }
}

/// Where batches go.
enum Transport {
    Postgres(Pool),
    Nats(async_nats::Client, String),
}

impl Transport {
    /// The largest message: `NOTIFY` payloads must stay under 8,000 bytes.
    fn max_payload(&self) -> usize {
        match self {
            Transport::Postgres(_) => 7_900,
            Transport::Nats(..) => 256 * 1024,
        }
    }

    async fn send(&self, payload: String) -> Result<(), String> {
        match self {
            Transport::Postgres(pool) => postgres::notify(pool, &payload)
                .await
                .map_err(|e| e.to_string()),
            Transport::Nats(client, subject) => nats::publish(client, subject, payload)
                .await
                .map_err(|e| e.to_string()),
        }
    }
}

/// Builds an envelope around already serialized signals.
fn envelope(node: Uuid, parts: &[String]) -> String {
    format!(
        "{{\"n\":\"{node}\",\"at\":{},\"s\":[{}]}}",
        now_micros(),
        parts.join(",")
    )
}

/// Envelope overhead: node id, timestamp, brackets.
const ENVELOPE_BYTES: usize = 80;

/// The sender task: sends what accumulated as few messages as the payload limit allows.
async fn send_loop(transport: Transport, node: Uuid, mut rx: mpsc::Receiver<Signal>) {
    let max = transport.max_payload();
    while let Some(first) = rx.recv().await {
        let mut batches: Vec<Vec<String>> = vec![Vec::new()];
        let mut size = ENVELOPE_BYTES;
        let mut queue_changed = false;
        let mut next = Some(first);
        while let Some(signal) = next.take() {
            // Several queue refreshes in one batch are one refresh.
            let skip = matches!(signal, Signal::QueueChanged)
                && std::mem::replace(&mut queue_changed, true);
            if !skip {
                let part = serde_json::to_string(&signal).unwrap_or_default();
                if part.len() + ENVELOPE_BYTES > max {
                    tracing::warn!(bytes = part.len(), "bus signal too large; dropped");
                    metrics::counter!("switchboard_bus_dropped_total").increment(1);
                } else {
                    if size + part.len() + 1 > max {
                        batches.push(Vec::new());
                        size = ENVELOPE_BYTES;
                    }
                    size += part.len() + 1;
                    batches.last_mut().expect("one batch").push(part);
                }
            }
            // Bound one round so the first batch leaves soon even under a flood.
            if batches.len() < 64 {
                next = rx.try_recv().ok();
            }
        }
        for parts in batches.iter().filter(|p| !p.is_empty()) {
            let signals = parts.len() as u64;
            match transport.send(envelope(node, parts)).await {
                Ok(()) => {
                    metrics::counter!("switchboard_bus_messages_sent_total").increment(1);
                    metrics::counter!("switchboard_bus_signals_sent_total").increment(signals);
                }
                Err(e) => {
                    metrics::counter!("switchboard_bus_dropped_total").increment(signals);
                    tracing::warn!(error = %e, "bus send failed (resume repairs it)");
                }
            }
        }
    }
}

/// The receiving side of a node: turns bus messages into hub deliveries.
#[derive(Clone)]
pub struct Inbound {
    node: Uuid,
    pool: Pool,
    rt: Weak<Realtime>,
}

impl Inbound {
    /// Handles one bus message.
    pub async fn receive(&self, payload: &str) {
        let env: Envelope = match serde_json::from_str(payload) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable bus message ignored");
                return;
            }
        };
        if env.n == self.node {
            return; // our own: delivered locally when published
        }
        let lag = (now_micros() - env.at).max(0) as f64 / 1e6;
        metrics::histogram!("switchboard_bus_lag_seconds").record(lag);
        metrics::counter!("switchboard_bus_messages_received_total").increment(1);
        let Some(rt) = self.rt.upgrade() else { return };
        let mut announced = Vec::new();
        let mut queues = false;
        for signal in env.s {
            match signal {
                Signal::Event { c, s, q } => {
                    announced.push((c, s));
                    queues |= q;
                }
                // Socket ids start at 1: nobody here is the typist.
                Signal::Relay {
                    conversation,
                    frame,
                } => rt.hub.relay_here(conversation, *frame, 0),
                Signal::Presence { agent, name, state } => {
                    rt.presence
                        .remote(&rt.hub, env.n, vec![(agent, name, state)])
                }
                Signal::Heartbeat { agents } => rt.presence.remote(&rt.hub, env.n, agents),
                Signal::QueueChanged => queues = true,
                Signal::SignOut { user } => {
                    rt.hub.sign_out_here(user);
                }
            }
        }
        let wanted = rt.hub.wanted(&announced);
        if !wanted.is_empty() {
            match db::bus::events_at(&self.pool, &wanted).await {
                Ok(rows) => {
                    for event in rows.iter().filter_map(event_from_row) {
                        rt.hub.deliver_from_bus(event);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading announced events failed (gap fill repairs it)")
                }
            }
        }
        if queues {
            rt.hub.queue_changed_here();
        }
    }

    /// After the bus connection was lost and restored: delivers every event newer than each
    /// room's delivered mark, and has dashboards refetch (queues may have moved meanwhile).
    pub async fn catch_up(&self) {
        let Some(rt) = self.rt.upgrade() else { return };
        let marks = rt.hub.delivered_marks();
        if !marks.is_empty() {
            match db::bus::events_after(&self.pool, &marks).await {
                Ok(rows) => {
                    for event in rows.iter().filter_map(event_from_row) {
                        rt.hub.deliver_from_bus(event);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "bus catch-up failed"),
            }
        }
        rt.hub.queue_changed_here();
        tracing::info!(
            rooms = marks.len(),
            "bus reconnected; caught up from Postgres"
        );
    }
}

/// Connects the transport `setting` names and starts this node's sender, receiver and
/// presence heartbeat. `rx` is the receiving end from [`ClusterBus::new`], whose bus the
/// hub of `rt` publishes to. `InProcess` starts nothing.
pub async fn start(
    setting: &BusSetting,
    pool: Pool,
    rt: &Arc<Realtime>,
    rx: mpsc::Receiver<Signal>,
) -> Result<(), BusError> {
    let node = Uuid::new_v4();
    let inbound = Inbound {
        node,
        pool: pool.clone(),
        rt: Arc::downgrade(rt),
    };
    let transport = match setting {
        BusSetting::InProcess => return Ok(()),
        BusSetting::Postgres => {
            postgres::listen(inbound, &pool).await?;
            Transport::Postgres(pool)
        }
        BusSetting::Nats { url, subject } => {
            Transport::Nats(nats::connect(url, subject, inbound).await?, subject.clone())
        }
    };
    tokio::spawn(send_loop(transport, node, rx));
    spawn_heartbeat(Arc::downgrade(rt));
    tracing::info!(%node, bus = ?setting, "cluster bus started");
    Ok(())
}

/// Repeats this node's agents every [`HEARTBEAT`] and expires other nodes' stale reports.
fn spawn_heartbeat(rt: Weak<Realtime>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(HEARTBEAT);
        loop {
            tick.tick().await;
            let Some(rt) = rt.upgrade() else { break };
            let agents = rt.presence.local();
            for chunk in agents.chunks(HEARTBEAT_CHUNK) {
                rt.hub.signal(Signal::Heartbeat {
                    agents: chunk.to_vec(),
                });
            }
            rt.presence.expire(&rt.hub, PRESENCE_TTL);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings() {
        assert_eq!(BusSetting::parse(None, None), Ok(BusSetting::Postgres));
        assert_eq!(
            BusSetting::parse(Some("postgres"), Some("x")),
            Ok(BusSetting::Postgres)
        );
        assert_eq!(
            BusSetting::parse(Some("none"), None),
            Ok(BusSetting::InProcess)
        );
        assert_eq!(
            BusSetting::parse(Some("nats://127.0.0.1:4222"), None),
            Ok(BusSetting::Nats {
                url: "nats://127.0.0.1:4222".into(),
                subject: "switchboard.bus".into()
            })
        );
        assert_eq!(
            BusSetting::parse(Some("nats://n:4222"), Some("shop1.bus")),
            Ok(BusSetting::Nats {
                url: "nats://n:4222".into(),
                subject: "shop1.bus".into()
            })
        );
        assert!(BusSetting::parse(Some("redis://x"), None).is_err());
        assert!(BusSetting::parse(Some("nats://"), None).is_err());
    }

    #[test]
    fn envelopes_read_back() {
        let node = Uuid::new_v4();
        let parts = vec![
            serde_json::to_string(&Signal::Event {
                c: Uuid::nil(),
                s: 7,
                q: true,
            })
            .unwrap(),
            serde_json::to_string(&Signal::QueueChanged).unwrap(),
        ];
        let env: Envelope = serde_json::from_str(&envelope(node, &parts)).unwrap();
        assert_eq!(env.n, node);
        assert_eq!(env.s.len(), 2);
        assert_eq!(
            env.s[0],
            Signal::Event {
                c: Uuid::nil(),
                s: 7,
                q: true
            }
        );
    }
}
