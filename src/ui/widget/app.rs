//! The widget in the browser (widget bundle only): its frame, where the visitor is (loading →
//! form → chat), and what the host page says through the loader.
//!
//! One `App` per page, made by [`start`]. Each phase draws its own view into the frame's
//! body; the chat view owns the socket, which stops when the phase changes.

use super::chat::Chat;
use super::dom::{self, add, el, on, text_el};
use super::host::{Handlers, Host, HostIdentity, Init, PageInfo};
use super::prechat;
use super::text::{self, Strings};
use super::WidgetBoot;
use crate::api::widget::StartedChat;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

/// Where the visitor is.
enum Phase {
    /// Waiting for the loader's token (or our own storage).
    Loading,
    /// No conversation yet: the pre-chat form (or the offline form, or the sign-in note).
    Form,
    Chat {
        conversation_id: Uuid,
        token: String,
    },
    Failed(String),
}

/// The widget's state for the page's life.
pub struct App {
    pub t: &'static Strings,
    pub boot: WidgetBoot,
    pub host: Host,
    /// Where each phase draws.
    body: Element,
    /// Whether the panel is open on the host page (read marks depend on it).
    pub open: Rc<Cell<bool>>,
    /// The token of a visitor the host site identified (verified), until they start a chat.
    identified: RefCell<Option<String>>,
    /// The open conversation, when there is one.
    chat: RefCell<Option<Rc<Chat>>>,
    /// The page the visitor is on (the loader reports changes), for the agent.
    pub page: RefCell<Option<PageInfo>>,
}

/// Draws the widget in place of the server's frame and listens to the host page.
pub fn start(boot: WidgetBoot) {
    let t = text::strings(&boot.settings.language);
    let title = boot.settings.title.as_str();
    let frame = el(
        "div",
        &[("class", "sbw"), ("role", "dialog"), ("aria-label", title)],
    );
    let head = el("header", &[("class", "sbw-head")]);
    let close = text_el(
        "button",
        &[
            ("type", "button"),
            ("class", "sbw-close"),
            ("aria-label", t.close_chat),
        ],
        "×",
    );
    add(
        &head,
        &[&text_el("h1", &[("class", "sbw-title")], title), &close],
    );
    let body = el("div", &[("class", "sbw-body")]);
    add(&frame, &[&head, &body]);
    if let Some(page) = dom::doc().body() {
        // The server's frame ("Loading…") goes; the live widget takes its place.
        dom::replace(&page, &[&frame]);
    }
    let host = Host {
        parent_origin: boot.parent_origin.clone(),
        site_key: boot.site_key.clone(),
    };
    let app = Rc::new(App {
        t,
        boot,
        host: host.clone(),
        body,
        open: Rc::new(Cell::new(false)),
        identified: RefCell::new(None),
        chat: RefCell::new(None),
        page: RefCell::new(None),
    });
    app.show(Phase::Loading);
    {
        let host = host.clone();
        on(&close, "click", move |_| host.post("close", &[]));
    }
    // Escape closes the panel, as the close button does; Tab stays inside the panel.
    {
        let host = host.clone();
        on(&dom::window(), "keydown", move |ev| {
            let Some(k) = ev.dyn_ref::<web_sys::KeyboardEvent>() else {
                return;
            };
            if k.key() == "Escape" {
                host.post("close", &[]);
            } else if k.key() == "Tab" && keep_focus_inside(k.shift_key()) {
                ev.prevent_default();
            }
        });
    }
    let (a1, a2, a3, a4) = (app.clone(), app.clone(), app.clone(), app);
    host.listen(Handlers {
        init: Box::new(move |init| a1.init(init)),
        open: Box::new(move |o| a2.set_open(o)),
        identify: Box::new(move |who| {
            // A page that identifies later (after sign-up, say): the current chat's token
            // is the guest to attach.
            let current = a3.chat.borrow().as_ref().map(|c| c.token.clone());
            a3.identify(who, current)
        }),
        page: Box::new(move |p| a4.set_page(p)),
    });
}

impl App {
    fn init(self: &Rc<Self>, init: Init) {
        self.set_open(init.open);
        match init.identity {
            Some(who) => self.identify(who, init.token),
            None => self.resume(init.token),
        }
    }

    /// A returning visitor's conversation, if their token leads to one; else the form.
    fn resume(self: &Rc<Self>, token: Option<String>) {
        let Some(token) = token else {
            return self.show(Phase::Form);
        };
        let app = self.clone();
        spawn_local(async move {
            let key = app.boot.site_key.clone();
            match crate::api::widget::resume_chat(key, token.clone()).await {
                Ok(Some(r)) => app.show(Phase::Chat {
                    conversation_id: r.conversation_id,
                    token,
                }),
                Ok(None) => app.show(Phase::Form),
                Err(e) => app.show(Phase::Failed(e.to_string())),
            }
        });
    }

