//! `/agent/cases`: cases made from offline messages and from chats. "Open" and "Closed"
//! lists (newest first, 50 at a time), and the chosen case: its notes, "Add note", and
//! "Close case" / "Reopen case".

use crate::api::cases::{
    add_case_note, case_detail, list_cases, set_case_status, CaseDetail, CaseNote, CaseSummary,
};
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

/// Where a transcript link sits in a note: `(text before, transcript path, text after)`.
/// A case made from a chat has the note "Transcript: /agent/c/<id>".
pub fn transcript_link(body: &str) -> Option<(&str, &str, &str)> {
    const PREFIX: &str = "/agent/c/";
    let start = body.find(PREFIX)?;
    let id_start = start + PREFIX.len();
    // A UUID's hyphenated form is 36 ASCII characters.
    let id = body.get(id_start..id_start + 36)?;
    Uuid::parse_str(id).ok()?;
    let end = id_start + 36;
    Some((&body[..start], &body[start..end], &body[end..]))
}

/// "2026-11-21T10:03:04.5Z" as "2026-11-21 10:03 UTC" (the server sends UTC).
pub fn short_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) if rfc3339.ends_with('Z') => format!("{day} {time} UTC"),
        _ => rfc3339.to_string(),
    }
}

/// The cases page: the list on one side, the chosen case beside it.
#[component]
pub fn CasesPage() -> impl IntoView {
    // "open" or "closed": which list shows.
    let status = RwSignal::new("open");
    // Bumped after a change that can move cases between the lists.
    let version = RwSignal::new(0u32);
    // The first page comes from the resource; "Load more" appends further pages here.
    let first = LocalResource::new(move || {
        version.track();
        list_cases(status.get().to_string(), 0)
    });
    let more = RwSignal::new(Vec::<CaseSummary>::new());
    let more_total = RwSignal::new(None::<i64>);
    let list_error = RwSignal::new(None::<String>);
    let loading_more = RwSignal::new(false);
    let selected = RwSignal::new(None::<Uuid>);
    let detail_version = RwSignal::new(0u32);

    let first_page = move || first.get().and_then(|r| r.ok());
    let total = move || {
        more_total
            .get()
            .or_else(|| first_page().map(|l| l.total))
            .unwrap_or(0)
    };
    let shown = move || first_page().map(|l| l.cases.len()).unwrap_or(0) + more.with(Vec::len);

    let show = move |s: &'static str| {
        if status.get_untracked() != s {
            status.set(s);
            more.set(Vec::new());
            more_total.set(None);
            list_error.set(None);
        }
    };
    let load_more = move |_| {
        if loading_more.get_untracked() {
            return;
        }
        loading_more.set(true);
        list_error.set(None);
        let offset = shown() as i64;
        let s = status.get_untracked().to_string();
        leptos::task::spawn_local(async move {
            match list_cases(s, offset).await {
                Ok(page) => {
                    more_total.set(Some(page.total));
                    more.update(|v| v.extend(page.cases));
                }
                Err(e) => list_error.set(Some(e.to_string())),
            }
            loading_more.set(false);
        });
    };
    // After a change: refetch the first page and drop the appended ones (they may have moved).
    let changed = move || {
        more.set(Vec::new());
        more_total.set(None);
        version.update(|n| *n += 1);
        detail_version.update(|n| *n += 1);
    };

    let tab = move |s: &'static str, label: &'static str| {
        view! {
            <button
                type="button"
                aria-pressed=move || if status.get() == s { "true" } else { "false" }
                on:click=move |_| show(s)
            >
                {label}
            </button>
        }
    };

    view! {
        <Title text="Cases — Switchboard" />
        <h1>"Cases"</h1>
        <div class="cases">
            <section class="card" aria-labelledby="cases-list-heading">
                <h2 id="cases-list-heading">
                    {move || if status.get() == "open" { "Open cases " } else { "Closed cases " }}
                    <span class="badge">{total}</span>
                </h2>
                <div role="group" aria-label="Case status" class="toggle">
                    {tab("open", "Open")}
                    {tab("closed", "Closed")}
                </div>
                {move || list_error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
                <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || {
                        first.get().map(|r| match r {
                            Err(e) => EitherOf3::A(view! { <p class="error" role="alert">{e.to_string()}</p> }),
                            Ok(page) if page.cases.is_empty() => EitherOf3::B(view! {
                                <p class="empty">
                                    {if status.get_untracked() == "open" { "No open cases." } else { "No closed cases." }}
                                </p>
                            }),
                            Ok(page) => EitherOf3::C(view! {
                                <ul class="case-list" aria-label="Cases">
                                    {page.cases.into_iter().map(|c| view! { <CaseItem case=c selected /> }).collect_view()}
                                    <For
                                        each=move || more.get()
                                        key=|c| c.id
                                        children=move |c| view! { <CaseItem case=c selected /> }
                                    />
                                </ul>
                            }),
                        })
                    }}
                </Suspense>
                {move || (shown() < total() as usize).then(|| view! {
                    <button type="button" on:click=load_more disabled=loading_more>"Load more"</button>
                })}
            </section>
            <section class="card case-detail" aria-labelledby="case-detail-heading">
                <CaseView selected detail_version changed />
            </section>
        </div>
    }
}

/// One case in the list; its button (the person's name) opens it.
#[component]
fn CaseItem(case: CaseSummary, selected: RwSignal<Option<Uuid>>) -> impl IntoView {
    let id = case.id;
    let contact = [case.email, case.phone]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <li class="case" class:selected=move || selected.get() == Some(id)>
            <button
                type="button"
                class="link"
                aria-current=move || (selected.get() == Some(id)).then_some("true")
                on:click=move |_| selected.set(Some(id))
            >
                {case.name}
            </button>
            <span class="contact">{contact}</span>
            <span class="site">{case.site_name}</span>
            <p class="message">{case.message}</p>
            <time datetime=case.created_at.clone()>{short_time(&case.created_at)}</time>
        </li>
    }
}

