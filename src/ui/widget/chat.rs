//! The conversation: waiting for an agent, then two-way messages with typing indicators and
//! each own message's state (sending / sent / delivered / read).
//!
//! Every message goes through the connection's outbox (`realtime::client`), so what the
//! visitor writes while offline is kept, in order, shown as "sending", and sent on reconnect.

use super::host::Host;
use super::model::{linkify, ChatModel, Msg, MsgState, Piece};
use super::text::{use_strings, Strings};
use crate::realtime::protocol::{AttachmentRef, ConnStatus, PresenceState};
use leptos::either::Either;
use leptos::prelude::*;
use uuid::Uuid;

/// The open conversation of a visitor.
#[component]
pub fn Chat(
    host: Host,
    conversation_id: Uuid,
    visitor_token: String,
    /// Whether the panel is open (read marks and the unread count depend on it).
    open: RwSignal<bool>,
) -> impl IntoView {
    let t = use_strings();
    let model = RwSignal::new(ChatModel::new(conversation_id));
    let typing = RwSignal::new(None::<String>);
    let status = RwSignal::new(ConnStatus::Connecting);
    let unread = RwSignal::new(0u32);
    #[cfg(feature = "browser")]
    let conn = client::start(
        host.clone(),
        conversation_id,
        visitor_token.clone(),
        model,
        typing,
        status,
        open,
        unread,
    );
    #[cfg(not(feature = "browser"))]
    let _ = (&host, unread, open);
    let token = visitor_token.clone();

    // The draft is the textarea's own value (no signal): taken, and the box cleared, on send.
    let send = move || {
        #[cfg(feature = "browser")]
        if let Some(body) = take_draft() {
            client::send(t, &conn, model, body);
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        // Enter sends; Shift+Enter is a new line.
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        }
    };
    let on_input = move |_: leptos::ev::Event| {
        #[cfg(feature = "browser")]
        client::typing(&conn, conversation_id);
    };

    // Files: "Attach file", drag and drop, or a pasted image. Each becomes an own message
    // that shows "sending" until uploaded and stored, or says why it was refused.
    let on_files = {
        let token = token.clone();
        move |ev: leptos::ev::Event| {
            #[cfg(feature = "browser")]
            for f in super::files::picked(&ev) {
                client::send_file(t, conn, model, token.clone(), f);
            }
            #[cfg(not(feature = "browser"))]
            let _ = (ev, &token);
        }
    };
    let on_drop = {
        let token = token.clone();
        move |ev: leptos::ev::DragEvent| {
            ev.prevent_default();
            #[cfg(feature = "browser")]
            for f in super::files::dropped(&ev) {
                client::send_file(t, conn, model, token.clone(), f);
            }
            #[cfg(not(feature = "browser"))]
            let _ = &token;
        }
    };
    let on_paste = {
        let token = token.clone();
        move |ev: leptos::ev::ClipboardEvent| {
            #[cfg(feature = "browser")]
            {
                let files = super::files::pasted(&ev);
                if !files.is_empty() {
                    ev.prevent_default();
                }
                for f in files {
                    client::send_file(t, conn, model, token.clone(), f);
                }
            }
            #[cfg(not(feature = "browser"))]
            let _ = (ev, &token);
        }
    };
    let pick_file = move || {
        #[cfg(feature = "browser")]
        {
            use wasm_bindgen::JsCast;
            if let Some(input) = document()
                .get_element_by_id("sbw-file")
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                input.click();
            }
        }
    };

    // A fixed skeleton whose parts show, hide and change text: bindings of a few common
    // types (bool, &str, Option<String>) instead of a view type per state keep the bundle
    // small (each distinct reactive view is its own code in the WASM).
    let waiting = move || model.with(|m| m.agent.is_none() && !m.resolved);
    let agent_name = move || model.with(|m| m.agent.as_ref().map(|a| a.name.clone()));
    let presence = move || {
        if typing.get().is_some() {
            return t.is_typing;
        }
        model.with(|m| match m.agent.as_ref().map(|a| a.presence) {
            Some(PresenceState::Online) => t.online,
            Some(PresenceState::Idle) => t.idle,
            _ => t.offline,
        })
    };
    view! {
        <section
            class="sbw-chat"
            aria-label=t.conversation
            on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
            on:drop=on_drop
        >
            <p class="sbw-agent" hidden=move || model.with(|m| m.agent.is_none())>
                <strong class="sbw-agent-name">{agent_name}</strong>
                " "
                <span class="sbw-presence">{presence}</span>
            </p>
            <div class="sbw-waiting" hidden=move || !waiting()>
                <p>{t.waiting}</p>
                <p class="sbw-status">{t.status_connecting}</p>
            </div>
            <p
                class="sbw-offline"
                role="status"
                hidden=move || status.get() != ConnStatus::Reconnecting
            >
                {t.reconnecting}
            </p>
            <ol class="sbw-messages" aria-live="polite" aria-relevant="additions">
                <For
                    each=move || model.with(|m| m.messages.clone())
                    key=Msg::view_key
                    children={
                        let token = token.clone();
                        move |m| message_view(t, m, model, token.clone())
                    }
                />
            </ol>
            <p class="sbw-typing" aria-live="polite">
                {move || typing.get().map(|name| format!("{name} {}", t.is_typing))}
            </p>
            <p class="sbw-resolved" role="status" hidden=move || !model.with(|m| m.resolved)>
                {t.resolved}
            </p>
            <p class="sbw-thanks" hidden=move || model.with(|m| m.rated.is_none())>
                {t.thanks}
            </p>
            {
                let token = token.clone();
                move || {
                    model
                        .with(|m| m.resolved && m.rated.is_none())
                        .then(|| view! { <Rating conversation_id token=token.clone() model /> })
                }
            }
            <form
                class="sbw-composer"
                on:submit=move |ev| {
                    ev.prevent_default();
                    send();
                }
            >
                <label for="sbw-message" class="sbw-visually-hidden">{t.message}</label>
                <textarea
                    id="sbw-message"
                    rows="2"
                    placeholder=t.message
                    on:input=on_input
                    on:keydown=on_key
                    on:paste=on_paste
                ></textarea>
                <input
                    type="file"
                    id="sbw-file"
                    class="sbw-visually-hidden"
                    tabindex="-1"
                    aria-hidden="true"
                    on:change=on_files
                />
                <button
                    type="button"
                    class="sbw-attach"
                    aria-label=t.attach_file
                    title=t.attach_file
                    on:click=move |_| pick_file()
                >
                    "📎"
                </button>
                <button type="submit" class="sbw-primary">{t.send}</button>
            </form>
        </section>
    }
}

