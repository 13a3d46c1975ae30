//! Server functions the visitor widget calls (it runs same-origin, in its iframe).

use crate::error::AppError;
use crate::model::ResumedChat;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What the widget keeps after the pre-chat form: its device token and the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedChat {
    pub visitor_token: String,
    pub conversation_id: Uuid,
}

/// Starts a guest chat from the pre-chat form ("Name", "Email", "Phone").
#[server(endpoint = "widget/start")]
pub async fn start_chat(
    site_key: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
) -> Result<StartedChat, AppError> {
    use crate::domain::conversations::start_chat::{start_chat, StartChatError};
    let state = crate::server::auth::state()?;
    match start_chat(
        &state.pool,
        &site_key,
        &name,
        email.as_deref(),
        phone.as_deref(),
    )
    .await
    {
        Ok(s) => Ok(StartedChat {
            visitor_token: s.visitor_token,
            conversation_id: s.conversation_id,
        }),
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
#[server(endpoint = "widget/resume")]
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
#[server(endpoint = "widget/rate")]
pub async fn rate_chat(
    visitor_token: String,
    conversation_id: Uuid,
    score: i16,
    feedback: Option<String>,
    #[server(default)] anonymous: bool,
) -> Result<(), AppError> {
    use crate::domain::conversations::rate_conversation::{rate_conversation, RateError};
    let state = crate::server::auth::state()?;
    let visitor = crate::domain::visitors::authenticate(&state.pool, &visitor_token)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "authenticating a visitor failed");
            AppError::Internal
        })?
        .ok_or_else(|| AppError::Forbidden("This chat session has expired.".into()))?;
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
