//! The signed-in layout: navigation, user menu (name, role, "Sign out"), and the page.
//!
//! The page (the router's Outlet) is deliberately not inside the Suspense that waits for the
//! user: a page rendered inside it would be rendered again when the user resource resolves,
//! orphaning the page's own resources and breaking hydration. Access is enforced by the
//! server instead: the page guard answers agents on `/admin` with 403, and every admin server
//! function refuses them, which the admin pages show with [`ErrorView`].

use crate::api::auth::{me, Logout};
use crate::error::AppError;
use crate::model::{Role, UserInfo};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, A};

/// Layout of every `/agent` and `/admin` page.
#[component]
pub fn StaffShell() -> impl IntoView {
    let user = Resource::new(|| (), |_| me());
    view! {
        <Suspense fallback=|| view! { <header class="topbar"><span class="brand">"Switchboard"</span></header> }>
            {move || {
                user.get().map(|result| match result {
                    Ok(Some(u)) => view! { <Header user=u /> }.into_any(),
                    Ok(None) => view! {
                        <header class="topbar">
                            <span class="brand">"Switchboard"</span>
                            <p>"Your session has ended. " <a href="/login">"Sign in"</a></p>
                        </header>
                    }.into_any(),
                    Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
        <main class="page">
            <Outlet />
        </main>
    }
}

#[component]
fn Header(user: UserInfo) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let is_admin = user.role == Role::Admin;
    view! {
        <header class="topbar">
            <span class="brand">"Switchboard"</span>
            <nav aria-label="Main">
                <A href="/agent" exact=true>"Dashboard"</A>
                {is_admin.then(|| view! {
                    <A href="/admin" exact=true>"Settings"</A>
                    <A href="/admin/agents">"Agents"</A>
                    <A href="/admin/sites">"Sites"</A>
                    <A href="/admin/groups">"Groups"</A>
                    <A href="/admin/widget">"Widget"</A>
                    <A href="/admin/hours">"Working hours"</A>
                    <A href="/admin/greetings">"Greetings"</A>
                    <A href="/admin/rules">"Assignment and targets"</A>
                    <A href="/admin/canned">"Site canned responses"</A>
                    <A href="/admin/audit">"Audit log"</A>
                })}
            </nav>
            <div class="user-menu" role="group" aria-label="User menu">
                <span class="user-name">{user.name}</span>
                <span class="user-role">{user.role.as_str()}</span>
                <ActionForm action=logout>
                    <button type="submit">"Sign out"</button>
                </ActionForm>
            </div>
        </header>
    }
}

/// Shows a failed page load: the "Admins only" page for a refusal, else the message.
#[component]
pub fn ErrorView(error: AppError) -> impl IntoView {
    match error {
        AppError::Forbidden(message) => view! {
            <Title text="Admins only — Switchboard" />
            <section class="forbidden">
                <h1>"403 — Admins only"</h1>
                <p>{message}</p>
                <p>
                    <a href="/agent">"Back to the dashboard"</a>
                </p>
            </section>
        }
        .into_any(),
        other => view! { <p class="error" role="alert">{other.to_string()}</p> }.into_any(),
    }
}
