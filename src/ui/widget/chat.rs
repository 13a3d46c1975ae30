//! The conversation (widget bundle only): waiting for an agent, then two-way messages with
//! typing indicators and each own message's state (sending / sent / delivered / read),
//! files, and "Rate your experience" once an agent resolves.
//!
//! Every message goes through the connection's outbox (`realtime::client`), so what the
//! visitor writes while offline is kept, in order, shown as "sending", and sent on reconnect.
//!
//! The view is a fixed skeleton made once; [`Chat::sync`] sets what changed on it after
//! every change of the model (shown/hidden parts, texts, new messages appended, states of
//! the visitor's own messages). Messages are only ever appended to the model, so the i-th
//! element on screen is the i-th message: the sync is a walk, not a diff.

use super::app::App;
use super::dom::{self, add, el, flag, on, show, text_el};
use super::host::Host;
use super::model::{linkify, ChatModel, Msg, MsgState, Piece};
use super::text::Strings;
use crate::realtime::client::Connection;
use crate::realtime::protocol::{
    AttachmentRef, ClientFrame, ConnStatus, PresenceState, ServerFrame, Side, TYPING_THROTTLE_MS,
};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

/// The parts of the skeleton that change.
struct Parts {
    agent: Element,
    agent_name: Element,
    presence: Element,
    waiting: Element,
    reconnecting: Element,
    list: Element,
    typing: Element,
    resolved: Element,
    thanks: Element,
    /// Where the rating form goes (before the composer).
    composer: Element,
}

/// A message on screen, and what of it was last drawn.
struct Item {
    li: Element,
    /// The body's text (none when a file's name is all it says).
    text: Option<Element>,
    /// The state text of an own message.
    state: Option<Element>,
    drawn: Option<MsgState>,
    error: Option<Element>,
    file: bool,
}

/// The open conversation of a visitor.
pub struct Chat {
    me: Weak<Chat>,
    t: &'static Strings,
    host: Host,
    open: Rc<Cell<bool>>,
    conversation_id: Uuid,
    /// The visitor's device token.
    pub token: String,
    /// The view, for the app to place.
    pub root: Element,
    parts: Parts,
    model: RefCell<ChatModel>,
    /// Who is typing (an agent), until it expires or their message arrives.
    typing: RefCell<Option<String>>,
    typing_seq: Cell<u32>,
    last_typing_sent: Cell<f64>,
    /// Agent messages that arrived while the panel was closed (the loader's badge).
    unread: Cell<u32>,
    items: RefCell<Vec<Item>>,
    rating: RefCell<Option<Element>>,
    conn: RefCell<Option<Connection>>,
}

