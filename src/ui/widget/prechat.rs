//! The pre-chat form: "Name", "Email", "Phone" (which show and which are required come from
//! the site's settings), "Start Chat". Errors show inline under their field.

use super::text::{use_strings, Strings};
use crate::api::widget::{leave_message, start_chat, StartedChat};
use crate::error::AppError;
use crate::model::{FieldRule, PreChat};
use leptos::either::Either;
use leptos::prelude::*;

/// The form; `on_started` gets the new chat.
#[component]
pub fn PreChatForm(
    site_key: String,
    prechat: PreChat,
    on_started: Callback<StartedChat>,
    /// The token of a visitor the host site identified: no fields, just "Start Chat".
    identified: Option<String>,
) -> impl IntoView {
    let t = use_strings();
    let known = identified.is_some();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let field_error = move |f: &'static str| field_error(error, f);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let key = site_key.clone();
        let form = Filled::from(&ev);
        let token = identified.clone();
        leptos::task::spawn_local(async move {
            let (n, e, p) = (form.text("name"), form.opt("email"), form.opt("phone"));
            match start_chat(key, n, e, p, token).await {
                Ok(started) => on_started.run(started),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let general = general_error(error);
    view! {
        <form class="sbw-form" on:submit=submit novalidate>
            {(!known).then(|| {
                view! {
                    {field(t, prechat.name, "name", t.name, "text", "name", field_error("name"))}
                    {field(t, prechat.email, "email", t.email, "email", "email", field_error("email"))}
                    {field(t, prechat.phone, "phone", t.phone, "tel", "tel", field_error("phone"))}
                }
            })}
            <p class="sbw-error" role="alert">{general}</p>
            <button type="submit" class="sbw-primary" disabled=move || busy.get()>
                {move || if busy.get() { t.starting } else { t.start_chat }}
            </button>
        </form>
    }
}

/// "We're offline right now": "Name", "Email" or "Phone" (one of them), "Message",
/// "Send message". Stored as a case; the visitor sees that it arrived.
#[component]
pub fn OfflineForm(
    site_key: String,
    /// The site's away message, shown instead of the built-in help text when set.
    away: Option<String>,
) -> impl IntoView {
    let t = use_strings();
    let busy = RwSignal::new(false);
    let done = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let field_error = move |f: &'static str| field_error(error, f);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let key = site_key.clone();
        let form = Filled::from(&ev);
        leptos::task::spawn_local(async move {
            let (n, e, p) = (form.text("name"), form.opt("email"), form.opt("phone"));
            match leave_message(key, n, e, p, form.text("message")).await {
                Ok(()) => done.set(true),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let optional = FieldRule {
        show: true,
        required: false,
    };
    let general = general_error(error);
    view! {
        <h2 class="sbw-offline-title">{t.offline_title}</h2>
        {move || {
            if done.get() {
                Either::Left(view! { <p class="sbw-note" role="status">{t.offline_sent}</p> })
            } else {
                Either::Right(view! {
                    <p class="sbw-note">{away.clone().unwrap_or_else(|| t.offline_help.to_string())}</p>
                    <form class="sbw-form" on:submit=submit.clone() novalidate>
                        {field(
                            t,
                            FieldRule { show: true, required: true },
                            "off-name",
                            t.name,
                            "text",
                            "name",
                            field_error("name"),
                        )}
                        {field(t, optional, "off-email", t.email, "email", "email", field_error("email"))}
                        {field(t, optional, "off-phone", t.phone, "tel", "tel", field_error("phone"))}
                        <div class="sbw-field">
                            <label for="sbw-off-message">{t.message}</label>
                            <textarea
                                id="sbw-off-message"
                                name="message"
                                rows="4"
                                aria-describedby="sbw-off-message-error"
                            ></textarea>
                            <p class="sbw-field-error" id="sbw-off-message-error">{field_error("message")}</p>
                        </div>
                        <p class="sbw-error" role="alert">{general}</p>
                        <button type="submit" class="sbw-primary" disabled=move || busy.get()>
                            {t.send_message}
                        </button>
                    </form>
                })
            }
        }}
    }
}

/// The message of `error` when it belongs to form field `field` (for its inline error).
fn field_error(
    error: RwSignal<Option<AppError>>,
    field: &'static str,
) -> impl Fn() -> Option<String> + Send + Sync + Copy + 'static {
    move || {
        error
            .get()
            .filter(|e| e.field() == Some(field))
            .map(|e| e.to_string())
    }
}

/// The message of `error` when it belongs to no field (shown above the button).
fn general_error(
    error: RwSignal<Option<AppError>>,
) -> impl Fn() -> Option<String> + Send + Sync + Copy + 'static {
    move || {
        error
            .get()
            .filter(|e| e.field().is_none())
            .map(|e| e.to_string())
    }
}

/// One labelled input with its inline error (nothing when the site hides the field). Its
/// value is read from the form when it is submitted (`Filled`), not kept in a signal.
fn field(
    t: &'static Strings,
    rule: FieldRule,
    id: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    error: impl Fn() -> Option<String> + Send + Sync + Copy + 'static,
) -> impl IntoView {
    rule.show.then(|| {
        let input_id = format!("sbw-{id}");
        let error_id = format!("sbw-{id}-error");
        // "off-email" → "email": the name the form is read by.
        let name = id.strip_prefix("off-").unwrap_or(id);
        view! {
            <div class="sbw-field">
                <label for=input_id.clone()>
                    {label}
                    {(!rule.required).then(|| view! { <span class="sbw-optional">" " {t.optional}</span> })}
                </label>
                <input
                    id=input_id
                    name=name
                    type=kind
                    autocomplete=autocomplete
                    required=rule.required
                    aria-invalid=move || if error().is_some() { "true" } else { "false" }
                    aria-describedby=error_id.clone()
                />
                <p class="sbw-field-error" id=error_id>{error}</p>
            </div>
        }
    })
}

/// A submitted form's values. Read from the form element itself rather than kept in signals
/// as the visitor types: one signal and one binding less per field in the widget's bundle.
pub(super) struct Filled {
    #[cfg(feature = "browser")]
    data: Option<web_sys::FormData>,
}

impl Filled {
    pub(super) fn from(ev: &leptos::ev::SubmitEvent) -> Filled {
        #[cfg(feature = "browser")]
        {
            use wasm_bindgen::JsCast;
            let data = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
                .and_then(|f| web_sys::FormData::new_with_form(&f).ok());
            Filled { data }
        }
        #[cfg(not(feature = "browser"))]
        {
            let _ = ev;
            Filled {}
        }
    }

    /// The field's text ("" when the form has no such field).
    pub(super) fn text(&self, name: &str) -> String {
        #[cfg(feature = "browser")]
        {
            self.data
                .as_ref()
                .and_then(|d| d.get(name).as_string())
                .unwrap_or_default()
        }
        #[cfg(not(feature = "browser"))]
        {
            let _ = name;
            String::new()
        }
    }

    /// The field's text, `None` when blank.
    pub(super) fn opt(&self, name: &str) -> Option<String> {
        Some(self.text(name)).filter(|s| !s.trim().is_empty())
    }
}
