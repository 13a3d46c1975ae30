//! `/agent`: the agent workspace. Lists on the side ("Waiting", "Chatting", "Active agents"),
//! the chosen conversation or the cases beside them. One socket serves the whole page; moving
//! between lists and conversations never reloads it.

pub mod canned;
pub mod cases;
mod composer;
mod notify;
mod pane;
mod workspace;

pub use pane::ConversationPane;

use crate::api::conversations::{ChatList, ChatSummary};
use crate::realtime::protocol::{EventKind, PresenceState, ServerFrame, Side};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, A};
use uuid::Uuid;
use workspace::{use_workspace, Workspace};

/// One online agent in the "Active agents" list.
#[derive(Debug, Clone, PartialEq)]
struct OnlineAgent {
    id: Uuid,
    name: String,
    state: PresenceState,
}

/// Applies a server frame to the list of online agents.
// Used by the hydrated page (and its tests); the server only renders the empty list.
#[cfg_attr(not(feature = "browser"), allow(dead_code))]
fn apply(list: &mut Vec<OnlineAgent>, frame: &ServerFrame) {
    match frame {
        // A new connection: the server follows the welcome with a full snapshot.
        ServerFrame::Welcome { .. } => list.clear(),
        ServerFrame::Presence {
            user_id,
            name,
            state,
        } => {
            list.retain(|a| a.id != *user_id);
            if *state != PresenceState::Offline {
                list.push(OnlineAgent {
                    id: *user_id,
                    name: name.clone(),
                    state: *state,
                });
                list.sort_by_key(|a| a.name.to_lowercase());
            }
        }
        _ => {}
    }
}

/// The dashboard: lists on the side, the chosen conversation (or cases) beside them.
#[component]
pub fn AgentWorkspace() -> impl IntoView {
    let ws = Workspace::new();
    provide_context(ws);
    let agents = RwSignal::new(Vec::<OnlineAgent>::new());
    #[cfg(feature = "browser")]
    {
        let status = ws.status;
        let on_status = move |s| status.set(s);
        let conn = crate::realtime::client::Connection::start(None, on_status, move |frame| {
            match &frame {
                ServerFrame::QueueChanged => ws.queues.update(|n| *n += 1),
                ServerFrame::Welcome { me, .. } => {
                    ws.me.set(Some(me.clone()));
                    ws.queues.update(|n| *n += 1);
                }
                ServerFrame::Event(e) => count_unread(ws, e),
                _ => {}
            }
            agents.update(|list| apply(list, &frame));
            ws.dispatch(&frame);
        });
        ws.connect(conn);
        // Back in view: the waiting chats that arrived meanwhile have been seen.
        let handle = window_event_listener_untyped("visibilitychange", move |_| {
            if !notify::hidden() {
                ws.unseen_waiting.set(0);
                if let Some(c) = ws.current.get_untracked() {
                    ws.seen(c);
                }
            }
        });
        on_cleanup(move || handle.remove());
    }
    let title = move || match ws.unread_total() {
        0 => "Dashboard — Switchboard".to_string(),
        n => format!("({n}) Dashboard — Switchboard"),
    };
    view! {
        <Title text=title />
        <div class="workspace">
            <aside class="lists" aria-label="Lists">
                <h1>"Conversations"</h1>
                <AvailabilitySwitch />
                <NotificationsButton />
                <nav aria-label="Workspace" class="workspace-nav">
                    <A href="/agent" exact=true>"Conversations"</A>
                    <A href="/agent/cases">"Cases"</A>
                    <A href="/agent/canned">"Canned responses"</A>
                </nav>
                <p class="connection" role="status">{move || ws.status.get().label()}</p>
                <WaitingList />
                <ChattingList />
                <ActiveAgents agents />
            </aside>
            <div class="pane">
                <Outlet />
            </div>
        </div>
    }
}

/// Counts a visitor's message in one of my conversations as unread unless I am looking at it.
#[cfg_attr(not(feature = "browser"), allow(dead_code))]
fn count_unread(ws: Workspace, e: &crate::realtime::protocol::Event) {
    if let EventKind::Message {
        author, note, body, ..
    } = &e.kind
    {
        if author.side != Side::Visitor || *note {
            return;
        }
        let looking = ws.current.get_untracked() == Some(e.conversation_id) && !notify::hidden();
        if looking {
            return;
        }
        ws.unread
            .update(|u| *u.entry(e.conversation_id).or_default() += 1);
        if notify::hidden() {
            notify::alert(&format!("New message from {}", author.name), body);
        }
    }
}

