//! `/admin`: settings for admins.

mod agents;
mod audit;
mod form;
mod greetings;
mod groups;
mod hours;
mod look;
mod rules;
mod site_canned;
mod site_select;
mod sites;

pub use agents::AdminAgents;
pub use audit::AdminAudit;
pub use greetings::AdminGreetings;
pub use groups::AdminGroups;
pub use hours::AdminHours;
pub use look::AdminLook;
pub use rules::AdminRules;
pub use site_canned::AdminCanned;
pub use site_select::SiteSelect;
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
                <A href="/admin/widget">"Widget"</A>
                " — pre-chat form, appearance, language, attachments."
            </li>
            <li>
                <A href="/admin/rules">"Assignment and targets"</A>
                " — assignment mode, transfer rules, response-time targets."
            </li>
            <li>
                <A href="/admin/canned">"Site canned responses"</A>
                " — site-wide responses agents insert with "/"."
            </li>
            <li>
                <A href="/admin/hours">"Working hours"</A>
                " — weekly schedule, time zone, holidays."
            </li>
            <li>
                <A href="/admin/greetings">"Greetings"</A>
                " — auto-greeting, busy reply, away message."
            </li>
            <li>
                <A href="/admin/audit">"Audit log"</A>
                " — who changed what, before and after."
            </li>
        </ul>
    }
}
