//! `/admin`: settings for admins.

mod agents;
mod audit;
mod groups;
mod sites;

pub use agents::AdminAgents;
pub use audit::AdminAudit;
pub use groups::AdminGroups;
pub use sites::AdminSites;

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
            <li>
                <A href="/admin/sites">"Sites"</A>
                " — embed snippet, allowed origins, guest mode, identity secret."
            </li>
            <li>
                <A href="/admin/groups">"Groups"</A>
                " — groups of agents per site and their specialist levels."
            </li>
            <li>
                <A href="/admin/audit">"Audit log"</A>
                " — who changed what, before and after."
            </li>
        </ul>
    }
}
