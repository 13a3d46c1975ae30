//! The conversation pane: header (title, status, tags, actions), the transcript with receipts,
//! typing and private notes, the composer, and the visitor's details beside it.
//!
//! The transcript is the conversation's event log replayed on the workspace's socket (the
//! same model as the widget, in its staff view); the header re-reads the conversation from
//! the server whenever an event changes who has it or what it is called, so it always shows
//! the current state after a refused action.

use super::composer::Composer;
use super::workspace::use_workspace;
use crate::api::conversations::{self as api, ConversationView};
use crate::realtime::protocol::AttachmentRef;
use crate::ui::widget::model::{linkify, ChatModel, Msg, MsgState, Piece};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

/// `/agent/c/:id`.
#[component]
pub fn ConversationPane() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|s| s.parse::<Uuid>().ok()));
    move || match id.get() {
        Some(id) => Either::Left(view! { <Conversation id /> }),
        None => Either::Right(view! { <p role="alert">"No such conversation."</p> }),
    }
}

/// Runs a conversation action; a refusal is shown, and the header re-read either way (a 409
/// means the chat changed: the fresh state is what the agent should see next).
fn act<F>(error: RwSignal<Option<String>>, refresh: RwSignal<u32>, call: F)
where
    F: std::future::Future<Output = Result<(), crate::error::AppError>> + 'static,
{
    error.set(None);
    leptos::task::spawn_local(async move {
        if let Err(e) = call.await {
            error.set(Some(e.to_string()));
        }
        refresh.update(|n| *n += 1);
    });
}

