//! Server functions the visitor widget calls (it runs same-origin, in its iframe).

use crate::error::AppError;
use crate::model::ResumedChat;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// The widget reads these answers without serde (`crate::json`), hence `output = BrowserJson`.

/// What the widget keeps after the pre-chat form: its device token and the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedChat {
    pub visitor_token: String,
    pub conversation_id: Uuid,
}

/// Starts a chat: a guest's from the pre-chat form ("Name", "Email", "Phone"), or, with
/// `visitor_token` of a visitor the host site identified, theirs without a form.
#[server(
    endpoint = "widget/start",
    output = crate::api::codec::BrowserJson
)]
pub async fn start_chat(
    site_key: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    visitor_token: Option<String>,
) -> Result<StartedChat, AppError> {
    use crate::domain::conversations::start_chat::{
        start_chat, start_registered_chat, StartChatError,
    };
    let state = crate::server::auth::state()?;
    let started = match visitor_token.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => start_registered_chat(&state.pool, &site_key, token).await,
        None => {
            start_chat(
                &state.pool,
                &site_key,
                &name,
                email.as_deref(),
                phone.as_deref(),
            )
            .await
        }
    };
    match started {
        Ok(s) => {
            // A new chat in the queue: dashboards refetch their "Waiting" list.
            state.realtime.hub.queue_changed();
            crate::server::assignment::after_chat_waiting(&state, s.conversation_id).await;
            Ok(StartedChat {
                visitor_token: s.visitor_token,
                conversation_id: s.conversation_id,
            })
        }
        Err(StartChatError::Invalid { field, message }) => Err(AppError::invalid(field, message)),
        Err(e @ StartChatError::UnknownSite) => Err(AppError::NotFound(e.to_string())),
        Err(e @ StartChatError::GuestsNotAllowed) => Err(AppError::Forbidden(e.to_string())),
        Err(StartChatError::Db(e)) => {
            tracing::error!(error = %e, "starting a chat failed");
            Err(AppError::Internal)
        }
    }
}

/// The conversation a returning visitor's device token leads back to (`None`: start anew).
#[server(
    endpoint = "widget/resume",
    output = crate::api::codec::BrowserJson
)]
pub async fn resume_chat(
    site_key: String,
    visitor_token: String,
) -> Result<Option<ResumedChat>, AppError> {
    let state = crate::server::auth::state()?;
    crate::domain::widget::resume(&state.pool, &site_key, &visitor_token)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "resuming a chat failed");
            AppError::Internal
        })
}

/// The visitor rates their resolved conversation: 1–5, optional feedback, optionally
/// anonymous. A second rating is refused (409).
#[server(
    endpoint = "widget/rate",
    output = crate::api::codec::BrowserJson
)]
pub async fn rate_chat(
    visitor_token: String,
    conversation_id: Uuid,
    score: i16,
    feedback: Option<String>,
    #[server(default)] anonymous: bool,
) -> Result<(), AppError> {
    use crate::domain::conversations::rate_conversation::{rate_conversation, RateError};
    let state = crate::server::auth::state()?;
    let visitor = visitor_for(&state, &visitor_token).await?;
    match rate_conversation(
        &state.pool,
        visitor.contact_id,
        conversation_id,
        score,
        feedback.as_deref(),
        anonymous,
    )
    .await
    {
        Ok(event) => {
            state.realtime.hub.publish(event);
            Ok(())
        }
        Err(e @ RateError::Score) => Err(AppError::invalid("score", e.to_string())),
        Err(e @ RateError::FeedbackTooLong) => Err(AppError::invalid("feedback", e.to_string())),
        Err(e @ RateError::NotFound) => Err(AppError::NotFound(e.to_string())),
        Err(e @ (RateError::NotResolved | RateError::AlreadyRated)) => {
            Err(AppError::Conflict(e.to_string()))
        }
        Err(RateError::Db(e)) => {
            tracing::error!(error = %e, "storing a rating failed");
            Err(AppError::Internal)
        }
    }
}

impl crate::json::FromJson for StartedChat {
    fn from_json<J: crate::json::Json>(v: &J) -> Option<Self> {
        use crate::json::field;
        Some(StartedChat {
            visitor_token: field(v, "visitor_token")?,
            conversation_id: field(v, "conversation_id")?,
        })
    }
}

/// A visitor the host site identified: their device's new token and latest conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifiedVisitor {
    pub visitor_token: String,
    pub conversation_id: Option<Uuid>,
}

impl crate::json::FromJson for IdentifiedVisitor {
    fn from_json<J: crate::json::Json>(v: &J) -> Option<Self> {
        use crate::json::field;
        Some(IdentifiedVisitor {
            visitor_token: field(v, "visitor_token")?,
            conversation_id: field(v, "conversation_id")?,
        })
    }
}

