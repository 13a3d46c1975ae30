//! The visitor widget: what the iframe at `/widget/SITE_KEY` shows. It is its own small
//! WASM bundle (feature `widget`, built by `.ci/build-widget`), not the staff app: no router,
//! no staff pages, so the opened widget stays light on the customer's site.
//!
//! The server renders it with the site's settings, which it also writes into the page as
//! JSON (`#sb-settings`) so the browser hydrates the very same view.

pub(crate) mod chat;
#[cfg(feature = "hydrate")]
pub(crate) mod files;
mod host;
pub mod model;
mod prechat;
pub mod text;

use crate::api::widget::StartedChat;
use crate::model::WidgetSettings;
use chat::Chat;
pub use host::Host;
use leptos::either::EitherOf6;
use leptos::prelude::*;
use prechat::{OfflineForm, PreChatForm};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Everything the widget page is rendered from (server) and hydrated from (browser).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetBoot {
    pub site_key: String,
    pub settings: WidgetSettings,
    /// The embedding page's origin (already checked against the site's allowed origins).
    pub parent_origin: Option<String>,
    /// Whether an agent can answer now; if not, new visitors get the offline form.
    pub online: bool,
    /// The site's away message for the offline form (`None`: the built-in text).
    #[serde(default)]
    pub away: Option<String>,
}

/// Where the visitor is. (The server renders only `Loading`; the browser moves on.)
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// Waiting for the loader's token (or our own storage).
    Loading,
    /// No conversation yet: the pre-chat form (or, guest mode off, the sign-in note).
    Form,
    Chat {
        conversation_id: Uuid,
        token: String,
    },
    Failed(String),
}

/// The widget document, rendered on the server only.
pub fn widget_shell(boot: WidgetBoot) -> impl IntoView {
    // `</` cannot appear inside the JSON script, or it could close the tag early.
    let json = serde_json::to_string(&boot)
        .unwrap_or_default()
        .replace("</", "<\\/");
    // One text node: two would get a hydration marker (`<!>`) between them, which inside
    // <style> is CSS and would void the `:root` rule. The colour is checked hex (domain::widget).
    let css = format!(
        "{}:root{{--sb-color:{}}}",
        include_str!("../../../style/widget.css"),
        boot.settings.color
    );
    // The page's language is the strings table's (an unknown code reads as English).
    let lang = if text::supported(&boot.settings.language) {
        boot.settings.language.clone()
    } else {
        "en".to_string()
    };
    view! {
        <!DOCTYPE html>
        <html lang=lang>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <title>{boot.settings.title.clone()}</title>
                <style>{css}</style>
                <script id="sb-settings" type="application/json" inner_html=json></script>
                <link rel="modulepreload" href="/widget-pkg/widget.js" />
                <link
                    rel="preload"
                    href="/widget-pkg/widget.wasm"
                    r#as="fetch"
                    r#type="application/wasm"
                    crossorigin=""
                />
                <script type="module">
                    "import init,{hydrate} from '/widget-pkg/widget.js';init({module_or_path:'/widget-pkg/widget.wasm'}).then(()=>hydrate())"
                </script>
            </head>
            <body>
                <WidgetApp boot />
            </body>
        </html>
    }
}

