//! `/admin/sites`: create, rename and archive sites; each site's key, embed snippet, allowed
//! origins, guest mode and identity secret.

use crate::api::admin::{
    list_groups, list_sites, ArchiveSite, CreateSite, GroupInfo, RotateIdentitySecret, SaveSite,
    SiteInfo,
};
use crate::error::AppError;
use crate::ui::layout::ErrorView;
use leptos::either::Either;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

/// The groups of the chosen site, or of the first live one when none is chosen yet; with
/// the site they belong to (`None`: there are no sites).
pub(super) async fn groups_for(
    chosen: Option<Uuid>,
) -> Result<(Option<Uuid>, Vec<GroupInfo>), AppError> {
    let site = match chosen {
        Some(id) => Some(id),
        None => list_sites()
            .await?
            .into_iter()
            .find(|s| !s.archived)
            .map(|s| s.id),
    };
    match site {
        Some(id) => Ok((Some(id), list_groups(id).await?)),
        None => Ok((None, Vec::new())),
    }
}

/// An inline error for one field of a form, if the action's last result failed on it.
fn field_error(
    error: impl Fn() -> Option<AppError> + Send + Sync + 'static,
    field: &'static str,
) -> impl IntoView {
    move || {
        error()
            .filter(|e| e.field() == Some(field))
            .map(|e| view! { <p class="field-error" role="alert">{e.to_string()}</p> })
    }
}

/// The sites page.
#[component]
pub fn AdminSites() -> impl IntoView {
    let create = ServerAction::<CreateSite>::new();
    let save = ServerAction::<SaveSite>::new();
    let archive = ServerAction::<ArchiveSite>::new();
    let rotate = ServerAction::<RotateIdentitySecret>::new();
    let chosen = RwSignal::new(None::<Uuid>);
    // Refetched only after successful changes: a refused save keeps what the admin typed.
    let sites = Resource::new(
        move || {
            (
                create.value().get().and_then(|r| r.ok()).map(|s| s.id),
                save.value()
                    .get()
                    .and_then(|r| r.ok())
                    .map(|s| (s.id, s.version)),
                archive.version().get(),
            )
        },
        |_| list_sites(),
    );
    let groups = Resource::new(move || chosen.get(), groups_for);
    // A new site becomes the chosen one.
    Effect::new(move |_| {
        if let Some(Ok(s)) = create.value().get() {
            chosen.set(Some(s.id));
        }
    });

    let create_err = move || create.value().get().and_then(|r| r.err());
    let create_form_error = move || {
        create_err()
            .filter(|e| e.field().is_none())
            .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    };
    let created = move || {
        create.value().get().and_then(|r| r.ok()).map(|s| {
            view! { <p class="ok" role="status">{format!("Created {}.", s.name)}</p> }
        })
    };

    view! {
        <Title text="Sites — Switchboard" />
        <h1>"Sites"</h1>
        <section class="card" aria-labelledby="create-site-heading">
            <h2 id="create-site-heading">"Create site"</h2>
            <ActionForm action=create attr:class="stacked">
                <label for="new-site-name">"Site name"</label>
                <input id="new-site-name" name="name" required maxlength="120" />
                {field_error(create_err, "name")}
                {create_form_error}
                <button type="submit" class="primary" disabled=move || create.pending().get()>
                    "Create site"
                </button>
                {created}
            </ActionForm>
        </section>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (sites.await, groups.await) {
                    (Ok(list), Ok((group_site, group_list))) => {
                        let current = chosen
                            .get_untracked()
                            .or(group_site)
                            .and_then(|id| list.iter().find(|s| s.id == id).cloned())
                            .or_else(|| list.iter().find(|s| !s.archived).cloned());
                        // The guest group choices belong to the site shown.
                        let group_list = if current.as_ref().map(|s| s.id) == group_site {
                            group_list
                        } else {
                            Vec::new()
                        };
                        let current_id = current.as_ref().map(|s| s.id);
                        Either::Left(
                            view! {
                                <section aria-labelledby="sites-heading">
                                    <h2 id="sites-heading">"All sites"</h2>
                                    <ul class="site-list">
                                        {list
                                            .into_iter()
                                            .map(|s| {
                                                let id = s.id;
                                                view! {
                                                    <li>
                                                        <button
                                                            aria-pressed=if current_id == Some(id) { "true" } else { "false" }
                                                            on:click=move |_| {
                                                                // Re-choosing the shown site would reload its form for nothing.
                                                                if current_id != Some(id) {
                                                                    chosen.set(Some(id));
                                                                }
                                                            }
                                                        >
                                                            {s.name}
                                                        </button>
                                                        {s.archived.then_some(" (archived)")}
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                </section>
                                {current
                                    .map(|site| {
                                        view! { <SiteEditor site groups=group_list save archive rotate /> }
                                    })}
                            },
                        )
                    }
                    (Err(e), _) | (_, Err(e)) => Either::Right(view! { <ErrorView error=e /> }),
                }
            })}
        </Transition>
    }
}

/// Copies `text` to the clipboard (`navigator.clipboard.writeText`); `false` if the browser
/// has no clipboard access (insecure context).
#[cfg(feature = "browser")]
fn copy_to_clipboard(text: &str) -> bool {
    use wasm_bindgen::JsCast;
    // Through Reflect: web-sys's Clipboard binding is a feature this crate does not enable.
    (|| -> Option<()> {
        let navigator = web_sys::window()?.navigator();
        let clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).ok()?;
        let write = js_sys::Reflect::get(&clipboard, &"writeText".into())
            .ok()?
            .dyn_into::<js_sys::Function>()
            .ok()?;
        write.call1(&clipboard, &text.into()).ok()?;
        Some(())
    })()
    .is_some()
}