impl Chat {
    /// Draws the conversation and connects to it.
    pub fn start(app: &App, conversation_id: Uuid, token: String) -> Rc<Chat> {
        let t = app.t;
        let root = el(
            "section",
            &[("class", "sbw-chat"), ("aria-label", t.conversation)],
        );
        let agent = el("p", &[("class", "sbw-agent"), ("hidden", "")]);
        let agent_name = el("strong", &[("class", "sbw-agent-name")]);
        let presence = el("span", &[("class", "sbw-presence")]);
        add(&agent, &[&agent_name]);
        dom::add_text(&agent, " ");
        add(&agent, &[&presence]);
        let waiting = el("div", &[("class", "sbw-waiting")]);
        add(
            &waiting,
            &[
                &text_el("p", &[], t.waiting),
                &text_el("p", &[("class", "sbw-status")], t.status_connecting),
            ],
        );
        let reconnecting = text_el(
            "p",
            &[("class", "sbw-offline"), ("role", "status"), ("hidden", "")],
            t.reconnecting,
        );
        let list = el(
            "ol",
            &[
                ("class", "sbw-messages"),
                ("aria-live", "polite"),
                ("aria-relevant", "additions"),
            ],
        );
        let typing = el("p", &[("class", "sbw-typing"), ("aria-live", "polite")]);
        let resolved = text_el(
            "p",
            &[
                ("class", "sbw-resolved"),
                ("role", "status"),
                ("hidden", ""),
            ],
            t.resolved,
        );
        let thanks = text_el("p", &[("class", "sbw-thanks"), ("hidden", "")], t.thanks);
        let composer = composer(t);
        add(
            &root,
            &[
                &agent,
                &waiting,
                &reconnecting,
                &list,
                &typing,
                &resolved,
                &thanks,
                &composer,
            ],
        );
        let chat = Rc::new_cyclic(|me| Chat {
            me: me.clone(),
            t,
            host: app.host.clone(),
            open: app.open.clone(),
            conversation_id,
            token,
            root,
            parts: Parts {
                agent,
                agent_name,
                presence,
                waiting,
                reconnecting,
                list,
                typing,
                resolved,
                thanks,
                composer,
            },
            model: RefCell::new(ChatModel::new(conversation_id)),
            typing: RefCell::new(None),
            typing_seq: Cell::new(0),
            last_typing_sent: Cell::new(0.0),
            unread: Cell::new(0),
            items: RefCell::new(Vec::new()),
            rating: RefCell::new(None),
            conn: RefCell::new(None),
        });
        chat.listen();
        let (on_status, on_frame) = {
            let (a, b) = (chat.me.clone(), chat.me.clone());
            (
                move |s| {
                    if let Some(c) = a.upgrade() {
                        show(&c.parts.reconnecting, s == ConnStatus::Reconnecting);
                    }
                },
                move |f| {
                    if let Some(c) = b.upgrade() {
                        c.frame(f);
                    }
                },
            )
        };
        let conn = Connection::start(Some(chat.token.clone()), on_status, on_frame);
        conn.track(conversation_id, 0);
        *chat.conn.borrow_mut() = Some(conn);
        chat.post_unread();
        chat
    }

    /// The composer's and the section's handlers.
    fn listen(&self) {
        let form = &self.parts.composer;
        let with = |f: fn(&Chat, web_sys::Event)| {
            let me = self.me.clone();
            move |ev: web_sys::Event| {
                if let Some(c) = me.upgrade() {
                    f(&c, ev)
                }
            }
        };
        on(
            form,
            "submit",
            with(|c, ev| {
                ev.prevent_default();
                c.send();
            }),
        );
        if let Some(box_) = dom::find(form, "#sbw-message") {
            on(
                &box_,
                "keydown",
                with(|c, ev| {
                    // Enter sends; Shift+Enter is a new line.
                    if let Some(k) = ev.dyn_ref::<web_sys::KeyboardEvent>() {
                        if k.key() == "Enter" && !k.shift_key() && !k.is_composing() {
                            ev.prevent_default();
                            c.send();
                        }
                    }
                }),
            );
            on(&box_, "input", with(|c, _| c.typing_now()));
            // A pasted image is a file to send, not text.
            on(
                &box_,
                "paste",
                with(|c, ev| {
                    if let Some(p) = ev.dyn_ref::<web_sys::ClipboardEvent>() {
                        let files = super::files::pasted(p);
                        if !files.is_empty() {
                            ev.prevent_default();
                        }
                        c.send_files(files);
                    }
                }),
            );
        }
        if let (Some(input), Some(attach)) =
            (dom::find(form, "#sbw-file"), dom::find(form, ".sbw-attach"))
        {
            on(
                &input,
                "change",
                with(|c, ev| c.send_files(super::files::picked(&ev))),
            );
            on(&attach, "click", move |_| {
                if let Some(input) = input.dyn_ref::<web_sys::HtmlElement>() {
                    input.click();
                }
            });
        }
        on(&self.root, "dragover", |ev| ev.prevent_default());
        on(
            &self.root,
            "drop",
            with(|c, ev| {
                ev.prevent_default();
                if let Some(d) = ev.dyn_ref::<web_sys::DragEvent>() {
                    c.send_files(super::files::dropped(d));
                }
            }),
        );
    }

    /// Ends the connection (the view is going).
    pub fn stop(&self) {
        self.conn.take();
    }