/// "Enable notifications": asks the browser once (it must follow a click).
#[component]
fn NotificationsButton() -> impl IntoView {
    let askable = RwSignal::new(false);
    Effect::new(move |_| askable.set(notify::can_ask()));
    move || {
        askable.get().then(|| {
            view! {
                <button
                    type="button"
                    class="link"
                    on:click=move |_| {
                        notify::ask();
                        askable.set(false);
                    }
                >
                    "Enable notifications"
                </button>
            }
        })
    }
}

/// "2 min", "1 h 5 min": how long someone waited.
fn waited(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// One entry of a list: a link to the conversation, its status colour, and an info card
/// shown on hover or focus (and named by `aria-describedby`).
#[component]
fn ChatEntry(
    chat: ChatSummary,
    list: &'static str,
    unread: Signal<u32>,
    /// "Assign to me", on waiting entries.
    take: Option<Callback<Uuid>>,
) -> impl IntoView {
    let id = chat.conversation_id;
    let card_id = format!("card-{list}-{id}");
    let href = format!("/agent/c/{id}");
    let name = chat.visitor_name.clone();
    let label = chat.title.clone().unwrap_or_else(|| name.clone());
    let contact = [chat.email.clone(), chat.phone.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    let who = match (&chat.assignee_name, chat.mine) {
        (_, true) => "Mine".to_string(),
        (Some(a), false) => a.clone(),
        (None, false) => String::new(),
    };
    let status = chat.status.clone();
    // Computed by the server from the site's targets; the info card (the link's description)
    // says which target passed.
    let overdue = chat.overdue.map(|o| o.description());
    view! {
        <li class=format!("entry status-{status}")>
            <A href=href attr:aria-describedby=card_id.clone()>
                <span class="entry-name">{label}</span>
                {overdue.map(|d| view! { <span class="flag overdue" title=d>"Overdue"</span> })}
                {move || match unread.get() {
                    0 => None,
                    n => Some(view! { <span class="badge unread" aria-label=format!("{n} unread")>{n}</span> }),
                }}
            </A>
            <span class="entry-meta">
                {chat.site_name.clone()} " · " {status.clone()}
                {(!who.is_empty()).then(|| format!(" · {who}"))}
            </span>
            <div class="info-card" role="tooltip" id=card_id>
                <strong>{name}</strong>
                {overdue.map(|d| view! { <span class="overdue-reason">{d}</span> })}
                {(!contact.is_empty()).then(|| view! { <span>{contact}</span> })}
                {chat.page.clone().map(|p| view! { <span>"Page: " {p}</span> })}
                {chat.location.clone().map(|l| view! { <span>"Location: " {l}</span> })}
                {chat.browser.clone().map(|b| view! { <span>"Browser: " {b}</span> })}
                {(chat.status == "waiting").then(|| view! { <span>"Waited for " {waited(chat.waiting_secs)}</span> })}
                {chat.last_message.clone().map(|m| view! { <span class="last">"Last message: " {m}</span> })}
            </div>
            {take.map(|take| view! {
                <button type="button" on:click=move |_| take.run(id)>"Assign to me"</button>
            })}
        </li>
    }
}

/// The rows of a list, or its empty text, or its error.
fn list_rows(
    result: Result<ChatList, crate::error::AppError>,
    list: &'static str,
    empty: &'static str,
    take: Option<Callback<Uuid>>,
) -> AnyView {
    let ws = use_workspace();
    match result {
        Err(e) => view! { <li class="error" role="alert">{e.to_string()}</li> }.into_any(),
        Ok(l) if l.chats.is_empty() => view! { <li class="empty">{empty}</li> }.into_any(),
        Ok(l) => l
            .chats
            .into_iter()
            .map(|c| {
                let id = c.conversation_id;
                let unread =
                    Signal::derive(move || ws.unread.with(|u| u.get(&id).copied().unwrap_or(0)));
                view! { <ChatEntry chat=c list unread take /> }
            })
            .collect_view()
            .into_any(),
    }
}

/// Bumps `due` (which the list's resource tracks) when the first listed chat passes a
/// response target, so the list fetches again and shows "Overdue" on time, not at the next
/// queue change. Each fetch re-arms it; a timer from an older fetch is ignored when it fires.
fn refetch_when_due(
    list: LocalResource<Result<ChatList, crate::error::AppError>>,
    due: RwSignal<u32>,
) {
    #[cfg(feature = "browser")]
    {
        let armed = StoredValue::new(0u64);
        Effect::new(move |_| {
            let Some(Ok(l)) = list.get() else { return };
            let generation = armed.get_value() + 1;
            armed.set_value(generation);
            // The browser's timers take i32 milliseconds: beyond ~24 days, a later fetch
            // (any queue change) re-arms it anyway.
            let Some(secs) = l.chats.iter().filter_map(|c| c.overdue_in_secs).min() else {
                return;
            };
            let ms = u32::try_from(secs.clamp(1, 2_000_000) * 1000).unwrap_or(u32::MAX);
            leptos::task::spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(ms).await;
                if armed.try_get_value() == Some(generation) {
                    due.update(|n| *n += 1);
                }
            });
        });
    }
    #[cfg(not(feature = "browser"))]
    let _ = (list, due);
}

