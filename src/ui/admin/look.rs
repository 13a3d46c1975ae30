//! `/admin/widget`: per site, the pre-chat form (which fields show, which are required), the
//! widget's appearance (colour, launcher position, title, welcome text, language) with a live
//! preview that follows the form before it is saved, and the attachment rules (size limit,
//! allowed types). Each area is its own form with its own "Save" button; all three carry the
//! site's version, which every successful save moves on (so the other two stay current).

use crate::api::admin::list_sites;
use crate::api::site_look::{get_look, LookInfo, SaveAppearance, SaveAttachments, SavePrechat};
use crate::error::AppError;
use crate::model::{is_hex_color, FieldRule};
use crate::ui::layout::ErrorView;
use crate::ui::widget::text;
use leptos::either::Either;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

/// The settings of the chosen site, or of the first live one when none is chosen yet
/// (`None`: there are no live sites).
async fn look_for(chosen: Option<Uuid>) -> Result<Option<LookInfo>, AppError> {
    let site = match chosen {
        Some(id) => Some(id),
        None => list_sites()
            .await?
            .into_iter()
            .find(|s| !s.archived)
            .map(|s| s.id),
    };
    match site {
        Some(id) => Ok(Some(get_look(id).await?)),
        None => Ok(None),
    }
}

/// An inline error for one field, if the action's last result failed on it.
fn field_error(
    error: impl Fn() -> Option<AppError> + Send + Sync + 'static,
    field: &'static str,
) -> impl IntoView {
    move || {
        error()
            .filter(|e| e.field() == Some(field))
            .map(|e| view! { <p class="field-error" role="alert">{e.to_string()}</p> })
    }
}

/// The error of a form that belongs to no field (a stale form, an archived site).
fn form_error(error: impl Fn() -> Option<AppError> + Send + Sync + 'static) -> impl IntoView {
    move || {
        error()
            .filter(|e| e.field().is_none())
            .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    }
}

