//! The pre-chat form: "Name", "Email", "Phone" (which show and which are required come from
//! the site's settings), "Start Chat"; and the offline form ("We're offline right now"),
//! whose message becomes a case. Errors show inline under their field (widget bundle only).

use super::dom::{self, add, el, flag, on, text_el, Filled};
use super::text::Strings;
use crate::api::widget::{leave_message, start_chat, StartedChat};
use crate::error::AppError;
use crate::model::{FieldRule, PreChat};
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

/// A form's inputs with their inline errors, and the error that belongs to no field.
struct Errors {
    fields: Vec<(&'static str, Element, Element)>,
    general: Element,
}

impl Errors {
    /// Shows `error` under its field (or above the button); `None` clears them all.
    fn show(&self, error: Option<&AppError>) {
        for (name, input, text) in &self.fields {
            let mine = error.filter(|e| e.field() == Some(name));
            let msg = mine.map(|e| e.to_string()).unwrap_or_default();
            dom::set_text(text, &msg);
            let _ = input.set_attribute("aria-invalid", flag(mine.is_some()));
        }
        let general = error
            .filter(|e| e.field().is_none())
            .map(|e| e.to_string())
            .unwrap_or_default();
        dom::set_text(&self.general, &general);
    }
}

/// A form being made: its element, its fields with their inline errors.
struct FormBuilder {
    t: &'static Strings,
    form: Element,
    fields: Vec<(&'static str, Element, Element)>,
}

impl FormBuilder {
    fn new(t: &'static Strings) -> FormBuilder {
        FormBuilder {
            t,
            form: el("form", &[("class", "sbw-form"), ("novalidate", "")]),
            fields: Vec::new(),
        }
    }

    /// One labelled input (`textarea` when `kind` is "textarea") with its inline error;
    /// nothing when the site hides the field. Its value is read from the form when it is
    /// submitted ([`Filled`]) by `name`; `id` makes its element ids.
    fn field(&mut self, rule: FieldRule, id: &str, name: &'static str, label: &str, kind: &str) {
        if !rule.show {
            return;
        }
        let input_id = format!("sbw-{id}");
        let error_id = format!("{input_id}-error");
        let wrap = el("div", &[("class", "sbw-field")]);
        let caption = text_el("label", &[("for", &input_id)], label);
        if !rule.required {
            let optional = el("span", &[("class", "sbw-optional")]);
            dom::add_text(&optional, " ");
            dom::add_text(&optional, self.t.optional);
            add(&caption, &[&optional]);
        }
        let common = [
            ("id", input_id.as_str()),
            ("name", name),
            ("aria-invalid", "false"),
            ("aria-describedby", error_id.as_str()),
        ];
        let input = if kind == "textarea" {
            let i = el("textarea", &common);
            let _ = i.set_attribute("rows", "4");
            i
        } else {
            let i = el("input", &common);
            let _ = i.set_attribute("type", kind);
            let _ = i.set_attribute("autocomplete", if kind == "tel" { "tel" } else { name });
            i
        };
        if rule.required {
            let _ = input.set_attribute("required", "");
        }
        let error = el("p", &[("class", "sbw-field-error"), ("id", &error_id)]);
        add(&wrap, &[&caption, &input, &error]);
        add(&self.form, &[&wrap]);
        self.fields.push((name, input, error));
    }

    /// "Name", "Email", "Phone" as `rules` says; element ids start with `prefix`.
    fn contact(&mut self, rules: PreChat, prefix: &str) {
        let t = self.t;
        self.field(rules.name, &format!("{prefix}name"), "name", t.name, "text");
        self.field(
            rules.email,
            &format!("{prefix}email"),
            "email",
            t.email,
            "email",
        );
        self.field(
            rules.phone,
            &format!("{prefix}phone"),
            "phone",
            t.phone,
            "tel",
        );
    }

