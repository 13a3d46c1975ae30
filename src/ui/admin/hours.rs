//! `/admin/hours`: weekly schedule, time zone, holidays. Outside these hours the widget
//! shows the offline form whatever the agents' switches say.

use super::form::{site_settings, SaveState};
use crate::api::site_hours::{save_working_hours, working_hours, HoursSettings, DAY_NAMES};
use crate::model::DAY_KEYS;
use leptos::prelude::*;
use leptos_meta::Title;

/// The working hours page.
#[component]
pub fn AdminHours() -> impl IntoView {
    view! {
        <Title text="Working hours — Switchboard" />
        <h1>"Working hours"</h1>
        {site_settings(working_hours, |settings| view! { <HoursForm settings /> })}
    }
}

/// The form for one site's schedule.
#[component]
fn HoursForm(settings: HoursSettings) -> impl IntoView {
    let site_id = settings.site_id;
    let version = RwSignal::new(settings.version);
    let enabled = RwSignal::new(settings.enabled);
    let time_zone = RwSignal::new(settings.time_zone);
    let days: Vec<(RwSignal<String>, RwSignal<String>)> = settings
        .days
        .into_iter()
        .map(|(f, u)| (RwSignal::new(f), RwSignal::new(u)))
        .collect();
    let holidays = RwSignal::new(settings.holidays);
    let state = SaveState::default();
    let SaveState { saved, pending, .. } = state;

    let submit = {
        let days = days.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if !state.start() {
                return;
            }
            let form = HoursSettings {
                site_id,
                version: version.get_untracked(),
                enabled: enabled.get_untracked(),
                time_zone: time_zone.get_untracked(),
                days: days
                    .iter()
                    .map(|(f, u)| (f.get_untracked(), u.get_untracked()))
                    .collect(),
                holidays: holidays.get_untracked(),
            };
            state.finish(save_working_hours(form), move |s| {
                version.set(s.version);
                holidays.set(s.holidays);
            });
        }
    };
    let rows = days
        .into_iter()
        .enumerate()
        .map(|(i, (from, until))| {
            let day = DAY_NAMES[i];
            let key = DAY_KEYS[i];
            view! {
                <fieldset class="day-hours">
                    <legend>{day}</legend>
                    <label for=format!("hours-{key}-from")>{format!("{day} opens")}</label>
                    <input
                        id=format!("hours-{key}-from")
                        type="time"
                        prop:value=from
                        on:input=move |ev| from.set(event_target_value(&ev))
                    />
                    <label for=format!("hours-{key}-until")>{format!("{day} closes")}</label>
                    <input
                        id=format!("hours-{key}-until")
                        type="time"
                        prop:value=until
                        on:input=move |ev| until.set(event_target_value(&ev))
                    />
                    {move || state.field_error(key)}
                </fieldset>
            }
        })
        .collect_view();

    view! {
        <form class="stacked card" on:submit=submit aria-label="Working hours">
            <p class="hint">
                "Outside these hours the widget shows the offline form (\"We're offline right now\"), "
                "whatever the agents' Available switches say. Leave both times of a day empty to close it."
            </p>
            <label class="check">
                <input
                    type="checkbox"
                    prop:checked=enabled
                    on:change=move |ev| enabled.set(event_target_checked(&ev))
                />
                "Use working hours"
            </label>
            <label for="hours-zone">"Time zone"</label>
            <input
                id="hours-zone"
                placeholder="Europe/Paris"
                autocomplete="off"
                prop:value=time_zone
                on:input=move |ev| time_zone.set(event_target_value(&ev))
            />
            {move || state.field_error("time_zone")}
            {rows}
            <label for="hours-holidays">"Holidays"</label>
            <textarea
                id="hours-holidays"
                rows="4"
                placeholder="2026-12-25"
                prop:value=holidays
                on:input=move |ev| holidays.set(event_target_value(&ev))
            ></textarea>
            <p class="hint">"One date per line (YYYY-MM-DD): closed all day."</p>
            {move || state.field_error("holidays")}
            {move || state.form_error()}
            <button type="submit" class="primary" disabled=pending>"Save working hours"</button>
            {move || saved.get().then(|| view! { <p class="ok" role="status">"Working hours saved."</p> })}
        </form>
    }
}
