//! The busy reply: a waiting chat nobody has answered within its site's minutes gets the
//! site's "All our agents are busy…" message, once. Run periodically by the server; safe to
//! run on every node at once (the message's fixed key makes the second poster a no-op).

use super::post_system_message::post_system_message;
use crate::db::{self, Pool};
use crate::domain::settings::greetings::BUSY_KEY;
use crate::realtime::protocol::Event;

/// How many owed replies one run posts at most; the rest wait for the next run.
pub const BATCH: i64 = 200;

/// Posts every owed busy reply (up to [`BATCH`]) and returns the events to publish.
pub async fn send_busy_replies(pool: &Pool) -> sqlx::Result<Vec<Event>> {
    let owed = db::site_settings::owed_busy_replies(pool, BATCH).await?;
    let mut events = Vec::with_capacity(owed.len());
    for o in owed {
        // One transaction per chat: a failure on one never holds back the others' replies.
        let mut tx = pool.begin().await?;
        match post_system_message(&mut tx, o.conversation_id, &o.site_name, &o.text, BUSY_KEY)
            .await?
        {
            Some(event) => {
                tx.commit().await?;
                events.push(event);
            }
            None => tx.rollback().await?,
        }
    }
    Ok(events)
}
