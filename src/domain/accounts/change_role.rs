//! An admin changes another account's role.

use super::{audit_change, begin_change, AccountError};
use crate::db::{self, Pool};
use crate::model::{Role, UserInfo};
use uuid::Uuid;

/// Sets `target`'s role. Admins cannot demote themselves, so at least one admin remains
/// (the row is locked, so two admins demoting each other at once cannot both succeed).
pub async fn change_role(
    pool: &Pool,
    actor: Uuid,
    target: Uuid,
    role: Role,
) -> Result<UserInfo, AccountError> {
    if actor == target && role != Role::Admin {
        return Err(AccountError::OwnAccount);
    }
    let (mut tx, before) = begin_change(pool, target).await?;
    if before.role == Role::Admin
        && role == Role::Agent
        && before.active
        && db::users::count_active_admins(&mut *tx).await? <= 1
    {
        return Err(AccountError::LastAdmin);
    }
    db::users::set_role(&mut *tx, target, role).await?;
    let after = UserInfo {
        role,
        ..before.clone()
    };
    audit_change(&mut tx, Some(actor), "change_role", Some(&before), &after).await?;
    tx.commit().await?;
    Ok(after)
}