    fn conn(&self, f: impl FnOnce(&Connection)) {
        if let Some(c) = self.conn.borrow().as_ref() {
            f(c)
        }
    }

    /// A frame from the socket.
    fn frame(&self, frame: ServerFrame) {
        if let ServerFrame::Typing {
            conversation_id,
            author,
            expires_ms,
        } = &frame
        {
            if *conversation_id == self.conversation_id && author.side != Side::Visitor {
                *self.typing.borrow_mut() = Some(author.name.clone());
                let n = self.typing_seq.get().wrapping_add(1);
                self.typing_seq.set(n);
                let me = self.me.clone();
                gloo_timers::callback::Timeout::new(*expires_ms, move || {
                    if let Some(c) = me.upgrade().filter(|c| c.typing_seq.get() == n) {
                        c.typing.take();
                        c.sync();
                    }
                })
                .forget();
                self.sync();
            }
            return;
        }
        let new_agent_message = self.model.borrow_mut().apply(&frame);
        if let Some(seq) = new_agent_message {
            // A message ends the typing indicator of its author.
            self.typing.take();
            let conversation_id = self.conversation_id;
            self.conn(|c| {
                c.send_now(ClientFrame::Delivered {
                    conversation_id,
                    up_to_seq: seq,
                })
            });
            if self.seen() {
                self.conn(|c| {
                    c.send_now(ClientFrame::Read {
                        conversation_id,
                        up_to_seq: seq,
                    })
                });
            } else {
                self.unread.set(self.unread.get() + 1);
                self.post_unread();
            }
        }
        self.sync();
    }

    /// Whether the visitor can see the chat now.
    fn seen(&self) -> bool {
        self.open.get() && dom::doc().visibility_state() == web_sys::VisibilityState::Visible
    }

    fn post_unread(&self) {
        self.host
            .post("unread", &[("count", self.unread.get().into())]);
    }

    /// The panel opened or closed: opening reads what arrived meanwhile.
    pub fn open_changed(&self) {
        if !self.open.get() {
            return;
        }
        self.unread.set(0);
        self.post_unread();
        let last = self.model.borrow().last_agent_seq;
        if last > 0 {
            let conversation_id = self.conversation_id;
            self.conn(|c| {
                c.send_now(ClientFrame::Read {
                    conversation_id,
                    up_to_seq: last,
                })
            });
        }
    }

    /// Where the visitor is, for the agent: on start and on every page change.
    pub fn report_visit(&self, app: &App) {
        let page = app.page.borrow().clone().unwrap_or_default();
        let token = self.token.clone();
        spawn_local(async move {
            let some = |s: String| Some(s).filter(|s| !s.is_empty());
            let _ = crate::api::widget::report_visit(
                token,
                some(page.url),
                some(page.title),
                some(page.referrer),
                dom::window().navigator().language(),
                time_zone(),
            )
            .await;
        });
    }

    /// Queues what the visitor typed: shown as "sending" at once, sent now or on reconnect.
    fn send(&self) {
        let Some(body) = take_draft() else {
            return;
        };
        let key = Uuid::new_v4().to_string();
        self.model
            .borrow_mut()
            .push_own(key.clone(), body.clone(), self.t.you);
        self.sync();
        let conversation_id = self.conversation_id;
        self.conn(|c| {
            c.send(ClientFrame::Send {
                conversation_id,
                key,
                body,
                note: false,
                attachment: None,
            })
        });
    }

    /// Uploads each file and sends it as an own message (shown at once as "sending"; a
    /// refused one says why, and the rest of the chat goes on).
    fn send_files(&self, files: Vec<web_sys::File>) {
        for file in files {
            let key = Uuid::new_v4().to_string();
            self.model
                .borrow_mut()
                .push_own(key.clone(), file.name(), self.t.you);
            self.sync();
            let (me, token, conversation_id) =
                (self.me.clone(), self.token.clone(), self.conversation_id);
            spawn_local(async move {
                let result = super::files::upload(&token, conversation_id, &file).await;
                let Some(c) = me.upgrade() else { return };
                match result {
                    Ok(stored) => {
                        let id = stored.id;
                        c.model.borrow_mut().attach(&key, stored);
                        c.conn(|conn| {
                            conn.send(ClientFrame::Send {
                                conversation_id,
                                key,
                                body: String::new(),
                                note: false,
                                attachment: Some(id),
                            })
                        });
                    }
                    Err(why) => c.model.borrow_mut().fail(&key, why),
                }
                c.sync();
            });
        }
    }

