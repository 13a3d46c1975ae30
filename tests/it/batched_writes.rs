//! The batched message writer (`realtime::writer` over `domain::conversations::send_batch`):
//! many concurrent senders across conversations are stored exactly once with gapless
//! per-conversation sequences and delivered in order; a retry with the same key inside one
//! batch and across batches stores one message; a failing message does not fail the others
//! of its batch. Through real sockets on the real router, and (for exact batch contents)
//! through `send_batch` itself, both on the real Postgres.

use crate::realtime::{serve, world, Client, World};
use futures_util::future::join_all;
use serde_json::json;
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Duration;
use switchboard::domain::conversations::send_batch::{send_batch, SendRequest};
use switchboard::domain::conversations::{ConversationError, Viewer};
use switchboard::realtime::protocol::{ErrorCode, EventKind, ServerFrame};
use uuid::Uuid;

/// A new visitor of the world's site with a conversation of their own: (token, contact,
/// conversation).
async fn visitor_with_chat(pool: &PgPool, w: &World, name: &str) -> (String, Uuid, Uuid) {
    let reg = switchboard::domain::visitors::register(pool, w.site, name, None, None, 365)
        .await
        .unwrap();
    let conv = switchboard::domain::conversations::start_conversation::start_conversation(
        pool,
        w.site,
        reg.contact_id,
        None,
    )
    .await
    .unwrap();
    (reg.token, reg.contact_id, conv)
}

/// Asserts a conversation's log is 1..=last_seq with no gap and no repeat, and every message
/// row sits at a `message` event of the same sequence; returns the number of messages.
async fn assert_gapless(pool: &PgPool, conv: Uuid) -> i64 {
    let last: i64 = sqlx::query_scalar("SELECT last_seq FROM conversations WHERE id = $1")
        .bind(conv)
        .fetch_one(pool)
        .await
        .unwrap();
    let seqs: Vec<i64> = sqlx::query_scalar(
        "SELECT seq FROM conversation_events WHERE conversation_id = $1 ORDER BY seq",
    )
    .bind(conv)
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "gapless log of {conv}"
    );
    let unmatched: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages m WHERE m.conversation_id = $1 AND NOT EXISTS (
             SELECT 1 FROM conversation_events e
             WHERE e.conversation_id = m.conversation_id AND e.seq = m.seq AND e.kind = 'message')",
    )
    .bind(conv)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(unmatched, 0, "every message has its event");
    sqlx::query_scalar("SELECT count(*) FROM messages WHERE conversation_id = $1")
        .bind(conv)
        .fetch_one(pool)
        .await
        .unwrap()
}