/// The widget itself.
#[component]
pub fn WidgetApp(boot: WidgetBoot) -> impl IntoView {
    let WidgetBoot {
        site_key,
        settings,
        parent_origin,
        online,
        away,
    } = boot;
    // Every widget component reads its strings from this context (`text::use_strings`).
    let t: &'static text::Strings = text::strings(&settings.language);
    provide_context(t);
    let host = Host {
        parent_origin,
        site_key: site_key.clone(),
        page: RwSignal::new(None),
    };
    let phase = RwSignal::new(Phase::Loading);
    let open = RwSignal::new(false);
    // The token of a visitor the host site identified (verified), until they start a chat.
    let identified = RwSignal::new(None::<String>);
    // After hydration (an effect), never during it: the first render must match the server's.
    #[cfg(feature = "hydrate")]
    {
        let key = site_key.clone();
        let listen_host = host.clone();
        Effect::new(move |_| {
            let resume = {
                let key = key.clone();
                move |token: Option<String>| {
                    let Some(token) = token else {
                        phase.set(Phase::Form);
                        return;
                    };
                    let key = key.clone();
                    leptos::task::spawn_local(async move {
                        match crate::api::widget::resume_chat(key, token.clone()).await {
                            Ok(Some(r)) => phase.set(Phase::Chat {
                                conversation_id: r.conversation_id,
                                token,
                            }),
                            Ok(None) => phase.set(Phase::Form),
                            Err(e) => phase.set(Phase::Failed(e.to_string())),
                        }
                    });
                }
            };
            // identify(): verified → this device keeps the registered visitor's token and sees
            // their conversations; not verified → nothing changes (the server logs it).
            let identify = {
                let key = key.clone();
                let host = listen_host.clone();
                let resume = resume.clone();
                move |who: host::HostIdentity, guest_token: Option<String>| {
                    let key = key.clone();
                    let host = host.clone();
                    let resume = resume.clone();
                    leptos::task::spawn_local(async move {
                        let result = crate::api::widget::identify_visitor(
                            key,
                            guest_token.clone(),
                            who.user_id,
                            who.email,
                            who.name,
                            who.user_hash,
                        )
                        .await;
                        match result {
                            Ok(v) => {
                                host.store_token(&v.visitor_token);
                                match v.conversation_id {
                                    Some(conversation_id) => phase.set(Phase::Chat {
                                        conversation_id,
                                        token: v.visitor_token,
                                    }),
                                    None => {
                                        identified.set(Some(v.visitor_token));
                                        phase.set(Phase::Form);
                                    }
                                }
                            }
                            Err(e) => {
                                leptos::logging::warn!("Switchboard: identify refused: {e}");
                                resume(guest_token);
                            }
                        }
                    });
                }
            };
            let on_init = {
                let identify = identify.clone();
                move |init: host::Init| {
                    open.set(init.open);
                    match init.identity {
                        Some(who) => identify(who, init.token),
                        None => resume(init.token),
                    }
                }
            };
            let on_identify = move |who: host::HostIdentity| {
                // A page that identifies later (after sign-up, say): keep the current chat's
                // token as the guest to attach.
                let current = match phase.get_untracked() {
                    Phase::Chat { token, .. } => Some(token),
                    _ => None,
                };
                identify(who, current);
            };
            listen_host.listen(on_init, move |o| open.set(o), on_identify);
            // Escape closes the panel, as the close button does; Tab stays inside the panel.
            let esc_host = listen_host.clone();
            let handle = window_event_listener(leptos::ev::keydown, move |ev| {
                if ev.key() == "Escape" {
                    esc_host.post("close", &[]);
                } else if ev.key() == "Tab" && keep_focus_inside(ev.shift_key()) {
                    ev.prevent_default();
                }
            });
            std::mem::forget(handle);
        });
    }
    // An opened chat takes the keyboard: focus goes to its first field.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let (is_open, _) = (open.get(), phase.track());
        if is_open {
            request_animation_frame(|| {
                use wasm_bindgen::JsCast;
                if let Some(el) = document()
                    .query_selector("input:not([type='file']), textarea")
                    .ok()
                    .flatten()
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = el.focus();
                }
            });
        }
    });
    let started = {
        let host = host.clone();
        Callback::new(move |s: StartedChat| {
            #[cfg(feature = "hydrate")]
            host.store_token(&s.visitor_token);
            #[cfg(not(feature = "hydrate"))]
            let _ = &host;
            phase.set(Phase::Chat {
                conversation_id: s.conversation_id,
                token: s.visitor_token,
            });
        })
    };
    let close = {
        let host = host.clone();
        move |_| {
            #[cfg(feature = "hydrate")]
            host.post("close", &[]);
            #[cfg(not(feature = "hydrate"))]
            let _ = &host;
        }
    };
    let guest_mode = settings.guest_mode;
    let prechat = settings.prechat;
    let welcome = settings.welcome.clone();
    // Either-enums, not `into_any()`: an AnyView carries every render path (server ones
    // included) into the WASM bundle; the widget must stay small.
    let body = move || match phase.get() {
        Phase::Loading => EitherOf6::A(view! { <p class="sbw-note">{t.loading}</p> }),
        // Guest mode off: only visitors the host site identified may chat.
        Phase::Form if !guest_mode && identified.with(Option::is_none) => {
            EitherOf6::B(view! { <p class="sbw-note" role="status">{t.sign_in_to_chat}</p> })
        }
        Phase::Form if !online => {
            EitherOf6::F(view! { <OfflineForm site_key=site_key.clone() away=away.clone() /> })
        }
        Phase::Form => EitherOf6::C(view! {
            <p class="sbw-welcome">{welcome.clone()}</p>
            <PreChatForm
                site_key=site_key.clone()
                prechat
                on_started=started
                identified=identified.get()
            />
        }),
        Phase::Chat {
            conversation_id,
            token,
        } => EitherOf6::D(view! {
            <Chat host=host.clone() conversation_id visitor_token=token open />
        }),
        Phase::Failed(message) => {
            EitherOf6::E(view! { <p class="sbw-error" role="alert">{message}</p> })
        }
    };
    view! {
        <div class="sbw" role="dialog" aria-label=settings.title.clone()>
            <header class="sbw-head">
                <h1 class="sbw-title">{settings.title.clone()}</h1>
                <button type="button" class="sbw-close" aria-label=t.close_chat on:click=close>
                    "×"
                </button>
            </header>
            <div class="sbw-body">{body}</div>
        </div>
    }
}

/// Reads the settings the server wrote into the page (browser only).
#[cfg(feature = "hydrate")]
pub fn boot_from_page() -> Option<WidgetBoot> {
    let json = document()
        .get_element_by_id("sb-settings")?
        .text_content()?;
    serde_json::from_str(&json).ok()
}

/// Wraps Tab from the last focusable element to the first (Shift+Tab the other way), so
/// keyboard focus stays in the open chat. Returns whether it moved focus.
#[cfg(feature = "hydrate")]
fn keep_focus_inside(backwards: bool) -> bool {
    use wasm_bindgen::JsCast;
    let Ok(list) = document().query_selector_all(
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
    let active = document().active_element();
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
