//! `/agent/canned`: the agent's canned responses (their own, and the site-wide ones they may
//! use), and how the composer matches ("/hello") and fills them (placeholders).

use crate::api::canned::{canned_responses, create_canned, delete_canned, Canned};
use crate::error::AppError;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

/// The most suggestions the composer's "/" popup shows.
pub const MAX_MATCHES: usize = 8;

/// The responses matching `query` (what follows "/" in the composer), case-insensitively:
/// shortcuts starting with it first, then responses whose text contains it; each group in the
/// order given (personal first, then by shortcut, as `canned_responses` answers); at most 8.
/// An empty query matches everything (the popup right after typing "/").
pub fn matching<'a>(query: &str, all: &'a [Canned]) -> Vec<&'a Canned> {
    let q = query.trim().to_lowercase();
    let by_shortcut = all
        .iter()
        .filter(|c| c.shortcut.to_lowercase().starts_with(&q));
    let by_text = all.iter().filter(|c| {
        !c.shortcut.to_lowercase().starts_with(&q) && c.body.to_lowercase().contains(&q)
    });
    by_shortcut.chain(by_text).take(MAX_MATCHES).collect()
}

/// The response's text with `{{visitor.name}}` and `{{agent.name}}` filled in. Spaces inside
/// the braces are tolerated (`{{ visitor.name }}`) and so is case; any other `{{...}}` stays as
/// written, so a typo shows in the composer instead of vanishing.
pub fn fill(body: &str, visitor_name: &str, agent_name: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            // An unclosed "{{": the rest is plain text.
            out.push_str(&rest[open..]);
            return out;
        };
        let key = after[..close].trim().to_ascii_lowercase();
        match key.as_str() {
            "visitor.name" => out.push_str(visitor_name),
            "agent.name" => out.push_str(agent_name),
            _ => out.push_str(&rest[open..open + 2 + close + 2]),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// The agent's canned responses: a form for a new personal one, and the list.
#[component]
pub fn CannedResponses() -> impl IntoView {
    // Bumped after every change, to refetch the list.
    let version = RwSignal::new(0u32);
    // Fetched in the browser only, like the dashboard's lists.
    let list = LocalResource::new(move || {
        version.track();
        canned_responses(None)
    });
    let shortcut = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let save_error = RwSignal::new(None::<AppError>);
    let saved = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let delete_error = RwSignal::new(None::<String>);

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        save_error.set(None);
        saved.set(None);
        let (s, b) = (shortcut.get_untracked(), body.get_untracked());
        leptos::task::spawn_local(async move {
            match create_canned(s, b).await {
                Ok(c) => {
                    saved.set(Some(format!("Saved /{}.", c.shortcut)));
                    shortcut.set(String::new());
                    body.set(String::new());
                    version.update(|n| *n += 1);
                }
                Err(e) => save_error.set(Some(e)),
            }
            pending.set(false);
        });
    };
    let delete = move |id: Uuid| {
        delete_error.set(None);
        leptos::task::spawn_local(async move {
            if let Err(e) = delete_canned(id).await {
                delete_error.set(Some(e.to_string()));
            }
            version.update(|n| *n += 1);
        });
    };
    // An error under its field, or (no field) under the form.
    let error_for = move |field: Option<&'static str>| {
        save_error
            .get()
            .filter(|e| e.field() == field)
            .map(|e| view! { <p class="field-error" role="alert">{e.to_string()}</p> })
    };

    view! {
        <Title text="Canned responses — Switchboard" />
        <h1>"Canned responses"</h1>
        <section class="card" aria-labelledby="new-canned-heading">
            <h2 id="new-canned-heading">"New response"</h2>
            <p class="hint">
                "Type \"/\" and the shortcut in a chat to insert it. "
                "{{visitor.name}} and {{agent.name}} are filled in."
            </p>
            <form class="stacked" on:submit=save>
                <label for="canned-shortcut">"Shortcut"</label>
                <input
                    id="canned-shortcut"
                    name="shortcut"
                    required
                    maxlength="33"
                    autocomplete="off"
                    placeholder="hello"
                    prop:value=shortcut
                    on:input=move |ev| shortcut.set(event_target_value(&ev))
                />
                {move || error_for(Some("shortcut"))}
                <label for="canned-body">"Text"</label>
                <textarea
                    id="canned-body"
                    name="body"
                    required
                    rows="4"
                    maxlength="5000"
                    prop:value=body
                    on:input=move |ev| body.set(event_target_value(&ev))
                ></textarea>
                {move || error_for(Some("body"))}
                {move || error_for(None)}
                <button type="submit" class="primary" disabled=pending>
                    "Save response"
                </button>
                {move || saved.get().map(|m| view! { <p class="ok" role="status">{m}</p> })}
            </form>
        </section>
        <section aria-labelledby="canned-list-heading">
            <h2 id="canned-list-heading">"Your responses"</h2>
            {move || delete_error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    list.get()
                        .map(|r| match r {
                            Err(e) => Either::Left(view! { <p class="error" role="alert">{e.to_string()}</p> }),
                            Ok(all) => Either::Right(view! { <CannedList all delete /> }),
                        })
                }}
            </Suspense>
        </section>
    }
}

