//! A visitor starts a conversation (the widget's pre-chat form leads here). When the site
//! has an auto-greeting, it is the conversation's first message, stored in the same
//! transaction: the visitor sees it as soon as the widget subscribes.

use super::post_system_message::post_system_message;
use crate::db::{self, Pool};
use crate::domain::settings::greetings::{Greetings, GREETING_KEY};
use uuid::Uuid;

/// Creates a waiting conversation for a contact, optionally routed to a group, with the
/// site's auto-greeting if it has one.
pub async fn start_conversation(
    pool: &Pool,
    site_id: Uuid,
    contact_id: Uuid,
    group_id: Option<Uuid>,
) -> sqlx::Result<Uuid> {
    let mut tx = pool.begin().await?;
    let id = db::conversations::insert(&mut *tx, site_id, contact_id, group_id).await?;
    let (site_name, stored) = db::site_settings::name_and_greetings(&mut *tx, site_id).await?;
    if let Some(greeting) = Greetings::from_stored(stored).greeting {
        post_system_message(&mut tx, id, &site_name, &greeting, GREETING_KEY).await?;
    }
    tx.commit().await?;
    Ok(id)
}
