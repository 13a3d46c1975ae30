//! An admin edits an account's name, email and cap of simultaneous chats.

use super::{audit_change, begin_change, AccountError};
use crate::db::{self, Pool};
use crate::domain::validate;
use crate::model::UserInfo;
use uuid::Uuid;

/// The fewest chats an agent may be capped at.
pub const MIN_MAX_CHATS: i32 = 1;
/// The most chats an agent may be capped at.
pub const MAX_MAX_CHATS: i32 = 50;

/// The "Max simultaneous chats" field: a whole number from 1 to 50.
pub fn max_chats(raw: &str) -> Result<i32, &'static str> {
    match raw.trim().parse::<i32>() {
        Ok(n) if (MIN_MAX_CHATS..=MAX_MAX_CHATS).contains(&n) => Ok(n),
        _ => Err("Enter a whole number of chats from 1 to 50."),
    }
}

/// The edit form as submitted.
#[derive(Debug, Clone, Copy)]
pub struct EditForm<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub max_chats: &'a str,
}

/// Saves `target`'s name, email and cap; audited with before and after. Every field is
/// checked before anything is written; an email another account uses is refused (the
/// unique index decides, so two saves at once cannot both take it). A lowered cap never
/// takes chats away: the agent just gets no new ones until below it.
pub async fn edit_user(
    pool: &Pool,
    actor: Uuid,
    target: Uuid,
    form: EditForm<'_>,
) -> Result<UserInfo, AccountError> {
    let name = validate::name(form.name).map_err(|m| AccountError::invalid("name", m))?;
    let email = validate::email(form.email).map_err(|m| AccountError::invalid("email", m))?;
    let max_chats = max_chats(form.max_chats).map_err(|m| AccountError::invalid("max_chats", m))?;
    let (mut tx, before) = begin_change(pool, target).await?;
    if !db::users::update_profile(&mut *tx, target, &name, &email, max_chats).await? {
        return Err(AccountError::EmailTaken);
    }
    let after = UserInfo {
        name,
        email,
        max_chats,
        ..before.clone()
    };
    if after != before {
        audit_change(&mut tx, Some(actor), "edit", Some(&before), &after).await?;
    }
    tx.commit().await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::max_chats;

    #[test]
    fn caps() {
        assert_eq!(max_chats(" 5 "), Ok(5));
        assert_eq!(max_chats("1"), Ok(1));
        assert_eq!(max_chats("50"), Ok(50));
        for bad in ["0", "51", "-1", "2.5", "", "five"] {
            assert!(max_chats(bad).is_err(), "{bad:?}");
        }
    }
}