#[component]
fn Conversation(id: Uuid) -> impl IntoView {
    let ws = use_workspace();
    let refresh = RwSignal::new(0u32);
    let detail = LocalResource::new(move || {
        refresh.track();
        api::conversation_detail(id)
    });
    let model = RwSignal::new(ChatModel::for_staff(id));
    let typing = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    // What the agent is typing in the header outlives the header: every live change re-reads
    // the details and draws a new header, which must not wipe a half-typed tag or title.
    let drafts = HeaderDrafts {
        tag: RwSignal::new(String::new()),
        title: RwSignal::new(String::new()),
        renaming: RwSignal::new(false),
    };
    #[cfg(not(feature = "browser"))]
    let _ = ws;

    #[cfg(feature = "browser")]
    {
        use crate::realtime::protocol::{ClientFrame, EventKind, ServerFrame, Side};
        use std::cell::Cell;
        use std::rc::Rc;
        // Events up to this sequence are the replayed history, not news.
        let live_from = Rc::new(Cell::new(i64::MAX));
        let typing_seq = Rc::new(Cell::new(0u32));
        let handler = Rc::new(move |frame: &ServerFrame| {
            match frame {
                ServerFrame::Subscribed {
                    conversation_id,
                    last_seq,
                } if *conversation_id == id => live_from.set(*last_seq),
                ServerFrame::Typing {
                    conversation_id,
                    author,
                    expires_ms,
                } if *conversation_id == id && author.side == Side::Visitor => {
                    typing.set(Some(author.name.clone()));
                    let n = typing_seq.get().wrapping_add(1);
                    typing_seq.set(n);
                    let seq = typing_seq.clone();
                    let wait = *expires_ms;
                    leptos::task::spawn_local(async move {
                        gloo_timers::future::TimeoutFuture::new(wait).await;
                        if seq.get() == n {
                            typing.set(None);
                        }
                    });
                    return;
                }
                _ => {}
            }
            let event = match frame {
                ServerFrame::Event(e) if e.conversation_id == id => Some(e),
                _ => None,
            };
            let fresh_visitor = model.try_update(|m| m.apply(frame)).flatten();
            let Some(e) = event else { return };
            let live = e.seq > live_from.get();
            if live
                && matches!(
                    e.kind,
                    EventKind::Assigned { .. }
                        | EventKind::Status { .. }
                        | EventKind::Details { .. }
                        | EventKind::Transferred { .. }
                        | EventKind::Rated { .. }
                )
            {
                refresh.update(|n| *n += 1);
            }
            if fresh_visitor.is_some() {
                typing.set(None);
            }
            // Receipts: each live visitor message at once; the replayed history with one
            // mark when its last event arrives.
            let last_visitor = model.with_untracked(|m| m.last_agent_seq);
            if last_visitor > 0 && (fresh_visitor.is_some() && live || e.seq == live_from.get()) {
                let visible = !super::notify::hidden();
                ws.with_conn(|c| {
                    c.send_now(ClientFrame::Delivered {
                        conversation_id: id,
                        up_to_seq: last_visitor,
                    });
                    if visible {
                        c.send_now(ClientFrame::Read {
                            conversation_id: id,
                            up_to_seq: last_visitor,
                        });
                    }
                });
            }
        });
        let handler_id = ws.on_frame(handler);
        // Opened: follow it from the start (the replay is the transcript).
        Effect::new(move |_| {
            ws.current.set(Some(id));
            ws.seen(id);
            ws.with_conn(|c| c.track(id, 0));
        });
        let keep = StoredValue::new(false);
        Effect::new(move |_| {
            let me = ws.me.get().and_then(|m| m.id);
            if let Some(Ok(d)) = detail.get() {
                keep.set_value(me.is_some() && d.assignee_id == me);
            }
        });
        on_cleanup(move || {
            ws.off_frame(handler_id);
            if ws.current.get_untracked() == Some(id) {
                ws.current.set(None);
            }
            // My own chats stay followed (their messages count as unread); others do not.
            if !keep.get_value() {
                ws.with_conn(|c| c.untrack(id));
            }
        });
    }

    // An action re-reads the details, and so does its live event a moment later: the same
    // data twice. Drawn through a memo, the second read changes nothing on screen, so a
    // button the agent is clicking (say "Turn chat into case" after "Resolve") is not
    // replaced under the pointer and the click is not lost.
    let shown = Memo::new(move |_| detail.get());
    let header = move || {
        shown.get().map(|r| match r {
            Err(e) => Either::Left(view! { <p class="error" role="alert">{e.to_string()}</p> }),
            Ok(d) => Either::Right(view! { <Header d refresh error drafts /> }),
        })
    };
    let visitor_name = Signal::derive(move || {
        detail
            .get()
            .and_then(|r| r.ok())
            .map(|d| d.visitor.name)
            .unwrap_or_default()
    });
    let site_id = Signal::derive(move || detail.get().and_then(|r| r.ok()).map(|d| d.site_id));
    view! {
        <Title text=move || format!("{} — Switchboard", visitor_name.get()) />
        <div class="conversation">
            <section class="thread" aria-label="Conversation">
                {header}
                <p class="error" role="alert">{move || error.get()}</p>
                <ol class="transcript" aria-label="Transcript" aria-live="polite" aria-relevant="additions">
                    <For
                        each=move || model.with(|m| m.messages.clone())
                        key=|m: &Msg| (m.key.clone(), m.state, m.seq, m.attachment.is_some())
                        children=message_view
                    />
                </ol>
                <p class="typing" aria-live="polite">
                    {move || typing.get().map(|name| format!("{name} is typing…"))}
                </p>
                <Composer id model visitor_name site_id />
            </section>
            {move || {
                detail
                    .get()
                    .and_then(|r| r.ok())
                    .map(|d| view! { <VisitorPanel d /> })
            }}
        </div>
    }
}

fn message_view(m: Msg) -> impl IntoView {
    let state = (m.mine && !m.note).then_some(match m.state {
        MsgState::Sending => "sending",
        MsgState::Sent => "sent",
        MsgState::Delivered => "delivered",
        MsgState::Read => "read",
        MsgState::Failed => "failed",
    });
    let class = match (m.note, m.mine) {
        (true, _) => "msg note",
        (false, true) => "msg mine",
        (false, false) => "msg theirs",
    };
    let file = m.attachment.clone();
    let pieces = linked(&m.body);
    let text = match &file {
        Some(f) if f.filename == m.body => None,
        _ => Some(view! { <p class="text">{pieces}</p> }),
    };
    view! {
        <li class=class data-state=state>
            <span class="author">{m.author.clone()}</span>
            {m.note.then(|| view! { <span class="note-label">"Private note"</span> })}
            {text}
            {file.map(|f| view! { <FileView file=f token=String::new() /> })}
            {state.map(|s| view! { <span class="state">{s}</span> })}
            {m.error.map(|e| view! { <span class="error" role="alert">{e}</span> })}
        </li>
    }
}

