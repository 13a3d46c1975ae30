//! `/admin/greetings`: the auto-greeting (a system message when a chat starts), the busy
//! reply (when nobody has answered within N minutes) and the away message (above the offline
//! form).

use super::form::{site_settings, SaveState};
use crate::api::site_greetings::{greetings, save_greetings, GreetingsSettings};
use leptos::prelude::*;
use leptos_meta::Title;

/// The greetings page.
#[component]
pub fn AdminGreetings() -> impl IntoView {
    view! {
        <Title text="Greetings — Switchboard" />
        <h1>"Greetings and automated responses"</h1>
        {site_settings(greetings, |settings| view! { <GreetingsForm settings /> })}
    }
}

/// The form for one site's greetings.
#[component]
fn GreetingsForm(settings: GreetingsSettings) -> impl IntoView {
    let site_id = settings.site_id;
    let version = RwSignal::new(settings.version);
    let greeting = RwSignal::new(settings.greeting);
    let busy_text = RwSignal::new(settings.busy_text);
    let busy_minutes = RwSignal::new(settings.busy_minutes);
    let away = RwSignal::new(settings.away);
    let state = SaveState::default();
    let SaveState { saved, pending, .. } = state;

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !state.start() {
            return;
        }
        let form = GreetingsSettings {
            site_id,
            version: version.get_untracked(),
            greeting: greeting.get_untracked(),
            busy_text: busy_text.get_untracked(),
            busy_minutes: busy_minutes.get_untracked(),
            away: away.get_untracked(),
        };
        state.finish(save_greetings(form), move |s| {
            version.set(s.version);
            busy_text.set(s.busy_text);
        });
    };

    view! {
        <form class="stacked card" on:submit=submit aria-label="Greetings">
            <label for="greeting">"Auto-greeting"</label>
            <textarea
                id="greeting"
                rows="3"
                maxlength="1000"
                placeholder="Hi! Thanks for reaching out. An agent will be with you soon."
                prop:value=greeting
                on:input=move |ev| greeting.set(event_target_value(&ev))
            ></textarea>
            <p class="hint">"Sent as the first message of every new chat. Empty: none."</p>
            {move || state.field_error("greeting")}
            <label for="busy-text">"Busy reply"</label>
            <textarea
                id="busy-text"
                rows="2"
                maxlength="1000"
                placeholder="All our agents are busy; we'll be with you shortly"
                prop:value=busy_text
                on:input=move |ev| busy_text.set(event_target_value(&ev))
            ></textarea>
            {move || state.field_error("busy_text")}
            <label for="busy-minutes">"Send the busy reply after (minutes)"</label>
            <input
                id="busy-minutes"
                inputmode="numeric"
                prop:value=busy_minutes
                on:input=move |ev| busy_minutes.set(event_target_value(&ev))
            />
            <p class="hint">"When nobody has answered a chat within this many minutes. Empty: never."</p>
            {move || state.field_error("busy_minutes")}
            <label for="away">"Away message"</label>
            <textarea
                id="away"
                rows="2"
                maxlength="1000"
                placeholder="Leave a message and we will get back to you by email or phone."
                prop:value=away
                on:input=move |ev| away.set(event_target_value(&ev))
            ></textarea>
            <p class="hint">"Shown above the offline form when nobody can answer."</p>
            {move || state.field_error("away")}
            {move || state.form_error()}
            <button type="submit" class="primary" disabled=pending>"Save greetings"</button>
            {move || saved.get().then(|| view! { <p class="ok" role="status">"Greetings saved."</p> })}
        </form>
    }
}
