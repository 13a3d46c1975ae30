//! An admin deactivates (or reactivates) an account. Deactivation ends the user's
//! sessions in the same transaction, so they are signed out at once.

use super::{audit_change, begin_change, AccountError};
use crate::db::{self, Pool};
use crate::model::{Role, UserInfo};
use uuid::Uuid;

/// Activates or deactivates `target`; returns the account as it now is.
pub async fn set_active(
    pool: &Pool,
    actor: Uuid,
    target: Uuid,
    active: bool,
) -> Result<UserInfo, AccountError> {
    if actor == target && !active {
        return Err(AccountError::OwnAccount);
    }
    let (mut tx, before) = begin_change(pool, target).await?;
    if !active
        && before.active
        && before.role == Role::Admin
        && db::users::count_active_admins(&mut *tx).await? <= 1
    {
        return Err(AccountError::LastAdmin);
    }
    db::users::set_active(&mut *tx, target, active).await?;
    if !active {
        let ended = db::sessions::delete_for_user(&mut *tx, target).await?;
        tracing::info!(user = %target, sessions = ended, "deactivated; sessions ended");
    }
    let after = UserInfo {
        active,
        ..before.clone()
    };
    let action = if active { "reactivate" } else { "deactivate" };
    audit_change(&mut tx, Some(actor), action, Some(&before), &after).await?;
    tx.commit().await?;
    Ok(after)
}