    /// Ends the form with its general error and the submit button `label`. On submit the
    /// button is busy (`busy` text, a second submit ignored) until `call` answers: an error
    /// shows under its field (or above the button), an answer goes to `done`.
    fn on_submit<T: 'static, F: Future<Output = Result<T, AppError>> + 'static>(
        self,
        label: &'static str,
        busy: &'static str,
        call: impl Fn(Filled) -> F + 'static,
        done: impl Fn(T) + 'static,
    ) -> Element {
        let general = el("p", &[("class", "sbw-error"), ("role", "alert")]);
        let button = text_el(
            "button",
            &[("type", "submit"), ("class", "sbw-primary")],
            label,
        );
        add(&self.form, &[&general, &button]);
        let errors = Rc::new(Errors {
            fields: self.fields,
            general,
        });
        let (call, done) = (Rc::new(call), Rc::new(done));
        on(&self.form, "submit", move |ev| {
            ev.prevent_default();
            if button.has_attribute("disabled") {
                return;
            }
            set_busy(&button, true, busy);
            errors.show(None);
            let answer = call(Filled::from(&ev));
            let (errors, button, done) = (errors.clone(), button.clone(), done.clone());
            spawn_local(async move {
                let result = answer.await;
                set_busy(&button, false, label);
                match result {
                    Ok(v) => done(v),
                    Err(e) => errors.show(Some(&e)),
                }
            });
        });
        self.form
    }
}

/// Marks a form's button busy (disabled, with a busy text) or ready again.
fn set_busy(button: &Element, busy: bool, label: &str) {
    let _ = button.toggle_attribute_with_force("disabled", busy);
    dom::set_text(button, label);
}

/// The pre-chat form, drawn into `parent`; `on_started` gets the new chat. With the token
/// of a visitor the host site identified it has no fields, just "Start Chat".
pub fn prechat_form(
    parent: &Element,
    t: &'static Strings,
    site_key: &str,
    prechat: PreChat,
    identified: Option<String>,
    on_started: Box<dyn Fn(StartedChat)>,
) {
    let mut b = FormBuilder::new(t);
    if identified.is_none() {
        b.contact(prechat, "");
    }
    let site_key = site_key.to_string();
    let form = b.on_submit(
        t.start_chat,
        t.starting,
        move |f| {
            let (n, e, p) = (f.text("name"), f.opt("email"), f.opt("phone"));
            start_chat(site_key.clone(), n, e, p, identified.clone())
        },
        on_started,
    );
    add(parent, &[&form]);
}

/// "We're offline right now": "Name", "Email" or "Phone" (one of them), "Message",
/// "Send message", drawn into `parent`. Stored as a case; the visitor sees that it arrived.
/// `away` is the site's away message, shown instead of the built-in help text when set.
pub fn offline_form(parent: &Element, t: &'static Strings, site_key: &str, away: Option<&str>) {
    let title = text_el("h2", &[("class", "sbw-offline-title")], t.offline_title);
    let help = text_el(
        "p",
        &[("class", "sbw-note")],
        away.unwrap_or(t.offline_help),
    );
    let (required, optional) = (
        FieldRule {
            show: true,
            required: true,
        },
        FieldRule {
            show: true,
            required: false,
        },
    );
    let mut b = FormBuilder::new(t);
    // The server asks for one of email and phone, in words the visitor reads.
    b.contact(
        PreChat {
            name: required,
            email: optional,
            phone: optional,
        },
        "off-",
    );
    b.field(required, "off-message", "message", t.message, "textarea");
    let site_key = site_key.to_string();
    // Sent: the help and the form give way to the confirmation (the title stays).
    let (body, heading) = (parent.clone(), title.clone());
    let form = b.on_submit(
        t.send_message,
        t.send_message,
        move |f| {
            let (n, e, p) = (f.text("name"), f.opt("email"), f.opt("phone"));
            leave_message(site_key.clone(), n, e, p, f.text("message"))
        },
        move |()| {
            let note = [("class", "sbw-note"), ("role", "status")];
            dom::replace(&body, &[&heading, &text_el("p", &note, t.offline_sent)]);
        },
    );
    add(parent, &[&title, &help, &form]);
}
