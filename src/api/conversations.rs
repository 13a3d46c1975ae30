//! Agent actions on a conversation that are not chat traffic (that rides the socket).

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One entry of the "Waiting" or "Chatting" list, with what its info card shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSummary {
    pub conversation_id: Uuid,
    pub visitor_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub site_name: String,
    /// waiting, assigned, active or resolved.
    pub status: String,
    pub title: Option<String>,
    pub assignee_name: Option<String>,
    /// Whether the signed-in agent is the assignee.
    pub mine: bool,
    /// Seconds since the visitor started waiting (for waiting chats).
    pub waiting_secs: i64,
    pub last_message: Option<String>,
    /// The visitor's current page (title, else URL).
    pub page: Option<String>,
    /// Browser and OS, e.g. "Chrome 120.0 on Linux".
    pub browser: Option<String>,
    /// Where the visitor is, as far as we know: time zone and IP.
    pub location: Option<String>,
    /// The conversation's last event sequence (a dashboard follows it from there).
    pub last_seq: i64,
    /// Past its site's first-response or resolution target (shown as "Overdue").
    pub overdue: Option<crate::model::Overdue>,
    /// Seconds until it passes a target it has not passed yet: the list fetches again then,
    /// so "Overdue" shows on time without any other change.
    #[serde(default)]
    pub overdue_in_secs: Option<i64>,
}

/// A page of a list, and how many there are in all (`mine`: how many are the agent's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatList {
    pub total: i64,
    pub mine: i64,
    pub chats: Vec<ChatSummary>,
}

/// The visitor side panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VisitorDetails {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Identified by the host site with a verified hash.
    pub verified: bool,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub ip: Option<String>,
    pub page_url: Option<String>,
    pub page_title: Option<String>,
    pub referrer: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
}

/// One of the visitor's other conversations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastConversation {
    pub id: Uuid,
    pub status: String,
    pub title: Option<String>,
    /// "YYYY-MM-DD".
    pub date: String,
    pub first_message: Option<String>,
}

/// An agent who may receive the conversation ("Assign", "Transfer").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentOption {
    pub id: Uuid,
    pub name: String,
    /// 1 or 2 on this site; `None` for admins outside its groups.
    pub level: Option<i16>,
    pub open_chats: i64,
    pub max_chats: i32,
}

/// A group of the conversation's site ("Transfer").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupOption {
    pub id: Uuid,
    pub name: String,
}

/// Everything the conversation pane shows besides the transcript (which rides the socket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationView {
    pub id: Uuid,
    pub site_id: Uuid,
    pub site_name: String,
    pub status: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
    pub group_name: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub assignee_name: Option<String>,
    pub transferred: bool,
    pub visitor: VisitorDetails,
    pub previous: Vec<PastConversation>,
    pub agents: Vec<AgentOption>,
    pub groups: Vec<GroupOption>,
}

