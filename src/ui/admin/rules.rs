//! `/admin/rules`: per site, the assignment mode (off, round robin, least busy), the transfer
//! rule for level-2 specialists, and the first-response and resolution targets whose
//! passing flags chats "Overdue" in the agents' lists.

use super::form::{field_error, form_error};
use crate::api::admin::{list_sites, SiteInfo};
use crate::api::site_rules::{site_rules, RulesInfo, SaveRules, SaveTargets};
use crate::error::AppError;
use crate::ui::layout::ErrorView;
use leptos::either::Either;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

/// The assignment modes as the select shows them.
const MODES: [(&str, &str); 3] = [
    ("off", "Off: agents take chats themselves"),
    (
        "round_robin",
        "Round robin: the agent who got a chat longest ago",
    ),
    (
        "least_busy",
        "Least busy: the agent with the fewest open chats",
    ),
];

/// The live sites and the rules of the chosen one (or of the first live site when none is
/// chosen yet; `None` when there are no sites).
async fn rules_for(chosen: Option<Uuid>) -> Result<(Vec<SiteInfo>, Option<RulesInfo>), AppError> {
    let sites: Vec<SiteInfo> = list_sites()
        .await?
        .into_iter()
        .filter(|s| !s.archived)
        .collect();
    let site = chosen.or_else(|| sites.first().map(|s| s.id));
    match site {
        Some(id) => Ok((sites, Some(site_rules(id).await?))),
        None => Ok((sites, None)),
    }
}

/// The assignment and targets page.
#[component]
pub fn AdminRules() -> impl IntoView {
    let save_rules = ServerAction::<SaveRules>::new();
    let save_targets = ServerAction::<SaveTargets>::new();
    let chosen = RwSignal::new(None::<Uuid>);
    // Refetched only after successful saves: a refused one keeps what the admin typed.
    let data = Resource::new(
        move || {
            (
                chosen.get(),
                save_rules
                    .value()
                    .get()
                    .and_then(|r| r.ok())
                    .map(|r| r.version),
                save_targets
                    .value()
                    .get()
                    .and_then(|r| r.ok())
                    .map(|r| r.version),
            )
        },
        |(site, ..)| rules_for(site),
    );
    // Switching site: what the last save said belongs to the other site.
    Effect::new(move |prev: Option<Option<Uuid>>| {
        let now = chosen.get();
        if prev.is_some_and(|p| p != now) {
            save_rules.clear();
            save_targets.clear();
        }
        now
    });
    let rules_error = move || save_rules.value().get().and_then(|r| r.err());
    let targets_error = move || save_targets.value().get().and_then(|r| r.err());

    view! {
        <Title text="Assignment and targets — Switchboard" />
        <h1>"Assignment and targets"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((sites, Some(rules))) => {
                        let site_id = rules.site_id;
                        let version = rules.version;
                        let minutes = |m: Option<i32>| m.map(|m| m.to_string()).unwrap_or_default();
                        Either::Left(view! {
                            <label for="rules-site">"Site"</label>
                            <select
                                id="rules-site"
                                on:change=move |ev| chosen.set(event_target_value(&ev).parse().ok())
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
                            <section class="card" aria-labelledby="rules-heading">
                                <h2 id="rules-heading">"Assignment and transfer"</h2>
                                <ActionForm action=save_rules attr:class="stacked">
                                    <input type="hidden" name="site_id" value=site_id.to_string() />
                                    <input type="hidden" name="version" value=version.to_string() />
                                    <label for="assignment-mode">"Assignment mode"</label>
                                    <select
                                        id="assignment-mode"
                                        name="assignment_mode"
                                        aria-describedby="assignment-mode-hint"
                                    >
                                        {MODES
                                            .iter()
                                            .map(|(value, label)| {
                                                view! {
                                                    <option value=*value selected=rules.assignment_mode == *value>
                                                        {*label}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                    <p class="hint" id="assignment-mode-hint">
                                        "Chats go only to agents who are available, connected and under their cap of simultaneous chats. Turning assignment on hands out the chats already waiting."
                                    </p>
                                    {move || field_error(rules_error(), "assignment_mode")}
                                    <label class="checkbox">
                                        <input
                                            type="checkbox"
                                            name="allow_direct_level2"
                                            checked=rules.allow_direct_level2
                                        />
                                        "Allow choosing a level-2 agent directly"
                                    </label>
                                    <p class="hint">
                                        "Otherwise a transfer reaches level-2 specialists only through their group."
                                    </p>
                                    {move || form_error(rules_error())}
                                    <button
                                        type="submit"
                                        class="primary"
                                        disabled=move || save_rules.pending().get()
                                    >
                                        "Save rules"
                                    </button>
                                    {move || {
                                        save_rules
                                            .value()
                                            .get()
                                            .and_then(|r| r.ok())
                                            .map(|_| view! { <p class="ok" role="status">"Rules saved."</p> })
                                    }}
                                </ActionForm>
                            </section>
                            <section class="card" aria-labelledby="targets-heading">
                                <h2 id="targets-heading">"Response-time targets"</h2>
                                <ActionForm action=save_targets attr:class="stacked">
                                    <input type="hidden" name="site_id" value=site_id.to_string() />
                                    <input type="hidden" name="version" value=version.to_string() />
                                    <label for="first-response-minutes">
                                        "First-response target (minutes)"
                                    </label>
                                    <input
                                        id="first-response-minutes"
                                        name="first_response_minutes"
                                        inputmode="numeric"
                                        aria-describedby="targets-hint"
                                        value=minutes(rules.first_response_minutes)
                                    />
                                    {move || field_error(targets_error(), "first_response_minutes")}
                                    <label for="resolution-minutes">"Resolution target (minutes)"</label>
                                    <input
                                        id="resolution-minutes"
                                        name="resolution_minutes"
                                        inputmode="numeric"
                                        aria-describedby="targets-hint"
                                        value=minutes(rules.resolution_minutes)
                                    />
                                    {move || field_error(targets_error(), "resolution_minutes")}
                                    <p class="hint" id="targets-hint">
                                        "Leave a target empty for none. A waiting chat past the first-response target, or an open chat past the resolution target, shows as \u{201c}Overdue\u{201d} in the agents' lists."
                                    </p>
                                    {move || form_error(targets_error())}
                                    <button
                                        type="submit"
                                        class="primary"
                                        disabled=move || save_targets.pending().get()
                                    >
                                        "Save targets"
                                    </button>
                                    {move || {
                                        save_targets
                                            .value()
                                            .get()
                                            .and_then(|r| r.ok())
                                            .map(|_| view! { <p class="ok" role="status">"Targets saved."</p> })
                                    }}
                                </ActionForm>
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
