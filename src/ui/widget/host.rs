//! The widget's link to the page that embeds it (through the loader, `public/widget.js`).
//!
//! The visitor token lives in the host page's own storage, not in the iframe's: browsers that
//! block third-party storage (Safari, Chrome's new defaults) would otherwise forget the
//! visitor. The loader hands it over by `postMessage`; the widget accepts messages only from
//! its parent window and only from the origin the page was rendered for, and posts only to
//! that origin. Opened on its own (no parent), the widget keeps the token itself.
//!
//! Messages (all `{type: "sb:…"}`): loader → widget `init {token, open, page}`, `open`,
//! `close`, `page {url, title, referrer}`; widget → loader `ready`, `token {token}`,
//! `unread {count}`, `close`.

/// What the loader told the widget on start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Init {
    pub token: Option<String>,
    pub open: bool,
    /// What the page passed to `Switchboard.identify`, if it did before the chat loaded.
    pub identity: Option<HostIdentity>,
}

/// `Switchboard.identify({user_id, email, name, user_hash})`, as the page gave it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostIdentity {
    pub user_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub user_hash: String,
}

/// The page the visitor is on, as the loader reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageInfo {
    pub url: String,
    pub title: String,
    pub referrer: String,
}

/// The host page as the widget sees it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Host {
    /// The origin of the embedding page, when embedded.
    pub parent_origin: Option<String>,
    pub site_key: String,
}

impl Host {
    fn storage_key(&self) -> String {
        format!("switchboard:{}:token", self.site_key)
    }
}

/// What the loader can say after `init` (the widget's handlers for it).
pub struct Handlers {
    /// Once: at once when standalone (with our own stored token), else on `sb:init`.
    pub init: Box<dyn Fn(Init)>,
    /// Every open (`true`) and close (`false`).
    pub open: Box<dyn Fn(bool)>,
    /// `Switchboard.identify(…)` after the chat loaded.
    pub identify: Box<dyn Fn(HostIdentity)>,
    /// The page the visitor is on: on start and on every page change.
    pub page: Box<dyn Fn(PageInfo)>,
}

mod browser {
    use super::*;
    use crate::ui::widget::dom::{doc, on, window};
    use wasm_bindgen::{JsCast, JsValue};

    fn get(obj: &JsValue, key: &str) -> JsValue {
        if !obj.is_object() {
            return JsValue::UNDEFINED;
        }
        js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    fn text(obj: &JsValue, key: &str) -> Option<String> {
        get(obj, key).as_string().filter(|s| !s.is_empty())
    }

    fn page_info(obj: &JsValue) -> Option<PageInfo> {
        Some(PageInfo {
            url: text(obj, "url")?,
            title: text(obj, "title").unwrap_or_default(),
            referrer: text(obj, "referrer").unwrap_or_default(),
        })
    }

    fn identity(obj: &JsValue) -> Option<HostIdentity> {
        Some(HostIdentity {
            user_id: text(obj, "user_id")?,
            email: text(obj, "email"),
            name: text(obj, "name"),
            user_hash: text(obj, "user_hash").unwrap_or_default(),
        })
    }

    impl Host {
        fn embedded(&self) -> bool {
            self.parent_origin.is_some()
                && window()
                    .parent()
                    .ok()
                    .flatten()
                    .is_some_and(|p| p != window())
        }

        /// Posts `{type, …fields}` to the host page (nothing when not embedded).
        pub fn post(&self, kind: &str, fields: &[(&str, JsValue)]) {
            let (Some(origin), true) = (&self.parent_origin, self.embedded()) else {
                return;
            };
            let msg = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&msg, &"type".into(), &format!("sb:{kind}").into());
            for (k, v) in fields {
                let _ = js_sys::Reflect::set(&msg, &(*k).into(), v);
            }
            if let Ok(Some(parent)) = window().parent() {
                let _ = parent.post_message(&msg, origin);
            }
        }

        /// Keeps the visitor token: in the host page's storage, or ours when standalone.
        pub fn store_token(&self, token: &str) {
            if self.embedded() {
                self.post("token", &[("token", token.into())]);
            } else if let Ok(Some(s)) = window().local_storage() {
                let _ = s.set_item(&self.storage_key(), token);
            }
        }

        /// Listens to the loader for the page's life.
        pub fn listen(&self, h: Handlers) {
            if !self.embedded() {
                (h.page)(PageInfo {
                    url: window().location().href().unwrap_or_default(),
                    title: doc().title(),
                    referrer: doc().referrer(),
                });
                let token = window()
                    .local_storage()
                    .ok()
                    .flatten()
                    .and_then(|s| s.get_item(&self.storage_key()).ok().flatten());
                (h.init)(Init {
                    token,
                    open: true,
                    identity: None,
                });
                return;
            }
            let origin = self.parent_origin.clone().unwrap_or_default();
            on(&window(), "message", move |ev| {
                let Some(ev) = ev.dyn_ref::<web_sys::MessageEvent>() else {
                    return;
                };
                // Only our parent, only from the origin this page was rendered for.
                // Compared as plain JS values: a cross-origin parent is not `instanceof Window`.
                let from_parent = ev
                    .source()
                    .map(JsValue::from)
                    .zip(window().parent().ok().flatten().map(JsValue::from))
                    .is_some_and(|(s, p)| s == p);
                if !from_parent || ev.origin() != origin {
                    return;
                }
                let data = ev.data();
                if let Some(p) = page_info(&get(&data, "page")) {
                    (h.page)(p);
                }
                match get(&data, "type").as_string().as_deref() {
                    Some("sb:init") => (h.init)(Init {
                        token: text(&data, "token"),
                        open: get(&data, "open").as_bool().unwrap_or(false),
                        identity: identity(&get(&data, "identity")),
                    }),
                    Some("sb:identify") => {
                        if let Some(who) = identity(&get(&data, "identity")) {
                            (h.identify)(who);
                        }
                    }
                    Some("sb:open") => (h.open)(true),
                    Some("sb:close") => (h.open)(false),
                    _ => {}
                }
            });
            self.post("ready", &[]);
        }
    }
}