/// The widget page.
#[component]
pub fn AdminLook() -> impl IntoView {
    let chosen = RwSignal::new(None::<Uuid>);
    let sites = Resource::new(|| (), |_| list_sites());
    let look = Resource::new(move || chosen.get(), look_for);
    view! {
        <Title text="Widget — Switchboard" />
        <h1>"Widget"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (sites.await, look.await) {
                    (Ok(sites), Ok(Some(look))) => {
                        let site_id = look.site_id;
                        let site_name = sites
                            .iter()
                            .find(|s| s.id == site_id)
                            .map(|s| s.name.clone())
                            .unwrap_or_default();
                        Either::Left(view! {
                            <label for="look-site">"Site"</label>
                            <select
                                id="look-site"
                                on:change=move |ev| {
                                    chosen.set(event_target_value(&ev).parse().ok());
                                }
                            >
                                {sites
                                    .into_iter()
                                    .filter(|s| !s.archived || s.id == site_id)
                                    .map(|s| {
                                        view! {
                                            <option value=s.id.to_string() selected=s.id == site_id>
                                                {s.name}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                            <h2 class="look-site">{site_name}</h2>
                            <LookForms look />
                        })
                    }
                    (Ok(_), Ok(None)) => Either::Right(Either::Left(view! {
                        <p>
                            "There are no sites yet. " <a href="/admin/sites">"Create a site"</a>
                            " first."
                        </p>
                    })),
                    (Err(e), _) | (_, Err(e)) => {
                        Either::Right(Either::Right(view! { <ErrorView error=e /> }))
                    }
                }
            })}
        </Transition>
    }
}

/// The three forms of one site.
#[component]
fn LookForms(look: LookInfo) -> impl IntoView {
    let site_id = look.site_id.to_string();
    let version = RwSignal::new(look.version);
    let prechat = ServerAction::<SavePrechat>::new();
    let appearance = ServerAction::<SaveAppearance>::new();
    let attachments = ServerAction::<SaveAttachments>::new();
    // A save moves the site's version on: the other forms send the new one.
    Effect::new(move |_| {
        for v in [
            prechat.value().get(),
            appearance.value().get(),
            attachments.value().get(),
        ] {
            if let Some(Ok(info)) = v {
                version.update(|cur| *cur = (*cur).max(info.version));
            }
        }
    });
    view! {
        {look.archived.then(|| view! { <p class="error">"This site is archived; its widget no longer loads."</p> })}
        <PrechatForm look=look.clone() site_id=site_id.clone() version action=prechat />
        <AppearanceForm look=look.clone() site_id=site_id.clone() version action=appearance />
        <AttachmentsForm look site_id version action=attachments />
    }
}

/// The hidden inputs every form carries: which site, at which version.
fn site_fields(site_id: String, version: RwSignal<i32>) -> impl IntoView {
    view! {
        <input type="hidden" name="site_id" value=site_id />
        <input type="hidden" name="version" value=move || version.get().to_string() />
    }
}

/// "Pre-chat form": per field, "Show" and "Required".
#[component]
fn PrechatForm(
    look: LookInfo,
    site_id: String,
    version: RwSignal<i32>,
    action: ServerAction<SavePrechat>,
) -> impl IntoView {
    let err = move || action.value().get().and_then(|r| r.err());
    let saved = move || {
        action
            .value()
            .get()
            .and_then(|r| r.ok())
            .map(|_| view! { <p class="ok" role="status">"Pre-chat form saved."</p> })
    };
    let group = move |key: &'static str, label: &'static str, rule: FieldRule| {
        let show_id = format!("prechat-{key}-show");
        let required_id = format!("prechat-{key}-required");
        view! {
            <fieldset class="prechat-field">
                <legend>{label}</legend>
                <input
                    type="checkbox"
                    id=show_id.clone()
                    name=format!("{key}_show")
                    checked=rule.show
                />
                <label for=show_id>"Show"</label>
                " "
                <input
                    type="checkbox"
                    id=required_id.clone()
                    name=format!("{key}_required")
                    checked=rule.required
                />
                <label for=required_id>"Required"</label>
                {field_error(err, match key {
                    "name" => "name_required",
                    "email" => "email_required",
                    _ => "phone_required",
                })}
            </fieldset>
        }
    };
    view! {
        <section class="card" aria-labelledby="prechat-heading">
            <h3 id="prechat-heading">"Pre-chat form"</h3>
            <p class="hint">
                "What a visitor fills in before a chat starts. A required field must be shown."
            </p>
            <ActionForm action attr:class="stacked">
                {site_fields(site_id, version)}
                {group("name", "Name", look.prechat.name)}
                {group("email", "Email", look.prechat.email)}
                {group("phone", "Phone", look.prechat.phone)}
                {form_error(err)}
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    "Save pre-chat form"
                </button>
                {saved}
            </ActionForm>
        </section>
    }
}

/// `#rgb` as `#rrggbb` (what `<input type="color">` takes); other values as they are.
fn six_digits(c: &str) -> String {
    match c.strip_prefix('#') {
        Some(h) if h.len() == 3 => {
            let mut s = String::from("#");
            for ch in h.chars() {
                s.push(ch);
                s.push(ch);
            }
            s
        }
        _ => c.to_string(),
    }
}

/// "Appearance": colour, launcher position, title, welcome text, language; and the preview.
#[component]
fn AppearanceForm(
    look: LookInfo,
    site_id: String,
    version: RwSignal<i32>,
    action: ServerAction<SaveAppearance>,
) -> impl IntoView {
    let a = look.appearance;
    let saved_color = a.color.clone();
    let color = RwSignal::new(a.color.clone());
    let position = RwSignal::new(a.position.clone());
    let title = RwSignal::new(a.title.clone());
    let welcome = RwSignal::new(a.welcome.clone());
    let language = RwSignal::new(a.language.clone());
    let err = move || action.value().get().and_then(|r| r.err());
    let saved = move || {
        action
            .value()
            .get()
            .and_then(|r| r.ok())
            .map(|_| view! { <p class="ok" role="status">"Appearance saved."</p> })
    };
    // The preview shows a colour only once it is valid; until then, the saved one.
    let shown_color = Signal::derive(move || {
        let c = color.get().trim().to_ascii_lowercase();
        if is_hex_color(&c) {
            c
        } else {
            saved_color.clone()
        }
    });
    let color_ok = move || is_hex_color(color.get().trim());
    let lang = a.language.clone();
    let pos = a.position.clone();
    view! {
        <section class="card" aria-labelledby="appearance-heading">
            <h3 id="appearance-heading">"Appearance"</h3>
            <div class="look-columns">
                <ActionForm action attr:class="stacked">
                    {site_fields(site_id, version)}
                    <label for="look-color">"Primary colour"</label>
                    <p class="hint" id="look-color-hint">"Hex, like #2563eb or #a30."</p>
                    <div class="inline">
                        <input
                            id="look-color"
                            name="color"
                            required
                            maxlength="7"
                            aria-describedby="look-color-hint"
                            aria-invalid=move || if color_ok() { "false" } else { "true" }
                            value=a.color.clone()
                            prop:value=move || color.get()
                            on:input=move |ev| color.set(event_target_value(&ev))
                        />
                        <input
                            type="color"
                            aria-label="Pick a colour"
                            prop:value=move || six_digits(&shown_color.get())
                            on:input=move |ev| color.set(event_target_value(&ev))
                        />
                    </div>
                    {field_error(err, "color")}
                    <label for="look-position">"Launcher position"</label>
                    <select
                        id="look-position"
                        name="position"
                        on:change=move |ev| position.set(event_target_value(&ev))
                    >
                        <option value="right" selected=pos == "right">"Right"</option>
                        <option value="left" selected=pos == "left">"Left"</option>
                    </select>
                    {field_error(err, "position")}
                    <label for="look-title">"Title"</label>
                    <input
                        id="look-title"
                        name="title"
                        required
                        maxlength="80"
                        value=a.title.clone()
                        on:input=move |ev| title.set(event_target_value(&ev))
                    />
                    {field_error(err, "title")}
                    <label for="look-welcome">"Welcome text"</label>
                    <textarea
                        id="look-welcome"
                        name="welcome"
                        rows="3"
                        maxlength="500"
                        on:input=move |ev| welcome.set(event_target_value(&ev))
                    >
                        {a.welcome.clone()}
                    </textarea>
                    {field_error(err, "welcome")}
                    <label for="look-language">"Language"</label>
                    <select
                        id="look-language"
                        name="language"
                        on:change=move |ev| language.set(event_target_value(&ev))
                    >
                        {text::LANGUAGES
                            .iter()
                            .map(|(code, name, _)| {
                                view! { <option value=*code selected=*code == lang>{*name}</option> }
                            })
                            .collect_view()}
                    </select>
                    {field_error(err, "language")}
                    {form_error(err)}
                    <button type="submit" class="primary" disabled=move || action.pending().get()>
                        "Save appearance"
                    </button>
                    {saved}
                </ActionForm>
                <Preview
                    color=shown_color
                    position=position.into()
                    title=title.into()
                    welcome=welcome.into()
                    language=language.into()
                    prechat=look.prechat
                />
            </div>
        </section>
    }
}

/// A small drawing of the widget as the form stands: the launcher on its side, the panel's
/// header with the title, the welcome text, the pre-chat labels and "Start Chat", in the
/// chosen colour and language. Nothing in it is interactive.
#[component]
fn Preview(
    color: Signal<String>,
    position: Signal<String>,
    title: Signal<String>,
    welcome: Signal<String>,
    language: Signal<String>,
    prechat: crate::model::PreChat,
) -> impl IntoView {
    let t = move || text::strings(&language.get());
    let side = move || {
        if position.get() == "left" {
            "left"
        } else {
            "right"
        }
    };
    let label = move |rule: FieldRule, name: fn(&text::Strings) -> &'static str| {
        rule.show.then(|| {
            view! {
                <p class="lp-field">
                    {move || name(t())}
                    {(!rule.required).then(|| view! { " " {move || t().optional} })}
                </p>
            }
        })
    };
    view! {
        <figure class="look-preview" role="group" aria-label="Widget preview" data-position=side>
            <figcaption>"Preview (not saved yet)"</figcaption>
            <div class="lp-stage">
                <div class="lp-panel" style:left=move || if side() == "left" { "12px" } else { "auto" }
                    style:right=move || if side() == "right" { "12px" } else { "auto" }
                >
                    <div class="lp-head" style:background-color=color>
                        <span class="lp-title">{move || title.get()}</span>
                        <span aria-hidden="true">"×"</span>
                    </div>
                    <div class="lp-body">
                        <p class="lp-welcome">{move || welcome.get()}</p>
                        {label(prechat.name, |t| t.name)}
                        {label(prechat.email, |t| t.email)}
                        {label(prechat.phone, |t| t.phone)}
                        <span class="lp-button" style:background-color=color>
                            {move || t().start_chat}
                        </span>
                    </div>
                </div>
                <span
                    class="lp-launcher"
                    role="img"
                    aria-label=move || t().open_chat
                    style:background-color=color
                    style:left=move || if side() == "left" { "12px" } else { "auto" }
                    style:right=move || if side() == "right" { "12px" } else { "auto" }
                >
                    "💬"
                </span>
            </div>
        </figure>
    }
}

