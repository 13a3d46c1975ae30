//! The error every server function returns, shared by server and browser.
//!
//! It crosses the wire as JSON; the server maps each variant to an HTTP status
//! (see [`AppError::status`] and `server::middleware::api_error_status`), and the UI shows
//! its `Display` text as is, so every message here is written for the person at the screen.

use serde::{Deserialize, Serialize};
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// A failure a user can act on, or an internal one whose details stay in the server log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// Input failed validation; `field` names the form field when there is one.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    /// The request could not be read at all (malformed or oversized body).
    #[error("{0}")]
    BadRequest(String),
    /// Nobody is signed in.
    #[error("Please sign in to continue.")]
    Unauthenticated,
    /// Signed in, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// Wrong email or password; one text for both so accounts cannot be enumerated.
    #[error("Invalid email or password")]
    InvalidCredentials,
    /// Too many failed attempts or requests.
    #[error("{0}")]
    TooManyRequests(String),
    /// The thing asked for does not exist (or is not visible to this user).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (duplicate, stale edit, taken chat).
    #[error("{0}")]
    Conflict(String),
    /// The browser could not reach the server.
    #[error("Cannot reach the server. Check your connection and try again.")]
    Network,
    /// Something failed on the server; details are in its log, not here.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
}

impl AppError {
    /// Shorthand for a validation error on one form field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } | AppError::BadRequest(_) => 400,
            AppError::Unauthenticated | AppError::InvalidCredentials => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::TooManyRequests(_) => 429,
            AppError::Network => 503,
            AppError::Internal => 500,
        }
    }

    /// The form field this error belongs to, if any (for inline errors).
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }
}

/// The browser reads serde's externally tagged form: `"Internal"`, `{"NotFound": "..."}`,
/// `{"Invalid": {"field": ..., "message": ...}}`.
impl crate::json::FromJson for AppError {
    fn from_json<J: crate::json::Json>(v: &J) -> Option<Self> {
        use crate::json::field;
        if let Some(unit) = v.string() {
            return match unit.as_str() {
                "Unauthenticated" => Some(AppError::Unauthenticated),
                "InvalidCredentials" => Some(AppError::InvalidCredentials),
                "Network" => Some(AppError::Network),
                "Internal" => Some(AppError::Internal),
                _ => None,
            };
        }
        if let Some(inner) = v.get("Invalid") {
            return Some(AppError::Invalid {
                field: field(&inner, "field")?,
                message: field(&inner, "message")?,
            });
        }
        let text = |variant: &str| field::<String, J>(v, variant);
        text("BadRequest")
            .map(AppError::BadRequest)
            .or_else(|| text("Forbidden").map(AppError::Forbidden))
            .or_else(|| text("TooManyRequests").map(AppError::TooManyRequests))
            .or_else(|| text("NotFound").map(AppError::NotFound))
            .or_else(|| text("Conflict").map(AppError::Conflict))
    }
}

impl FromServerFnError for AppError {
    // JSON either way; this one is read without serde in the browser (`crate::json`).
    type Encoder = crate::api::codec::BrowserJsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The client sent something the server function could not decode.
            ServerFnErrorErr::Args(e) | ServerFnErrorErr::MissingArg(e) => {
                AppError::BadRequest(format!("Malformed request: {e}"))
            }
            ServerFnErrorErr::Request(_) => AppError::Network,
            ServerFnErrorErr::Deserialization(e) if cfg!(feature = "ssr") => {
                AppError::BadRequest(format!("Malformed request: {e}"))
            }
            _ => AppError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn the_browser_reads_every_error_the_server_writes() {
        for e in [
            AppError::invalid("email", "That is not an email address."),
            AppError::Invalid {
                field: None,
                message: "No.".into(),
            },
            AppError::BadRequest("Malformed request".into()),
            AppError::Unauthenticated,
            AppError::Forbidden("Not yours".into()),
            AppError::InvalidCredentials,
            AppError::TooManyRequests("Slow down".into()),
            AppError::NotFound("No such site".into()),
            AppError::Conflict("Already rated".into()),
            AppError::Network,
            AppError::Internal,
        ] {
            crate::json::assert_reads(&e);
        }
    }
}