/// The header's inputs, kept by the conversation across header redraws.
#[derive(Debug, Clone, Copy)]
struct HeaderDrafts {
    /// The "Add tag" box.
    tag: RwSignal<String>,
    /// The "Conversation title" box, filled from the title when renaming starts.
    title: RwSignal<String>,
    /// The rename form is open.
    renaming: RwSignal<bool>,
}

/// Title (click to rename), status, assignee, tags, and the actions.
#[component]
fn Header(
    d: ConversationView,
    refresh: RwSignal<u32>,
    error: RwSignal<Option<String>>,
    drafts: HeaderDrafts,
) -> impl IntoView {
    let id = d.id;
    let expected = d.assignee_id;
    let status = d.status.clone();
    let resolved = status == "resolved";
    let waiting = status == "waiting";
    let heading = d.title.clone().unwrap_or_else(|| d.visitor.name.clone());
    let HeaderDrafts {
        tag: tag_draft,
        title: title_draft,
        renaming,
    } = drafts;
    let current_title = d.title.clone().unwrap_or_default();
    let save_title = move || {
        renaming.set(false);
        let title = title_draft.get_untracked();
        act(error, refresh, api::rename_conversation(id, title));
    };
    let add_tag = move || {
        let tag = tag_draft.get_untracked();
        if tag.trim().is_empty() {
            return;
        }
        tag_draft.set(String::new());
        act(error, refresh, api::tag_conversation(id, tag, true));
    };
    let assignee = match &d.assignee_name {
        Some(a) => format!("Assigned to {a}"),
        None => "Unassigned".to_string(),
    };
    let group = d.group_name.clone().map(|g| format!("Group: {g}"));
    let tags = d.tags.clone();
    view! {
        <header class="conv-header">
            {move || {
                if renaming.get() {
                    Either::Left(view! {
                        <form class="rename" on:submit=move |ev| {
                            ev.prevent_default();
                            save_title();
                        }>
                            <label for="conv-title">"Conversation title"</label>
                            <input
                                id="conv-title"
                                maxlength="120"
                                prop:value=move || title_draft.get()
                                on:input=move |ev| title_draft.set(event_target_value(&ev))
                            />
                            <button type="submit">"Save title"</button>
                            <button type="button" on:click=move |_| renaming.set(false)>"Cancel"</button>
                        </form>
                    })
                } else {
                    let heading = heading.clone();
                    Either::Right(view! {
                        <h2>
                            <button
                                type="button"
                                class="title"
                                title="Click to rename"
                                aria-label=format!("{heading} (rename)")
                                on:click={
                                    let current = current_title.clone();
                                    move |_| {
                                        title_draft.set(current.clone());
                                        renaming.set(true);
                                    }
                                }
                            >
                                {heading.clone()}
                            </button>
                        </h2>
                    })
                }
            }}
            <p class="conv-state">
                <span class=format!("status status-{status}")>{status.clone()}</span>
                " · " {assignee} " · " {d.site_name.clone()}
                {group.map(|g| format!(" · {g}"))}
                {d.transferred.then_some(" · transferred")}
            </p>
            <ul class="tags" aria-label="Tags">
                {tags
                    .into_iter()
                    .map(|t| {
                        let remove = t.clone();
                        view! {
                            <li class="tag">
                                {t.clone()}
                                <button
                                    type="button"
                                    aria-label=format!("Remove tag {t}")
                                    on:click=move |_| act(error, refresh, api::tag_conversation(id, remove.clone(), false))
                                >
                                    "×"
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <form class="add-tag" on:submit=move |ev| {
                ev.prevent_default();
                add_tag();
            }>
                <label for="new-tag">"Add tag"</label>
                <input
                    id="new-tag"
                    maxlength="32"
                    prop:value=move || tag_draft.get()
                    on:input=move |ev| tag_draft.set(event_target_value(&ev))
                />
                <button type="submit">"Add tag"</button>
            </form>
            <div class="actions" role="group" aria-label="Actions">
                {waiting.then(|| view! {
                    <button type="button" on:click=move |_| act(error, refresh, api::assign_to_me(id))>
                        "Assign to me"
                    </button>
                })}
                {(!resolved).then(|| view! {
                    <button type="button" on:click=move |_| act(error, refresh, api::resolve_conversation(id))>
                        "Resolve"
                    </button>
                })}
                {resolved.then(|| view! {
                    <button type="button" on:click=move |_| act(error, refresh, api::reopen_conversation(id))>
                        "Reopen"
                    </button>
                    <TurnIntoCase id error />
                })}
            </div>
            {(!resolved).then(|| view! { <AssignAndTransfer d=d.clone() expected refresh error /> })}
        </header>
    }
}

/// "Turn chat into case" (resolved chats): makes the case and opens the cases list.
#[component]
fn TurnIntoCase(id: Uuid, error: RwSignal<Option<String>>) -> impl IntoView {
    let navigate = StoredValue::new(leptos_router::hooks::use_navigate());
    let turn = move |_| {
        error.set(None);
        leptos::task::spawn_local(async move {
            match crate::api::cases::turn_chat_into_case(id).await {
                Ok(_) => navigate.with_value(|nav| nav("/agent/cases", Default::default())),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! { <button type="button" on:click=turn>"Turn chat into case"</button> }
}

/// "Assign" to a chosen agent and "Transfer" to an agent or a group, with a note.
#[component]
fn AssignAndTransfer(
    d: ConversationView,
    expected: Option<Uuid>,
    refresh: RwSignal<u32>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = d.id;
    let assign_to = RwSignal::new(String::new());
    let transfer_to = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let agent_label = |a: &crate::api::conversations::AgentOption| {
        let level = match a.level {
            Some(2) => " (level 2)",
            Some(_) => "",
            None => " (admin)",
        };
        format!("{}{level} — {}/{} chats", a.name, a.open_chats, a.max_chats)
    };
    let agent_options = d
        .agents
        .iter()
        .map(|a| view! { <option value=a.id.to_string()>{agent_label(a)}</option> })
        .collect_view();
    let transfer_agents = d
        .agents
        .iter()
        .map(|a| view! { <option value=format!("agent:{}", a.id)>{agent_label(a)}</option> })
        .collect_view();
    let transfer_groups = d
        .groups
        .iter()
        .map(|g| view! { <option value=format!("group:{}", g.id)>{format!("Group: {}", g.name)}</option> })
        .collect_view();
    let assign = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(agent) = assign_to.get_untracked().parse::<Uuid>() else {
            error.set(Some("Choose an agent to assign.".into()));
            return;
        };
        act(
            error,
            refresh,
            api::assign_conversation(id, expected, agent),
        );
    };
    let transfer = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let choice = transfer_to.get_untracked();
        let (agent, group) = match choice.split_once(':') {
            Some(("agent", v)) => (v.parse().ok(), None),
            Some(("group", v)) => (None, v.parse().ok()),
            _ => (None, None),
        };
        if agent.is_none() && group.is_none() {
            error.set(Some("Choose an agent or a group to transfer to.".into()));
            return;
        }
        let text = Some(note.get_untracked()).filter(|n| !n.trim().is_empty());
        note.set(String::new());
        act(
            error,
            refresh,
            api::transfer_conversation(id, expected, agent, group, text),
        );
    };
    view! {
        <div class="handover">
            <form class="assign" on:submit=assign>
                <label for="assign-to">"Assign to"</label>
                <select id="assign-to" on:change=move |ev| assign_to.set(event_target_value(&ev))>
                    <option value="">"Choose an agent"</option>
                    {agent_options}
                </select>
                <button type="submit">"Assign"</button>
            </form>
            <form class="transfer" on:submit=transfer>
                <label for="transfer-to">"Transfer to"</label>
                <select id="transfer-to" on:change=move |ev| transfer_to.set(event_target_value(&ev))>
                    <option value="">"Choose an agent or a group"</option>
                    <optgroup label="Agents">{transfer_agents}</optgroup>
                    <optgroup label="Groups">{transfer_groups}</optgroup>
                </select>
                <label for="transfer-note">"Transfer note"</label>
                <textarea
                    id="transfer-note"
                    rows="2"
                    maxlength="1000"
                    prop:value=move || note.get()
                    on:input=move |ev| note.set(event_target_value(&ev))
                ></textarea>
                <button type="submit">"Transfer"</button>
            </form>
        </div>
    }
}

/// The visitor's details and previous conversations.
#[component]
fn VisitorPanel(d: ConversationView) -> impl IntoView {
    let v = d.visitor;
    let row = |label: &'static str, value: Option<String>| {
        value.map(|value| view! { <dt>{label}</dt><dd>{value}</dd> })
    };
    let page = match (v.page_title.clone(), v.page_url.clone()) {
        (Some(t), Some(u)) => Some(format!("{t} ({u})")),
        (t, u) => t.or(u),
    };
    let previous = d.previous;
    view! {
        <aside class="visitor" aria-label="Visitor details">
            <h3>"Visitor"</h3>
            <dl>
                {row("Name", Some(v.name.clone()))}
                {row("Email", v.email.clone())}
                {row("Phone", v.phone.clone())}
                {row("Identified", v.verified.then(|| "Yes (verified)".to_string()))}
                {row("Browser", v.browser.clone())}
                {row("OS", v.os.clone())}
                {row("IP", v.ip.clone())}
                {row("Current page", page)}
                {row("Referrer", v.referrer.clone())}
                {row("Language", v.language.clone())}
                {row("Time zone", v.time_zone.clone())}
            </dl>
            <h3>"Previous conversations"</h3>
            {if previous.is_empty() {
                Either::Left(view! { <p class="empty">"None."</p> })
            } else {
                Either::Right(view! {
                    <ul class="previous" aria-label="Previous conversations">
                        {previous
                            .into_iter()
                            .map(|p| {
                                let label = p
                                    .title
                                    .clone()
                                    .or(p.first_message.clone())
                                    .unwrap_or_else(|| "(no messages)".into());
                                view! {
                                    <li>
                                        <a href=format!("/agent/c/{}", p.id)>{format!("{} · {label}", p.date)}</a>
                                        " " <span class=format!("status status-{}", p.status)>{p.status.clone()}</span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                })
            }}
        </aside>
    }
}

/// A message body as text with its links made clickable (never HTML: every piece is escaped).
fn linked(body: &str) -> Vec<Either<String, impl IntoView + use<>>> {
    linkify(body)
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => Either::Left(t.to_string()),
            Piece::Link(l) => Either::Right(view! {
                <a href=l.to_string() target="_blank" rel="noopener noreferrer nofollow">{l.to_string()}</a>
            }),
        })
        .collect()
}

/// A file in the conversation: a thumbnail for pictures, a download link for the rest.
/// The bytes are fetched (the agent's session cookie goes along; `token` is empty) and shown
/// from a `blob:` URL.
#[component]
fn FileView(file: AttachmentRef, token: String) -> impl IntoView {
    let url = RwSignal::new(None::<String>);
    #[cfg(feature = "browser")]
    {
        let id = file.id;
        leptos::task::spawn_local(async move {
            if let Ok(u) = crate::ui::widget::files::object_url(&token, id).await {
                url.set(Some(u));
            }
        });
    }
    #[cfg(not(feature = "browser"))]
    let _ = token;
    let name = file.filename.clone();
    let size = crate::model::human_size(file.size);
    let inline = file.is_image() && file.content_type != "image/svg+xml";
    view! {
        <div class="sbw-file">
            {inline
                .then(|| {
                    let alt = name.clone();
                    view! { <img class="sbw-thumb" alt=alt src=move || url.get() /> }
                })}
            <a class="sbw-download" href=move || url.get() download=name.clone()>
                {format!("{name} ({size})")}
            </a>
        </div>
    }
}
