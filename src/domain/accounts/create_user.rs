//! An admin creates an agent or admin account with an initial password.

use super::{audit_change, hash_password, AccountError};
use crate::db::{self, users::NewUser, Pool};
use crate::domain::validate;
use crate::model::{Role, UserInfo};
use uuid::Uuid;

/// Validates and stores a new account, recording it in the audit log.
pub async fn create_user(
    pool: &Pool,
    actor: Option<Uuid>,
    name: &str,
    email: &str,
    password: &str,
    role: Role,
) -> Result<UserInfo, AccountError> {
    let name = validate::name(name).map_err(|m| AccountError::invalid("name", m))?;
    let email = validate::email(email).map_err(|m| AccountError::invalid("email", m))?;
    let password =
        validate::new_password(password).map_err(|m| AccountError::invalid("password", m))?;
    let hash = hash_password(password).await?;
    let mut tx = pool.begin().await?;
    let row = db::users::insert(
        &mut *tx,
        NewUser {
            email: &email,
            name: &name,
            password_hash: &hash,
            role,
        },
    )
    .await?
    .ok_or(AccountError::EmailTaken)?;
    let info = row.info();
    audit_change(&mut tx, actor, "create", None, &info).await?;
    tx.commit().await?;
    Ok(info)
}