    /// Tells the agent the visitor is typing, at most once per throttle interval.
    fn typing_now(&self) {
        let now = js_sys::Date::now();
        if now - self.last_typing_sent.get() >= TYPING_THROTTLE_MS as f64 {
            self.last_typing_sent.set(now);
            let conversation_id = self.conversation_id;
            self.conn(|c| c.send_now(ClientFrame::Typing { conversation_id }));
        }
    }

    /// Brings the view in line with the model and the typing indicator.
    fn sync(&self) {
        let (t, p) = (self.t, &self.parts);
        let m = self.model.borrow();
        let typing = self.typing.borrow();
        show(&p.agent, m.agent.is_some());
        if let Some(a) = &m.agent {
            dom::set_text(&p.agent_name, &a.name);
            let presence = match (typing.is_some(), a.presence) {
                (true, _) => t.is_typing,
                (_, PresenceState::Online) => t.online,
                (_, PresenceState::Idle) => t.idle,
                _ => t.offline,
            };
            dom::set_text(&p.presence, presence);
        }
        show(&p.waiting, m.agent.is_none() && !m.resolved);
        let typing_text = match typing.as_deref() {
            Some(name) => format!("{name} {}", t.is_typing),
            None => String::new(),
        };
        dom::set_text(&p.typing, &typing_text);
        show(&p.resolved, m.resolved);
        show(&p.thanks, m.rated.is_some());
        let want_rating = m.resolved && m.rated.is_none();
        let has_rating = self.rating.borrow().is_some();
        if want_rating && !has_rating {
            let form = self.rating_form();
            let _ = self.root.insert_before(&form, Some(&p.composer));
            *self.rating.borrow_mut() = Some(form);
        } else if !want_rating && has_rating {
            if let Some(form) = self.rating.take() {
                form.remove();
            }
        }
        let mut items = self.items.borrow_mut();
        for (i, msg) in m.messages.iter().enumerate() {
            if i == items.len() {
                let item = self.message_view(msg);
                add(&p.list, &[&item.li]);
                items.push(item);
            }
            self.update_item(&mut items[i], msg);
        }
    }

    /// One message, made once; [`Chat::update_item`] keeps its state current.
    fn message_view(&self, m: &Msg) -> Item {
        let class = if m.mine {
            "sbw-msg sbw-mine"
        } else {
            "sbw-msg sbw-theirs"
        };
        let li = el("li", &[("class", class)]);
        let author = if m.mine {
            self.t.you
        } else {
            m.author.as_str()
        };
        add(&li, &[&text_el("span", &[("class", "sbw-author")], author)]);
        // A file's name is shown by the file itself.
        let text = (m.attachment.as_ref().is_none_or(|f| f.filename != m.body)
            && !m.body.is_empty())
        .then(|| {
            let text = el("p", &[("class", "sbw-text")]);
            linked_into(&text, &m.body);
            add(&li, &[&text]);
            text
        });
        let state = m.mine.then(|| el("span", &[("class", "sbw-state")]));
        if let Some(s) = &state {
            add(&li, &[s]);
        }
        Item {
            li,
            text,
            state,
            drawn: None,
            error: None,
            file: false,
        }
    }