    /// `identify()`: verified → this device keeps the registered visitor's token and sees
    /// their conversations; not verified → nothing changes (the server logs it).
    fn identify(self: &Rc<Self>, who: HostIdentity, guest_token: Option<String>) {
        let app = self.clone();
        spawn_local(async move {
            let result = crate::api::widget::identify_visitor(
                app.boot.site_key.clone(),
                guest_token.clone(),
                who.user_id,
                who.email,
                who.name,
                who.user_hash,
            )
            .await;
            match result {
                Ok(v) => {
                    app.host.store_token(&v.visitor_token);
                    match v.conversation_id {
                        Some(conversation_id) => app.show(Phase::Chat {
                            conversation_id,
                            token: v.visitor_token,
                        }),
                        None => {
                            *app.identified.borrow_mut() = Some(v.visitor_token);
                            app.show(Phase::Form);
                        }
                    }
                }
                Err(e) => {
                    web_sys::console::warn_1(&format!("Switchboard: identify refused: {e}").into());
                    app.resume(guest_token);
                }
            }
        });
    }

    fn set_open(&self, open: bool) {
        self.open.set(open);
        if let Some(chat) = self.chat.borrow().as_ref() {
            chat.open_changed();
        }
        if open {
            focus_first_field();
        }
    }

    fn set_page(&self, page: PageInfo) {
        *self.page.borrow_mut() = Some(page);
        if let Some(chat) = self.chat.borrow().as_ref() {
            chat.report_visit(self);
        }
    }

    /// The pre-chat form started a chat.
    fn started(self: &Rc<Self>, s: StartedChat) {
        self.host.store_token(&s.visitor_token);
        self.show(Phase::Chat {
            conversation_id: s.conversation_id,
            token: s.visitor_token,
        });
    }

    /// Draws `phase` in the body (the previous phase's view, and its socket, go).
    fn show(self: &Rc<Self>, phase: Phase) {
        if let Some(old) = self.chat.borrow_mut().take() {
            old.stop();
        }
        let t = self.t;
        let s = &self.boot.settings;
        let note =
            |text: &str, role: &str| text_el("p", &[("class", "sbw-note"), ("role", role)], text);
        match phase {
            Phase::Loading => dom::replace(
                &self.body,
                &[&text_el("p", &[("class", "sbw-note")], t.loading)],
            ),
            // Guest mode off: only visitors the host site identified may chat.
            Phase::Form if !s.guest_mode && self.identified.borrow().is_none() => {
                dom::replace(&self.body, &[&note(t.sign_in_to_chat, "status")])
            }
            Phase::Form if !self.boot.online => {
                dom::replace(&self.body, &[]);
                let away = self.boot.away.as_deref();
                prechat::offline_form(&self.body, t, &self.boot.site_key, away);
            }
            Phase::Form => {
                let welcome = text_el("p", &[("class", "sbw-welcome")], &s.welcome);
                dom::replace(&self.body, &[&welcome]);
                let app = self.clone();
                prechat::prechat_form(
                    &self.body,
                    t,
                    &self.boot.site_key,
                    s.prechat,
                    self.identified.borrow().clone(),
                    Box::new(move |started| app.started(started)),
                );
            }
            Phase::Chat {
                conversation_id,
                token,
            } => {
                let chat = Chat::start(self, conversation_id, token);
                dom::replace(&self.body, &[&chat.root]);
                chat.report_visit(self);
                *self.chat.borrow_mut() = Some(chat);
            }
            Phase::Failed(message) => dom::replace(
                &self.body,
                &[&text_el(
                    "p",
                    &[("class", "sbw-error"), ("role", "alert")],
                    &message,
                )],
            ),
        }
        // An opened chat takes the keyboard: focus goes to its first field.
        if self.open.get() {
            focus_first_field();
        }
    }
}

/// Focuses the view's first field (after it is laid out).
fn focus_first_field() {
    dom::next_frame(|| {
        if let Some(el) = dom::doc()
            .query_selector("input:not([type='file']), textarea")
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

/// Wraps Tab from the last focusable element to the first (Shift+Tab the other way), so
/// keyboard focus stays in the open chat. Returns whether it moved focus.
fn keep_focus_inside(backwards: bool) -> bool {
    let Ok(list) = dom::doc().query_selector_all(
        "button:not([disabled]), input:not([disabled]):not([tabindex='-1']), textarea, a[href], [tabindex]:not([tabindex='-1'])",
    ) else {
        return false;
    };
    let items: Vec<web_sys::HtmlElement> = (0..list.length())
        .filter_map(|i| list.get(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .filter(|e| e.offset_parent().is_some())
        .collect();
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return false;
    };
    let active = dom::doc().active_element();
    let at = |e: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a == e.unchecked_ref::<web_sys::Element>())
    };
    if backwards && (at(first) || active.is_none()) {
        let _ = last.focus();
        true
    } else if !backwards && at(last) {
        let _ = first.focus();
        true
    } else {
        false
    }
}
