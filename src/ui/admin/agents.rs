//! `/admin/agents`: create staff accounts; edit name, email and cap of simultaneous chats;
//! change roles, deactivate and reactivate.

use crate::api::users::{list_users, ChangeRole, CreateUser, SaveUser, SetUserActive};
use crate::error::AppError;
use crate::model::{Role, UserInfo};
use crate::ui::layout::ErrorView;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

/// The agents page.
#[component]
pub fn AdminAgents() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let change_role = ServerAction::<ChangeRole>::new();
    let set_active = ServerAction::<SetUserActive>::new();
    let save = ServerAction::<SaveUser>::new();
    // The account being edited (its form shows above the table).
    let editing = RwSignal::new(None::<UserInfo>);
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                change_role.version().get(),
                set_active.version().get(),
                save.version().get(),
            )
        },
        |_| list_users(),
    );
    let create_error = move || create.value().get().and_then(|r| r.err());
    let field_error = move |field: &'static str| {
        create_error()
            .filter(|e| e.field() == Some(field))
            .map(|e| view! { <p class="field-error" role="alert">{e.to_string()}</p> })
    };
    let form_error = move || {
        create_error()
            .filter(|e| e.field().is_none())
            .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    };
    let created = move || {
        create.value().get().and_then(|r| r.ok()).map(|u| {
            view! { <p class="ok" role="status">{format!("Created {} ({}).", u.name, u.email)}</p> }
        })
    };
    // The latest row action's error, if the latest one failed.
    let row_error = move || {
        let failed = |v: Option<Result<UserInfo, AppError>>| v.and_then(|r| r.err());
        failed(change_role.value().get())
            .or_else(|| failed(set_active.value().get()))
            .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    };

    view! {
        <Title text="Agents — Switchboard" />
        <h1>"Agents"</h1>
        <section class="card" aria-labelledby="create-agent-heading">
            <h2 id="create-agent-heading">"Create agent"</h2>
            <ActionForm action=create attr:class="stacked">
                <label for="new-name">"Name"</label>
                <input id="new-name" name="name" required maxlength="80" />
                {move || field_error("name")}
                <label for="new-email">"Email"</label>
                <input id="new-email" name="email" type="email" required />
                {move || field_error("email")}
                <label for="new-password">"Initial password"</label>
                <input id="new-password" name="password" type="password" required minlength="8" autocomplete="new-password" />
                {move || field_error("password")}
                <label for="new-role">"Role"</label>
                <select id="new-role" name="role">
                    <option value="agent" selected>"Agent"</option>
                    <option value="admin">"Admin"</option>
                </select>
                {form_error}
                <button type="submit" class="primary" disabled=move || create.pending().get()>
                    "Create agent"
                </button>
                {created}
            </ActionForm>
        </section>
        {move || editing.get().map(|u| view! { <EditAgent user=u save editing /> })}
        <section aria-labelledby="accounts-heading">
            <h2 id="accounts-heading">"Accounts"</h2>
            {row_error}
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(list) => {
                            view! {
                                <table class="accounts">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Name"</th>
                                            <th scope="col">"Email"</th>
                                            <th scope="col">"Role"</th>
                                            <th scope="col">"Max chats"</th>
                                            <th scope="col">"Status"</th>
                                            <th scope="col">"Actions"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|u| view! { <AccountRow user=u change_role set_active editing /> })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AccountRow(
    user: UserInfo,
    change_role: ServerAction<ChangeRole>,
    set_active: ServerAction<SetUserActive>,
    editing: RwSignal<Option<UserInfo>>,
) -> impl IntoView {
    let id = user.id;
    let edit_label = format!("Edit {}", user.name);
    let for_edit = user.clone();
    let active = user.active;
    let is_admin = user.role == Role::Admin;
    let other_role = if is_admin { Role::Agent } else { Role::Admin };
    view! {
        <tr class:inactive=!active>
            <td>{user.name}</td>
            <td>{user.email}</td>
            <td>{user.role.as_str()}</td>
            <td>{user.max_chats}</td>
            <td>{if active { "Active" } else { "Deactivated" }}</td>
            <td class="actions">
                <button aria-label=edit_label on:click=move |_| editing.set(Some(for_edit.clone()))>
                    "Edit"
                </button>
                <button on:click=move |_| {
                    change_role.dispatch(ChangeRole { id, role: other_role });
                }>{if is_admin { "Make agent" } else { "Make admin" }}</button>
                <button on:click=move |_| {
                    set_active.dispatch(SetUserActive { id, active: !active });
                }>{if active { "Deactivate" } else { "Reactivate" }}</button>
            </td>
        </tr>
    }
}

/// The edit form of one account: name, email and the cap of simultaneous chats
/// auto-assignment respects. Errors show under their field; a saved edit closes the form.
#[component]
fn EditAgent(
    user: UserInfo,
    save: ServerAction<SaveUser>,
    editing: RwSignal<Option<UserInfo>>,
) -> impl IntoView {
    let id = user.id;
    // Only results of saves made from this form count (an older result would be stale).
    let opened_at = save.version().get_untracked();
    let result = move || {
        (save.version().get() > opened_at)
            .then(|| save.value().get())
            .flatten()
    };
    let error = move || result().and_then(|r| r.err());
    let field_error = move |field: &'static str| {
        move || {
            error()
                .filter(|e| e.field() == Some(field))
                .map(|e| view! { <p class="field-error" role="alert">{e.to_string()}</p> })
        }
    };
    let form_error = move || {
        error()
            .filter(|e| e.field().is_none())
            .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    };
    Effect::new(move |_| {
        if let Some(Ok(saved)) = result() {
            if saved.id == id {
                editing.set(None);
            }
        }
    });
    view! {
        <section class="card" aria-labelledby="edit-agent-heading">
            <h2 id="edit-agent-heading">{format!("Edit {}", user.name)}</h2>
            <ActionForm action=save attr:class="stacked">
                <input type="hidden" name="id" value=id.to_string() />
                <label for="edit-name">"Name"</label>
                <input id="edit-name" name="name" required maxlength="80" value=user.name.clone() />
                {field_error("name")}
                <label for="edit-email">"Email"</label>
                <input id="edit-email" name="email" type="email" required value=user.email.clone() />
                {field_error("email")}
                <label for="edit-max-chats">"Max simultaneous chats"</label>
                <input
                    id="edit-max-chats"
                    name="max_chats"
                    type="number"
                    min="1"
                    max="50"
                    step="1"
                    required
                    aria-describedby="edit-max-chats-hint"
                    value=user.max_chats.to_string()
                />
                <p class="hint" id="edit-max-chats-hint">
                    "Auto-assignment gives this agent new chats only while they hold fewer (1–50)."
                </p>
                {field_error("max_chats")}
                {form_error}
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || save.pending().get()>
                        "Save agent"
                    </button>
                    <button type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
                </div>
            </ActionForm>
        </section>
    }
}