#[cfg(not(feature = "browser"))]
fn copy_to_clipboard(_text: &str) -> bool {
    false
}

/// The snippet as the "Embed snippet" box shows it.
#[cfg(feature = "browser")]
fn shown_snippet() -> Option<String> {
    use wasm_bindgen::JsCast;
    let el = leptos::prelude::document().get_element_by_id("embed-snippet")?;
    js_sys::Reflect::get(el.unchecked_ref(), &"value".into())
        .ok()?
        .as_string()
}

#[cfg(not(feature = "browser"))]
fn shown_snippet() -> Option<String> {
    None
}

/// One site's settings.
#[component]
fn SiteEditor(
    site: SiteInfo,
    groups: Vec<GroupInfo>,
    save: ServerAction<SaveSite>,
    archive: ServerAction<ArchiveSite>,
    rotate: ServerAction<RotateIdentitySecret>,
) -> impl IntoView {
    let id = site.id;
    let version = site.version;
    let copied = RwSignal::new(None::<bool>);
    let snippet = site.embed_snippet.clone();
    // Copies what the box shows (read at click time), so the copy always matches the screen.
    let copy = move |_| {
        copied.set(Some(copy_to_clipboard(
            &shown_snippet().unwrap_or_else(|| snippet.clone()),
        )))
    };
    let rotated_for = RwSignal::new(None::<Uuid>);
    let saved = move || {
        save.value()
            .get()
            .and_then(|r| r.ok())
            .filter(|s| s.id == id)
            .map(|_| view! { <p class="ok" role="status">"Saved."</p> })
    };
    let save_err = move || save.value().get().and_then(|r| r.err());
    let save_error = move || {
        save_err()
            .filter(|e| e.field().is_none())
            .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    };
    let archive_error = move || {
        archive
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    };
    let secret = move || match rotate.value().get() {
        Some(Ok(secret)) if rotated_for.get() == Some(id) => Some(Either::Left(view! {
            <p class="ok" role="status">
                "New identity secret (shown only now; the old one no longer verifies): "
                <code>{secret}</code>
            </p>
        })),
        Some(Err(e)) if rotated_for.get() == Some(id) => Some(Either::Right(
            view! { <p class="error" role="alert">{e.to_string()}</p> },
        )),
        _ => None,
    };
    let guest_group = site.guest_group_id;
    let origins = site.allowed_origins.join("\n");

    view! {
        <section class="card" aria-labelledby="site-heading">
            <h2 id="site-heading">{site.name.clone()}</h2>
            {site.archived.then(|| view! { <p>"This site is archived; its widget no longer loads."</p> })}
            <p>
                "Site key: " <code class="site-key">{site.key.clone()}</code>
            </p>
            <label for="embed-snippet">"Embed snippet"</label>
            // `prop:value`: child text is only a textarea's default value, which a client-side
            // render (another site chosen) would not show.
            <textarea
                id="embed-snippet"
                readonly
                rows="2"
                class="snippet"
                prop:value=site.embed_snippet.clone()
            ></textarea>
            <button type="button" on:click=copy>"Copy snippet"</button>
            {move || match copied.get() {
                Some(true) => Some(Either::Left(view! { <p class="ok" role="status">"Snippet copied."</p> })),
                Some(false) => Some(Either::Right(view! {
                    <p class="error" role="alert">
                        "Copying is not available here; select the snippet and copy it."
                    </p>
                })),
                None => None,
            }}
            <ActionForm action=save attr:class="stacked">
                <input type="hidden" name="id" value=id.to_string() />
                <input type="hidden" name="version" value=version.to_string() />
                <label for="site-name">"Name"</label>
                <input id="site-name" name="name" required maxlength="120" value=site.name.clone() />
                {field_error(save_err, "name")}
                <label for="allowed-origins">"Allowed origins"</label>
                <p class="hint" id="allowed-origins-hint">
                    "One per line, like https://shop.example.com or http://localhost:3000. Empty: any site may embed the widget."
                </p>
                <textarea
                    id="allowed-origins"
                    name="allowed_origins"
                    rows="4"
                    aria-describedby="allowed-origins-hint"
                    // A property, not child text: a textarea's text children are only its
                    // default value, which a client-side render does not show.
                    prop:value=origins
                ></textarea>
                {field_error(save_err, "allowed_origins")}
                <label class="checkbox">
                    <input type="checkbox" name="guest_mode" checked=site.guest_mode />
                    "Guest mode"
                </label>
                <label for="guest-group">"Guest group"</label>
                <select id="guest-group" name="guest_group">
                    <option value="" selected=guest_group.is_none()>
                        "No group"
                    </option>
                    {groups
                        .into_iter()
                        .map(|g| {
                            let selected = guest_group == Some(g.id);
                            let n = g.members.len();
                            let label = format!(
                                "{} ({n} {})",
                                g.name,
                                if n == 1 { "member" } else { "members" },
                            );
                            view! {
                                <option value=g.id.to_string() selected=selected>
                                    {label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                {field_error(save_err, "guest_group")}
                {save_error}
                <button type="submit" class="primary" disabled=move || save.pending().get()>
                    "Save site"
                </button>
                {saved}
            </ActionForm>
            <h3>"Identity verification"</h3>
            <p>
                "Your server signs each visitor's user id with this secret (HMAC-SHA256). It is shown only when rotated."
            </p>
            <button
                type="button"
                disabled=move || rotate.pending().get()
                on:click=move |_| {
                    rotated_for.set(Some(id));
                    rotate.dispatch(RotateIdentitySecret { id });
                }
            >
                "Rotate identity secret"
            </button>
            {secret}
            {(!site.archived)
                .then(|| {
                    view! {
                        <h3>"Archive"</h3>
                        <button
                            type="button"
                            class="danger"
                            disabled=move || archive.pending().get()
                            on:click=move |_| {
                                archive.dispatch(ArchiveSite { id, version });
                            }
                        >
                            "Archive site"
                        </button>
                    }
                })}
            {archive_error}
        </section>
    }
}
