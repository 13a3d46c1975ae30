//! Agent presence: online while a dashboard socket is open and active, idle after 5 minutes
//! without activity, offline when the last socket closes. Changes go out through the hub.
//!
//! With several nodes, each node knows its own agents' sockets and hears the others' over
//! the bus: a change is sent at once, and every node repeats its whole list as a heartbeat
//! (see [`super::bus`]). What an agent looks like is the best state any live node reports
//! (online over idle over offline), and an entry a node stopped repeating expires, so the
//! agents of a node that died go offline everywhere within the time to live.

use super::bus::Signal;
use super::hub::Hub;
use super::protocol::{PresenceState, ServerFrame};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Activity older than this makes an agent idle.
pub const IDLE_AFTER: Duration = Duration::from_secs(5 * 60);

struct Agent {
    name: String,
    sockets: usize,
    last_active: Instant,
    state: PresenceState,
}

/// An agent as other nodes report them.
struct Remote {
    name: String,
    /// node → (state there, when that node last said so)
    nodes: HashMap<Uuid, (PresenceState, Instant)>,
}

/// Presence of the agents connected to this node, and of those other nodes report.
#[derive(Default)]
pub struct Presence {
    agents: Mutex<HashMap<Uuid, Agent>>,
    remote: Mutex<HashMap<Uuid, Remote>>,
}

fn rank(s: PresenceState) -> u8 {
    match s {
        PresenceState::Offline => 0,
        PresenceState::Idle => 1,
        PresenceState::Online => 2,
    }
}

fn best(a: PresenceState, b: PresenceState) -> PresenceState {
    if rank(a) >= rank(b) {
        a
    } else {
        b
    }
}

type Locals = HashMap<Uuid, Agent>;
type Remotes = HashMap<Uuid, Remote>;

/// An agent's state over all nodes, and a name for it.
fn merged(locals: &Locals, remotes: &Remotes, agent: Uuid) -> (PresenceState, Option<String>) {
    let mut state = PresenceState::Offline;
    let mut name = None;
    if let Some(a) = locals.get(&agent) {
        state = a.state;
        name = Some(a.name.clone());
    }
    if let Some(r) = remotes.get(&agent) {
        for (s, _) in r.nodes.values() {
            state = best(state, *s);
        }
        if name.is_none() && !r.nodes.is_empty() {
            name = Some(r.name.clone());
        }
    }
    (state, name)
}

impl Presence {
    fn lock(&self) -> std::sync::MutexGuard<'_, Locals> {
        self.agents.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_remote(&self) -> std::sync::MutexGuard<'_, Remotes> {
        self.remote.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current state of an agent, on any node.
    pub fn state(&self, agent: Uuid) -> PresenceState {
        let locals = self.lock();
        let remotes = self.lock_remote();
        merged(&locals, &remotes, agent).0
    }

    /// A frame reporting an agent's current state (for a new subscriber).
    pub fn frame(&self, agent: Uuid) -> Option<ServerFrame> {
        let locals = self.lock();
        let remotes = self.lock_remote();
        match merged(&locals, &remotes, agent) {
            (state, Some(name)) => Some(ServerFrame::Presence {
                user_id: agent,
                name,
                state,
            }),
            _ => None,
        }
    }

    /// The presence of every agent connected to any node (for a new staff socket).
    pub fn snapshot(&self) -> Vec<ServerFrame> {
        let locals = self.lock();
        let remotes = self.lock_remote();
        let mut ids: Vec<Uuid> = locals.keys().chain(remotes.keys()).copied().collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .filter_map(|id| match merged(&locals, &remotes, id) {
                (PresenceState::Offline, _) | (_, None) => None,
                (state, Some(name)) => Some(ServerFrame::Presence {
                    user_id: id,
                    name,
                    state,
                }),
            })
            .collect()
    }

    /// The agents connected to this node and their states (the bus heartbeat).
    pub fn local(&self) -> Vec<(Uuid, String, PresenceState)> {
        self.lock()
            .iter()
            .map(|(id, a)| (*id, a.name.clone(), a.state))
            .collect()
    }

    /// Applies `f` to this node's agents, then tells other nodes about `agent`'s local state
    /// if it changed and this node's sockets about the merged state if that changed.
    fn change_local(&self, hub: &Hub, agent: Uuid, f: impl FnOnce(&mut Locals)) {
        let (local_change, merged_change) = {
            let mut locals = self.lock();
            let remotes = self.lock_remote();
            let before_local = locals.get(&agent).map(|a| a.state);
            let before = merged(&locals, &remotes, agent).0;
            let name_before = locals.get(&agent).map(|a| a.name.clone());
            f(&mut locals);
            let after_local = locals.get(&agent).map(|a| a.state);
            let (after, name_after) = merged(&locals, &remotes, agent);
            let name = name_after.or(name_before).unwrap_or_default();
            let local_change = (before_local != after_local)
                .then(|| (name.clone(), after_local.unwrap_or(PresenceState::Offline)));
            let merged_change = (before != after).then_some((name, after));
            (local_change, merged_change)
        };
        if let Some((name, state)) = local_change {
            hub.signal(Signal::Presence { agent, name, state });
        }
        if let Some((name, state)) = merged_change {
            announce(hub, agent, &name, state);
        }
    }

    /// An agent socket opened.
    pub fn connected(&self, hub: &Hub, agent: Uuid, name: &str) {
        self.change_local(hub, agent, |agents| {
            let a = agents.entry(agent).or_insert(Agent {
                name: name.to_string(),
                sockets: 0,
                last_active: Instant::now(),
                state: PresenceState::Offline,
            });
            a.sockets += 1;
            a.last_active = Instant::now();
            a.state = PresenceState::Online;
        });
    }