#[cfg(feature = "ssr")]
fn meta(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(|x| x.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(feature = "ssr")]
fn summary(r: crate::db::workspace::ListRow, me: Uuid, now: time::OffsetDateTime) -> ChatSummary {
    let m = &r.metadata;
    let browser = match (meta(m, "browser"), meta(m, "os")) {
        (Some(b), Some(o)) => Some(format!("{b} on {o}")),
        (b, o) => b.or(o),
    };
    let location = match (meta(m, "time_zone"), meta(m, "ip")) {
        (Some(t), Some(i)) => Some(format!("{t} ({i})")),
        (t, i) => t.or(i),
    };
    // Both answers from one clock: the flag now, and when the next target passes.
    let clock = crate::domain::settings::rules::ChatClock {
        status: &r.status,
        waiting_since: r.waiting_since,
        created_at: r.created_at,
        first_response_secs: r.first_response_target_secs,
        resolution_secs: r.resolution_target_secs,
    };
    let overdue = clock.overdue(now);
    let overdue_in_secs = clock.overdue_in(now);
    ChatSummary {
        overdue,
        overdue_in_secs,
        conversation_id: r.id,
        visitor_name: r.visitor_name.unwrap_or_else(|| "Visitor".into()),
        email: r.email,
        phone: r.phone,
        site_name: r.site_name,
        status: r.status,
        title: r.title,
        assignee_name: r.assignee_name,
        mine: r.assignee_id == Some(me),
        waiting_secs: r
            .waiting_since
            .map(|t| (now - t).whole_seconds().max(0))
            .unwrap_or(0),
        last_message: r.last_message,
        page: meta(m, "page_title").or_else(|| meta(m, "page_url")),
        browser,
        location,
        last_seq: r.last_seq,
    }
}

/// Maps a conversation action's failure to what the agent is shown.
#[cfg(feature = "ssr")]
fn action_error(e: crate::domain::conversations::ConversationError, what: &str) -> AppError {
    use crate::domain::conversations::ConversationError as E;
    match e {
        E::Db(err) => {
            tracing::error!(error = %err, "{what} failed");
            AppError::Internal
        }
        E::NotFound => AppError::NotFound(e.to_string()),
        E::Forbidden | E::NoteNotAllowed => AppError::Forbidden(e.to_string()),
        E::Changed => AppError::Conflict(e.to_string()),
        E::InvalidBody(m) | E::BadTarget(m) => AppError::Invalid {
            field: None,
            message: m,
        },
        E::InvalidKey | E::NoSuchAttachment => AppError::Invalid {
            field: None,
            message: e.to_string(),
        },
    }
}

/// The signed-in agent as the actor of a conversation action.
#[cfg(feature = "ssr")]
async fn acting_agent() -> Result<
    (
        crate::domain::conversations::Viewer,
        crate::server::state::AppState,
    ),
    AppError,
> {
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    Ok((
        crate::domain::conversations::Viewer::Agent {
            user_id: user.id,
            name: user.name,
        },
        state,
    ))
}

/// "Waiting": the chats the signed-in agent may take (their groups at their level; admins:
/// all), oldest first, the first `limit` (default 100, at most 1,000) and the total.
#[server(endpoint = "conversations/waiting")]
pub async fn waiting_chats(#[server(default)] limit: Option<i64>) -> Result<ChatList, AppError> {
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    let (rows, total) = crate::domain::conversations::read_workspace::waiting(
        &state.pool,
        user.id,
        limit.unwrap_or(100),
    )
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "listing waiting chats failed");
        AppError::Internal
    })?;
    let now = time::OffsetDateTime::now_utc();
    Ok(ChatList {
        total,
        mine: 0,
        chats: rows.into_iter().map(|r| summary(r, user.id, now)).collect(),
    })
}

/// "Chatting": conversations in progress the agent may see, theirs first.
#[server(endpoint = "conversations/chatting")]
pub async fn chatting_chats(#[server(default)] limit: Option<i64>) -> Result<ChatList, AppError> {
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    let (rows, total, mine) = crate::domain::conversations::read_workspace::chatting(
        &state.pool,
        user.id,
        limit.unwrap_or(100),
    )
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "listing open chats failed");
        AppError::Internal
    })?;
    let now = time::OffsetDateTime::now_utc();
    Ok(ChatList {
        total,
        mine,
        chats: rows.into_iter().map(|r| summary(r, user.id, now)).collect(),
    })
}

