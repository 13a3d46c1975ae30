//! Pieces every per-site settings form shares: the page skeleton (the "Site" select, then the
//! chosen site's form), the save state (pending, saved, error) and the inline errors. One
//! copy here, so each settings page is only its own fields.

use super::SiteSelect;
use crate::error::AppError;
use leptos::either::Either;
use leptos::prelude::*;
use std::future::Future;
use uuid::Uuid;

/// An inline error under one field, if the last save failed on it (`AppError::field`).
pub fn field_error(error: Option<AppError>, field: &'static str) -> Option<impl IntoView> {
    error
        .filter(|e| e.field() == Some(field))
        .map(|e| view! { <p class="field-error" role="alert">{e.to_string()}</p> })
}

/// An error that belongs to no one field (a stale form, an archived site), under the form.
pub fn form_error(error: Option<AppError>) -> Option<impl IntoView> {
    error
        .filter(|e| e.field().is_none())
        .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
}

/// What a settings form shows about its last save.
#[derive(Debug, Clone, Copy)]
pub struct SaveState {
    /// The last save's error, shown under its field or under the form.
    pub error: RwSignal<Option<AppError>>,
    /// The last save went through ("… saved." status line).
    pub saved: RwSignal<bool>,
    /// A save is under way: the submit button is disabled.
    pub pending: RwSignal<bool>,
}

impl Default for SaveState {
    fn default() -> Self {
        SaveState {
            error: RwSignal::new(None),
            saved: RwSignal::new(false),
            pending: RwSignal::new(false),
        }
    }
}

impl SaveState {
    /// Starts a save; `false` when one is already under way (a double submit is ignored,
    /// so the second click cannot land on a version the first one just bumped).
    pub fn start(self) -> bool {
        if self.pending.get_untracked() {
            return false;
        }
        self.pending.set(true);
        self.error.set(None);
        self.saved.set(false);
        true
    }

    /// Awaits `save` in the background and shows its outcome; `done` takes the saved value
    /// (the new version, normalised fields).
    pub fn finish<T: 'static>(
        self,
        save: impl Future<Output = Result<T, AppError>> + 'static,
        done: impl FnOnce(T) + 'static,
    ) {
        leptos::task::spawn_local(async move {
            match save.await {
                Ok(value) => {
                    done(value);
                    self.saved.set(true);
                }
                Err(e) => self.error.set(Some(e)),
            }
            self.pending.set(false);
        });
    }

    /// The error under `field`, for a `{move || …}` slot in the form.
    pub fn field_error(self, field: &'static str) -> Option<impl IntoView> {
        field_error(self.error.get(), field)
    }

    /// The form-wide error, for a `{move || …}` slot in the form.
    pub fn form_error(self) -> Option<impl IntoView> {
        form_error(self.error.get())
    }
}

/// The skeleton of a per-site settings page: the "Site" select (starting on the first live
/// site), then the chosen site's settings, fetched with `load` and shown with `form`.
pub fn site_settings<T, Fut, V>(
    load: impl Fn(Uuid) -> Fut + Copy + 'static,
    form: impl Fn(T) -> V + Copy + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + 'static,
    Fut: Future<Output = Result<T, AppError>> + 'static,
    V: IntoView + 'static,
{
    let chosen = RwSignal::new(None::<Uuid>);
    let settings = LocalResource::new(move || {
        let site = chosen.get();
        async move {
            match site {
                Some(id) => load(id).await.map(Some),
                None => Ok(None),
            }
        }
    });
    view! {
        <SiteSelect chosen />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(Some(s)) => Either::Left(form(s)),
                    Ok(None) => Either::Right(Either::Left(view! { <p>"Create a site first."</p> })),
                    Err(e) => Either::Right(Either::Right(view! { <p class="error" role="alert">{e.to_string()}</p> })),
                }
            })}
        </Transition>
    }
}
