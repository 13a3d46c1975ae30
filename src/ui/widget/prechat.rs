//! The pre-chat form: "Name", "Email", "Phone" (which show and which are required come from
//! the site's settings), "Start Chat"; and the offline form ("We're offline right now"),
//! whose message becomes a case. Errors show inline under their field (widget bundle only).

use super::dom::{self, add, el, flag, on, text_el, Filled};
use super::text::Strings;
use crate::api::widget::{leave_message, start_chat, StartedChat};
use crate::error::AppError;
use crate::model::{FieldRule, PreChat};
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
            dom::set_attr(input, "aria-invalid", Some(flag(mine.is_some())));
        }
        let general = error
            .filter(|e| e.field().is_none())
            .map(|e| e.to_string())
            .unwrap_or_default();
        dom::set_text(&self.general, &general);
    }
}

/// One labelled input (`textarea` when `kind` is "textarea") with its inline error, added
/// to `form` and `errors`; nothing when the site hides the field. Its value is read from
/// the form when it is submitted ([`Filled`]).
#[allow(clippy::too_many_arguments)]
fn field(
    form: &Element,
    errors: &mut Vec<(&'static str, Element, Element)>,
    t: &'static Strings,
    rule: FieldRule,
    id: &'static str,
    name: &'static str,
    label: &'static str,
    kind: &'static str,
) {
    if !rule.show {
        return;
    }
    let input_id = format!("sbw-{id}");
    let error_id = format!("sbw-{id}-error");
    let wrap = el("div", &[("class", "sbw-field")]);
    let caption = text_el("label", &[("for", &input_id)], label);
    if !rule.required {
        let optional = el("span", &[("class", "sbw-optional")]);
        dom::add_text(&optional, " ");
        dom::add_text(&optional, t.optional);
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
    add(form, &[&wrap]);
    errors.push((name, input, error));
}

/// The button and the general error at the end of a form; returns (errors, button).
fn finish(
    form: &Element,
    fields: Vec<(&'static str, Element, Element)>,
    label: &str,
) -> (Rc<Errors>, Element) {
    let general = el("p", &[("class", "sbw-error"), ("role", "alert")]);
    let button = text_el(
        "button",
        &[("type", "submit"), ("class", "sbw-primary")],
        label,
    );
    add(form, &[&general, &button]);
    (Rc::new(Errors { fields, general }), button)
}

/// A form that is busy from submit until its answer (a second submit meanwhile is ignored).
fn set_busy(button: &Element, busy: bool, label: &str) -> bool {
    let was = button.has_attribute("disabled");
    let _ = button.toggle_attribute_with_force("disabled", busy);
    dom::set_text(button, label);
    was
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
    let form = el("form", &[("class", "sbw-form"), ("novalidate", "")]);
    let mut fields = Vec::new();
    if identified.is_none() {
        field(
            &form,
            &mut fields,
            t,
            prechat.name,
            "name",
            "name",
            t.name,
            "text",
        );
        field(
            &form,
            &mut fields,
            t,
            prechat.email,
            "email",
            "email",
            t.email,
            "email",
        );
        field(
            &form,
            &mut fields,
            t,
            prechat.phone,
            "phone",
            "phone",
            t.phone,
            "tel",
        );
    }
    let (errors, button) = finish(&form, fields, t.start_chat);
    let site_key = site_key.to_string();
    let on_started: Rc<dyn Fn(StartedChat)> = on_started.into();
    on(&form, "submit", move |ev| {
        ev.prevent_default();
        if set_busy(&button, true, t.starting) {
            return;
        }
        errors.show(None);
        let form = Filled::from(&ev);
        let (key, token) = (site_key.clone(), identified.clone());
        let (errors, button, on_started) = (errors.clone(), button.clone(), on_started.clone());
        spawn_local(async move {
            let (n, e, p) = (form.text("name"), form.opt("email"), form.opt("phone"));
            let result = start_chat(key, n, e, p, token).await;
            set_busy(&button, false, t.start_chat);
            match result {
                Ok(started) => on_started(started),
                Err(e) => errors.show(Some(&e)),
            }
        });
    });
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
    let form = el("form", &[("class", "sbw-form"), ("novalidate", "")]);
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
    let mut fields = Vec::new();
    field(
        &form,
        &mut fields,
        t,
        required,
        "off-name",
        "name",
        t.name,
        "text",
    );
    field(
        &form,
        &mut fields,
        t,
        optional,
        "off-email",
        "email",
        t.email,
        "email",
    );
    field(
        &form,
        &mut fields,
        t,
        optional,
        "off-phone",
        "phone",
        t.phone,
        "tel",
    );
    field(
        &form,
        &mut fields,
        t,
        required,
        "off-message",
        "message",
        t.message,
        "textarea",
    );
    let (errors, button) = finish(&form, fields, t.send_message);
    let site_key = site_key.to_string();
    {
        let (parent, help, form) = (parent.clone(), help.clone(), form.clone());
        on(&form.clone(), "submit", move |ev| {
            ev.prevent_default();
            if set_busy(&button, true, t.send_message) {
                return;
            }
            errors.show(None);
            let filled = Filled::from(&ev);
            let key = site_key.clone();
            let (errors, button) = (errors.clone(), button.clone());
            let (parent, help, form) = (parent.clone(), help.clone(), form.clone());
            spawn_local(async move {
                let (n, e, p) = (
                    filled.text("name"),
                    filled.opt("email"),
                    filled.opt("phone"),
                );
                let result = leave_message(key, n, e, p, filled.text("message")).await;
                set_busy(&button, false, t.send_message);
                match result {
                    Ok(()) => {
                        form.remove();
                        help.remove();
                        let sent = [("class", "sbw-note"), ("role", "status")];
                        add(&parent, &[&text_el("p", &sent, t.offline_sent)]);
                    }
                    Err(e) => errors.show(Some(&e)),
                }
            });
        });
    }
    add(parent, &[&title, &help, &form]);
}
