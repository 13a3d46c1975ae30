//! `/admin/canned`: per site, the site-wide responses every agent of the site inserts with
//! "/" in the composer: list, add, edit, delete.

use super::form::{field_error, form_error};
use crate::api::admin::{list_sites, SiteInfo};
use crate::api::canned::{
    site_canned, Canned, CreateSiteCanned, DeleteSiteCanned, UpdateSiteCanned,
};
use crate::error::AppError;
use crate::ui::layout::ErrorView;
use leptos::either::Either;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

/// The live sites, the chosen one (else the first) and its responses (`None`: no sites).
async fn canned_for(
    chosen: Option<Uuid>,
) -> Result<(Vec<SiteInfo>, Option<(Uuid, Vec<Canned>)>), AppError> {
    let sites: Vec<SiteInfo> = list_sites()
        .await?
        .into_iter()
        .filter(|s| !s.archived)
        .collect();
    match chosen.or_else(|| sites.first().map(|s| s.id)) {
        Some(id) => Ok((sites, Some((id, site_canned(id).await?)))),
        None => Ok((sites, None)),
    }
}

/// The site canned responses page.
#[component]
pub fn AdminCanned() -> impl IntoView {
    let create = ServerAction::<CreateSiteCanned>::new();
    let update = ServerAction::<UpdateSiteCanned>::new();
    let delete = ServerAction::<DeleteSiteCanned>::new();
    let chosen = RwSignal::new(None::<Uuid>);
    // The response whose edit form is open.
    let editing = RwSignal::new(None::<Uuid>);
    // A saved edit closes its form.
    Effect::new(move |_| {
        if let Some(Ok(_)) = update.value().get() {
            editing.set(None);
        }
    });
    // Refetched after successful changes only: a refused one keeps what the admin typed.
    let data = Resource::new(
        move || {
            (
                chosen.get(),
                create.value().get().and_then(|r| r.ok()).map(|c| c.id),
                update
                    .value()
                    .get()
                    .and_then(|r| r.ok())
                    .map(|c| (c.id, c.shortcut, c.body)),
                delete.version().get(),
            )
        },
        |(site, ..)| canned_for(site),
    );
    let create_error = move || create.value().get().and_then(|r| r.err());
    let delete_error = move || {
        delete
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    };
    let created = move || {
        create.value().get().and_then(|r| r.ok()).map(|c| {
            view! { <p class="ok" role="status">{format!("Added /{}.", c.shortcut)}</p> }
        })
    };

    view! {
        <Title text="Site canned responses — Switchboard" />
        <h1>"Site canned responses"</h1>
        <p class="hint">
            "Every agent of the site inserts these by typing \u{201c}/\u{201d} and the shortcut in the composer. The text may use {{visitor.name}} and {{agent.name}}."
        </p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((sites, Some((site_id, responses)))) => {
                        let site_name = sites
                            .iter()
                            .find(|s| s.id == site_id)
                            .map(|s| s.name.clone())
                            .unwrap_or_default();
                        Either::Left(view! {
                            <label for="canned-site">"Site"</label>
                            <select
                                id="canned-site"
                                on:change=move |ev| {
                                    create.clear();
                                    update.clear();
                                    editing.set(None);
                                    delete.clear();
                                    chosen.set(event_target_value(&ev).parse().ok());
                                }
                            >
                                {sites
                                    .into_iter()
                                    .map(|s| {
                                        view! {
                                            <option value=s.id.to_string() selected=s.id == site_id>
                                                {s.name}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                            <section class="card" aria-labelledby="add-canned-heading">
                                <h2 id="add-canned-heading">{format!("Add a response to {site_name}")}</h2>
                                <ActionForm action=create attr:class="stacked">
                                    <input type="hidden" name="site_id" value=site_id.to_string() />
                                    <label for="new-canned-shortcut">"Shortcut"</label>
                                    <input
                                        id="new-canned-shortcut"
                                        name="shortcut"
                                        required
                                        maxlength="33"
                                        aria-describedby="new-canned-shortcut-hint"
                                    />
                                    <p class="hint" id="new-canned-shortcut-hint">
                                        "Letters a–z, digits, \u{201c}-\u{201d} and \u{201c}_\u{201d}; agents type it after \u{201c}/\u{201d}."
                                    </p>
                                    {move || field_error(create_error(), "shortcut")}
                                    <label for="new-canned-body">"Text"</label>
                                    <textarea id="new-canned-body" name="body" rows="3" required maxlength="5000"></textarea>
                                    {move || field_error(create_error(), "body")}
                                    {move || form_error(create_error())}
                                    <button type="submit" class="primary" disabled=move || create.pending().get()>
                                        "Add response"
                                    </button>
                                    {created}
                                </ActionForm>
                            </section>
                            <section aria-labelledby="site-canned-heading">
                                <h2 id="site-canned-heading">{format!("Responses of {site_name}")}</h2>
                                {delete_error}
                                {if responses.is_empty() {
                                    Either::Left(view! { <p>"This site has no canned responses yet."</p> })
                                } else {
                                    Either::Right(view! {
                                        <ul class="canned-list" aria-label="Site canned responses">
                                            {responses
                                                .into_iter()
                                                .map(|c| view! { <ResponseItem canned=c update delete editing /> })
                                                .collect_view()}
                                        </ul>
                                    })
                                }}
                            </section>
                        })
                    }
                    Ok((_, None)) => Either::Right(Either::Left(view! {
                        <p>
                            "There are no sites yet. " <a href="/admin/sites">"Create a site"</a>
                            " first."
                        </p>
                    })),
                    Err(e) => Either::Right(Either::Right(view! { <ErrorView error=e /> })),
                }
            })}
        </Transition>
    }
}

