//! The visitor widget: what the iframe at `/widget/SITE_KEY` shows. It is its own small
//! WASM bundle (feature `widget`, built by `.ci/build-widget`), not the staff app: no router,
//! no staff pages, so the opened widget stays light on the customer's site.
//!
//! The server sends a static frame (the title and "Loading…") and the site's settings as JSON
//! (`#sb-settings`); the browser reads them and draws the widget in place of the frame.
//! Client rendering instead of hydration: nothing the server could render is worth
//! hydrating (it does not know the visitor yet), and hydration code for every view would
//! weigh on the bundle.

pub(crate) mod chat;
#[cfg(feature = "browser")]
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

/// Where the visitor is.
#[cfg_attr(not(feature = "browser"), allow(dead_code))]
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

/// The widget document, rendered on the server only: the settings and a static frame.
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
                    "import init,{mount} from '/widget-pkg/widget.js';init({module_or_path:'/widget-pkg/widget.wasm'}).then(()=>mount())"
                </script>
            </head>
            <body>
                <div class="sbw">
                    <header class="sbw-head">
                        <h1 class="sbw-title">{boot.settings.title.clone()}</h1>
                    </header>
                    <div class="sbw-body">
                        <p class="sbw-note">{text::strings(&boot.settings.language).loading}</p>
                    </div>
                </div>
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
    // Every widget component reads its strings from here (`text::use_strings`).
    let t: &'static text::Strings = text::strings(&settings.language);
    text::set_strings(t);
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
    #[cfg(feature = "browser")]
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
    #[cfg(feature = "browser")]
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
            #[cfg(feature = "browser")]
            host.store_token(&s.visitor_token);
            #[cfg(not(feature = "browser"))]
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
            #[cfg(feature = "browser")]
            host.post("close", &[]);
            #[cfg(not(feature = "browser"))]
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
#[cfg(feature = "browser")]
pub fn boot_from_page() -> Option<WidgetBoot> {
    let json = document()
        .get_element_by_id("sb-settings")?
        .text_content()?;
    crate::json::from_str(&json)
}

impl crate::json::FromJson for WidgetBoot {
    fn from_json<J: crate::json::Json>(v: &J) -> Option<Self> {
        use crate::json::field;
        Some(WidgetBoot {
            site_key: field(v, "site_key")?,
            settings: field(v, "settings")?,
            parent_origin: field(v, "parent_origin")?,
            online: field(v, "online")?,
            away: field(v, "away")?,
        })
    }
}

/// Wraps Tab from the last focusable element to the first (Shift+Tab the other way), so
/// keyboard focus stays in the open chat. Returns whether it moved focus.
#[cfg(feature = "browser")]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_reads_the_boot_settings_the_server_writes() {
        for (parent_origin, away) in [
            (None, None),
            (
                Some("https://shop.example".to_string()),
                Some("Back at 9".to_string()),
            ),
        ] {
            crate::json::assert_reads(&WidgetBoot {
                site_key: "key".into(),
                settings: crate::model::WidgetSettings {
                    site_name: "Acme".into(),
                    title: "Chat".into(),
                    welcome: "Hi".into(),
                    color: "#123456".into(),
                    position: "right".into(),
                    language: "en".into(),
                    guest_mode: false,
                    prechat: Default::default(),
                },
                parent_origin,
                online: away.is_none(),
                away,
            });
        }
    }
}
