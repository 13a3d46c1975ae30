//! When nobody can answer, the widget takes a message instead: "We're offline right now".
//! Whether someone can answer is decided here; the message becomes a case agents open later.

use crate::db::{self, Pool};
use crate::domain::conversations::start_chat::phone as check_phone;
use crate::domain::validate;
use crate::realtime::protocol::clean_body;
use uuid::Uuid;

/// Whether an agent who may take this site's chats routed to `group` is available: active,
/// the "Available" switch on, and connected (`is_connected`, from live presence).
/// (Working hours, when a site sets them, come with the admin settings.)
pub async fn someone_available(
    pool: &Pool,
    site_id: Uuid,
    group: Option<Uuid>,
    is_connected: impl Fn(Uuid) -> bool,
) -> sqlx::Result<bool> {
    Ok(db::users::available_for(pool, site_id, group)
        .await?
        .into_iter()
        .any(is_connected))
}

/// Why an offline message was refused.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("This chat is not available (unknown site).")]
    UnknownSite,
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// The offline form: "Name", "Email" or "Phone" (one of them), "Message".
#[derive(Debug, Clone)]
pub struct OfflineMessage<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub message: &'a str,
}

/// Stores an offline message as an open case; returns its id.
pub async fn leave_message(
    pool: &Pool,
    site_key: &str,
    form: OfflineMessage<'_>,
) -> Result<Uuid, CaseError> {
    let invalid = |field: &'static str, message: &str| CaseError::Invalid {
        field,
        message: message.to_string(),
    };
    let site = db::sites::chat_settings(pool, site_key)
        .await?
        .ok_or(CaseError::UnknownSite)?;
    let name = validate::name(form.name).map_err(|m| invalid("name", m))?;
    let email = match form.email.map(str::trim).filter(|v| !v.is_empty()) {
        Some(e) => Some(validate::email(e).map_err(|m| invalid("email", m))?),
        None => None,
    };
    let phone = match form.phone.map(str::trim).filter(|v| !v.is_empty()) {
        Some(p) => Some(check_phone(p).map_err(|m| invalid("phone", m))?),
        None => None,
    };
    if email.is_none() && phone.is_none() {
        return Err(invalid(
            "email",
            "Give an email or a phone number so we can answer you.",
        ));
    }
    let message = clean_body(form.message).map_err(|m| CaseError::Invalid {
        field: "message",
        message: m,
    })?;
    let id = db::cases::insert(
        pool,
        site.id,
        &name,
        email.as_deref(),
        phone.as_deref(),
        message,
    )
    .await?;
    tracing::info!(site = %site.id, case = %id, "offline message stored as a case");
    Ok(id)
}
