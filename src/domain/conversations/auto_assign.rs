//! Auto-assignment: a site setting (`off`, `round_robin`, `least_busy`) that hands waiting
//! chats to agents instead of waiting for "Assign to me".
//!
//! A chat goes to an eligible agent: active, "Available" on, connected right now, holding
//! fewer open chats (`assigned` or `active`, on any site) than their cap (`users.max_chats`),
//! and a member of the chat's group at level 1 — any level once the chat was transferred —
//! or, for a chat without a group, a level-1 member of any non-archived group of its site.
//! Round robin picks the agent who got a chat longest ago (never first); least busy the one
//! with the fewest open chats (ties: longest ago). When everyone is at their cap the chat
//! waits; the next run — a new chat, a chat resolved, an agent connecting or switching
//! "Available" on — assigns it, longest-waiting first.
//!
//! Runs are safe to overlap (two requests, two nodes): each run is one transaction holding
//! an advisory lock on its site and row locks on the agents it counts, so a cap is never
//! exceeded by auto-assignment and a chat is never assigned twice.

use super::append_event::append_event;
use crate::db::{
    self,
    assignment::{AgentLoadRow, MembershipRow, WaitingRow},
    Pool,
};
use crate::realtime::protocol::{Event, EventKind};
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// The most waiting chats one run looks at (the rest wait for the next run); bounds how long
/// a run holds its locks.
pub const MAX_PER_RUN: i64 = 500;

/// A site's auto-assignment setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentMode {
    /// Agents take chats themselves ("Assign to me", or by replying).
    Off,
    /// The eligible agent who was given a chat longest ago (or never).
    RoundRobin,
    /// The eligible agent with the fewest open chats.
    LeastBusy,
}

impl AssignmentMode {
    /// Reads `sites.assignment_mode`; anything unknown counts as off (assign nothing rather
    /// than guess).
    pub fn parse(value: &str) -> AssignmentMode {
        match value {
            "round_robin" => AssignmentMode::RoundRobin,
            "least_busy" => AssignmentMode::LeastBusy,
            _ => AssignmentMode::Off,
        }
    }

    /// The stored name (`sites.assignment_mode`).
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentMode::Off => "off",
            AssignmentMode::RoundRobin => "round_robin",
            AssignmentMode::LeastBusy => "least_busy",
        }
    }
}

/// A group membership of a candidate, as far as eligibility is concerned.
#[derive(Debug, Clone, Copy)]
struct Membership {
    level: i16,
    archived: bool,
}

/// An agent who could take chats in this run, with their load kept current as we assign.
#[derive(Debug, Clone)]
struct Candidate {
    id: Uuid,
    name: String,
    max_chats: i64,
    open_chats: i64,
    last_assigned_at: Option<OffsetDateTime>,
    groups: HashMap<Uuid, Membership>,
}

impl Candidate {
    fn has_room(&self) -> bool {
        self.open_chats < self.max_chats
    }

    /// Whether this agent may be given `chat` now.
    fn may_take(&self, chat: &WaitingRow) -> bool {
        if !self.has_room() {
            return false;
        }
        match chat.group_id {
            // Level 2 serves only chats transferred to it.
            Some(group) => self
                .groups
                .get(&group)
                .is_some_and(|m| m.level == 1 || chat.transferred),
            // Not routed: any first-line agent of the site (archived groups no longer route).
            None => self.groups.values().any(|m| m.level == 1 && !m.archived),
        }
    }
}

/// The candidate to give `chat` to, by `mode`. `None` sorts before any time, so an agent
/// never assigned comes first; the id makes the choice deterministic.
fn pick(mode: AssignmentMode, candidates: &[Candidate], chat: &WaitingRow) -> Option<usize> {
    let eligible = candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.may_take(chat));
    match mode {
        AssignmentMode::Off => None,
        AssignmentMode::RoundRobin => eligible
            .min_by_key(|(_, c)| (c.last_assigned_at, c.id))
            .map(|(i, _)| i),
        AssignmentMode::LeastBusy => eligible
            .min_by_key(|(_, c)| (c.open_chats, c.last_assigned_at, c.id))
            .map(|(i, _)| i),
    }
}

