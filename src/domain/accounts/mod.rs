//! Staff accounts: signing in and out, sessions, and the admin's account management.

pub mod change_role;
pub mod create_user;
pub mod edit_user;
mod password;
pub mod session;
pub mod set_active;
pub mod sign_in;
pub mod sign_out;

pub use password::{hash_password, verify_password};

use crate::db::{self, Pool};
use crate::error::AppError;
use crate::model::UserInfo;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

/// How many failed sign-ins per email+IP are allowed within [`LOCKOUT_WINDOW_SECS`].
pub const MAX_FAILED_SIGN_INS: i64 = 5;
/// The lockout window: 15 minutes.
pub const LOCKOUT_WINDOW_SECS: i64 = 15 * 60;
/// How long a sign-in session lasts.
pub const SESSION_DAYS: i64 = 30;

/// Everything that can go wrong with accounts.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("Invalid email or password")]
    InvalidCredentials,
    #[error("Too many failed sign-in attempts. Try again in 15 minutes.")]
    LockedOut,
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
    #[error("An account with this email already exists.")]
    EmailTaken,
    #[error("No such account.")]
    NotFound,
    #[error("You cannot deactivate or demote your own account.")]
    OwnAccount,
    #[error("Switchboard needs at least one active admin.")]
    LastAdmin,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

impl AccountError {
    /// A validation error on one field.
    pub fn invalid(field: &'static str, message: &'static str) -> Self {
        AccountError::Invalid { field, message }
    }
}

impl From<AccountError> for AppError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::InvalidCredentials => AppError::InvalidCredentials,
            AccountError::LockedOut => AppError::TooManyRequests(e.to_string()),
            AccountError::Invalid { field, message } => AppError::invalid(field, message),
            AccountError::EmailTaken => AppError::invalid("email", e.to_string()),
            AccountError::NotFound => AppError::NotFound(e.to_string()),
            AccountError::OwnAccount | AccountError::LastAdmin => AppError::Conflict(e.to_string()),
            AccountError::Hash(_) | AccountError::Db(_) => {
                tracing::error!(error = %e, "account operation failed");
                AppError::Internal
            }
        }
    }
}

/// Starts a change to an account: takes the lock that serialises role and activation
/// changes (so the "last admin" rule cannot race) and loads the account as it is.
async fn begin_change(
    pool: &Pool,
    target: Uuid,
) -> Result<(Transaction<'static, Postgres>, UserInfo), AccountError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(7301)")
        .execute(&mut *tx)
        .await?;
    let before = db::users::find(&mut *tx, target)
        .await?
        .ok_or(AccountError::NotFound)?
        .info();
    Ok((tx, before))
}

/// Records a change to an account in the audit log, with before and after.
async fn audit_change(
    tx: &mut sqlx::PgConnection,
    actor: Option<Uuid>,
    action: &str,
    before: Option<&UserInfo>,
    after: &UserInfo,
) -> Result<(), AccountError> {
    db::audit::record(
        tx,
        db::audit::Entry {
            actor_id: actor,
            action,
            entity: "user",
            entity_id: Some(after.id.to_string()),
            before: before.and_then(|b| serde_json::to_value(b).ok()),
            after: serde_json::to_value(after).ok(),
        },
    )
    .await?;
    Ok(())
}
