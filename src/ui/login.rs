//! `/login`: email and password.

use crate::api::auth::Login;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The sign-in page. Errors (wrong credentials, lockout) show above the button.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = move || {
        login
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    };
    view! {
        <Title text="Sign in — Switchboard" />
        <main class="centered">
            <div class="card auth-card">
                <h1>"Sign in to Switchboard"</h1>
                <ActionForm action=login>
                    <input type="hidden" name="next" prop:value=next />
                    <label for="login-email">"Email"</label>
                    <input
                        id="login-email"
                        type="email"
                        name="email"
                        autocomplete="username"
                        required
                    />
                    <label for="login-password">"Password"</label>
                    <input
                        id="login-password"
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                    />
                    {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <button type="submit" class="primary" disabled=move || login.pending().get()>
                        "Sign in"
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}