    fn update_item(&self, item: &mut Item, m: &Msg) {
        if !item.file {
            if let Some(f) = &m.attachment {
                item.file = true;
                // An upload of ours showed its name until the file was known: now the file does.
                if f.filename == m.body {
                    if let Some(text) = item.text.take() {
                        text.remove();
                    }
                }
                let view = file_view(f, &self.token);
                match &item.state {
                    Some(s) => {
                        let _ = item.li.insert_before(&view, Some(s));
                    }
                    None => add(&item.li, &[&view]),
                }
            }
        }
        if let (Some(state), true) = (&item.state, item.drawn != Some(m.state)) {
            item.drawn = Some(m.state);
            let t = self.t;
            let label = match m.state {
                MsgState::Sending => t.sending,
                MsgState::Sent => t.sent,
                MsgState::Delivered => t.delivered,
                MsgState::Read => t.read,
                MsgState::Failed => t.failed,
            };
            dom::set_text(state, label);
            let _ = item.li.set_attribute("data-state", label);
        }
        match (&item.error, &m.error) {
            (None, Some(e)) => {
                let span = text_el("span", &[("class", "sbw-error"), ("role", "alert")], e);
                add(&item.li, &[&span]);
                item.error = Some(span);
            }
            (Some(span), Some(e)) => dom::set_text(span, e),
            (Some(_), None) => {
                if let Some(span) = item.error.take() {
                    span.remove();
                }
            }
            (None, None) => {}
        }
    }

    /// "Rate your experience": five star buttons, "Feedback", "Submit anonymously",
    /// "Submit rating".
    fn rating_form(&self) -> Element {
        let t = self.t;
        let form = el("form", &[("class", "sbw-rating")]);
        let set = el("fieldset", &[]);
        let stars = el("div", &[("class", "sbw-stars")]);
        let score = Rc::new(Cell::new(0i16));
        let buttons: Rc<Vec<Element>> = Rc::new(
            t.stars
                .iter()
                .map(|name| {
                    let b = text_el(
                        "button",
                        &[
                            ("type", "button"),
                            ("class", "sbw-star"),
                            ("aria-label", name),
                            ("aria-pressed", "false"),
                        ],
                        "☆",
                    );
                    add(&stars, &[&b]);
                    b
                })
                .collect(),
        );
        for n in 1..=5i16 {
            let (score, buttons) = (score.clone(), buttons.clone());
            let button = buttons[n as usize - 1].clone();
            on(&button, "click", move |_| {
                score.set(n);
                for (i, b) in buttons.iter().enumerate() {
                    let i = i as i16 + 1;
                    let _ = b.set_attribute("aria-pressed", flag(i == n));
                    dom::set_text(b, if i <= n { "★" } else { "☆" });
                }
            });
        }
        let check = el("label", &[("class", "sbw-check")]);
        add(
            &check,
            &[&el("input", &[("type", "checkbox"), ("name", "anonymous")])],
        );
        dom::add_text(&check, " ");
        dom::add_text(&check, t.anonymous);
        let error = el("p", &[("class", "sbw-error"), ("role", "alert")]);
        let submit = text_el(
            "button",
            &[("type", "submit"), ("class", "sbw-primary")],
            t.submit_rating,
        );
        add(
            &set,
            &[
                &text_el("legend", &[], t.rate_prompt),
                &stars,
                &text_el("label", &[("for", "sbw-feedback")], t.feedback),
                &el(
                    "textarea",
                    &[
                        ("id", "sbw-feedback"),
                        ("name", "feedback"),
                        ("rows", "2"),
                        ("maxlength", "2000"),
                    ],
                ),
                &check,
                &error,
                &submit,
            ],
        );
        add(&form, &[&set]);
        let (me, token, conversation_id) =
            (self.me.clone(), self.token.clone(), self.conversation_id);
        on(&form, "submit", move |ev| {
            ev.prevent_default();
            let s = score.get();
            if s == 0 {
                dom::set_text(&error, t.choose_stars);
                return;
            }
            let _ = submit.toggle_attribute_with_force("disabled", true);
            dom::set_text(&error, "");
            let form = dom::Filled::from(&ev);
            let (fb, anon) = (form.opt("feedback"), form.text("anonymous") == "on");
            let (me, token, error, submit) =
                (me.clone(), token.clone(), error.clone(), submit.clone());
            spawn_local(async move {
                let result =
                    crate::api::widget::rate_chat(token, conversation_id, s, fb, anon).await;
                let _ = submit.toggle_attribute_with_force("disabled", false);
                match result {
                    // The `rated` event follows on the socket; show thanks at once anyway.
                    Ok(()) => {
                        if let Some(c) = me.upgrade() {
                            c.model.borrow_mut().rated = Some(s);
                            c.sync();
                        }
                    }
                    Err(e) => dom::set_text(&error, &e.to_string()),
                }
            });
        });
        form
    }
}

