//! The agent's composer: "Reply" or "Note" mode, Enter sends (Shift+Enter: new line),
//! "/" opens matching canned responses (Tab or Enter inserts, placeholders filled), files by
//! "Attach file", drag and drop or paste. Sends ride the socket's outbox like the widget's.

use super::canned::{fill, matching};
use super::workspace::use_workspace;
use crate::api::canned::Canned;
use crate::ui::widget::model::ChatModel;
use leptos::prelude::*;
use uuid::Uuid;

#[component]
pub fn Composer(
    id: Uuid,
    model: RwSignal<ChatModel>,
    visitor_name: Signal<String>,
    site_id: Signal<Option<Uuid>>,
) -> impl IntoView {
    let ws = use_workspace();
    #[cfg(not(feature = "browser"))]
    let _ = id;
    let draft = RwSignal::new(String::new());
    let note_mode = RwSignal::new(false);
    let picked = RwSignal::new(0usize);
    let canned = LocalResource::new(move || crate::api::canned::canned_responses(site_id.get()));
    let all = move || canned.get().and_then(|r| r.ok()).unwrap_or_default();
    // The "/" query: the draft while it is a single word starting with "/".
    let query = move || {
        draft.with(|d| {
            d.strip_prefix('/')
                .filter(|q| !q.contains(char::is_whitespace))
                .map(str::to_string)
        })
    };
    let suggestions = move || -> Vec<Canned> {
        match query() {
            Some(q) => matching(&q, &all()).into_iter().cloned().collect(),
            None => Vec::new(),
        }
    };
    let me = move || {
        ws.me
            .get_untracked()
            .map(|m| m.name)
            .unwrap_or_else(|| "Agent".into())
    };
    let insert = move |c: &Canned| {
        draft.set(fill(&c.body, &visitor_name.get_untracked(), &me()));
        picked.set(0);
    };
    let send = move || {
        let body = draft.get_untracked();
        if body.trim().is_empty() {
            return;
        }
        draft.set(String::new());
        let note = note_mode.get_untracked();
        let key = Uuid::new_v4().to_string();
        model.update(|m| m.push_own_note(key.clone(), body.clone(), &me(), note));
        #[cfg(feature = "browser")]
        ws.with_conn(|c| {
            c.send(crate::realtime::protocol::ClientFrame::Send {
                conversation_id: id,
                key,
                body,
                note,
                attachment: None,
            })
        });
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let list = suggestions();
        if !list.is_empty() {
            match ev.key().as_str() {
                "Tab" | "Enter" if !ev.shift_key() => {
                    ev.prevent_default();
                    let i = picked.get_untracked().min(list.len() - 1);
                    insert(&list[i]);
                    return;
                }
                "ArrowDown" => {
                    ev.prevent_default();
                    picked.update(|p| *p = (*p + 1) % list.len());
                    return;
                }
                "ArrowUp" => {
                    ev.prevent_default();
                    picked.update(|p| *p = (*p + list.len() - 1) % list.len());
                    return;
                }
                "Escape" => {
                    draft.set(String::new());
                    return;
                }
                _ => {}
            }
        }
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        draft.set(event_target_value(&ev));
        picked.set(0);
        #[cfg(feature = "browser")]
        if !note_mode.get_untracked() {
            typing(ws, id);
        }
    };
    let upload = move |file: FileHandle| {
        #[cfg(feature = "browser")]
        {
            let key = Uuid::new_v4().to_string();
            let note = note_mode.get_untracked();
            model.update(|m| m.push_own_note(key.clone(), file.name(), &me(), note));
            leptos::task::spawn_local(async move {
                match crate::ui::widget::files::upload("", id, &file).await {
                    Ok(stored) => {
                        let attachment = stored.id;
                        model.update(|m| m.attach(&key, stored));
                        ws.with_conn(|c| {
                            c.send(crate::realtime::protocol::ClientFrame::Send {
                                conversation_id: id,
                                key,
                                body: String::new(),
                                note,
                                attachment: Some(attachment),
                            })
                        });
                    }
                    Err(why) => model.update(|m| m.fail(&key, why)),
                }
            });
        }
        #[cfg(not(feature = "browser"))]
        let _ = file;
    };
    let on_files = move |ev: leptos::ev::Event| {
        #[cfg(feature = "browser")]
        for f in crate::ui::widget::files::picked(&ev) {
            upload(f);
        }
        #[cfg(not(feature = "browser"))]
        let _ = (ev, upload);
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        #[cfg(feature = "browser")]
        for f in crate::ui::widget::files::dropped(&ev) {
            upload(f);
        }
    };
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        #[cfg(feature = "browser")]
        {
            let files = crate::ui::widget::files::pasted(&ev);
            if !files.is_empty() {
                ev.prevent_default();
            }
            for f in files {
                upload(f);
            }
        }
        #[cfg(not(feature = "browser"))]
        let _ = ev;
    };
    let pick_file = move |_| {
        #[cfg(feature = "browser")]
        {
            use wasm_bindgen::JsCast;
            if let Some(input) = document()
                .get_element_by_id("agent-file")
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                input.click();
            }
        }
    };
    let mode_button = move |label: &'static str, note: bool| {
        view! {
            <button
                type="button"
                aria-pressed=move || if note_mode.get() == note { "true" } else { "false" }
                on:click=move |_| note_mode.set(note)
            >
                {label}
            </button>
        }
    };
    view! {
        <form
            class=move || if note_mode.get() { "composer note-mode" } else { "composer" }
            on:submit=move |ev| {
                ev.prevent_default();
                send();
            }
            on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
            on:drop=on_drop
        >
            <div class="modes" role="group" aria-label="Composer mode">
                {mode_button("Reply", false)}
                {mode_button("Note", true)}
            </div>
            {move || {
                let list = suggestions();
                (!list.is_empty())
                    .then(|| {
                        view! {
                            <ul class="canned-popup" role="listbox" aria-label="Canned responses">
                                {list
                                    .into_iter()
                                    .enumerate()
                                    .map(|(i, c)| {
                                        let chosen = c.clone();
                                        view! {
                                            <li
                                                role="option"
                                                aria-selected=move || if picked.get() == i { "true" } else { "false" }
                                                on:mousedown=move |ev| {
                                                    ev.prevent_default();
                                                    insert(&chosen);
                                                }
                                            >
                                                <strong>{format!("/{}", c.shortcut)}</strong>
                                                " "
                                                {c.body.clone()}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                    })
            }}
            <label for="agent-message" class="visually-hidden">"Message"</label>
            <textarea
                id="agent-message"
                rows="3"
                placeholder=move || if note_mode.get() { "Private note (agents only)" } else { "Message — type / for canned responses" }
                prop:value=move || draft.get()
                on:input=on_input
                on:keydown=on_key
                on:paste=on_paste
            ></textarea>
            <input
                type="file"
                id="agent-file"
                class="visually-hidden"
                tabindex="-1"
                aria-hidden="true"
                on:change=on_files
            />
            <button type="button" on:click=pick_file>"Attach file"</button>
            <button type="submit" class="primary">"Send"</button>
        </form>
    }
}

#[cfg(feature = "browser")]
type FileHandle = web_sys::File;
#[cfg(not(feature = "browser"))]
type FileHandle = std::convert::Infallible;

/// Tells the visitor the agent is typing, at most once per throttle interval.
#[cfg(feature = "browser")]
fn typing(ws: super::workspace::Workspace, conversation_id: Uuid) {
    use crate::realtime::protocol::{ClientFrame, TYPING_THROTTLE_MS};
    use std::cell::Cell;
    thread_local! {
        static LAST: Cell<f64> = const { Cell::new(0.0) };
    }
    let now = js_sys::Date::now();
    if now - LAST.get() >= TYPING_THROTTLE_MS as f64 {
        LAST.set(now);
        ws.with_conn(|c| c.send_now(ClientFrame::Typing { conversation_id }));
    }
}