/// Builds the candidates from the memberships and the loads of the agents we locked.
fn candidates(memberships: &[MembershipRow], loads: Vec<AgentLoadRow>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = loads
        .into_iter()
        .map(|l| Candidate {
            id: l.id,
            name: l.name,
            max_chats: i64::from(l.max_chats),
            open_chats: l.open_chats,
            last_assigned_at: l.last_assigned_at,
            groups: HashMap::new(),
        })
        .collect();
    for m in memberships {
        if let Some(c) = out.iter_mut().find(|c| c.id == m.user_id) {
            c.groups.insert(
                m.group_id,
                Membership {
                    level: m.level,
                    archived: m.archived,
                },
            );
        }
    }
    out
}

/// Assigns the site's waiting chats to eligible agents, longest-waiting first, as the
/// site's mode says; `is_connected` tells whether an agent's dashboard is connected (live
/// presence). Returns the `assigned` events to publish, in order. Nothing happens when the
/// mode is off; a chat nobody eligible can take is left waiting and the run goes on.
pub async fn auto_assign(
    pool: &Pool,
    site_id: Uuid,
    is_connected: impl Fn(Uuid) -> bool,
) -> Result<Vec<Event>, sqlx::Error> {
    // Checked before any transaction: most calls come from sites where it is off.
    let mode = match db::assignment::mode(pool, site_id).await? {
        Some(m) => AssignmentMode::parse(&m),
        None => return Ok(Vec::new()),
    };
    if mode == AssignmentMode::Off {
        return Ok(Vec::new());
    }

    let mut tx = pool.begin().await?;
    // One run per site at a time: a second run waits here and then sees what this one did.
    db::assignment::lock_site(&mut *tx, site_id).await?;
    let waiting = db::assignment::waiting(&mut *tx, site_id, MAX_PER_RUN).await?;
    if waiting.is_empty() {
        return Ok(Vec::new());
    }
    // Presence lives in memory, not in Postgres: filter before locking anyone.
    let memberships: Vec<MembershipRow> = db::assignment::memberships(&mut *tx, site_id)
        .await?
        .into_iter()
        .filter(|m| is_connected(m.user_id))
        .collect();
    let mut ids: Vec<Uuid> = memberships.iter().map(|m| m.user_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Runs of other sites may count the same agents; their row locks serialize us with them.
    let ids = db::assignment::lock_agents(&mut *tx, &ids).await?;
    let loads = db::assignment::loads(&mut *tx, &ids).await?;
    let mut candidates = candidates(&memberships, loads);

    let mut events = Vec::new();
    for chat in &waiting {
        // Everyone at their cap: the rest of the queue waits for someone to free up.
        if !candidates.iter().any(Candidate::has_room) {
            break;
        }
        let Some(i) = pick(mode, &candidates, chat) else {
            continue;
        };
        let agent = &mut candidates[i];
        // Conditional: an agent may have taken it by hand ("Assign to me", a reply) meanwhile.
        if !db::conversations::take_waiting(&mut *tx, chat.id, agent.id).await? {
            continue;
        }
        agent.last_assigned_at = Some(db::assignment::mark_assigned(&mut *tx, agent.id).await?);
        agent.open_chats += 1;
        let kind = EventKind::Assigned {
            agent_id: Some(agent.id),
            agent_name: Some(agent.name.clone()),
        };
        events.push(append_event(&mut tx, chat.id, kind).await?);
    }
    tx.commit().await?;
    if !events.is_empty() {
        tracing::info!(site = %site_id, assigned = events.len(), ?mode, "chats auto-assigned");
    }
    Ok(events)
}

/// Runs [`auto_assign`] for every site with auto-assignment on where `user_id` belongs to a
/// group: the agent just freed up (resolved a chat, connected, switched "Available" on).
/// A site that fails is logged and the others still run, so the events already committed
/// are returned for publishing; `Err` only when the sites cannot be read.
pub async fn auto_assign_for_agent(
    pool: &Pool,
    user_id: Uuid,
    is_connected: impl Fn(Uuid) -> bool,
) -> Result<Vec<Event>, sqlx::Error> {
    let mut events = Vec::new();
    for site_id in db::assignment::sites_of_agent(pool, user_id).await? {
        match auto_assign(pool, site_id, &is_connected).await {
            Ok(mut assigned) => events.append(&mut assigned),
            Err(e) => tracing::error!(site = %site_id, error = %e, "auto-assignment failed"),
        }
    }
    Ok(events)
}
