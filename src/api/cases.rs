//! Cases: the list (open / closed), a case with its notes, closing and reopening, notes, and
//! "Turn chat into case". Every call checks on the server that the user may see the case's
//! site (admins: all; agents: the sites of their groups).

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How much of a case's message the list carries (the detail carries all of it).
pub const EXCERPT_CHARS: usize = 200;

/// A case as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub id: Uuid,
    pub site_name: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The first 200 characters of the message.
    pub message: String,
    /// "open" or "closed".
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    /// The chat this case was made from, if any.
    pub conversation_id: Option<Uuid>,
}

/// One page of cases (newest first, 50 per page) and how many there are with that status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseList {
    pub total: i64,
    pub cases: Vec<CaseSummary>,
}

/// A note on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseNote {
    pub author_name: String,
    pub body: String,
    /// RFC 3339.
    pub created_at: String,
}

/// A case and its notes, oldest note first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDetail {
    pub summary: CaseSummary,
    /// The whole message (the summary has only its first 200 characters).
    pub message: String,
    pub notes: Vec<CaseNote>,
}

/// The first `max` characters of `text` (cut on a character boundary).
pub fn excerpt(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

#[cfg(feature = "ssr")]
mod convert {
    //! Rows and domain errors into what crosses the wire.

    use super::*;
    use crate::db::cases::{CaseRow, NoteRow};
    use crate::domain::cases::CaseWorkError;
    use time::format_description::well_known::Rfc3339;

    fn rfc3339(t: time::OffsetDateTime) -> String {
        t.format(&Rfc3339).unwrap_or_default()
    }

    pub fn summary(r: CaseRow) -> CaseSummary {
        CaseSummary {
            id: r.id,
            site_name: r.site_name,
            name: r
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| "Visitor".into()),
            email: r.email,
            phone: r.phone,
            message: excerpt(&r.message, EXCERPT_CHARS).to_string(),
            status: r.status,
            created_at: rfc3339(r.created_at),
            conversation_id: r.conversation_id,
        }
    }

    pub fn note(n: NoteRow) -> CaseNote {
        CaseNote {
            // The author's account was deleted; the note stays.
            author_name: n.author_name.unwrap_or_else(|| "Former agent".into()),
            body: n.body,
            created_at: rfc3339(n.created_at),
        }
    }

    pub fn error(e: CaseWorkError) -> AppError {
        match e {
            CaseWorkError::Invalid { field, message } => AppError::invalid(field, message),
            e @ CaseWorkError::NotFound => AppError::NotFound(e.to_string()),
            e @ CaseWorkError::Forbidden => AppError::Forbidden(e.to_string()),
            CaseWorkError::Db(e) => {
                tracing::error!(error = %e, "case query failed");
                AppError::Internal
            }
        }
    }
}

/// The cases with `status` ("open" or "closed") the user may see, newest first, 50 from
/// `offset`.
#[server(endpoint = "cases/list")]
pub async fn list_cases(status: String, offset: i64) -> Result<CaseList, AppError> {
    use crate::domain::cases::{list_cases, CaseStatus};
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    let status = CaseStatus::parse(&status).map_err(convert::error)?;
    let (rows, total) = list_cases(&state.pool, user.id, status, offset)
        .await
        .map_err(convert::error)?;
    Ok(CaseList {
        total,
        cases: rows.into_iter().map(convert::summary).collect(),
    })
}

/// A case with its notes.
// `name`: the default struct name, `CaseDetail`, is the answer type's.
#[server(name = GetCaseDetail, endpoint = "cases/detail")]
pub async fn case_detail(id: Uuid) -> Result<CaseDetail, AppError> {
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    let (case, notes) = crate::domain::cases::case_detail(&state.pool, user.id, id)
        .await
        .map_err(convert::error)?;
    Ok(CaseDetail {
        message: case.message.clone(),
        summary: convert::summary(case),
        notes: notes.into_iter().map(convert::note).collect(),
    })
}

/// Closes ("closed") or reopens ("open") a case.
#[server(endpoint = "cases/status")]
pub async fn set_case_status(id: Uuid, status: String) -> Result<(), AppError> {
    use crate::domain::cases::{set_case_status, CaseStatus};
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    let status = CaseStatus::parse(&status).map_err(convert::error)?;
    set_case_status(&state.pool, user.id, id, status)
        .await
        .map_err(convert::error)
}

/// Adds a note (1–5,000 characters) to a case.
#[server(endpoint = "cases/note")]
pub async fn add_case_note(id: Uuid, body: String) -> Result<(), AppError> {
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    crate::domain::cases::add_case_note(&state.pool, user.id, id, &body)
        .await
        .map_err(convert::error)
}

/// "Turn chat into case": a resolved chat becomes an open case whose first note links to the
/// transcript. Returns the case's id. Not resolved, or already a case: 409.
#[server(endpoint = "cases/from_chat")]
pub async fn turn_chat_into_case(conversation_id: Uuid) -> Result<Uuid, AppError> {
    use crate::domain::cases::turn_into_case::{turn_chat_into_case, TurnIntoCaseError as E};
    use crate::server::auth;
    let user = auth::require_user().await?;
    let state = auth::state()?;
    match turn_chat_into_case(&state.pool, user.id, conversation_id).await {
        Ok(id) => Ok(id),
        Err(e @ E::NotFound) => Err(AppError::NotFound(e.to_string())),
        Err(e @ E::Forbidden) => Err(AppError::Forbidden(e.to_string())),
        Err(e @ (E::NotResolved | E::AlreadyCase)) => Err(AppError::Conflict(e.to_string())),
        Err(E::Db(e)) => {
            tracing::error!(error = %e, "turning a chat into a case failed");
            Err(AppError::Internal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_cut_on_characters() {
        assert_eq!(excerpt("short", 200), "short");
        assert_eq!(excerpt(&"é".repeat(200), 200), "é".repeat(200));
        assert_eq!(excerpt(&"é".repeat(201), 200), "é".repeat(200));
    }
}
