//! A guest starts a chat from the widget's pre-chat form: the form is checked against the
//! site's settings, a contact and a device token are created, and a waiting conversation is
//! routed to the site's guest group.

use super::start_conversation::start_conversation;
use crate::db::{self, Pool};
use crate::domain::{validate, visitors};
use crate::model::{FieldRule as Field, PreChat};
use uuid::Uuid;

/// Why a chat could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartChatError {
    #[error("This chat is not available (unknown site).")]
    UnknownSite,
    #[error("Please sign in to chat with us.")]
    GuestsNotAllowed,
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// A started chat: the token the widget keeps, and the conversation.
#[derive(Debug, Clone)]
pub struct StartedChat {
    pub visitor_token: String,
    pub conversation_id: Uuid,
}

/// A phone number: 7–20 digits, with an optional leading + and spaces.
pub fn phone(raw: &str) -> Result<String, &'static str> {
    let v = raw.trim();
    let body = v.strip_prefix('+').unwrap_or(v);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    if body.chars().all(|c| c.is_ascii_digit() || c == ' ') && (7..=20).contains(&digits) {
        Ok(v.split_whitespace().collect::<Vec<_>>().join(" "))
    } else {
        Err("Enter a phone number of 7 to 20 digits (+ and spaces allowed).")
    }
}

/// An optional field: empty means absent; absent but required is an error.
fn optional<T>(
    field: &'static str,
    settings: Field,
    raw: Option<&str>,
    check: impl Fn(&str) -> Result<T, &'static str>,
    missing: &'static str,
) -> Result<Option<T>, StartChatError> {
    let raw = raw
        .map(str::trim)
        .filter(|s| !s.is_empty() && settings.show);
    match raw {
        Some(v) => check(v)
            .map(Some)
            .map_err(|message| StartChatError::Invalid { field, message }),
        None if settings.required && settings.show => Err(StartChatError::Invalid {
            field,
            message: missing,
        }),
        None => Ok(None),
    }
}

/// Starts a guest chat on the site with this key.
pub async fn start_chat(
    pool: &Pool,
    site_key: &str,
    name: &str,
    email: Option<&str>,
    phone_raw: Option<&str>,
) -> Result<StartedChat, StartChatError> {
    let site = db::sites::chat_settings(pool, site_key)
        .await?
        .ok_or(StartChatError::UnknownSite)?;
    if !site.guest_mode {
        return Err(StartChatError::GuestsNotAllowed);
    }
    let form: PreChat = serde_json::from_value(site.prechat.clone()).unwrap_or_default();
    let name = optional(
        "name",
        form.name,
        Some(name),
        validate::name,
        "Name is required.",
    )?
    .unwrap_or_else(|| "Visitor".to_string());
    let email = optional(
        "email",
        form.email,
        email,
        validate::email,
        "Email is required.",
    )?;
    let phone = optional("phone", form.phone, phone_raw, phone, "Phone is required.")?;
    let reg = visitors::register(
        pool,
        site.id,
        &name,
        email.as_deref(),
        phone.as_deref(),
        i64::from(site.visitor_token_days),
    )
    .await?;
    let conversation_id =
        start_conversation(pool, site.id, reg.contact_id, site.guest_group_id).await?;
    Ok(StartedChat {
        visitor_token: reg.token,
        conversation_id,
    })
}

/// A visitor the host site identified (verified `identify`) starts a new conversation with
/// the token their device got then; no form, and guest mode does not matter.
pub async fn start_registered_chat(
    pool: &Pool,
    site_key: &str,
    token: &str,
) -> Result<StartedChat, StartChatError> {
    let site = db::sites::chat_settings(pool, site_key)
        .await?
        .ok_or(StartChatError::UnknownSite)?;
    let visitor = visitors::authenticate(pool, token)
        .await?
        .filter(|v| v.site_id == site.id)
        .ok_or(StartChatError::GuestsNotAllowed)?;
    if !db::contacts::is_verified(pool, visitor.contact_id).await? {
        return Err(StartChatError::GuestsNotAllowed);
    }
    let conversation_id =
        start_conversation(pool, site.id, visitor.contact_id, site.guest_group_id).await?;
    Ok(StartedChat {
        visitor_token: token.to_string(),
        conversation_id,
    })
}

#[cfg(test)]
mod tests {
    use super::phone;

    #[test]
    fn phones() {
        assert_eq!(phone(" +44 20  7946 0958 ").unwrap(), "+44 20 7946 0958");
        assert!(phone("1234567").is_ok());
        for bad in [
            "123456",
            "+1 (555) 123-4567",
            "phone",
            "123456789012345678901",
            "++1234567",
        ] {
            assert!(phone(bad).is_err(), "{bad:?}");
        }
    }
}