/// `Switchboard.identify(...)`: verifies `user_hash` (HMAC-SHA256 of `user_id` with the site's
/// identity secret) and registers the visitor, attaching their guest conversations. A hash
/// that does not verify gets a 403 that says nothing more.
#[server(
    endpoint = "widget/identify",
    output = crate::api::codec::BrowserJson
)]
pub async fn identify_visitor(
    site_key: String,
    visitor_token: Option<String>,
    user_id: String,
    email: Option<String>,
    name: Option<String>,
    user_hash: String,
) -> Result<IdentifiedVisitor, AppError> {
    use crate::domain::identify::{identify, IdentifyError, Identity};
    let state = crate::server::auth::state()?;
    let who = Identity {
        user_id: &user_id,
        email: email.as_deref(),
        name: name.as_deref(),
        user_hash: &user_hash,
    };
    match identify(&state.pool, &site_key, visitor_token.as_deref(), who).await {
        Ok(v) => Ok(IdentifiedVisitor {
            visitor_token: v.visitor_token,
            conversation_id: v.conversation_id,
        }),
        Err(IdentifyError::Invalid { field, message }) => Err(AppError::invalid(field, message)),
        Err(e @ IdentifyError::UnknownSite) => Err(AppError::NotFound(e.to_string())),
        Err(e @ IdentifyError::NotVerified) => Err(AppError::Forbidden(e.to_string())),
        Err(IdentifyError::Db(e)) => {
            tracing::error!(error = %e, "identify failed");
            Err(AppError::Internal)
        }
    }
}

/// The offline form: "Name", "Email" or "Phone" (one required), "Message". Stored as a case.
#[server(
    endpoint = "widget/offline",
    output = crate::api::codec::BrowserJson
)]
pub async fn leave_message(
    site_key: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    message: String,
) -> Result<(), AppError> {
    use crate::domain::cases::{leave_message, CaseError, OfflineMessage};
    let state = crate::server::auth::state()?;
    let form = OfflineMessage {
        name: &name,
        email: email.as_deref(),
        phone: phone.as_deref(),
        message: &message,
    };
    match leave_message(&state.pool, &site_key, form).await {
        Ok(_) => Ok(()),
        Err(CaseError::Invalid { field, message }) => Err(AppError::invalid(field, message)),
        Err(e @ CaseError::UnknownSite) => Err(AppError::NotFound(e.to_string())),
        Err(CaseError::Db(e)) => {
            tracing::error!(error = %e, "storing an offline message failed");
            Err(AppError::Internal)
        }
    }
}

/// The widget reports where the visitor is (on start, on return, on every page change the
/// loader sees); browser, OS and IP come from the request itself.
#[server(
    endpoint = "widget/visit",
    output = crate::api::codec::BrowserJson
)]
pub async fn report_visit(
    visitor_token: String,
    page_url: Option<String>,
    page_title: Option<String>,
    referrer: Option<String>,
    language: Option<String>,
    time_zone: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::visits::{metadata, record, PageReport};
    use crate::server::auth;
    let state = auth::state()?;
    let parts = auth::parts()?;
    let visitor = visitor_for(&state, &visitor_token).await?;
    let page = PageReport {
        url: page_url.as_deref(),
        title: page_title.as_deref(),
        referrer: referrer.as_deref(),
        language: language.as_deref(),
        time_zone: time_zone.as_deref(),
    };
    let meta = metadata(&auth::user_agent(&parts), &auth::client_ip(&parts), &page);
    record(&state.pool, visitor.contact_id, &meta)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "recording a visit failed");
            AppError::Internal
        })
}

/// The visitor behind a device token, or 403 "This chat session has expired.".
#[cfg(feature = "ssr")]
async fn visitor_for(
    state: &crate::server::state::AppState,
    token: &str,
) -> Result<crate::domain::visitors::Visitor, AppError> {
    crate::domain::visitors::authenticate(&state.pool, token)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "authenticating a visitor failed");
            AppError::Internal
        })?
        .ok_or_else(|| AppError::Forbidden("This chat session has expired.".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_widget_reads_these_answers_as_the_server_writes_them() {
        crate::json::assert_reads(&StartedChat {
            visitor_token: "tok".into(),
            conversation_id: Uuid::new_v4(),
        });
        for conversation_id in [None, Some(Uuid::new_v4())] {
            crate::json::assert_reads(&IdentifiedVisitor {
                visitor_token: "tok".into(),
                conversation_id,
            });
        }
        crate::json::assert_reads(&());
    }
}