/// The responses, each with "Delete" when it is the agent's own.
#[component]
fn CannedList(
    all: Vec<Canned>,
    delete: impl Fn(Uuid) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    if all.is_empty() {
        return Either::Left(view! {
            <p class="empty">"No responses yet. Save your first one above."</p>
        });
    }
    Either::Right(view! {
        <ul class="canned" aria-label="Responses">
            {all
                .into_iter()
                .map(|c| {
                    let id = c.id;
                    let label = format!("Delete /{}", c.shortcut);
                    view! {
                        <li>
                            <code>"/" {c.shortcut}</code>
                            {(!c.personal).then(|| view! { " " <span class="tag">"Site-wide"</span> })}
                            <p class="canned-body">{c.body}</p>
                            {c.personal.then(|| view! {
                                <button type="button" aria-label=label on:click=move |_| delete(id)>
                                    "Delete"
                                </button>
                            })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canned(shortcut: &str, body: &str) -> Canned {
        Canned {
            id: Uuid::new_v4(),
            shortcut: shortcut.into(),
            body: body.into(),
            personal: true,
            version: 1,
        }
    }

    fn shortcuts(v: Vec<&Canned>) -> Vec<&str> {
        v.into_iter().map(|c| c.shortcut.as_str()).collect()
    }

    #[test]
    fn shortcut_prefixes_come_before_text_matches() {
        let all = [
            canned("bye", "Say hello to the team for me"),
            canned("hello", "Hi {{visitor.name}}!"),
            canned("help", "How can I help?"),
            canned("refund", "Refunds take 5 days."),
        ];
        // "bye" says "hello" in its text: it comes after the shortcut matches.
        assert_eq!(shortcuts(matching("hel", &all)), ["hello", "help", "bye"]);
        assert_eq!(shortcuts(matching("HELLO", &all)), ["hello", "bye"]);
        assert_eq!(shortcuts(matching("days", &all)), ["refund"]);
        assert!(matching("zzz", &all).is_empty());
        assert_eq!(matching("", &all).len(), 4);
    }

    #[test]
    fn at_most_eight_matches() {
        let all: Vec<Canned> = (0..12).map(|i| canned(&format!("a{i}"), "x")).collect();
        assert_eq!(matching("a", &all).len(), MAX_MATCHES);
        assert_eq!(matching("", &all).len(), MAX_MATCHES);
    }

    #[test]
    fn placeholders_are_filled_with_or_without_spaces() {
        assert_eq!(
            fill("Hi {{visitor.name}}, I'm {{agent.name}}.", "Vera", "Sam"),
            "Hi Vera, I'm Sam."
        );
        assert_eq!(
            fill(
                "Hi {{ visitor.name }}! {{  Agent.Name}} here",
                "Vera",
                "Sam"
            ),
            "Hi Vera! Sam here"
        );
        assert_eq!(fill("{{visitor.name}}{{visitor.name}}", "A", "B"), "AA");
    }

    #[test]
    fn other_braces_stay_as_written() {
        assert_eq!(
            fill("Hi {{visitor.nme}}", "Vera", "Sam"),
            "Hi {{visitor.nme}}"
        );
        assert_eq!(
            fill("Hi {{visitor.name", "Vera", "Sam"),
            "Hi {{visitor.name"
        );
        assert_eq!(fill("a { b } c}}", "Vera", "Sam"), "a { b } c}}");
        assert_eq!(fill("ünï {{agent.name}} ✓", "V", "Sam"), "ünï Sam ✓");
    }
}
