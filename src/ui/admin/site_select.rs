//! The "Site" select at the top of the per-site settings pages. It starts on the first live
//! site, so a page shows something useful without a click.

use crate::api::admin::list_sites;
use leptos::prelude::*;
use uuid::Uuid;

/// A labelled select of the live sites, writing the choice to `chosen` (set to the first
/// site once the list arrives, when nothing was chosen yet).
#[component]
pub fn SiteSelect(chosen: RwSignal<Option<Uuid>>) -> impl IntoView {
    let sites = LocalResource::new(list_sites);
    Effect::new(move |_| {
        if chosen.get_untracked().is_none() {
            if let Some(Ok(list)) = sites.get() {
                if let Some(first) = list.iter().find(|s| !s.archived) {
                    chosen.set(Some(first.id));
                }
            }
        }
    });
    view! {
        <p class="site-select">
            <label for="settings-site">"Site"</label>
            <select
                id="settings-site"
                on:change=move |ev| chosen.set(event_target_value(&ev).parse().ok())
            >
                {move || {
                    sites
                        .get()
                        .and_then(Result::ok)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|s| !s.archived)
                        .map(|s| {
                            let selected = chosen.get() == Some(s.id);
                            view! {
                                <option value=s.id.to_string() selected=selected>
                                    {s.name}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
        </p>
    }
}