/// One response: its shortcut and text, "Edit" (an inline form; one open at a time, so
/// the update's errors belong to it) and "Delete".
#[component]
fn ResponseItem(
    canned: Canned,
    update: ServerAction<UpdateSiteCanned>,
    delete: ServerAction<DeleteSiteCanned>,
    editing: RwSignal<Option<Uuid>>,
) -> impl IntoView {
    let id = canned.id;
    let version = canned.version;
    let open = move || editing.get() == Some(id);
    let shortcut = canned.shortcut.clone();
    let error = move || update.value().get().and_then(|r| r.err());
    let shortcut_id = format!("canned-shortcut-{id}");
    let body_id = format!("canned-body-{id}");
    view! {
        <li class="canned-item">
            <code>{format!("/{shortcut}")}</code>
            <p class="canned-body">{canned.body.clone()}</p>
            <div class="actions">
                <button
                    type="button"
                    aria-label=format!("Edit /{shortcut}")
                    aria-expanded=move || if open() { "true" } else { "false" }
                    on:click=move |_| {
                        update.clear();
                        editing.set(if open() { None } else { Some(id) });
                    }
                >
                    "Edit"
                </button>
                <button
                    type="button"
                    aria-label=format!("Delete /{shortcut}")
                    on:click=move |_| {
                        delete.dispatch(DeleteSiteCanned { id });
                    }
                >
                    "Delete"
                </button>
            </div>
            {move || {
                open()
                    .then(|| {
                        let shortcut_id = shortcut_id.clone();
                        let body_id = body_id.clone();
                        let (shortcut, body) = (canned.shortcut.clone(), canned.body.clone());
                        view! {
                            <ActionForm action=update attr:class="stacked">
                                <input type="hidden" name="id" value=id.to_string() />
                                <input type="hidden" name="version" value=version.to_string() />
                                <label for=shortcut_id.clone()>"Shortcut"</label>
                                <input
                                    id=shortcut_id
                                    name="shortcut"
                                    required
                                    maxlength="33"
                                    value=shortcut
                                />
                                {move || field_error(error(), "shortcut")}
                                <label for=body_id.clone()>"Text"</label>
                                <textarea id=body_id name="body" rows="3" required maxlength="5000">
                                    {body}
                                </textarea>
                                {move || field_error(error(), "body")}
                                {move || form_error(error())}
                                <button type="submit" class="primary" disabled=move || update.pending().get()>
                                    "Save response"
                                </button>
                            </ActionForm>
                        }
                    })
            }}
        </li>
    }
}
