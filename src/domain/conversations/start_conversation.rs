//! A visitor starts a conversation (the widget's pre-chat form leads here).

use crate::db::{self, Pool};
use uuid::Uuid;

/// Creates a waiting conversation for a contact, optionally routed to a group.
pub async fn start_conversation(
    pool: &Pool,
    site_id: Uuid,
    contact_id: Uuid,
    group_id: Option<Uuid>,
) -> sqlx::Result<Uuid> {
    db::conversations::insert(pool, site_id, contact_id, group_id).await
}
