//! Switchboard: a self-hosted live-chat system for customer support.
//!
//! One crate, two builds: with `ssr` it is the server (axum + Leptos SSR + Postgres),
//! with `hydrate` it is the WASM bundle that makes the server-rendered pages interactive.
//! Modules shared by both builds sit at the top (`api`, `error`, `model`, `ui`); server-only
//! layers (`server`, `domain`, `db`) compile only with `ssr`. See docs/ARCHITECTURE.md.

#![recursion_limit = "256"]

pub mod api;
pub mod error;
pub mod json;
pub mod model;
pub mod realtime;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod domain;
#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the staff WASM bundle: hydrates the server-rendered page.
#[cfg(all(feature = "hydrate", not(feature = "widget")))]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(ui::App);
    // A marker for tests and tooling: the page is interactive from here on.
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// Entry point of the widget's own WASM bundle (feature `widget`): draws the widget into
/// `/widget/KEY`, replacing the static frame the server sent.
#[cfg(feature = "widget")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn mount() {
    // The release bundle aborts on panic without running hooks (.ci/build-widget).
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    let Some(boot) = ui::widget::boot_from_page() else {
        web_sys::console::error_1(&"switchboard widget: settings missing from the page".into());
        return;
    };
    ui::widget::start(boot);
    // The same "interactive from here" marker as the staff bundle's, for tests and tooling.
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
