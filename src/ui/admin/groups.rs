//! `/admin/groups`: per site, create groups and associate agents at a specialist level
//! (level 1 serves visitor-initiated chats, level 2 only transferred ones); remove them.

use super::sites::groups_for;
use crate::api::admin::{list_sites, AddGroupMember, CreateGroup, GroupInfo, RemoveGroupMember};
use crate::api::users::list_users;
use crate::error::AppError;
use crate::model::UserInfo;
use crate::ui::layout::ErrorView;
use leptos::either::Either;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

/// The level names, as the select shows them.
const LEVELS: [(i16, &str); 2] = [
    (1, "Level 1: serves visitor-initiated chats"),
    (2, "Level 2: only transferred chats"),
];

/// The groups page.
#[component]
pub fn AdminGroups() -> impl IntoView {
    let create = ServerAction::<CreateGroup>::new();
    let add = ServerAction::<AddGroupMember>::new();
    let remove = ServerAction::<RemoveGroupMember>::new();
    let chosen = RwSignal::new(None::<Uuid>);
    let sites = Resource::new(|| (), |_| list_sites());
    let users = Resource::new(|| (), |_| list_users());
    let groups = Resource::new(
        move || {
            (
                chosen.get(),
                create.version().get(),
                add.version().get(),
                remove.version().get(),
            )
        },
        |(site, ..)| groups_for(site),
    );
    // The latest action's error, if it failed.
    let action_error = move || {
        let failed = |v: Option<Result<(), AppError>>| v.and_then(|r| r.err());
        failed(add.value().get())
            .or_else(|| failed(remove.value().get()))
            .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    };
    let create_error = move || {
        create
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <p class="field-error" role="alert">{e.to_string()}</p> })
    };
    let created = move || {
        create.value().get().and_then(|r| r.ok()).map(|g| {
            view! { <p class="ok" role="status">{format!("Created group {}.", g.name)}</p> }
        })
    };

    view! {
        <Title text="Groups — Switchboard" />
        <h1>"Groups and specialists"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (sites.await, users.await, groups.await) {
                    (Ok(sites), Ok(users), Ok((Some(site_id), groups))) => {
                        let agents: Vec<UserInfo> = users.into_iter().filter(|u| u.active).collect();
                        let site_name = sites
                            .iter()
                            .find(|s| s.id == site_id)
                            .map(|s| s.name.clone())
                            .unwrap_or_default();
                        Either::Left(
                            view! {
                                <label for="group-site">"Site"</label>
                                <select
                                    id="group-site"
                                    on:change=move |ev| {
                                        chosen.set(event_target_value(&ev).parse().ok());
                                    }
                                >
                                    {sites
                                        .into_iter()
                                        .filter(|s| !s.archived)
                                        .map(|s| {
                                            view! {
                                                <option value=s.id.to_string() selected=s.id == site_id>
                                                    {s.name}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                                <section class="card" aria-labelledby="create-group-heading">
                                    <h2 id="create-group-heading">{format!("Create group in {site_name}")}</h2>
                                    <ActionForm action=create attr:class="stacked">
                                        <input type="hidden" name="site_id" value=site_id.to_string() />
                                        <label for="new-group-name">"Group name"</label>
                                        <input id="new-group-name" name="name" required maxlength="80" />
                                        {create_error}
                                        <button type="submit" class="primary">"Create group"</button>
                                        {created}
                                    </ActionForm>
                                </section>
                                {action_error}
                                {if groups.is_empty() {
                                    Either::Left(view! { <p>"This site has no groups yet."</p> })
                                } else {
                                    Either::Right(
                                        groups
                                            .into_iter()
                                            .map(|g| {
                                                view! { <GroupCard group=g agents=agents.clone() add remove /> }
                                            })
                                            .collect_view(),
                                    )
                                }}
                            },
                        )
                    }
                    (Ok(_), Ok(_), Ok((None, _))) => Either::Right(Either::Left(view! {
                        <p>
                            "There are no sites yet. " <a href="/admin/sites">"Create a site"</a>
                            " first."
                        </p>
                    })),
                    (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                        Either::Right(Either::Right(view! { <ErrorView error=e /> }))
                    }
                }
            })}
        </Transition>
    }
}

/// One group: its members with their levels, and the form adding one.
#[component]
fn GroupCard(
    group: GroupInfo,
    agents: Vec<UserInfo>,
    add: ServerAction<AddGroupMember>,
    remove: ServerAction<RemoveGroupMember>,
) -> impl IntoView {
    let group_id = group.id;
    let heading = format!("group-{group_id}");
    let agent_field = format!("agent-{group_id}");
    let level_field = format!("level-{group_id}");
    view! {
        <section class="card group" aria-labelledby=heading.clone()>
            <h2 id=heading.clone()>{group.name}</h2>
            {if group.members.is_empty() {
                Either::Left(view! { <p>"No members yet."</p> })
            } else {
                Either::Right(view! {
                    <ul class="members">
                        {group
                            .members
                            .into_iter()
                            .map(|m| {
                                let user_id = m.user_id;
                                let level = LEVELS
                                    .iter()
                                    .find(|(l, _)| *l == m.level)
                                    .map(|(_, name)| *name)
                                    .unwrap_or("");
                                view! {
                                    <li>
                                        <span class="member-name">{m.name.clone()}</span>
                                        " — "
                                        <span class="member-level">{level}</span>
                                        <button on:click=move |_| {
                                            remove.dispatch(RemoveGroupMember { group_id, user_id });
                                        }>{format!("Remove {}", m.name)}</button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                })
            }}
            <ActionForm action=add attr:class="inline">
                <input type="hidden" name="group_id" value=group_id.to_string() />
                <label for=agent_field.clone()>"Agent"</label>
                <select id=agent_field name="user_id" required>
                    {agents
                        .into_iter()
                        .map(|a| view! { <option value=a.id.to_string()>{a.name}</option> })
                        .collect_view()}
                </select>
                <label for=level_field.clone()>"Level"</label>
                <select id=level_field name="level">
                    {LEVELS
                        .iter()
                        .map(|(l, name)| view! { <option value=l.to_string()>{*name}</option> })
                        .collect_view()}
                </select>
                <button type="submit">"Add to group"</button>
            </ActionForm>
        </section>
    }
}
