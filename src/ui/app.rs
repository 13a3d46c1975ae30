//! The HTML shell and the route table.

use super::admin::{
    AdminAgents, AdminAudit, AdminCanned, AdminGreetings, AdminGroups, AdminHome, AdminHours,
    AdminLook, AdminRules, AdminSites,
};
use super::agent::{
    canned::CannedResponses, cases::CasesPage, AgentWorkspace, ConversationPane, NoConversation,
};
use super::layout::StaffShell;
use super::login::LoginPage;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::path;

/// The document around the app; rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The whole staff-facing app: sign-in, the agent dashboard and admin settings.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/switchboard.css" />
        <Title text="Switchboard" />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=|| view! { <Redirect path="/agent" /> } />
                <Route path=path!("/login") view=LoginPage />
                <ParentRoute path=path!("/agent") view=StaffShell>
                    // The workspace (socket, lists) stays mounted while the pane changes.
                    <ParentRoute path=path!("") view=AgentWorkspace>
                        <Route path=path!("") view=NoConversation />
                        <Route path=path!("c/:id") view=ConversationPane />
                        <Route path=path!("cases") view=CasesPage />
                        <Route path=path!("canned") view=CannedResponses />
                    </ParentRoute>
                </ParentRoute>
                <ParentRoute path=path!("/admin") view=StaffShell>
                    <Route path=path!("") view=AdminHome />
                    <Route path=path!("agents") view=AdminAgents />
                    <Route path=path!("sites") view=AdminSites />
                    <Route path=path!("groups") view=AdminGroups />
                    <Route path=path!("widget") view=AdminLook />
                    <Route path=path!("rules") view=AdminRules />
                    <Route path=path!("canned") view=AdminCanned />
                    <Route path=path!("hours") view=AdminHours />
                    <Route path=path!("greetings") view=AdminGreetings />
                    <Route path=path!("audit") view=AdminAudit />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Any unknown path: a 404 page (and status, when rendered on the server).
#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found — Switchboard" />
        <main class="centered">
            <h1>"Page not found"</h1>
            <p>
                <a href="/agent">"Go to the dashboard"</a>
            </p>
        </main>
    }
}
