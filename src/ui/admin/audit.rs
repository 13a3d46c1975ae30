//! `/admin/audit`: the latest 100 changes to settings and accounts (who, when, what, before
//! and after).

use crate::api::admin::{audit_log, AuditEntry};
use crate::ui::layout::ErrorView;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

/// The audit log page.
#[component]
pub fn AdminAudit() -> impl IntoView {
    let entries = Resource::new(|| (), |_| audit_log());
    view! {
        <Title text="Audit log — Switchboard" />
        <h1>"Audit log"</h1>
        <p>"The latest 100 changes, newest first."</p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(list) => Either::Left(view! {
                        <table class="audit">
                            <thead>
                                <tr>
                                    <th scope="col">"When"</th>
                                    <th scope="col">"Who"</th>
                                    <th scope="col">"Action"</th>
                                    <th scope="col">"Before → after"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {list.into_iter().map(|e| view! { <AuditRow entry=e /> }).collect_view()}
                            </tbody>
                        </table>
                    }),
                    Err(e) => Either::Right(view! { <ErrorView error=e /> }),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditRow(entry: AuditEntry) -> impl IntoView {
    let what = match &entry.entity_id {
        Some(id) => format!("{} ({} {})", entry.action, entry.entity, id),
        None => format!("{} ({})", entry.action, entry.entity),
    };
    view! {
        <tr>
            <td>{entry.at}</td>
            <td>{entry.actor.unwrap_or_else(|| "system".into())}</td>
            <td>{what}</td>
            <td class="change">
                <code>{entry.before.unwrap_or_else(|| "—".into())}</code>
                " → "
                <code>{entry.after.unwrap_or_else(|| "—".into())}</code>
            </td>
        </tr>
    }
}