/// "Waiting": visitors waiting for an agent, oldest first, live; "Assign to me" takes one.
#[component]
fn WaitingList() -> impl IntoView {
    use crate::api::conversations::{assign_to_me, waiting_chats};
    let ws = use_workspace();
    let limit = RwSignal::new(100i64);
    // Fetched in the browser only (the socket says when to refetch).
    let due = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        ws.queues.track();
        due.track();
        waiting_chats(Some(limit.get()))
    });
    refetch_when_due(list, due);
    let error = RwSignal::new(None::<String>);
    let navigate = StoredValue::new(leptos_router::hooks::use_navigate());
    let take = move |id: Uuid| {
        error.set(None);
        leptos::task::spawn_local(async move {
            match assign_to_me(id).await {
                Ok(()) => {
                    navigate.with_value(|nav| nav(&format!("/agent/c/{id}"), Default::default()))
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            ws.queues.update(|n| *n += 1);
        });
    };
    let total = move || {
        list.get()
            .and_then(|r| r.ok())
            .map(|l| l.total)
            .unwrap_or(0)
    };
    // A new waiting chat while the tab is hidden: notify, and count it in the title.
    let last_total = StoredValue::new(None::<i64>);
    Effect::new(move |_| {
        let Some(Ok(l)) = list.get() else { return };
        if let Some(before) = last_total.get_value() {
            if l.total > before && notify::hidden() {
                ws.unseen_waiting
                    .update(|n| *n += (l.total - before) as u32);
                notify::alert("New chat waiting", "A visitor is waiting for an agent.");
            }
        }
        last_total.set_value(Some(l.total));
    });
    let shown = move || {
        list.get()
            .and_then(|r| r.ok())
            .map_or(0, |l| l.chats.len() as i64)
    };
    view! {
        <section class="card" aria-labelledby="waiting-heading">
            <h2 id="waiting-heading">"Waiting " <span class="badge">{total}</span></h2>
            <p class="error" role="alert">{move || error.get()}</p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                <ul aria-label="Waiting" class="queue">
                    {move || {
                        list.get()
                            .map(|r| {
                                list_rows(r, "waiting", "Nobody is waiting.", Some(Callback::new(take)))
                            })
                    }}
                </ul>
                {move || {
                    (total() > shown())
                        .then(|| {
                            view! {
                                <button type="button" class="link" on:click=move |_| limit.update(|l| *l += 100)>
                                    "Show more waiting"
                                </button>
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

/// "Chatting": conversations in progress, mine first; my own are followed on the socket so
/// their new messages count as unread.
#[component]
fn ChattingList() -> impl IntoView {
    use crate::api::conversations::chatting_chats;
    let ws = use_workspace();
    let limit = RwSignal::new(100i64);
    let due = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        ws.queues.track();
        due.track();
        chatting_chats(Some(limit.get()))
    });
    refetch_when_due(list, due);
    #[cfg(feature = "browser")]
    Effect::new(move |_| {
        if let Some(Ok(l)) = list.get() {
            ws.with_conn(|conn| {
                for c in l.chats.iter().filter(|c| c.mine) {
                    if !conn.tracks(c.conversation_id) {
                        conn.track(c.conversation_id, c.last_seq);
                    }
                }
            });
        }
    });
    let total = move || list.get().and_then(|r| r.ok()).map_or(0, |l| l.total);
    let mine = move || list.get().and_then(|r| r.ok()).map_or(0, |l| l.mine);
    let shown = move || {
        list.get()
            .and_then(|r| r.ok())
            .map_or(0, |l| l.chats.len() as i64)
    };
    view! {
        <section class="card" aria-labelledby="chatting-heading">
            <h2 id="chatting-heading">
                "Chatting " <span class="badge">{total}</span>
                <span class="sub">{move || format!("{} mine", mine())}</span>
            </h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                <ul aria-label="Chatting" class="queue">
                    {move || {
                        list.get()
                            .map(|r| list_rows(r, "chatting", "No conversations in progress.", None))
                    }}
                </ul>
                {move || {
                    (total() > shown())
                        .then(|| {
                            view! {
                                <button type="button" class="link" on:click=move |_| limit.update(|l| *l += 100)>
                                    "Show more conversations"
                                </button>
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

/// "Active agents": who is online, with their open chats against their cap.
#[component]
fn ActiveAgents(agents: RwSignal<Vec<OnlineAgent>>) -> impl IntoView {
    let ws = use_workspace();
    let load = LocalResource::new(move || {
        ws.queues.track();
        crate::api::agents::team_load()
    });
    let load_of = move |id: Uuid| {
        load.get()
            .and_then(|r| r.ok())
            .and_then(|l| l.into_iter().find(|a| a.id == id))
            .map(|a| format!("{} / {} chats", a.open_chats, a.max_chats))
    };
    view! {
        <section class="card" aria-labelledby="active-agents-heading">
            <h2 id="active-agents-heading">
                "Active agents " <span class="badge">{move || agents.with(Vec::len)}</span>
            </h2>
            <ul aria-label="Active agents" class="agents">
                {move || {
                    agents
                        .get()
                        .into_iter()
                        .map(|a| {
                            let state = match a.state {
                                PresenceState::Online => "online",
                                PresenceState::Idle => "idle",
                                PresenceState::Offline => "offline",
                            };
                            let id = a.id;
                            view! {
                                <li>
                                    <span class=format!("presence {state}")></span>
                                    {a.name}
                                    " — "
                                    {state}
                                    {move || load_of(id).map(|l| format!(" · {l}"))}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}

/// The pane when no conversation is open.
#[component]
pub fn NoConversation() -> impl IntoView {
    view! { <p class="pane-empty">"Choose a conversation from the lists."</p> }
}

/// The "Available" switch: only available agents get new chats; with nobody available the
/// widget says "We're offline right now".
#[component]
fn AvailabilitySwitch() -> impl IntoView {
    use crate::api::agents::my_availability;
    let initial = OnceResource::new(my_availability());
    let set = ServerAction::<crate::api::agents::SetAvailable>::new();
    let error = move || {
        set.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    };
    view! {
        <Suspense fallback=|| ()>
            {move || {
                initial
                    .get()
                    .map(|loaded| {
                        let base = loaded.unwrap_or(false);
                        let on = move || match set.value().get() {
                            Some(Ok(v)) => v,
                            _ => base,
                        };
                        view! {
                            <label class="availability">
                                <input
                                    type="checkbox"
                                    role="switch"
                                    prop:checked=on
                                    aria-checked=move || if on() { "true" } else { "false" }
                                    on:change=move |ev| {
                                        set.dispatch(crate::api::agents::SetAvailable {
                                            available: event_target_checked(&ev),
                                        });
                                    }
                                />
                                " Available"
                            </label>
                            <p class="error" role="alert">{error}</p>
                        }
                    })
            }}
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_frames_maintain_the_list() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let p = |id, name: &str, state| ServerFrame::Presence {
            user_id: id,
            name: name.into(),
            state,
        };
        let mut list = Vec::new();
        apply(&mut list, &p(b, "Zoe", PresenceState::Online));
        apply(&mut list, &p(a, "amy", PresenceState::Online));
        assert_eq!(
            list.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
            ["amy", "Zoe"]
        );
        apply(&mut list, &p(a, "amy", PresenceState::Idle));
        assert_eq!(list[0].state, PresenceState::Idle);
        apply(&mut list, &p(b, "Zoe", PresenceState::Offline));
        assert_eq!(list.len(), 1);
    }
}