/// One conversation for the pane: its state, visitor details, previous conversations, and
/// the agents and groups it may go to.
#[server(endpoint = "conversations/detail")]
pub async fn conversation_detail(conversation_id: Uuid) -> Result<ConversationView, AppError> {
    let (agent, state) = acting_agent().await?;
    let d = crate::domain::conversations::read_workspace::conversation_detail(
        &state.pool,
        &agent,
        conversation_id,
    )
    .await
    .map_err(|e| action_error(e, "reading a conversation"))?;
    let c = d.conversation;
    let m = &c.metadata;
    Ok(ConversationView {
        id: c.id,
        site_id: c.site_id,
        site_name: c.site_name,
        status: c.status,
        title: c.title,
        tags: c.tags,
        group_name: c.group_name,
        assignee_id: c.assignee_id,
        assignee_name: c.assignee_name,
        transferred: c.transferred,
        visitor: VisitorDetails {
            name: c.visitor_name.unwrap_or_else(|| "Visitor".into()),
            email: c.email,
            phone: c.phone,
            verified: c.verified,
            browser: meta(m, "browser"),
            os: meta(m, "os"),
            ip: meta(m, "ip"),
            page_url: meta(m, "page_url"),
            page_title: meta(m, "page_title"),
            referrer: meta(m, "referrer"),
            language: meta(m, "language"),
            time_zone: meta(m, "time_zone"),
        },
        previous: d
            .previous
            .into_iter()
            .map(|p| PastConversation {
                id: p.id,
                status: p.status,
                title: p.title,
                date: p.created_at.date().to_string(),
                first_message: p.first_message,
            })
            .collect(),
        agents: d
            .agents
            .into_iter()
            .map(|a| AgentOption {
                id: a.id,
                name: a.name,
                level: a.level,
                open_chats: a.open_chats,
                max_chats: a.max_chats,
            })
            .collect(),
        groups: d
            .groups
            .into_iter()
            .map(|g| GroupOption {
                id: g.id,
                name: g.name,
            })
            .collect(),
    })
}

/// "Assign": gives the chat to a chosen agent. `expected_assignee` is who had it when the
/// agent looked; if that changed meanwhile the answer is a 409, never a silent overwrite.
#[server(endpoint = "conversations/assign")]
pub async fn assign_conversation(
    conversation_id: Uuid,
    #[server(default)] expected_assignee: Option<Uuid>,
    agent_id: Uuid,
) -> Result<(), AppError> {
    let (actor, state) = acting_agent().await?;
    let event = crate::domain::conversations::assign_conversation::assign_to_agent(
        &state.pool,
        &actor,
        conversation_id,
        expected_assignee,
        agent_id,
    )
    .await
    .map_err(|e| action_error(e, "assigning"))?;
    state.realtime.hub.publish(event);
    // The previous assignee has a free slot now: auto-assignment may give them a waiting chat.
    if let Some(previous) = expected_assignee.filter(|p| *p != agent_id) {
        crate::server::assignment::after_agent_freed(&state, previous).await;
    }
    Ok(())
}

/// "Transfer": to an agent (`agent_id`) or a group (`group_id`), with an optional note the
/// receiving side reads. Conditional on `expected_assignee`, like "Assign".
#[server(endpoint = "conversations/transfer")]
pub async fn transfer_conversation(
    conversation_id: Uuid,
    #[server(default)] expected_assignee: Option<Uuid>,
    #[server(default)] agent_id: Option<Uuid>,
    #[server(default)] group_id: Option<Uuid>,
    #[server(default)] note: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::conversations::transfer_conversation::{self as transfer, TransferTarget};
    let target = match (agent_id, group_id) {
        (Some(a), None) => TransferTarget::Agent(a),
        (None, Some(g)) => TransferTarget::Group(g),
        _ => {
            return Err(AppError::invalid(
                "target",
                "Choose one agent or one group to transfer to.",
            ))
        }
    };
    let (actor, state) = acting_agent().await?;
    let events = transfer::transfer_conversation(
        &state.pool,
        &actor,
        conversation_id,
        expected_assignee,
        target,
        note.as_deref(),
    )
    .await
    .map_err(|e| action_error(e, "transferring"))?;
    for e in events {
        state.realtime.hub.publish(e);
    }
    // A chat sent to a group waits there (auto-assignment may hand it out); the previous
    // assignee has a free slot.
    if group_id.is_some() {
        crate::server::assignment::after_chat_waiting(&state, conversation_id).await;
    }
    if let Some(previous) = expected_assignee {
        crate::server::assignment::after_agent_freed(&state, previous).await;
    }
    Ok(())
}