/// The chosen case: who, what, notes, "Add note", "Close case" / "Reopen case".
#[component]
fn CaseView(
    selected: RwSignal<Option<Uuid>>,
    detail_version: RwSignal<u32>,
    changed: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let detail = LocalResource::new(move || {
        detail_version.track();
        let id = selected.get();
        async move {
            match id {
                Some(id) => case_detail(id).await.map(Some),
                None => Ok(None),
            }
        }
    });
    view! {
        <Suspense fallback=|| view! {
            <h2 id="case-detail-heading">"Case"</h2>
            <p class="loading">"Loading…"</p>
        }>
            {move || {
                detail.get().map(|r| match r {
                    Ok(Some(d)) => EitherOf3::A(view! { <CaseBody detail=d detail_version changed /> }),
                    Ok(None) => EitherOf3::B(view! {
                        <h2 id="case-detail-heading">"Case"</h2>
                        <p class="empty">"Choose a case to see its notes."</p>
                    }),
                    Err(e) => EitherOf3::C(view! {
                        <h2 id="case-detail-heading">"Case"</h2>
                        <p class="error" role="alert">{e.to_string()}</p>
                    }),
                })
            }}
        </Suspense>
    }
}

/// A loaded case with its actions. A note refetches only the case; closing or reopening
/// (`changed`) also the list.
#[component]
fn CaseBody(
    detail: CaseDetail,
    detail_version: RwSignal<u32>,
    changed: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let CaseDetail {
        summary,
        message,
        notes,
    } = detail;
    let id = summary.id;
    let open = summary.status == "open";
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let add_note = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        error.set(None);
        let body = note.get_untracked();
        leptos::task::spawn_local(async move {
            match add_case_note(id, body).await {
                Ok(()) => {
                    note.set(String::new());
                    detail_version.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            pending.set(false);
        });
    };
    let toggle = move |_| {
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        error.set(None);
        let to = if open { "closed" } else { "open" };
        leptos::task::spawn_local(async move {
            match set_case_status(id, to.to_string()).await {
                Ok(()) => changed(),
                Err(e) => error.set(Some(e.to_string())),
            }
            pending.set(false);
        });
    };
    let contact = [summary.email.clone(), summary.phone.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");

    view! {
        <h2 id="case-detail-heading">{summary.name.clone()}</h2>
        <p class="case-meta">
            <span class="contact">{contact}</span>
            " — "
            <span class="site">{summary.site_name.clone()}</span>
            " — "
            <time datetime=summary.created_at.clone()>{short_time(&summary.created_at)}</time>
            " — "
            <span class=format!("status-{}", summary.status)>
                {if open { "Open" } else { "Closed" }}
            </span>
        </p>
        <p class="case-message">{message}</p>
        <button type="button" on:click=toggle disabled=pending>
            {if open { "Close case" } else { "Reopen case" }}
        </button>
        {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        <h3>"Notes"</h3>
        {if notes.is_empty() {
            Either::Left(view! { <p class="empty">"No notes yet."</p> })
        } else {
            Either::Right(view! {
                <ol class="notes" aria-label="Notes">
                    {notes.into_iter().map(|n| view! { <Note note=n /> }).collect_view()}
                </ol>
            })
        }}
        <form class="stacked" on:submit=add_note>
            <label for="case-note">"Note"</label>
            <textarea
                id="case-note"
                name="body"
                rows="3"
                maxlength="5000"
                required
                prop:value=note
                on:input=move |ev| note.set(event_target_value(&ev))
            ></textarea>
            <button type="submit" class="primary" disabled=pending>"Add note"</button>
        </form>
    }
}

/// One note; a transcript path in it becomes an "Open transcript" link.
#[component]
fn Note(note: CaseNote) -> impl IntoView {
    let body = match transcript_link(&note.body) {
        Some((before, href, after)) => Either::Left(view! {
            {before.to_string()}
            <a href=href.to_string()>"Open transcript"</a>
            {after.to_string()}
        }),
        None => Either::Right(note.body.clone()),
    };
    view! {
        <li class="note">
            <p class="note-meta">
                <strong>{note.author_name}</strong>
                " · "
                <time datetime=note.created_at.clone()>{short_time(&note.created_at)}</time>
            </p>
            <p class="note-body">{body}</p>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transcript_path_is_found_in_a_note() {
        let id = Uuid::from_u128(42);
        let body = format!("Transcript: /agent/c/{id}");
        let (before, href, after) = transcript_link(&body).unwrap();
        assert_eq!(before, "Transcript: ");
        assert_eq!(href, format!("/agent/c/{id}"));
        assert_eq!(after, "");
        let body = format!("see /agent/c/{id}, then call");
        assert_eq!(transcript_link(&body).unwrap().2, ", then call");
    }

    #[test]
    fn other_notes_have_no_link() {
        assert!(transcript_link("Called back, all good.").is_none());
        assert!(transcript_link("/agent/c/not-a-uuid").is_none());
        assert!(transcript_link("/agent/c/1234").is_none());
        assert!(transcript_link("é/agent/c/ééééééééééééééééééééééééééééééééééééééé").is_none());
    }

    #[test]
    fn times_are_shown_in_minutes() {
        assert_eq!(
            short_time("2026-11-21T10:03:04.123Z"),
            "2026-11-21 10:03 UTC"
        );
        assert_eq!(short_time("garbage"), "garbage");
    }
}