/// A paperclip drawn in the text colour (Feather icons, MIT): an emoji would show as a
/// missing glyph on systems without an emoji font.
const PAPERCLIP: &str = r#"<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false"><path d="M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48"/></svg>"#;

/// The composer: "Message", the hidden file input, "Attach file", "Send".
fn composer(t: &'static Strings) -> Element {
    let form = el("form", &[("class", "sbw-composer")]);
    let attach = el(
        "button",
        &[
            ("type", "button"),
            ("class", "sbw-attach"),
            ("aria-label", t.attach_file),
            ("title", t.attach_file),
        ],
    );
    // A constant of ours, never visitor or agent text: the one markup the widget parses.
    attach.set_inner_html(PAPERCLIP);
    add(
        &form,
        &[
            &text_el(
                "label",
                &[("for", "sbw-message"), ("class", "sbw-visually-hidden")],
                t.message,
            ),
            &el(
                "textarea",
                &[
                    ("id", "sbw-message"),
                    ("rows", "2"),
                    ("placeholder", t.message),
                ],
            ),
            &el(
                "input",
                &[
                    ("type", "file"),
                    ("id", "sbw-file"),
                    ("class", "sbw-visually-hidden"),
                    ("tabindex", "-1"),
                    ("aria-hidden", "true"),
                ],
            ),
            &attach,
            &text_el(
                "button",
                &[("type", "submit"), ("class", "sbw-primary")],
                t.send,
            ),
        ],
    );
    form
}

/// A message body as text with its links made clickable, into `parent` (never HTML: every
/// piece is a text node).
fn linked_into(parent: &Element, body: &str) {
    for piece in linkify(body) {
        match piece {
            Piece::Text(s) => dom::add_text(parent, s),
            Piece::Link(l) => add(
                parent,
                &[&text_el(
                    "a",
                    &[
                        ("href", l),
                        ("target", "_blank"),
                        ("rel", "noopener noreferrer nofollow"),
                    ],
                    l,
                )],
            ),
        }
    }
}

/// A file in the conversation: a thumbnail for pictures, a download link for the rest.
/// The bytes are fetched with the visitor's token and shown from a `blob:` URL.
fn file_view(file: &AttachmentRef, token: &str) -> Element {
    let wrap = el("div", &[("class", "sbw-file")]);
    let name = file.filename.as_str();
    let inline = file.is_image() && file.content_type != "image/svg+xml";
    let img = inline.then(|| el("img", &[("class", "sbw-thumb"), ("alt", name)]));
    if let Some(img) = &img {
        add(&wrap, &[img]);
    }
    let size = crate::model::human_size(file.size);
    let link = text_el(
        "a",
        &[("class", "sbw-download"), ("download", name)],
        &format!("{name} ({size})"),
    );
    add(&wrap, &[&link]);
    let (id, token) = (file.id, token.to_string());
    spawn_local(async move {
        if let Ok(url) = super::files::object_url(&token, id).await {
            if let Some(img) = img {
                let _ = img.set_attribute("src", &url);
            }
            let _ = link.set_attribute("href", &url);
        }
    });
    wrap
}

/// Takes what the visitor typed in "Message" and clears the box (`None` when blank).
fn take_draft() -> Option<String> {
    let el = dom::doc()
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

/// The browser's IANA time zone, e.g. "Europe/Zurich".
fn time_zone() -> Option<String> {
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    js_sys::Reflect::get(&options, &"timeZone".into())
        .ok()
        .and_then(|v| v.as_string())
}
