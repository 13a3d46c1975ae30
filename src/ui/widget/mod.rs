//! The visitor widget: what the iframe at `/widget/SITE_KEY` shows. It is its own small
//! WASM bundle (feature `widget`, built by `.ci/build-widget`), not the staff app: no router,
//! no staff pages, so the opened widget stays light on the customer's site.
//!
//! The server sends a static frame (the title and "Loading…") and the site's settings as JSON
//! (`#sb-settings`); the browser reads them and draws the widget in place of the frame.
//! Client rendering instead of hydration: nothing the server could render is worth
//! hydrating (it does not know the visitor yet). The browser side (`app`, `prechat`, `chat`)
//! is drawn with plain DOM calls (`dom`) rather than Leptos views, which would weigh some
//! 55 KB gzipped more on every visitor of every customer site (docs/BENCHMARKS.md); it talks
//! to the server through the `#[server]` functions of `api::widget` and the realtime socket.

#[cfg(feature = "widget")]
mod app;
#[cfg(feature = "widget")]
mod chat;
#[cfg(feature = "widget")]
mod dom;
#[cfg(feature = "browser")]
pub(crate) mod files;
#[cfg(feature = "widget")]
mod host;
pub mod model;
#[cfg(feature = "widget")]
mod prechat;
pub mod text;

use crate::model::WidgetSettings;
#[cfg(feature = "widget")]
pub use app::start;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the widget page is rendered from (server) and started from (browser).
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

/// Reads the settings the server wrote into the page (browser only).
#[cfg(feature = "widget")]
pub fn boot_from_page() -> Option<WidgetBoot> {
    let json = dom::doc()
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
