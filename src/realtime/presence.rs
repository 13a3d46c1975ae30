//! Agent presence: online while a dashboard socket is open and active, idle after 5 minutes
//! without activity, offline when the last socket closes. Changes go out through the hub.

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

/// Presence of the agents connected to this node.
#[derive(Default)]
pub struct Presence {
    agents: Mutex<HashMap<Uuid, Agent>>,
}

impl Presence {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Agent>> {
        self.agents.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current state of an agent.
    pub fn state(&self, agent: Uuid) -> PresenceState {
        self.lock()
            .get(&agent)
            .map_or(PresenceState::Offline, |a| a.state)
    }

    /// A frame reporting an agent's current state (for a new subscriber).
    pub fn frame(&self, agent: Uuid) -> Option<ServerFrame> {
        self.lock().get(&agent).map(|a| ServerFrame::Presence {
            user_id: agent,
            name: a.name.clone(),
            state: a.state,
        })
    }

    /// The presence of every agent connected to this node (for a new staff socket).
    pub fn snapshot(&self) -> Vec<ServerFrame> {
        self.lock()
            .iter()
            .map(|(id, a)| ServerFrame::Presence {
                user_id: *id,
                name: a.name.clone(),
                state: a.state,
            })
            .collect()
    }

    /// An agent socket opened.
    pub fn connected(&self, hub: &Hub, agent: Uuid, name: &str) {
        let changed = {
            let mut agents = self.lock();
            let a = agents.entry(agent).or_insert(Agent {
                name: name.to_string(),
                sockets: 0,
                last_active: Instant::now(),
                state: PresenceState::Offline,
            });
            a.sockets += 1;
            a.last_active = Instant::now();
            set(a, PresenceState::Online)
        };
        if changed {
            announce(hub, agent, name, PresenceState::Online);
        }
    }

    /// The agent did something (typed, sent, read, subscribed).
    pub fn active(&self, hub: &Hub, agent: Uuid) {
        let changed = {
            let mut agents = self.lock();
            agents.get_mut(&agent).and_then(|a| {
                a.last_active = Instant::now();
                set(a, PresenceState::Online).then(|| a.name.clone())
            })
        };
        if let Some(name) = changed {
            announce(hub, agent, &name, PresenceState::Online);
        }
    }

    /// An agent socket closed.
    pub fn disconnected(&self, hub: &Hub, agent: Uuid) {
        let changed = {
            let mut agents = self.lock();
            match agents.get_mut(&agent) {
                Some(a) => {
                    a.sockets = a.sockets.saturating_sub(1);
                    if a.sockets == 0 {
                        let name = a.name.clone();
                        agents.remove(&agent);
                        Some(name)
                    } else {
                        None
                    }
                }
                None => None,
            }
        };
        if let Some(name) = changed {
            announce(hub, agent, &name, PresenceState::Offline);
        }
    }

    /// Marks agents idle whose last activity is older than `idle_after`; run periodically.
    pub fn sweep(&self, hub: &Hub, idle_after: Duration) {
        let now = Instant::now();
        let went_idle: Vec<(Uuid, String)> = {
            let mut agents = self.lock();
            agents
                .iter_mut()
                .filter(|(_, a)| now.duration_since(a.last_active) >= idle_after)
                .filter_map(|(id, a)| set(a, PresenceState::Idle).then(|| (*id, a.name.clone())))
                .collect()
        };
        for (id, name) in went_idle {
            announce(hub, id, &name, PresenceState::Idle);
        }
    }
}

fn set(a: &mut Agent, state: PresenceState) -> bool {
    let changed = a.state != state;
    a.state = state;
    changed
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