/// Takes what the visitor typed in "Message" and clears the box (`None` when blank).
#[cfg(feature = "browser")]
fn take_draft() -> Option<String> {
    use wasm_bindgen::JsCast;
    let el = document()
        .get_element_by_id("sbw-message")?
        .dyn_into::<web_sys::HtmlTextAreaElement>()
        .ok()?;
    let body = el.value();
    if body.trim().is_empty() {
        return None;
    }
    el.set_value("");
    Some(body)
}

/// "Rate your experience": five star buttons, "Feedback", "Submit anonymously", "Submit rating".
#[component]
fn Rating(conversation_id: Uuid, token: String, model: RwSignal<ChatModel>) -> impl IntoView {
    let t = use_strings();
    let score = RwSignal::new(0i16);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let s = score.get_untracked();
        if s == 0 {
            error.set(Some(t.choose_stars.to_string()));
            return;
        }
        busy.set(true);
        error.set(None);
        let token = token.clone();
        let form = super::prechat::Filled::from(&ev);
        let (fb, anon) = (form.opt("feedback"), form.text("anonymous") == "on");
        leptos::task::spawn_local(async move {
            match crate::api::widget::rate_chat(token, conversation_id, s, fb, anon).await {
                // The `rating` event follows on the socket; show thanks at once anyway.
                Ok(()) => model.update(|m| m.rated = Some(s)),
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let stars = (1..=5i16)
        .map(|n| {
            view! {
                <button
                    type="button"
                    class="sbw-star"
                    aria-label=t.stars[(n - 1) as usize]
                    aria-pressed=move || if score.get() == n { "true" } else { "false" }
                    on:click=move |_| score.set(n)
                >
                    {move || if score.get() >= n { "★" } else { "☆" }}
                </button>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <form class="sbw-rating" on:submit=submit>
            <fieldset>
                <legend>{t.rate_prompt}</legend>
                <div class="sbw-stars">{stars}</div>
                <label for="sbw-feedback">{t.feedback}</label>
                <textarea id="sbw-feedback" name="feedback" rows="2" maxlength="2000"></textarea>
                <label class="sbw-check">
                    <input type="checkbox" name="anonymous" />
                    " "
                    {t.anonymous}
                </label>
                <p class="sbw-error" role="alert">{move || error.get()}</p>
                <button type="submit" class="sbw-primary" disabled=move || busy.get()>
                    {t.submit_rating}
                </button>
            </fieldset>
        </form>
    }
}

/// One message. Its state (sending → read) and a refusal change in place, read from the
/// model, so the element is made once and screen readers announce the message once.
fn message_view(
    t: &'static Strings,
    m: Msg,
    model: RwSignal<ChatModel>,
    token: String,
) -> impl IntoView {
    let mine = m.mine;
    let at = model.with_untracked(|md| md.index_of(&m.key));
    let now =
        move |key: &str| model.with(|md| md.find_at(at, key).map(|x| (x.state, x.error.clone())));
    let state = {
        let key = m.key.clone();
        move || {
            let label = match now(&key)?.0 {
                MsgState::Sending => t.sending,
                MsgState::Sent => t.sent,
                MsgState::Delivered => t.delivered,
                MsgState::Read => t.read,
                MsgState::Failed => t.failed,
            };
            mine.then_some(label)
        }
    };
    let error = {
        let key = m.key.clone();
        move || {
            now(&key)
                .and_then(|(_, e)| e)
                .map(|e| view! { <span class="sbw-error" role="alert">{e}</span> })
        }
    };
    let class = if mine {
        "sbw-msg sbw-mine"
    } else {
        "sbw-msg sbw-theirs"
    };
    let author = if mine {
        t.you.to_string()
    } else {
        m.author.clone()
    };
    let file = m.attachment.clone();
    let pieces = linked(&m.body);
    let text_part = match &file {
        // A file's name is shown by the file itself.
        Some(f) if f.filename == m.body => None,
        _ => Some(view! { <p class="sbw-text">{pieces}</p> }),
    };
    let state_attr = state.clone();
    view! {
        <li class=class data-state=state_attr>
            <span class="sbw-author">{author}</span>
            {text_part}
            {file.map(|f| view! { <FileView file=f token /> })}
            {mine.then(|| view! { <span class="sbw-state">{state}</span> })}
            {error}
        </li>
    }
}

/// A message body as text with its links made clickable (never HTML: every piece is escaped).
pub(crate) fn linked(body: &str) -> Vec<Either<String, impl IntoView + use<>>> {
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
/// The bytes are fetched with the visitor's token and shown from a `blob:` URL.
#[component]
pub(crate) fn FileView(file: AttachmentRef, token: String) -> impl IntoView {
    let url = RwSignal::new(None::<String>);
    #[cfg(feature = "browser")]
    {
        let id = file.id;
        leptos::task::spawn_local(async move {
            if let Ok(u) = super::files::object_url(&token, id).await {
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

/// The browser side: the socket, read marks, typing, and the unread count for the loader.
#[cfg(feature = "browser")]
mod client {
    use super::*;
    use crate::realtime::client::Connection;
    use crate::realtime::protocol::{ClientFrame, ServerFrame, Side, TYPING_THROTTLE_MS};
    use std::cell::Cell;
    use std::rc::Rc;

    /// The connection, kept for the page's life (it is not `Send`, hence local storage).
    pub type Conn = StoredValue<Rc<Connection>, LocalStorage>;

    #[allow(clippy::too_many_arguments)]
    pub fn start(
        host: Host,
        conversation_id: Uuid,
        token: String,
        model: RwSignal<ChatModel>,
        typing: RwSignal<Option<String>>,
        status: RwSignal<ConnStatus>,
        open: RwSignal<bool>,
        unread: RwSignal<u32>,
    ) -> Conn {
        let typing_seq = Rc::new(Cell::new(0u32));
        let conn_slot: Rc<std::cell::RefCell<Option<std::rc::Weak<Connection>>>> =
            Default::default();
        let slot = conn_slot.clone();
        let on_frame = move |frame: ServerFrame| {
            if let ServerFrame::Typing {
                conversation_id: c,
                author,
                expires_ms,
            } = &frame
            {
                if *c == conversation_id && author.side != Side::Visitor {
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
                }
                return;
            }
            let new_agent_message = model.try_update(|m| m.apply(&frame)).flatten();
            if let Some(seq) = new_agent_message {
                // A message ends the typing indicator of its author.
                typing.set(None);
                if let Some(conn) = slot.borrow().as_ref().and_then(|w| w.upgrade()) {
                    conn.send_now(ClientFrame::Delivered {
                        conversation_id,
                        up_to_seq: seq,
                    });
                    if is_seen(open) {
                        conn.send_now(ClientFrame::Read {
                            conversation_id,
                            up_to_seq: seq,
                        });
                    } else {
                        unread.update(|n| *n += 1);
                    }
                }
            }
        };
        let conn = Rc::new(Connection::start(Some(token.clone()), status, on_frame));
        *conn_slot.borrow_mut() = Some(Rc::downgrade(&conn));
        conn.track(conversation_id, 0);
        let stored: Conn = StoredValue::new_local(conn);
        // Opening the panel (or coming back to the tab) reads what arrived meanwhile.
        Effect::new(move |_| {
            if open.get() {
                unread.set(0);
                let last = model.with_untracked(|m| m.last_agent_seq);
                if last > 0 {
                    stored.with_value(|c| {
                        c.send_now(ClientFrame::Read {
                            conversation_id,
                            up_to_seq: last,
                        })
                    });
                }
            }
        });
        Effect::new({
            let host = host.clone();
            move |_| {
                let n = unread.get();
                host.post("unread", &[("count", n.into())]);
            }
        });
        // Where the visitor is, for the agent: now and on every page change.
        Effect::new(move |_| {
            let page = host.page.get().unwrap_or_default();
            let token = token.clone();
            leptos::task::spawn_local(async move {
                let some = |s: String| Some(s).filter(|s| !s.is_empty());
                let _ = crate::api::widget::report_visit(
                    token,
                    some(page.url),
                    some(page.title),
                    some(page.referrer),
                    window().navigator().language(),
                    time_zone(),
                )
                .await;
            });
        });
        stored
    }

    /// The browser's IANA time zone, e.g. "Europe/Zurich".
    fn time_zone() -> Option<String> {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()
            .and_then(|v| v.as_string())
    }

    fn is_seen(open: RwSignal<bool>) -> bool {
        open.get_untracked() && document().visibility_state() == web_sys::VisibilityState::Visible
    }

    /// Queues a message: shown as "sending" at once, sent now or on reconnect.
    pub fn send(t: &'static Strings, conn: &Conn, model: RwSignal<ChatModel>, body: String) {
        let key = Uuid::new_v4().to_string();
        let conversation_id = model.with_untracked(|m| m.conversation_id);
        model.update(|m| m.push_own(key.clone(), body.clone(), t.you));
        conn.with_value(|c| {
            c.send(ClientFrame::Send {
                conversation_id,
                key,
                body,
                note: false,
                attachment: None,
            })
        });
    }

    /// Uploads a file and sends it as an own message (shown at once as "sending").
    pub fn send_file(
        t: &'static Strings,
        conn: Conn,
        model: RwSignal<ChatModel>,
        token: String,
        file: web_sys::File,
    ) {
        let key = Uuid::new_v4().to_string();
        let conversation_id = model.with_untracked(|m| m.conversation_id);
        model.update(|m| m.push_own(key.clone(), file.name(), t.you));
        leptos::task::spawn_local(async move {
            match crate::ui::widget::files::upload(&token, conversation_id, &file).await {
                Ok(stored) => {
                    let id = stored.id;
                    model.update(|m| m.attach(&key, stored));
                    conn.with_value(|c| {
                        c.send(ClientFrame::Send {
                            conversation_id,
                            key,
                            body: String::new(),
                            note: false,
                            attachment: Some(id),
                        })
                    });
                }
                Err(why) => model.update(|m| m.fail(&key, why)),
            }
        });
    }

    thread_local! {
        static LAST_TYPING: Cell<f64> = const { Cell::new(0.0) };
    }

    /// Tells the agent the visitor is typing, at most once per throttle interval.
    pub fn typing(conn: &Conn, conversation_id: Uuid) {
        let now = js_sys::Date::now();
        if now - LAST_TYPING.get() >= TYPING_THROTTLE_MS as f64 {
            LAST_TYPING.set(now);
            conn.with_value(|c| c.send_now(ClientFrame::Typing { conversation_id }));
        }
    }
}
