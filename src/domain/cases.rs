//! Cases: what agents follow up after the chat. When nobody can answer, the widget takes a
//! message instead ("We're offline right now"): whether someone can answer is decided here,
//! and the message becomes a case. Agents list cases, read and write notes, close and reopen
//! them; a resolved chat can become a case too (see [`turn_into_case`]).
//!
//! Access: a case is seen by whoever may see its site's conversations (admins; agents of a
//! non-archived group of the site). An unknown case and someone else's read differently
//! (404 / 403): case ids are random, so "exists" tells an outsider nothing useful.

pub mod turn_into_case;

use crate::db::{self, cases::CaseRow, cases::NoteRow, Pool};
use crate::domain::conversations::start_chat::phone as check_phone;
use crate::domain::validate;
use crate::realtime::protocol::clean_body;
use uuid::Uuid;

/// Whether someone can answer a chat routed to `group` now: the site is within its working
/// hours (a site without a schedule always is), and an agent who may take its chats is
/// available — active, the "Available" switch on, and connected (`is_connected`, from live
/// presence). Outside working hours the answer is "no" whatever the agents' switches say.
pub async fn someone_available(
    pool: &Pool,
    site_id: Uuid,
    group: Option<Uuid>,
    is_connected: impl Fn(Uuid) -> bool,
) -> sqlx::Result<bool> {
    let hours = db::site_settings::working_hours(pool, site_id).await?;
    if !crate::domain::settings::hours::open_at(hours.as_ref(), jiff::Timestamp::now()) {
        return Ok(false);
    }
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

/// Cases per page of the list.
pub const PAGE_SIZE: i64 = 50;

/// The longest note, in characters (the schema's limit).
pub const MAX_NOTE_CHARS: usize = 5000;

/// Why an agent's action on a case was refused.
#[derive(Debug, thiserror::Error)]
pub enum CaseWorkError {
    #[error("No such case.")]
    NotFound,
    #[error("You may not see this case.")]
    Forbidden,
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// A case's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStatus {
    Open,
    Closed,
}

impl CaseStatus {
    /// Parses "open" or "closed" (as the UI and the database spell them).
    pub fn parse(raw: &str) -> Result<Self, CaseWorkError> {
        match raw.trim() {
            "open" => Ok(CaseStatus::Open),
            "closed" => Ok(CaseStatus::Closed),
            _ => Err(CaseWorkError::Invalid {
                field: "status",
                message: "Status must be \"open\" or \"closed\".".into(),
            }),
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Closed => "closed",
        }
    }
}

/// One page of the cases `user` may see with `status`, newest first, and the total.
pub async fn list_cases(
    pool: &Pool,
    user: Uuid,
    status: CaseStatus,
    offset: i64,
) -> Result<(Vec<CaseRow>, i64), CaseWorkError> {
    if offset < 0 {
        return Err(CaseWorkError::Invalid {
            field: "offset",
            message: "The offset cannot be negative.".into(),
        });
    }
    Ok(db::cases::list_visible(pool, user, status.as_str(), PAGE_SIZE, offset).await?)
}

/// The case, if `user` may see it.
pub async fn visible_case(pool: &Pool, user: Uuid, id: Uuid) -> Result<CaseRow, CaseWorkError> {
    let case = db::cases::find(pool, id)
        .await?
        .ok_or(CaseWorkError::NotFound)?;
    if db::conversations::agent_can_see_site(pool, user, case.site_id).await? {
        Ok(case)
    } else {
        Err(CaseWorkError::Forbidden)
    }
}

/// A case and its notes, oldest note first.
pub async fn case_detail(
    pool: &Pool,
    user: Uuid,
    id: Uuid,
) -> Result<(CaseRow, Vec<NoteRow>), CaseWorkError> {
    let case = visible_case(pool, user, id).await?;
    let notes = db::cases::notes(pool, id).await?;
    Ok((case, notes))
}

/// Closes or reopens a case. Setting the status it already has changes nothing.
pub async fn set_case_status(
    pool: &Pool,
    user: Uuid,
    id: Uuid,
    status: CaseStatus,
) -> Result<(), CaseWorkError> {
    visible_case(pool, user, id).await?;
    db::cases::set_status(pool, id, status.as_str()).await?;
    tracing::info!(case = %id, user = %user, status = status.as_str(), "case status set");
    Ok(())
}

/// A note's text: trimmed, 1–5,000 characters.
pub fn note_body(raw: &str) -> Result<&str, CaseWorkError> {
    let body = raw.trim();
    let n = body.chars().count();
    let message = if n == 0 {
        "Write a note first."
    } else if n > MAX_NOTE_CHARS {
        "A note can be at most 5000 characters."
    } else {
        return Ok(body);
    };
    Err(CaseWorkError::Invalid {
        field: "body",
        message: message.into(),
    })
}

/// Adds a note by `user` to a case.
pub async fn add_case_note(
    pool: &Pool,
    user: Uuid,
    id: Uuid,
    body: &str,
) -> Result<(), CaseWorkError> {
    let body = note_body(body)?;
    visible_case(pool, user, id).await?;
    db::cases::insert_note(pool, id, user, body).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_parses_only_the_two_states() {
        assert_eq!(CaseStatus::parse("open").unwrap(), CaseStatus::Open);
        assert_eq!(CaseStatus::parse(" closed ").unwrap(), CaseStatus::Closed);
        assert!(matches!(
            CaseStatus::parse("pending"),
            Err(CaseWorkError::Invalid {
                field: "status",
                ..
            })
        ));
    }

    #[test]
    fn notes_are_trimmed_and_bounded() {
        assert_eq!(note_body("  called back  ").unwrap(), "called back");
        assert!(note_body("   ").is_err());
        assert!(note_body(&"x".repeat(5000)).is_ok());
        assert!(note_body(&"é".repeat(5001)).is_err());
    }
}