/// "Reopen" a resolved chat (back to its agent, or to the queue).
#[server(endpoint = "conversations/reopen")]
pub async fn reopen_conversation(conversation_id: Uuid) -> Result<(), AppError> {
    let (actor, state) = acting_agent().await?;
    let event = crate::domain::conversations::reopen_conversation::reopen_conversation(
        &state.pool,
        &actor,
        conversation_id,
    )
    .await
    .map_err(|e| action_error(e, "reopening"))?;
    state.realtime.hub.publish(event);
    crate::server::assignment::after_chat_waiting(&state, conversation_id).await;
    Ok(())
}

/// Renames a conversation (an empty title clears it).
#[server(endpoint = "conversations/rename")]
pub async fn rename_conversation(conversation_id: Uuid, title: String) -> Result<(), AppError> {
    let (actor, state) = acting_agent().await?;
    let event = crate::domain::conversations::edit_details::rename_conversation(
        &state.pool,
        &actor,
        conversation_id,
        &title,
    )
    .await
    .map_err(|e| action_error(e, "renaming"))?;
    state.realtime.hub.publish(event);
    Ok(())
}

/// Adds (`add = true`) or removes a tag.
#[server(endpoint = "conversations/tag")]
pub async fn tag_conversation(
    conversation_id: Uuid,
    tag: String,
    add: bool,
) -> Result<(), AppError> {
    let (actor, state) = acting_agent().await?;
    let event = crate::domain::conversations::edit_details::change_tag(
        &state.pool,
        &actor,
        conversation_id,
        &tag,
        add,
    )
    .await
    .map_err(|e| action_error(e, "tagging"))?;
    state.realtime.hub.publish(event);
    Ok(())
}

/// "Assign to me": takes a waiting chat. If another agent took it first (or it is no longer
/// waiting) the answer is a 409 that says so.
#[server(endpoint = "conversations/assign_to_me")]
pub async fn assign_to_me(conversation_id: Uuid) -> Result<(), AppError> {
    use crate::domain::conversations::{
        assign_conversation::{assign_to_me, AssignError},
        ConversationError, Viewer,
    };
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    let agent = Viewer::Agent {
        user_id: user.id,
        name: user.name.clone(),
    };
    match assign_to_me(&state.pool, &agent, conversation_id).await {
        Ok(event) => {
            state.realtime.hub.publish(event);
            Ok(())
        }
        Err(e @ AssignError::Taken) => Err(AppError::Conflict(e.to_string())),
        Err(AssignError::Conversation(ConversationError::Db(e))) => {
            tracing::error!(error = %e, "assigning failed");
            Err(AppError::Internal)
        }
        Err(AssignError::Conversation(e)) => Err(AppError::Forbidden(e.to_string())),
    }
}

/// Resolves a conversation (agents who may see it). Resolving twice is fine.
#[server(endpoint = "conversations/resolve")]
pub async fn resolve_conversation(conversation_id: Uuid) -> Result<(), AppError> {
    use crate::domain::conversations::{
        resolve_conversation::resolve_conversation, ConversationError, Viewer,
    };
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    let agent = Viewer::Agent {
        user_id: user.id,
        name: user.name.clone(),
    };
    match resolve_conversation(&state.pool, &agent, conversation_id).await {
        Ok(Some(event)) => {
            state.realtime.hub.publish(event);
            crate::server::assignment::after_resolved(&state, conversation_id).await;
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(ConversationError::Db(e)) => {
            tracing::error!(error = %e, "resolving failed");
            Err(AppError::Internal)
        }
        Err(e @ ConversationError::NotFound) => Err(AppError::NotFound(e.to_string())),
        Err(e) => Err(AppError::Forbidden(e.to_string())),
    }
}