fn sent(f: &ServerFrame) -> (i64, Uuid, bool) {
    match f {
        ServerFrame::Sent {
            seq,
            message_id,
            duplicate,
            ..
        } => (*seq, *message_id, *duplicate),
        other => panic!("expected sent, got {other:?}"),
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn many_concurrent_senders_are_stored_once_with_gapless_seqs_and_delivered_in_order(
    pool: PgPool,
) {
    const CHATS: usize = 24;
    const PER_VISITOR: usize = 8;
    let w = world(&pool).await;
    let server = serve(pool.clone()).await;
    let mut chats = Vec::new();
    for j in 0..CHATS {
        chats.push(visitor_with_chat(&pool, &w, &format!("V{j}")).await);
    }
    // An agent dashboard following every chat, reading all the time.
    let mut watcher = Client::agent(server.addr, &w.agent_cookie).await;
    for (_, _, conv) in &chats {
        watcher.subscribe(*conv, 0).await;
    }
    let convs: Vec<Uuid> = chats.iter().map(|c| c.2).collect();
    let watch = tokio::spawn(async move {
        // Every conversation ends with 3 agent messages, PER_VISITOR visitor messages and
        // one `assigned` event: stop when each has been seen up to its last sequence.
        let want = (PER_VISITOR + 3 + 1) as i64;
        let mut last: HashMap<Uuid, i64> = HashMap::new();
        let mut messages: HashMap<Uuid, usize> = HashMap::new();
        while last.values().filter(|s| **s == want).count() < CHATS {
            if let ServerFrame::Event(e) = watcher.recv().await {
                let prev = last.insert(e.conversation_id, e.seq).unwrap_or(0);
                assert_eq!(e.seq, prev + 1, "in order, no gap, no repeat");
                if matches!(e.kind, EventKind::Message { .. }) {
                    *messages.entry(e.conversation_id).or_default() += 1;
                }
            }
        }
        messages
    });

    let mut tasks = Vec::new();
    for (j, (token, _, conv)) in chats.iter().cloned().enumerate() {
        let addr = server.addr;
        tasks.push(tokio::spawn(async move {
            let mut v = Client::visitor(addr, &token).await;
            let mut first = None;
            for i in 0..PER_VISITOR {
                let (seq, id, dup) = sent(&v.say(conv, &format!("v{j}-{i}"), "hello").await);
                assert!(!dup);
                first.get_or_insert((seq, id));
            }
            // A retry of the first (a later batch): the stored message, nothing new.
            let (seq, id, dup) = sent(&v.say(conv, &format!("v{j}-0"), "hello").await);
            assert_eq!((seq, id, dup), (first.unwrap().0, first.unwrap().1, true));
        }));
    }
    // Two dashboards of the agent reply at the same time: the first reply claims the chat
    // (the per-message path), the note and the second reply go through batches.
    for half in [0..CHATS / 2, CHATS / 2..CHATS] {
        let addr = server.addr;
        let cookie = w.agent_cookie.clone();
        let convs = convs[half].to_vec();
        tasks.push(tokio::spawn(async move {
            let mut a = Client::agent(addr, &cookie).await;
            for conv in convs {
                for (k, note) in [("a0", false), ("n", true), ("a1", false)] {
                    a.send(json!({"type": "send", "conversation_id": conv,
                                  "key": format!("{k}-{conv}"), "body": k, "note": note}))
                        .await;
                    let f = loop {
                        let f = a.recv().await;
                        if matches!(f, ServerFrame::Sent { .. } | ServerFrame::Error { .. }) {
                            break f;
                        }
                    };
                    assert!(!sent(&f).2);
                }
            }
        }));
    }
    for t in join_all(tasks).await {
        t.unwrap();
    }
    let delivered = tokio::time::timeout(Duration::from_secs(30), watch)
        .await
        .expect("every event delivered")
        .unwrap();
    for conv in &convs {
        assert_eq!(
            assert_gapless(&pool, *conv).await,
            (PER_VISITOR + 3) as i64,
            "stored exactly once"
        );
        assert_eq!(delivered[conv], PER_VISITOR + 3, "delivered exactly once");
        let assignee = crate::common::assignee(&pool, *conv).await;
        assert_eq!(assignee, Some(w.agent), "the first reply claimed the chat");
    }
}

/// Holds a conversation's row lock so the writer's current batch waits on it: whatever is
/// sent meanwhile queues up and is stored as the writer's next batch.
async fn hold_writer(pool: &PgPool, conv: Uuid) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE")
        .bind(conv)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

async fn attachment(pool: &PgPool, conv: Uuid, name: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO attachments (conversation_id, sha256, filename, content_type, size_bytes)
         VALUES ($1, 'ab', $2, 'image/png', 3) RETURNING id",
    )
    .bind(conv)
    .bind(name)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn one_batch_over_sockets_keeps_retries_single_and_a_bad_message_alone(pool: PgPool) {
    let w = world(&pool).await;
    let server = serve(pool.clone()).await;
    let (t1, _, c1) = visitor_with_chat(&pool, &w, "One").await;
    let (t2, _, c2) = visitor_with_chat(&pool, &w, "Two").await;
    // A file of c2 that a message already carries.
    let file = attachment(&pool, c2, "a.png").await;
    let mut v2 = Client::visitor(server.addr, &t2).await;
    v2.send(
        json!({"type": "send", "conversation_id": c2, "key": "with-file", "body": "",
                   "attachment": file}),
    )
    .await;
    assert!(!sent(&v2.recv().await).2);

    // The writer stalls on the first send; the rest queue behind it as one batch.
    let held = hold_writer(&pool, w.conv).await;
    let addr = server.addr;
    let token = w.visitor_token.clone();
    let blocker = tokio::spawn(async move {
        let mut v = Client::visitor(addr, &token).await;
        sent(&v.say(w.conv, "blocker", "first").await)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let say = |token: String, conv: Uuid, frame: serde_json::Value| {
        tokio::spawn(async move {
            let mut v = Client::visitor(addr, &token).await;
            let mut frame = frame;
            frame["type"] = json!("send");
            frame["conversation_id"] = json!(conv);
            v.send(frame).await;
            loop {
                let f = v.recv().await;
                if matches!(f, ServerFrame::Sent { .. } | ServerFrame::Error { .. }) {
                    return f;
                }
            }
        })
    };
    let same_a = say(t1.clone(), c1, json!({"key": "same", "body": "twice"}));
    let same_b = say(t1.clone(), c1, json!({"key": "same", "body": "twice"}));
    let other = say(t1.clone(), c1, json!({"key": "other", "body": "hi"}));
    let bad = say(
        t2.clone(),
        c2,
        json!({"key": "file-again", "body": "", "attachment": file}),
    );
    let good = say(t2.clone(), c2, json!({"key": "fine", "body": "still here"}));
    tokio::time::sleep(Duration::from_millis(500)).await;
    held.commit().await.unwrap();

    assert!(!blocker.await.unwrap().2);
    let (a, b) = (sent(&same_a.await.unwrap()), sent(&same_b.await.unwrap()));
    assert_eq!((a.0, a.1), (b.0, b.1), "one message for both");
    assert!(a.2 ^ b.2, "exactly one answer says duplicate: {a:?} {b:?}");
    assert!(!sent(&other.await.unwrap()).2);
    match bad.await.unwrap() {
        ServerFrame::Error { code, key, .. } => {
            assert_eq!(code, ErrorCode::InvalidBody);
            assert_eq!(key.as_deref(), Some("file-again"));
        }
        f => panic!("expected an error, got {f:?}"),
    }
    assert!(!sent(&good.await.unwrap()).2);

    // Across batches: the retry finds the stored message.
    let mut v1 = Client::visitor(server.addr, &t1).await;
    let again = sent(&v1.say(c1, "same", "twice").await);
    assert_eq!((again.0, again.1, again.2), (a.0, a.1, true));
    assert_eq!(assert_gapless(&pool, c1).await, 2);
    assert_eq!(assert_gapless(&pool, c2).await, 2);
    assert_eq!(assert_gapless(&pool, w.conv).await, 1);
}

fn visitor(contact_id: Uuid) -> Viewer {
    Viewer::Visitor {
        contact_id,
        name: "V".into(),
    }
}

fn req(viewer: &Viewer, conv: Uuid, key: &str, body: &str) -> SendRequest {
    SendRequest {
        viewer: viewer.clone(),
        conversation_id: conv,
        key: key.into(),
        body: body.into(),
        note: false,
        attachment: None,
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn a_batch_stores_each_key_once_and_refuses_bad_messages_alone(pool: PgPool) {
    let w = world(&pool).await;
    let (_, k1, c1) = visitor_with_chat(&pool, &w, "One").await;
    let (_, k2, c2) = visitor_with_chat(&pool, &w, "Two").await;
    let (v1, v2) = (visitor(k1), visitor(k2));
    let agent = Viewer::Agent {
        user_id: w.agent,
        name: "Agent".into(),
    };
    let f1 = attachment(&pool, c1, "one.png").await;
    let f2 = attachment(&pool, c2, "two.png").await;
    let batch = vec![
        req(&v1, c1, "k1", "first"), // 0 stored
        req(&v1, c1, "k1", "first"), // 1 same key: duplicate of 0
        SendRequest {
            note: true,
            ..req(&v2, c2, "n", "x")
        }, // 2 visitors write no notes
        req(&v2, c2, "empty", "   "), // 3 empty
        req(&v2, c2, "", "no key"),  // 4 no key
        SendRequest {
            attachment: Some(f1),
            ..req(&v2, c2, "f", "")
        }, // 5 another chat's file
        SendRequest {
            attachment: Some(f1),
            ..req(&v1, c1, "f1", "")
        }, // 6 stored, named by its file
        SendRequest {
            attachment: Some(f1),
            ..req(&v1, c1, "f1b", "x")
        }, // 7 file taken by 6
        req(&v2, c2, "k2", "second chat"), // 8 stored
        SendRequest {
            note: true,
            ..req(&agent, c1, "note", "private")
        }, // 9 stored, no claim
        req(&agent, c2, "reply", "hello"), // 10 claims: per-message path
        SendRequest {
            attachment: Some(f2),
            ..req(&v2, c2, "f2", "see")
        }, // 11 stored
    ];
    let answers = send_batch(&pool, &batch).await;
    let ok = |i: usize| answers[i].as_ref().unwrap_or_else(|e| panic!("{i}: {e}"));
    assert!(ok(0).event.is_some());
    assert!(
        ok(1).event.is_none(),
        "the second send of a key is a duplicate"
    );
    assert_eq!((ok(1).seq, ok(1).message_id), (ok(0).seq, ok(0).message_id));
    assert!(matches!(answers[2], Err(ConversationError::NoteNotAllowed)));
    assert!(matches!(answers[3], Err(ConversationError::InvalidBody(_))));
    assert!(matches!(answers[4], Err(ConversationError::InvalidKey)));
    assert!(matches!(
        answers[5],
        Err(ConversationError::NoSuchAttachment)
    ));
    match &ok(6).event.as_ref().unwrap().kind {
        EventKind::Message {
            body, attachment, ..
        } => {
            assert_eq!(body, "one.png");
            assert_eq!(attachment.as_ref().unwrap().id, f1);
        }
        k => panic!("{k:?}"),
    }
    assert!(matches!(
        answers[7],
        Err(ConversationError::NoSuchAttachment)
    ));
    // c1: 0, 6, 9 in arrival order; c2: 8, 11, then the claim's `assigned` and 10.
    assert_eq!([ok(0).seq, ok(6).seq, ok(9).seq], [1, 2, 3]);
    assert!(ok(9).event.as_ref().unwrap().kind.agents_only());
    assert_eq!([ok(8).seq, ok(11).seq], [1, 2]);
    assert!(matches!(
        ok(10).preceding.as_ref().unwrap().kind,
        EventKind::Assigned { .. }
    ));
    assert_eq!(ok(10).seq, 4);
    let linked: Vec<(Uuid, Option<Uuid>)> =
        sqlx::query_as("SELECT id, message_id FROM attachments ORDER BY filename")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        linked,
        vec![(f1, Some(ok(6).message_id)), (f2, Some(ok(11).message_id))]
    );
    // The next batch: a retry of a stored key is the stored message.
    let again = send_batch(&pool, &[req(&v1, c1, "k1", "first")]).await;
    let again = again[0].as_ref().unwrap();
    assert!(again.event.is_none());
    assert_eq!(again.seq, ok(0).seq);
    assert_eq!(assert_gapless(&pool, c1).await, 3);
    assert_eq!(assert_gapless(&pool, c2).await, 3);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_message_the_database_refuses_fails_alone(pool: PgPool) {
    let w = world(&pool).await;
    let (_, k1, c1) = visitor_with_chat(&pool, &w, "One").await;
    let (_, k2, c2) = visitor_with_chat(&pool, &w, "Two").await;
    // A sender whose contact does not exist: the message insert of the whole batch fails on
    // the foreign key, so the batch rolls back and each message is tried alone.
    let ghost = visitor(Uuid::new_v4());
    let batch = vec![
        req(&visitor(k1), c1, "a", "one"),
        req(&ghost, c2, "b", "ghost"),
        req(&visitor(k2), c2, "c", "two"),
        req(&visitor(k1), c1, "d", "three"),
    ];
    let answers = send_batch(&pool, &batch).await;
    assert!(matches!(answers[1], Err(ConversationError::Db(_))));
    for i in [0, 2, 3] {
        let s = answers[i].as_ref().unwrap();
        assert!(s.event.is_some(), "{i} stored");
    }
    assert_eq!(assert_gapless(&pool, c1).await, 2);
    assert_eq!(assert_gapless(&pool, c2).await, 1);
}
