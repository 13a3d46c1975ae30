//! `/admin`: settings for admins.

mod agents;

pub use agents::AdminAgents;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// The settings overview.
#[component]
pub fn AdminHome() -> impl IntoView {
    view! {
        <Title text="Settings — Switchboard" />
        <h1>"Settings"</h1>
        <ul class="settings-list">
            <li>
                <A href="/admin/agents">"Agents"</A>
                " — create accounts, change roles, deactivate."
            </li>
        </ul>
    }
}
