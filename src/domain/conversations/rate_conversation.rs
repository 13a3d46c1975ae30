//! The visitor rates a resolved conversation: 1–5 stars, optional feedback, optionally
//! anonymous. One rating per conversation (the primary key decides, not memory).

use super::append_event::append_event;
use crate::db::{self, Pool};
use crate::realtime::protocol::{Event, EventKind};
use uuid::Uuid;

/// Longest feedback, in characters.
pub const MAX_FEEDBACK_CHARS: usize = 2000;

/// Why a rating was refused.
#[derive(Debug, thiserror::Error)]
pub enum RateError {
    #[error("Choose from 1 to 5 stars.")]
    Score,
    #[error("Feedback can be at most {MAX_FEEDBACK_CHARS} characters.")]
    FeedbackTooLong,
    #[error("No such conversation.")]
    NotFound,
    #[error("You can rate this chat once it is resolved.")]
    NotResolved,
    #[error("This chat has already been rated.")]
    AlreadyRated,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

/// Stores the rating of `contact`'s `conversation`; returns the `rating` event to publish.
pub async fn rate_conversation(
    pool: &Pool,
    contact: Uuid,
    conversation: Uuid,
    score: i16,
    feedback: Option<&str>,
    anonymous: bool,
) -> Result<Event, RateError> {
    if !(1..=5).contains(&score) {
        return Err(RateError::Score);
    }
    let feedback = feedback.map(str::trim).filter(|f| !f.is_empty());
    if feedback.is_some_and(|f| f.chars().count() > MAX_FEEDBACK_CHARS) {
        return Err(RateError::FeedbackTooLong);
    }
    let conv = db::conversations::find(pool, conversation)
        .await?
        .filter(|c| c.contact_id == contact)
        .ok_or(RateError::NotFound)?;
    if conv.status != "resolved" {
        return Err(RateError::NotResolved);
    }
    let mut tx = pool.begin().await?;
    if !db::conversations::insert_rating(&mut *tx, conversation, score, feedback, anonymous).await?
    {
        return Err(RateError::AlreadyRated);
    }
    let event = append_event(&mut tx, conversation, EventKind::Rated { score }).await?;
    tx.commit().await?;
    Ok(event)
}
