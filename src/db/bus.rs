//! Queries of the cross-node bus: the events other nodes announced, by id.

use super::conversations::EventRow;
use sqlx::PgExecutor;
use uuid::Uuid;

/// The events at these (conversation, sequence) pairs, in order.
pub async fn events_at(
    db: impl PgExecutor<'_>,
    ids: &[(Uuid, i64)],
) -> sqlx::Result<Vec<EventRow>> {
    let (convs, seqs): (Vec<Uuid>, Vec<i64>) = ids.iter().copied().unzip();
    sqlx::query_as(
        "SELECT e.conversation_id, e.seq, e.payload, e.agents_only, e.created_at
         FROM unnest($1::uuid[], $2::bigint[]) AS w(c, s)
         JOIN conversation_events e ON e.conversation_id = w.c AND e.seq = w.s
         ORDER BY e.conversation_id, e.seq",
    )
    .bind(convs)
    .bind(seqs)
    .fetch_all(db)
    .await
}

/// The events after each (conversation, sequence) mark, in order; at most 1,000 per
/// conversation (sockets further behind are told to resync by their own gap fill).
pub async fn events_after(
    db: impl PgExecutor<'_>,
    marks: &[(Uuid, i64)],
) -> sqlx::Result<Vec<EventRow>> {
    let (convs, seqs): (Vec<Uuid>, Vec<i64>) = marks.iter().copied().unzip();
    sqlx::query_as(
        "SELECT e.conversation_id, e.seq, e.payload, e.agents_only, e.created_at
         FROM unnest($1::uuid[], $2::bigint[]) AS w(c, s)
         CROSS JOIN LATERAL (
             SELECT * FROM conversation_events x
             WHERE x.conversation_id = w.c AND x.seq > w.s ORDER BY x.seq LIMIT 1000
         ) e
         ORDER BY e.conversation_id, e.seq",
    )
    .bind(convs)
    .bind(seqs)
    .fetch_all(db)
    .await
}
