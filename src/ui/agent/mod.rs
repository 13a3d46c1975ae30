//! `/agent`: the agent dashboard (the "Agent workspace" issue fills it). It holds the live
//! connection: its state, and who of the team is online.

use crate::realtime::protocol::{ConnStatus, PresenceState, ServerFrame};
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

/// One online agent in the "Active agents" list.
#[derive(Debug, Clone, PartialEq)]
struct OnlineAgent {
    id: Uuid,
    name: String,
    state: PresenceState,
}

/// Applies a server frame to the list of online agents.
// Used by the hydrated page (and its tests); the server only renders the empty list.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn apply(list: &mut Vec<OnlineAgent>, frame: &ServerFrame) {
    match frame {
        // A new connection: the server follows the welcome with a full snapshot.
        ServerFrame::Welcome { .. } => list.clear(),
        ServerFrame::Presence {
            user_id,
            name,
            state,
        } => {
            list.retain(|a| a.id != *user_id);
            if *state != PresenceState::Offline {
                list.push(OnlineAgent {
                    id: *user_id,
                    name: name.clone(),
                    state: *state,
                });
                list.sort_by_key(|a| a.name.to_lowercase());
            }
        }
        _ => {}
    }
}

/// The dashboard's landing page.
#[component]
pub fn AgentHome() -> impl IntoView {
    let status = RwSignal::new(ConnStatus::Connecting);
    let agents = RwSignal::new(Vec::<OnlineAgent>::new());
    // Bumped whenever the server says the queues changed (and on every reconnect).
    let queues = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    {
        let conn = crate::realtime::client::Connection::start(None, status, move |frame| {
            if matches!(
                frame,
                ServerFrame::QueueChanged | ServerFrame::Welcome { .. }
            ) {
                queues.update(|n| *n += 1);
            }
            agents.update(|list| apply(list, &frame));
        });
        // The connection lives as long as the page; leaving the page ends it.
        let conn = send_wrapper::SendWrapper::new(conn);
        on_cleanup(move || drop(conn));
    }
    view! {
        <Title text="Dashboard — Switchboard" />
        <AvailabilitySwitch />
        <h1>"Conversations"</h1>
        <WaitingList queues />
        <section class="card" aria-labelledby="active-agents-heading">
            <h2 id="active-agents-heading">
                "Active agents " <span class="badge">{move || agents.with(Vec::len)}</span>
            </h2>
            <p class="connection" role="status">{move || status.get().label()}</p>
            <ul aria-label="Active agents" class="agents">
                {move || {
                    agents
                        .get()
                        .into_iter()
                        .map(|a| {
                            let state = match a.state {
                                PresenceState::Online => "online",
                                PresenceState::Idle => "idle",
                                PresenceState::Offline => "offline",
                            };
                            view! {
                                <li>
                                    <span class=format!("presence {state}")></span>
                                    {a.name}
                                    " — "
                                    {state}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}

/// "Waiting": visitors waiting for an agent, oldest first, live; "Assign to me" takes one.
#[component]
fn WaitingList(queues: RwSignal<u32>) -> impl IntoView {
    use crate::api::conversations::{assign_to_me, waiting_chats};
    // Fetched in the browser only (the socket says when to refetch).
    let list = LocalResource::new(move || {
        queues.track();
        waiting_chats()
    });
    let error = RwSignal::new(None::<String>);
    let take = move |id: Uuid| {
        error.set(None);
        leptos::task::spawn_local(async move {
            if let Err(e) = assign_to_me(id).await {
                error.set(Some(e.to_string()));
            }
            queues.update(|n| *n += 1);
        });
    };
    let total = move || {
        list.get()
            .and_then(|r| r.ok())
            .map(|l| l.total)
            .unwrap_or(0)
    };
    view! {
        <section class="card" aria-labelledby="waiting-heading">
            <h2 id="waiting-heading">"Waiting " <span class="badge">{total}</span></h2>
            <p class="error" role="alert">{move || error.get()}</p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                <ul aria-label="Waiting" class="queue">
                    {move || {
                        list.get()
                            .map(|r| match r {
                                Err(e) => view! { <li class="error">{e.to_string()}</li> }.into_any(),
                                Ok(l) if l.chats.is_empty() => {
                                    view! { <li class="empty">"Nobody is waiting."</li> }.into_any()
                                }
                                Ok(l) => {
                                    l.chats
                                        .into_iter()
                                        .map(|c| {
                                            let id = c.conversation_id;
                                            let waited = format!("waiting {} min", c.waiting_secs / 60);
                                            view! {
                                                <li class="status-waiting">
                                                    <strong>{c.visitor_name}</strong>
                                                    " — "
                                                    {c.site_name}
                                                    " · "
                                                    {waited}
                                                    <p class="last">{c.last_message}</p>
                                                    <button type="button" on:click=move |_| take(id)>
                                                        "Assign to me"
                                                    </button>
                                                </li>
                                            }
                                        })
                                        .collect_view()
                                        .into_any()
                                }
                            })
                    }}
                </ul>
            </Suspense>
        </section>
    }
}

/// The "Available" switch: only available agents get new chats; with nobody available the
/// widget says "We're offline right now".
#[component]
fn AvailabilitySwitch() -> impl IntoView {
    use crate::api::agents::my_availability;
    let initial = OnceResource::new(my_availability());
    let set = ServerAction::<crate::api::agents::SetAvailable>::new();
    let error = move || {
        set.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    };
    view! {
        <Suspense fallback=|| ()>
            {move || {
                initial
                    .get()
                    .map(|loaded| {
                        let base = loaded.unwrap_or(false);
                        let on = move || match set.value().get() {
                            Some(Ok(v)) => v,
                            _ => base,
                        };
                        view! {
                            <label class="availability">
                                <input
                                    type="checkbox"
                                    role="switch"
                                    prop:checked=on
                                    aria-checked=move || if on() { "true" } else { "false" }
                                    on:change=move |ev| {
                                        set.dispatch(crate::api::agents::SetAvailable {
                                            available: event_target_checked(&ev),
                                        });
                                    }
                                />
                                " Available"
                            </label>
                            <p class="error" role="alert">{error}</p>
                        }
                    })
            }}
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_frames_maintain_the_list() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let p = |id, name: &str, state| ServerFrame::Presence {
            user_id: id,
            name: name.into(),
            state,
        };
        let mut list = Vec::new();
        apply(&mut list, &p(b, "Zoe", PresenceState::Online));
        apply(&mut list, &p(a, "amy", PresenceState::Online));
        assert_eq!(
            list.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
            ["amy", "Zoe"]
        );
        apply(&mut list, &p(a, "amy", PresenceState::Idle));
        assert_eq!(list[0].state, PresenceState::Idle);
        apply(&mut list, &p(b, "Zoe", PresenceState::Offline));
        assert_eq!(list.len(), 1);
    }
}