    /// The agent did something (typed, sent, read, subscribed).
    pub fn active(&self, hub: &Hub, agent: Uuid) {
        // The common case (already online) must stay cheap: no bus, no frame.
        {
            let mut agents = self.lock();
            match agents.get_mut(&agent) {
                Some(a) if a.state == PresenceState::Online => {
                    a.last_active = Instant::now();
                    return;
                }
                Some(_) => {}
                None => return,
            }
        }
        self.change_local(hub, agent, |agents| {
            if let Some(a) = agents.get_mut(&agent) {
                a.last_active = Instant::now();
                a.state = PresenceState::Online;
            }
        });
    }

    /// An agent socket closed.
    pub fn disconnected(&self, hub: &Hub, agent: Uuid) {
        self.change_local(hub, agent, |agents| {
            if let Some(a) = agents.get_mut(&agent) {
                a.sockets = a.sockets.saturating_sub(1);
                if a.sockets == 0 {
                    agents.remove(&agent);
                }
            }
        });
    }

    /// Marks agents idle whose last activity is older than `idle_after`; run periodically.
    pub fn sweep(&self, hub: &Hub, idle_after: Duration) {
        let now = Instant::now();
        let stale: Vec<Uuid> = self
            .lock()
            .iter()
            .filter(|(_, a)| {
                a.state == PresenceState::Online && now.duration_since(a.last_active) >= idle_after
            })
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            self.change_local(hub, id, |agents| {
                if let Some(a) = agents.get_mut(&id) {
                    a.state = PresenceState::Idle;
                }
            });
        }
    }

    /// Applies what `node` reports about agents (a change, or its heartbeat list); tells this
    /// node's sockets about every merged state that changed.
    pub fn remote(&self, hub: &Hub, node: Uuid, reports: Vec<(Uuid, String, PresenceState)>) {
        let now = Instant::now();
        let mut changes = Vec::new();
        {
            let locals = self.lock();
            let mut remotes = self.lock_remote();
            for (agent, name, state) in reports {
                let before = merged(&locals, &remotes, agent).0;
                if state == PresenceState::Offline {
                    if let Some(r) = remotes.get_mut(&agent) {
                        r.nodes.remove(&node);
                        if r.nodes.is_empty() {
                            remotes.remove(&agent);
                        }
                    }
                } else {
                    let r = remotes.entry(agent).or_insert_with(|| Remote {
                        name: name.clone(),
                        nodes: HashMap::new(),
                    });
                    r.name = name.clone();
                    r.nodes.insert(node, (state, now));
                }
                let (after, n) = merged(&locals, &remotes, agent);
                if before != after {
                    changes.push((agent, n.unwrap_or(name), after));
                }
            }
        }
        for (agent, name, state) in changes {
            announce(hub, agent, &name, state);
        }
    }

    /// Forgets what other nodes reported longer than `ttl` ago (a node that died stops
    /// repeating its list); its agents go offline here unless another node has them.
    pub fn expire(&self, hub: &Hub, ttl: Duration) {
        let now = Instant::now();
        let mut changes = Vec::new();
        {
            let locals = self.lock();
            let mut remotes = self.lock_remote();
            let ids: Vec<Uuid> = remotes.keys().copied().collect();
            for agent in ids {
                let before = merged(&locals, &remotes, agent);
                if let Some(r) = remotes.get_mut(&agent) {
                    r.nodes
                        .retain(|_, (_, seen)| now.duration_since(*seen) < ttl);
                    if r.nodes.is_empty() {
                        remotes.remove(&agent);
                    }
                }
                let after = merged(&locals, &remotes, agent).0;
                if before.0 != after {
                    changes.push((agent, before.1.unwrap_or_default(), after));
                }
            }
        }
        for (agent, name, state) in changes {
            announce(hub, agent, &name, state);
        }
    }
}

fn announce(hub: &Hub, agent: Uuid, name: &str, state: PresenceState) {
    hub.presence(
        agent,
        ServerFrame::Presence {
            user_id: agent,
            name: name.to_string(),
            state,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::hub::InProcessBus;
    use std::sync::Arc;

    #[test]
    fn other_nodes_count_and_expire() {
        let hub = Hub::new(Arc::new(InProcessBus));
        let p = Presence::default();
        let (here, there) = (Uuid::new_v4(), Uuid::new_v4());
        let (node_a, node_b) = (Uuid::new_v4(), Uuid::new_v4());
        p.connected(&hub, here, "Here");
        p.remote(
            &hub,
            node_a,
            vec![(there, "There".into(), PresenceState::Idle)],
        );
        p.remote(
            &hub,
            node_b,
            vec![(there, "There".into(), PresenceState::Online)],
        );
        // The best state any node reports.
        assert_eq!(p.state(there), PresenceState::Online);
        assert_eq!(p.snapshot().len(), 2);
        // Node B says offline: node A's idle remains.
        p.remote(
            &hub,
            node_b,
            vec![(there, "There".into(), PresenceState::Offline)],
        );
        assert_eq!(p.state(there), PresenceState::Idle);
        // Node A stops repeating itself: expired. Local agents never expire.
        p.expire(&hub, Duration::ZERO);
        assert_eq!(p.state(there), PresenceState::Offline);
        assert_eq!(p.state(here), PresenceState::Online);
        assert!(p.frame(there).is_none());
    }
}
