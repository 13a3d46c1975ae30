//! The few DOM calls the widget's views are made of (widget bundle only).
//!
//! Why not Leptos views here: a `view!` tree is a distinct Rust type per shape, and every
//! reactive text, attribute and handler instantiates the renderer's generic code again, so
//! the widget's views cost ~100 KB of WASM (docs/BENCHMARKS.md). These helpers are plain,
//! non-generic functions shared by every view: an element is made once, and what changes is
//! set on it directly by the view that owns it (each view has a `sync` that reads its state).
//! Handlers are boxed before they reach wasm-bindgen, so all of them share one closure shim.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Event, EventTarget, Window};

/// The page's window (the widget always runs in one).
pub fn window() -> Window {
    web_sys::window().expect("a window")
}

/// The page's document.
pub fn doc() -> Document {
    window().document().expect("a document")
}

/// `<tag k="v" …>`, empty.
pub fn el(tag: &str, attrs: &[(&str, &str)]) -> Element {
    let e = doc().create_element(tag).expect("a valid tag");
    for (k, v) in attrs {
        let _ = e.set_attribute(k, v);
    }
    e
}

/// `<tag k="v" …>text</tag>`; the text is a text node, never parsed as HTML.
pub fn text_el(tag: &str, attrs: &[(&str, &str)], text: &str) -> Element {
    let e = el(tag, attrs);
    e.set_text_content(Some(text));
    e
}

/// Appends `children` to `parent`, in order.
pub fn add(parent: &Element, children: &[&Element]) {
    for c in children {
        let _ = parent.append_child(c);
    }
}

/// Appends a text node (escaped by construction).
pub fn add_text(parent: &Element, text: &str) {
    let _ = parent.append_child(&doc().create_text_node(text));
}

/// Replaces everything inside `parent` with `children`.
pub fn replace(parent: &Element, children: &[&Element]) {
    parent.set_text_content(None);
    add(parent, children);
}

/// Runs `f` on every `event` at `target`. The handler lives as long as the page: the
/// widget's elements are made a few times per visit, so what that keeps is a few closures.
pub fn on(target: &EventTarget, event: &str, f: impl FnMut(Event) + 'static) {
    listen(target, event, Box::new(f));
}

/// The one non-generic place handlers are handed to the browser.
fn listen(target: &EventTarget, event: &str, f: Box<dyn FnMut(Event)>) {
    let c = Closure::wrap(f);
    let _ = target.add_event_listener_with_callback(event, c.as_ref().unchecked_ref());
    c.forget();
}

/// Shows or hides an element (the `hidden` attribute, which the widget's CSS honours).
pub fn show(e: &Element, shown: bool) {
    let _ = e.toggle_attribute_with_force("hidden", !shown);
}

/// Sets an element's text (a no-op when it is already that, so screen readers hear nothing).
pub fn set_text(e: &Element, text: &str) {
    if e.text_content().as_deref() != Some(text) {
        e.set_text_content(Some(text));
    }
}

/// `"true"` / `"false"`, for ARIA attributes.
pub fn flag(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// The first element under `parent` that matches `selector` (before it is in the page too).
pub fn find(parent: &Element, selector: &str) -> Option<Element> {
    parent.query_selector(selector).ok().flatten()
}

/// Runs `f` before the next repaint (once the new elements are laid out).
pub fn next_frame(f: impl FnOnce() + 'static) {
    let c = Closure::once_into_js(Box::new(f) as Box<dyn FnOnce()>);
    let _ = window().request_animation_frame(c.unchecked_ref());
}

/// A submitted form's values, read from the form element itself rather than kept as the
/// visitor types (no state per field).
pub struct Filled(Option<web_sys::FormData>);

impl Filled {
    /// The values of the form `ev` was submitted from.
    pub fn from(ev: &Event) -> Filled {
        Filled(
            ev.target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
                .and_then(|f| web_sys::FormData::new_with_form(&f).ok()),
        )
    }

    /// The field's text ("" when the form has no such field).
    pub fn text(&self, name: &str) -> String {
        self.0
            .as_ref()
            .and_then(|d| d.get(name).as_string())
            .unwrap_or_default()
    }

    /// The field's text, `None` when blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.text(name)).filter(|s| !s.trim().is_empty())
    }
}