/// "Attachments": the size limit in MB and the allowed types.
#[component]
fn AttachmentsForm(
    look: LookInfo,
    site_id: String,
    version: RwSignal<i32>,
    action: ServerAction<SaveAttachments>,
) -> impl IntoView {
    let err = move || action.value().get().and_then(|r| r.err());
    let saved = move || {
        action
            .value()
            .get()
            .and_then(|r| r.ok())
            .map(|_| view! { <p class="ok" role="status">"Attachments saved."</p> })
    };
    view! {
        <section class="card" aria-labelledby="attachments-heading">
            <h3 id="attachments-heading">"Attachments"</h3>
            <ActionForm action attr:class="stacked">
                {site_fields(site_id, version)}
                <label for="look-max-mb">"Size limit (MB)"</label>
                <p class="hint" id="look-max-mb-hint">"A whole number from 1 to 100."</p>
                <input
                    id="look-max-mb"
                    name="max_mb"
                    inputmode="numeric"
                    required
                    aria-describedby="look-max-mb-hint"
                    value=look.attachment_max_mb.to_string()
                />
                {field_error(err, "max_mb")}
                <label for="look-types">"Allowed file types"</label>
                <p class="hint" id="look-types-hint">
                    "One per line: a type like application/pdf, or a family like image/*."
                </p>
                <textarea
                    id="look-types"
                    name="types"
                    rows="6"
                    aria-describedby="look-types-hint"
                >
                    {look.attachment_types.join("\n")}
                </textarea>
                {field_error(err, "types")}
                {form_error(err)}
                <button type="submit" class="primary" disabled=move || action.pending().get()>
                    "Save attachments"
                </button>
                {saved}
            </ActionForm>
        </section>
    }
}
