//! The realtime core over real sockets and the real Postgres: idempotent sends, resume after
//! a kill and after a server restart, access checks at subscribe, bad frames, slow consumers,
//! typing, receipts, presence, notes and rate limits.

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::time::Duration;
use switchboard::domain::accounts::session;
use switchboard::model::Role;
use switchboard::realtime::protocol::{ErrorCode, EventKind, PresenceState, ServerFrame, Side};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A running server on a free port; dropped, it stops.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) async fn serve(pool: PgPool) -> Server {
    serve_app(crate::common::app(pool)).await
}

async fn serve_app(app: axum::Router) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Server { addr, task }
}

pub(crate) struct Client {
    ws: Ws,
}

impl Client {
    async fn connect(addr: SocketAddr, cookie: Option<&str>) -> Client {
        let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
        req.headers_mut()
            .insert("origin", format!("http://{addr}").parse().unwrap());
        if let Some(c) = cookie {
            req.headers_mut().insert("cookie", c.parse().unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        Client { ws }
    }

    pub(crate) async fn visitor(addr: SocketAddr, token: &str) -> Client {
        let mut c = Client::connect(addr, None).await;
        c.send(json!({"type": "hello", "visitor_token": token}))
            .await;
        assert!(matches!(c.recv().await, ServerFrame::Welcome { .. }));
        c
    }

    pub(crate) async fn agent(addr: SocketAddr, cookie: &str) -> Client {
        let mut c = Client::connect(addr, Some(cookie)).await;
        assert!(matches!(c.recv().await, ServerFrame::Welcome { .. }));
        c
    }

    pub(crate) async fn send(&mut self, v: serde_json::Value) {
        self.ws.send(Message::text(v.to_string())).await.unwrap();
    }

    async fn send_raw(&mut self, m: Message) {
        self.ws.send(m).await.unwrap();
    }

    /// The next frame (skipping presence noise), or a panic after 10 s.
    pub(crate) async fn recv(&mut self) -> ServerFrame {
        loop {
            let f = self.recv_any().await;
            if !matches!(f, ServerFrame::Presence { .. }) {
                return f;
            }
        }
    }

    async fn recv_any(&mut self) -> ServerFrame {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a frame within 10 s")
                .expect("socket open")
                .expect("no socket error");
            if let Message::Text(t) = msg {
                return serde_json::from_str(t.as_str()).unwrap();
            }
        }
    }

    /// Asserts nothing but presence arrives for `ms` milliseconds.
    async fn quiet(&mut self, ms: u64) {
        let end = tokio::time::Instant::now() + Duration::from_millis(ms);
        while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(end, self.ws.next()).await {
            if let Message::Text(t) = msg {
                let f: ServerFrame = serde_json::from_str(t.as_str()).unwrap();
                assert!(
                    matches!(f, ServerFrame::Presence { .. }),
                    "expected silence, got {f:?}"
                );
            }
        }
    }

    pub(crate) async fn subscribe(&mut self, conv: Uuid, after: i64) -> i64 {
        self.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": after}))
            .await;
        match self.recv().await {
            ServerFrame::Subscribed { last_seq, .. } => last_seq,
            other => panic!("expected subscribed, got {other:?}"),
        }
    }

    pub(crate) async fn say(&mut self, conv: Uuid, key: &str, body: &str) -> ServerFrame {
        self.send(json!({"type": "send", "conversation_id": conv, "key": key, "body": body}))
            .await;
        loop {
            let f = self.recv().await;
            if matches!(f, ServerFrame::Sent { .. } | ServerFrame::Error { .. }) {
                return f;
            }
        }
    }

    /// Reads until a message event, returning (seq, body).
    async fn next_message(&mut self) -> (i64, String) {
        loop {
            if let ServerFrame::Event(e) = self.recv().await {
                if let EventKind::Message { body, .. } = e.kind {
                    return (e.seq, body);
                }
            }
        }
    }
}

/// A site with a group, an agent in it, a visitor and their conversation.
pub(crate) struct World {
    pub(crate) site: Uuid,
    pub(crate) agent: Uuid,
    pub(crate) agent_cookie: String,
    pub(crate) visitor_token: String,
    pub(crate) conv: Uuid,
}

pub(crate) async fn world(pool: &PgPool) -> World {
    let site = switchboard::db::sites::insert(pool, &Uuid::new_v4().to_string(), "Shop", "secret")
        .await
        .unwrap()
        .id;
    let agent = crate::common::account(
        pool,
        &format!("{}@example.com", Uuid::new_v4()),
        Role::Agent,
    )
    .await;
    let group: Uuid = sqlx::query_scalar(
        "INSERT INTO groups (site_id, name) VALUES ($1, 'Support') RETURNING id",
    )
    .bind(site)
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO group_members (group_id, user_id, level) VALUES ($1, $2, 1)")
        .bind(group)
        .bind(agent.id)
        .execute(pool)
        .await
        .unwrap();
    let reg = switchboard::domain::visitors::register(pool, site, "Vera", None, None, 365)
        .await
        .unwrap();
    let conv = switchboard::domain::conversations::start_conversation::start_conversation(
        pool,
        site,
        reg.contact_id,
        Some(group),
    )
    .await
    .unwrap();
    World {
        site,
        agent: agent.id,
        agent_cookie: cookie_for(pool, agent.id).await,
        visitor_token: reg.token,
        conv,
    }
}

/// The world's agent and visitor, both connected and subscribed to its conversation.
async fn agent_and_visitor(w: &World, server: &Server) -> (Client, Client) {
    let mut agent = Client::agent(server.addr, &w.agent_cookie).await;
    agent.subscribe(w.conv, 0).await;
    let mut visitor = Client::visitor(server.addr, &w.visitor_token).await;
    visitor.subscribe(w.conv, 0).await;
    (agent, visitor)
}

async fn cookie_for(pool: &PgPool, user: Uuid) -> String {
    let s = session::issue(pool, user, "127.0.0.1", "test")
        .await
        .unwrap();
    format!("sb_session={}", s.token)
}

#[sqlx::test(migrations = "./migrations")]
async fn a_send_retried_three_times_is_stored_once(pool: PgPool) {
    let w = world(&pool).await;
    let server = serve(pool.clone()).await;
    let mut v = Client::visitor(server.addr, &w.visitor_token).await;
    let mut seqs = Vec::new();
    for attempt in 0..3 {
        match v.say(w.conv, "key-1", "Hello there").await {
            ServerFrame::Sent { seq, duplicate, .. } => {
                assert_eq!(duplicate, attempt > 0);
                seqs.push(seq);
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(seqs.iter().all(|s| *s == seqs[0]), "{seqs:?}");
    // A retry on a new socket (as after a reconnect) is also recognised.
    let mut v2 = Client::visitor(server.addr, &w.visitor_token).await;
    assert!(matches!(
        v2.say(w.conv, "key-1", "Hello there").await,
        ServerFrame::Sent {
            duplicate: true,
            ..
        }
    ));
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE conversation_id = $1")
            .bind(w.conv)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored, 1);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_killed_client_resumes_with_every_missed_event_in_order(pool: PgPool) {
    let w = world(&pool).await;
    let server = serve(pool.clone()).await;
    let (mut agent, mut v) = agent_and_visitor(&w, &server).await;
    agent.say(w.conv, "first", "first").await;
    let (last_applied, body) = v.next_message().await;
    assert_eq!(body, "first");
    drop(v); // killed mid-stream: no close frame

    for i in 0..50 {
        assert!(matches!(
            agent.say(w.conv, &format!("k{i}"), &format!("m{i}")).await,
            ServerFrame::Sent { .. }
        ));
    }
    let mut v = Client::visitor(server.addr, &w.visitor_token).await;
    v.subscribe(w.conv, last_applied).await;
    let mut prev = last_applied;
    for i in 0..50 {
        let (seq, body) = v.next_message().await;
        assert_eq!(body, format!("m{i}"));
        assert_eq!(seq, prev + 1, "in order, no gap, no duplicate");
        prev = seq;
    }
    // Live events follow the backlog with no gap and no repeat.
    agent.say(w.conv, "live", "live").await;
    let (seq, body) = v.next_message().await;
    assert_eq!((seq, body.as_str()), (prev + 1, "live"));
    v.quiet(300).await;
}

#[sqlx::test(migrations = "./migrations")]
async fn resume_works_across_a_server_restart(pool: PgPool) {
    let w = world(&pool).await;
    let server = serve(pool.clone()).await;
    let mut v = Client::visitor(server.addr, &w.visitor_token).await;
    let last = v.subscribe(w.conv, 0).await;
    let mut agent = Client::agent(server.addr, &w.agent_cookie).await;
    for i in 0..50 {
        agent.say(w.conv, &format!("k{i}"), &format!("m{i}")).await;
    }
    drop(server); // the whole node goes away, hub and all
    drop(v);
    let server = serve(pool.clone()).await; // a new process-equivalent: fresh hub, same database
    let mut v = Client::visitor(server.addr, &w.visitor_token).await;
    v.subscribe(w.conv, last).await;
    // The agent's first reply assigned the conversation (`last + 1`); the messages follow.
    for i in 0..50 {
        let (seq, body) = v.next_message().await;
        assert_eq!((seq, body), (last + 2 + i, format!("m{i}")));
    }
    v.quiet(300).await;
}

#[sqlx::test(migrations = "./migrations")]
async fn nobody_subscribes_to_what_they_may_not_see(pool: PgPool) {
    let w = world(&pool).await;
    let other = world(&pool).await; // another site, visitor and agent
    let server = serve(pool.clone()).await;
    let mut agent = Client::agent(server.addr, &w.agent_cookie).await;
    agent.subscribe(w.conv, 0).await;
    agent.say(w.conv, "secret", "private to this visitor").await;

    let mut intruder = Client::visitor(server.addr, &other.visitor_token).await;
    intruder
        .send(json!({"type": "subscribe", "conversation_id": w.conv, "after_seq": 0}))
        .await;
    assert!(matches!(
        intruder.recv().await,
        ServerFrame::Error {
            code: ErrorCode::Forbidden,
            ..
        }
    ));
    let f = intruder.say(w.conv, "x", "let me in").await;
    assert!(
        matches!(
            f,
            ServerFrame::Error {
                code: ErrorCode::Forbidden,
                ..
            }
        ),
        "{f:?}"
    );

    let mut outsider = Client::agent(server.addr, &other.agent_cookie).await;
    outsider
        .send(json!({"type": "subscribe", "conversation_id": w.conv, "after_seq": 0}))
        .await;
    assert!(matches!(
        outsider.recv().await,
        ServerFrame::Error {
            code: ErrorCode::Forbidden,
            ..
        }
    ));
    // Unknown ids read the same as forbidden ones: nothing leaks.
    outsider
        .send(json!({"type": "subscribe", "conversation_id": Uuid::new_v4(), "after_seq": 0}))
        .await;
    assert!(matches!(
        outsider.recv().await,
        ServerFrame::Error {
            code: ErrorCode::Forbidden,
            ..
        }
    ));

    agent.say(w.conv, "more", "still private").await;
    intruder.quiet(300).await;
    outsider.quiet(300).await;
    // A socket without identity can do nothing but say hello.
    let mut anon = Client::connect(server.addr, None).await;
    anon.send(json!({"type": "subscribe", "conversation_id": w.conv, "after_seq": 0}))
        .await;
    assert!(matches!(
        anon.recv().await,
        ServerFrame::Error {
            code: ErrorCode::Unauthenticated,
            ..
        }
    ));
    anon.send(json!({"type": "hello", "visitor_token": "forged"}))
        .await;
    assert!(matches!(
        anon.recv().await,
        ServerFrame::Error {
            code: ErrorCode::Unauthenticated,
            ..
        }
    ));
    let _ = other.site;
}

#[sqlx::test(migrations = "./migrations")]
async fn bad_frames_get_error_events_and_everything_stays_up(pool: PgPool) {
    let w = world(&pool).await;
    let server = serve(pool.clone()).await;
    let mut v = Client::visitor(server.addr, &w.visitor_token).await;
    let cases: Vec<(Message, ErrorCode)> = vec![
        (Message::text("not json at all"), ErrorCode::Malformed),
        (
            Message::text("{\"type\":\"explode\"}"),
            ErrorCode::UnknownFrame,
        ),
        (
            Message::text("{\"type\":\"send\",\"body\":1}"),
            ErrorCode::Malformed,
        ),
        (Message::text("[1,2,3]"), ErrorCode::Malformed),
        (
            Message::text("x".repeat(40 * 1024)),
            ErrorCode::FrameTooLarge,
        ),
        (
            Message::binary(vec![0u8, 159, 146, 150]),
            ErrorCode::Malformed,
        ),
    ];
    for (frame, code) in cases {
        v.send_raw(frame).await;
        match v.recv().await {
            ServerFrame::Error { code: got, .. } => assert_eq!(got, code),
            other => panic!("{other:?}"),
        }
    }
    for (body, ok) in [
        ("", false),
        ("   ", false),
        (&"a".repeat(5001)[..], false),
        (&"a".repeat(5000)[..], true),
    ] {
        let f = v.say(w.conv, &Uuid::new_v4().to_string(), body).await;
        match f {
            ServerFrame::Sent { .. } => assert!(ok),
            ServerFrame::Error { code, .. } => {
                assert!(!ok);
                assert_eq!(code, ErrorCode::InvalidBody);
            }
            other => panic!("{other:?}"),
        }
    }
    v.send(json!({"type": "ping"})).await;
    assert_eq!(v.recv().await, ServerFrame::Pong);
    let health = reqwest_like_get(server.addr, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
}

async fn reqwest_like_get(addr: SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[sqlx::test(migrations = "./migrations")]
async fn a_stalled_socket_does_not_delay_100_others(pool: PgPool) {
    let w = world(&pool).await;
    let server = serve(pool.clone()).await;
    // The stalled one subscribes and then never reads again.
    let mut stalled = Client::agent(server.addr, &w.agent_cookie).await;
    stalled.subscribe(w.conv, 0).await;
    let mut fast = Vec::new();
    for _ in 0..100 {
        let mut c = Client::agent(server.addr, &w.agent_cookie).await;
        c.subscribe(w.conv, 0).await;
        fast.push(c);
    }
    let mut v = Client::visitor(server.addr, &w.visitor_token).await;
    let body = "x".repeat(4000);
    for i in 0..20 {
        assert!(matches!(
            v.say(w.conv, &format!("k{i}"), &body).await,
            ServerFrame::Sent { .. }
        ));
    }
    for c in fast.iter_mut() {
        let mut prev = 0;
        for _ in 0..20 {
            let (seq, _) = c.next_message().await;
            assert_eq!(seq, prev + 1);
            prev = seq;
        }
    }
    drop(stalled);
}

#[tokio::test]
async fn the_hub_kicks_a_full_queue_and_never_blocks_the_publisher() {
    use switchboard::realtime::hub::{Hub, InProcessBus, Kick, KickReason, Member, SOCKET_QUEUE};
    use switchboard::realtime::protocol::{Author, Event};
    use tokio::sync::mpsc;
    let hub = Hub::new(std::sync::Arc::new(InProcessBus));
    let conv = Uuid::new_v4();
    let (slow_tx, _slow_rx) = mpsc::channel(SOCKET_QUEUE); // never read
    let slow_kick = std::sync::Arc::new(Kick::default());
    hub.join(
        conv,
        None,
        Member {
            socket: 1,
            user: Some(Uuid::nil()),
            outbox: slow_tx,
            kick: slow_kick.clone(),
        },
    );
    let mut readers = Vec::new();
    for id in 2..102 {
        let (tx, rx) = mpsc::channel(SOCKET_QUEUE);
        hub.join(
            conv,
            None,
            Member {
                socket: id,
                user: Some(Uuid::nil()),
                outbox: tx,
                kick: std::sync::Arc::new(Kick::default()),
            },
        );
        readers.push(rx);
    }
    let total = SOCKET_QUEUE as i64 * 3;
    for seq in 1..=total {
        hub.publish(Event {
            conversation_id: conv,
            seq,
            at: String::new(),
            kind: EventKind::Message {
                message_id: Uuid::nil(),
                author: Author {
                    side: Side::Visitor,
                    id: None,
                    name: "v".into(),
                },
                body: "hi".into(),
                note: false,
                key: seq.to_string(),
                attachment: None,
            },
        });
        // The readers keep up; the slow member does not.
        for rx in readers.iter_mut() {
            assert!(rx.try_recv().is_ok());
        }
    }
    let reason = tokio::time::timeout(Duration::from_secs(1), slow_kick.kicked())
        .await
        .expect("the slow member was kicked");
    assert_eq!(reason, KickReason::Slow);
    assert_eq!(hub.members(conv), 100);
}

#[sqlx::test(migrations = "./migrations")]
async fn typing_is_throttled_and_receipts_reach_the_author(pool: PgPool) {
    let w = world(&pool).await;
    let server = serve(pool.clone()).await;
    let (mut agent, mut v) = agent_and_visitor(&w, &server).await;
    for _ in 0..3 {
        v.send(json!({"type": "typing", "conversation_id": w.conv}))
            .await;
    }
    match agent.recv().await {
        ServerFrame::Typing {
            author, expires_ms, ..
        } => {
            assert_eq!(author.side, Side::Visitor);
            assert_eq!(expires_ms, 6000);
        }
        other => panic!("{other:?}"),
    }
    agent.quiet(500).await; // the other two were within 2 s: dropped

    let seq = match agent.say(w.conv, "a1", "How can I help?").await {
        ServerFrame::Sent { seq, .. } => seq,
        other => panic!("{other:?}"),
    };
    v.next_message().await;
    v.send(json!({"type": "delivered", "conversation_id": w.conv, "up_to_seq": seq}))
        .await;
    loop {
        if let ServerFrame::Event(e) = agent.recv().await {
            if let EventKind::Delivered { by, up_to_seq } = e.kind {
                assert_eq!((by, up_to_seq), (Side::Visitor, seq));
                break;
            }
        }
    }
    v.send(json!({"type": "read", "conversation_id": w.conv, "up_to_seq": seq}))
        .await;
    loop {
        if let ServerFrame::Event(e) = agent.recv().await {
            if let EventKind::Read { by, up_to_seq } = e.kind {
                assert_eq!((by, up_to_seq), (Side::Visitor, seq));
                break;
            }
        }
    }
    let (delivered, read): (bool, bool) = sqlx::query_as(
        "SELECT delivered_at IS NOT NULL, read_at IS NOT NULL FROM messages WHERE conversation_id = $1 AND seq = $2",
    )
    .bind(w.conv)
    .bind(seq)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(delivered && read);
}

#[sqlx::test(migrations = "./migrations")]
async fn notes_stay_with_agents_and_presence_reaches_the_visitor(pool: PgPool) {
    let w = world(&pool).await;
    sqlx::query("UPDATE conversations SET assignee_id = $1, status = 'assigned' WHERE id = $2")
        .bind(w.agent)
        .bind(w.conv)
        .execute(&pool)
        .await
        .unwrap();
    let server = serve(pool.clone()).await;
    let mut agent = Client::agent(server.addr, &w.agent_cookie).await;
    agent.subscribe(w.conv, 0).await;
    let mut v = Client::visitor(server.addr, &w.visitor_token).await;
    v.send(json!({"type": "subscribe", "conversation_id": w.conv, "after_seq": 0}))
        .await;
    assert!(matches!(v.recv_any().await, ServerFrame::Subscribed { .. }));
    assert!(matches!(
        v.recv_any().await,
        ServerFrame::Presence {
            state: PresenceState::Online,
            ..
        }
    ));

    agent.send(json!({"type": "send", "conversation_id": w.conv, "key": "n1", "body": "VIP customer", "note": true})).await;
    let mut saw_note = false;
    while !saw_note {
        if let ServerFrame::Event(e) = agent.recv().await {
            saw_note = matches!(e.kind, EventKind::Message { note: true, .. });
        }
    }
    agent.say(w.conv, "p1", "Hello!").await;
    let (_, body) = v.next_message().await;
    assert_eq!(body, "Hello!", "the note was never sent to the visitor");
    // Nor is it in the visitor's backlog on resume.
    let mut v2 = Client::visitor(server.addr, &w.visitor_token).await;
    v2.subscribe(w.conv, 0).await;
    let (_, body) = v2.next_message().await;
    assert_eq!(body, "Hello!");
    // A visitor may not write notes.
    v.send(
        json!({"type": "send", "conversation_id": w.conv, "key": "n2", "body": "x", "note": true}),
    )
    .await;
    assert!(matches!(
        v.recv().await,
        ServerFrame::Error {
            code: ErrorCode::Forbidden,
            ..
        }
    ));

    drop(agent);
    loop {
        if let ServerFrame::Presence { state, .. } = v.recv_any().await {
            assert_eq!(state, PresenceState::Offline);
            break;
        }
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn a_flooding_visitor_is_rate_limited_with_a_clear_error(pool: PgPool) {
    let w = world(&pool).await;
    let server = serve(pool.clone()).await;
    let mut v = Client::visitor(server.addr, &w.visitor_token).await;
    let mut sent = 0;
    let mut limited = None;
    for i in 0..25 {
        match v.say(w.conv, &format!("r{i}"), "spam").await {
            ServerFrame::Sent { .. } => sent += 1,
            ServerFrame::Error {
                code: ErrorCode::RateLimited,
                retry_after_ms,
                key,
                ..
            } => {
                assert_eq!(key.as_deref(), Some(format!("r{i}").as_str()));
                limited = retry_after_ms;
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(sent, 20, "a burst of 20 passes");
    assert!(limited.is_some_and(|ms| ms > 0 && ms <= 1000));
}

#[sqlx::test(migrations = "./migrations")]
async fn agents_see_who_is_online_when_they_connect_and_when_it_changes(pool: PgPool) {
    let w = world(&pool).await;
    let second = crate::common::account(&pool, "second@example.com", Role::Agent).await;
    let second_cookie = cookie_for(&pool, second.id).await;
    let server = serve(pool.clone()).await;
    let mut first = Client::agent(server.addr, &w.agent_cookie).await;
    let mut other = Client::agent(server.addr, &second_cookie).await;
    // The newcomer is told who is already online...
    let mut online = Vec::new();
    while online.len() < 2 {
        if let ServerFrame::Presence { user_id, state, .. } = other.recv_any().await {
            assert_eq!(state, PresenceState::Online);
            online.push(user_id);
        }
    }
    assert!(online.contains(&w.agent) && online.contains(&second.id));
    // ...and the others hear that the newcomer arrived, then left.
    let mut states = Vec::new();
    drop(other);
    while states.len() < 2 {
        if let ServerFrame::Presence { user_id, state, .. } = first.recv_any().await {
            if user_id == second.id {
                states.push(state);
            }
        }
    }
    assert_eq!(states, vec![PresenceState::Online, PresenceState::Offline]);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_silent_socket_is_closed_and_a_pinging_one_is_not(pool: PgPool) {
    let w = world(&pool).await;
    // The timeout is configurable (default 60 s); 1 s keeps this test short.
    let server = serve_app(crate::common::app_with_socket_timeout(
        pool.clone(),
        Duration::from_secs(1),
    ))
    .await;
    let mut silent = Client::visitor(server.addr, &w.visitor_token).await;
    let mut talker = Client::visitor(server.addr, &w.visitor_token).await;
    let started = tokio::time::Instant::now();
    let mut closed = None;
    while started.elapsed() < Duration::from_secs(3) {
        talker.send(json!({"type": "ping"})).await;
        assert_eq!(talker.recv().await, ServerFrame::Pong);
        if closed.is_none() {
            if let Ok(next) =
                tokio::time::timeout(Duration::from_millis(300), silent.ws.next()).await
            {
                closed = Some(next);
            }
        }
    }
    match closed {
        Some(Some(Ok(Message::Close(Some(frame))))) => {
            assert_eq!(u16::from(frame.code), 4000);
            assert!(frame.reason.contains("silent"));
        }
        other => panic!("the silent socket should have been closed, got {other:?}"),
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn deactivating_an_agent_closes_their_open_sockets(pool: PgPool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let w = world(&pool).await;
    let admin = crate::common::account(&pool, "boss@example.com", Role::Admin).await;
    let admin_cookie = cookie_for(&pool, admin.id).await;
    let server = serve(pool.clone()).await;
    let mut agent = Client::agent(server.addr, &w.agent_cookie).await;
    agent.subscribe(w.conv, 0).await;

    let form = format!("id={}&active=false", w.agent);
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    let req = format!(
        "POST /api/users/active HTTP/1.1\r\nHost: {a}\r\nOrigin: http://{a}\r\nCookie: {admin_cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len(),
        a = server.addr
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");

    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), agent.ws.next())
            .await
            .expect("closed within 5 s");
        match msg {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 4003);
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
    // And the cookie no longer opens a staff socket.
    let mut again = Client::connect(server.addr, Some(&w.agent_cookie)).await;
    again
        .send(json!({"type": "subscribe", "conversation_id": w.conv, "after_seq": 0}))
        .await;
    assert!(matches!(
        again.recv().await,
        ServerFrame::Error {
            code: ErrorCode::Unauthenticated,
            ..
        }
    ));
}

#[sqlx::test(migrations = "./migrations")]
async fn an_agents_first_reply_assigns_the_conversation(pool: PgPool) {
    let w = world(&pool).await;
    let server = serve(pool.clone()).await;
    let mut v = Client::visitor(server.addr, &w.visitor_token).await;
    let last = v.subscribe(w.conv, 0).await;
    let mut agent = Client::agent(server.addr, &w.agent_cookie).await;
    agent.say(w.conv, "a1", "hello").await;
    // The visitor learns who joined before the first reply arrives.
    let assigned = loop {
        if let ServerFrame::Event(e) = v.recv().await {
            break e;
        }
    };
    assert_eq!(assigned.seq, last + 1);
    assert!(
        matches!(&assigned.kind, EventKind::Assigned { agent_id: Some(id), .. } if *id == w.agent),
        "{assigned:?}"
    );
    assert_eq!(v.next_message().await, (last + 2, "hello".to_string()));
    // Later replies assign nothing again: the next message is the very next event.
    agent.say(w.conv, "a2", "again").await;
    assert_eq!(v.next_message().await, (last + 3, "again".to_string()));
    let (status, assignee): (String, Option<Uuid>) =
        sqlx::query_as("SELECT status, assignee_id FROM conversations WHERE id = $1")
            .bind(w.conv)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), assignee), ("active", Some(w.agent)));
}

#[sqlx::test(migrations = "./migrations")]
async fn resolve_then_one_rating_then_a_new_message_reopens(pool: PgPool) {
    use crate::common::{form_post, send};
    let w = world(&pool).await;
    let app = crate::common::app(pool.clone());
    let server = serve_app(app.clone()).await;
    let mut v = Client::visitor(server.addr, &w.visitor_token).await;
    let last = v.subscribe(w.conv, 0).await;
    let rate = |score: &str, feedback: &str| {
        form_post(
            "/api/widget/rate",
            &format!(
                "visitor_token={}&conversation_id={}&score={score}&feedback={feedback}&anonymous=true",
                w.visitor_token, w.conv
            ),
            None,
        )
    };
    let ip = [10, 0, 0, 9];

    // Not resolved yet: no rating.
    let r = send(&app, rate("5", "great"), ip).await;
    assert_eq!(r.status, http::StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("once it is resolved"), "{}", r.body);

    // Only staff resolve; the visitor sees it live.
    let r = send(
        &app,
        form_post(
            "/api/conversations/resolve",
            &format!("conversation_id={}", w.conv),
            None,
        ),
        ip,
    )
    .await;
    assert_eq!(r.status, http::StatusCode::UNAUTHORIZED, "{}", r.body);
    let r = send(
        &app,
        form_post(
            "/api/conversations/resolve",
            &format!("conversation_id={}", w.conv),
            Some(&w.agent_cookie),
        ),
        ip,
    )
    .await;
    assert_eq!(r.status, http::StatusCode::OK, "{}", r.body);
    match v.recv().await {
        ServerFrame::Event(e) => {
            assert_eq!(e.seq, last + 1);
            assert_eq!(
                e.kind,
                EventKind::Status {
                    status: "resolved".into()
                }
            );
        }
        other => panic!("{other:?}"),
    }

    // Bad ratings: a clear 400 naming the field.
    let r = send(&app, rate("6", ""), ip).await;
    assert_eq!(r.status, http::StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("1 to 5 stars"), "{}", r.body);
    let long = "x".repeat(2001);
    let r = send(&app, rate("4", &long), ip).await;
    assert_eq!(r.status, http::StatusCode::BAD_REQUEST, "{}", r.body);

    // One rating; a second is refused; both the visitor and the log know.
    let r = send(&app, rate("4", "Quick+and+kind"), ip).await;
    assert_eq!(r.status, http::StatusCode::OK, "{}", r.body);
    match v.recv().await {
        ServerFrame::Event(e) => assert_eq!(e.kind, EventKind::Rated { score: 4 }),
        other => panic!("{other:?}"),
    }
    let r = send(&app, rate("1", "changed+my+mind"), ip).await;
    assert_eq!(r.status, http::StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("already been rated"), "{}", r.body);
    let (score, feedback, anonymous): (i16, Option<String>, bool) =
        sqlx::query_as("SELECT score, feedback, anonymous FROM ratings WHERE conversation_id = $1")
            .bind(w.conv)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (score, feedback.as_deref(), anonymous),
        (4, Some("Quick and kind"), true)
    );

    // Another visitor's token rates nothing of this conversation.
    let other = switchboard::domain::visitors::register(&pool, w.site, "Eve", None, None, 1)
        .await
        .unwrap();
    let r = send(
        &app,
        form_post(
            "/api/widget/rate",
            &format!(
                "visitor_token={}&conversation_id={}&score=1",
                other.token, w.conv
            ),
            None,
        ),
        ip,
    )
    .await;
    assert_eq!(r.status, http::StatusCode::NOT_FOUND, "{}", r.body);

    // The visitor writes again: back to waiting, same history, then the message.
    v.say(w.conv, "again", "One more question").await;
    let reopened = loop {
        if let ServerFrame::Event(e) = v.recv().await {
            break e;
        }
    };
    assert_eq!(
        reopened.kind,
        EventKind::Status {
            status: "waiting".into()
        }
    );
    assert_eq!(v.next_message().await.1, "One more question");
    let (status, assignee): (String, Option<Uuid>) =
        sqlx::query_as("SELECT status, assignee_id FROM conversations WHERE id = $1")
            .bind(w.conv)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), assignee), ("waiting", None));
}

#[sqlx::test(migrations = "./migrations")]
async fn the_widget_is_online_while_an_available_agent_is_connected(pool: PgPool) {
    use crate::common::{get, send};
    let w = world(&pool).await;
    let key: String = sqlx::query_scalar("SELECT key FROM sites WHERE id = $1")
        .bind(w.site)
        .fetch_one(&pool)
        .await
        .unwrap();
    let app = crate::common::app(pool.clone());
    let server = serve_app(app.clone()).await;
    let online = |app: axum::Router, key: String| async move {
        let page = send(&app, get(&format!("/widget/{key}"), None), [10, 0, 0, 1]).await;
        page.body.contains(r#""online":true"#)
    };
    assert!(!online(app.clone(), key.clone()).await, "nobody connected");
    let agent = Client::agent(server.addr, &w.agent_cookie).await;
    assert!(
        online(app.clone(), key.clone()).await,
        "an agent of the site is connected"
    );
    // The "Available" switch off: connected but not taking chats.
    let switch = |on: bool| {
        crate::common::form_post(
            "/api/agents/set_available",
            &format!("available={on}"),
            Some(&w.agent_cookie),
        )
    };
    let r = send(&app, switch(false), [10, 0, 0, 1]).await;
    assert_eq!((r.status, r.body.as_str()), (http::StatusCode::OK, "false"));
    assert!(!online(app.clone(), key.clone()).await);
    let r = send(&app, switch(true), [10, 0, 0, 1]).await;
    assert_eq!(r.status, http::StatusCode::OK, "{}", r.body);
    assert!(online(app.clone(), key.clone()).await);
    // Nobody else can flip it.
    let r = send(
        &app,
        crate::common::form_post("/api/agents/set_available", "available=false", None),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(r.status, http::StatusCode::UNAUTHORIZED, "{}", r.body);
    drop(agent);
    // The socket's end is noticed asynchronously.
    let mut still = true;
    for _ in 0..50 {
        still = online(app.clone(), key.clone()).await;
        if !still {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!still, "the agent left");
}

#[sqlx::test(migrations = "./migrations")]
async fn attachments_are_checked_stored_once_sent_and_served_only_to_the_conversation(
    pool: PgPool,
) {
    use crate::common::send;
    use axum::body::Body;
    let w = world(&pool).await;
    let app = crate::common::app(pool.clone());
    let server = serve_app(app.clone()).await;
    let ip = [10, 0, 0, 7];
    let png: Vec<u8> = [
        b"\x89PNG\r\n\x1a\n".as_slice(),
        &Uuid::new_v4().into_bytes(),
    ]
    .concat();
    let upload = |auth: Option<String>, ct: &str, name: &str, bytes: Vec<u8>| {
        let mut req =
            http::Request::post(format!("/files?conversation_id={}&filename={name}", w.conv))
                .header("content-type", ct);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.body(Body::from(bytes)).unwrap()
    };
    let bearer = Some(format!("Bearer {}", w.visitor_token));

    // Wrong type, too big, nobody, someone else: each a clear refusal, nothing stored.
    let r = send(
        &app,
        upload(bearer.clone(), "text/html", "x.html", b"<p>".to_vec()),
        ip,
    )
    .await;
    assert_eq!(
        r.status,
        http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        r.body
    );
    assert!(
        r.body.contains("text/html cannot be sent here"),
        "{}",
        r.body
    );
    sqlx::query("UPDATE sites SET attachment_max_bytes = 1024 WHERE id = $1")
        .bind(w.site)
        .execute(&pool)
        .await
        .unwrap();
    let r = send(
        &app,
        upload(bearer.clone(), "image/png", "big.png", vec![0u8; 2048]),
        ip,
    )
    .await;
    assert_eq!(r.status, http::StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body.contains("too big: the limit is 1 KB"), "{}", r.body);
    let r = send(&app, upload(None, "image/png", "a.png", png.clone()), ip).await;
    assert_eq!(r.status, http::StatusCode::UNAUTHORIZED, "{}", r.body);
    let stranger = switchboard::domain::visitors::register(&pool, w.site, "Eve", None, None, 1)
        .await
        .unwrap();
    let r = send(
        &app,
        upload(
            Some(format!("Bearer {}", stranger.token)),
            "image/png",
            "a.png",
            png.clone(),
        ),
        ip,
    )
    .await;
    assert_eq!(r.status, http::StatusCode::NOT_FOUND, "{}", r.body);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM attachments")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0);

    // A picture: stored by content (twice uploaded, one file on disk), then sent.
    let r = send(
        &app,
        upload(bearer.clone(), "image/png", "..%2Fcat.png", png.clone()),
        ip,
    )
    .await;
    assert_eq!(r.status, http::StatusCode::OK, "{}", r.body);
    let stored: switchboard::realtime::protocol::AttachmentRef =
        serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (stored.filename.as_str(), stored.size),
        ("cat.png", png.len() as i64)
    );
    let r = send(
        &app,
        upload(bearer.clone(), "image/png", "again.png", png.clone()),
        ip,
    )
    .await;
    assert_eq!(r.status, http::StatusCode::OK, "{}", r.body);
    let shas: Vec<String> = sqlx::query_scalar("SELECT DISTINCT sha256 FROM attachments")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(shas.len(), 1, "content-addressed");
    assert!(switchboard::domain::attachments::path_for(&std::env::temp_dir(), &shas[0]).exists());

    let mut v = Client::visitor(server.addr, &w.visitor_token).await;
    v.subscribe(w.conv, 0).await;
    v.send(json!({"type": "send", "conversation_id": w.conv, "key": "pic", "body": "", "attachment": stored.id}))
        .await;
    let event = loop {
        if let ServerFrame::Event(e) = v.recv().await {
            break e;
        }
    };
    match &event.kind {
        EventKind::Message {
            body, attachment, ..
        } => {
            assert_eq!(body, "cat.png", "the name stands in for an empty body");
            assert_eq!(attachment.as_ref(), Some(&stored));
        }
        other => panic!("{other:?}"),
    }
    // The same file cannot ride a second message.
    v.send(json!({"type": "send", "conversation_id": w.conv, "key": "pic2", "body": "again", "attachment": stored.id}))
        .await;
    loop {
        match v.recv().await {
            ServerFrame::Error { code, key, .. } => {
                assert_eq!(
                    (code, key.as_deref()),
                    (ErrorCode::InvalidBody, Some("pic2"))
                );
                break;
            }
            ServerFrame::Sent { key, .. } if key == "pic2" => panic!("sent twice"),
            _ => {}
        }
    }

    // Downloads: the visitor and the site's agent; nobody else.
    let download = |auth: Option<String>, cookie: Option<&str>| {
        let mut req = http::Request::get(format!("/files/{}", stored.id));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.body(Body::empty()).unwrap()
    };
    let r = send(&app, download(bearer.clone(), None), ip).await;
    assert_eq!(r.status, http::StatusCode::OK);
    assert_eq!(r.headers["content-type"], "image/png");
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(
        r.headers["content-disposition"],
        "inline; filename*=UTF-8''cat.png"
    );
    let r = send(&app, download(None, Some(&w.agent_cookie)), ip).await;
    assert_eq!(r.status, http::StatusCode::OK);
    let r = send(
        &app,
        download(Some(format!("Bearer {}", stranger.token)), None),
        ip,
    )
    .await;
    assert_eq!(r.status, http::StatusCode::NOT_FOUND);
    let r = send(&app, download(None, None), ip).await;
    assert_eq!(r.status, http::StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_waiting_list_is_per_group_and_exactly_one_agent_takes_a_chat(pool: PgPool) {
    use crate::common::{form_post, send};
    let w = world(&pool).await;
    let group: Uuid = sqlx::query_scalar("SELECT group_id FROM conversations WHERE id = $1")
        .bind(w.conv)
        .fetch_one(&pool)
        .await
        .unwrap();
    // A second member of the group, and an agent of no group.
    let second = crate::common::account(&pool, "second@example.com", Role::Agent).await;
    sqlx::query("INSERT INTO group_members (group_id, user_id, level) VALUES ($1, $2, 1)")
        .bind(group)
        .bind(second.id)
        .execute(&pool)
        .await
        .unwrap();
    let outsider = crate::common::account(&pool, "outsider@example.com", Role::Agent).await;
    let (second_cookie, outsider_cookie) = (
        cookie_for(&pool, second.id).await,
        cookie_for(&pool, outsider.id).await,
    );
    let app = crate::common::app(pool.clone());
    let server = serve_app(app.clone()).await;
    let ip = [10, 0, 0, 8];
    let waiting = |cookie: String| {
        let app = app.clone();
        async move {
            let r = send(
                &app,
                form_post("/api/conversations/waiting", "", Some(&cookie)),
                ip,
            )
            .await;
            assert_eq!(r.status, http::StatusCode::OK, "{}", r.body);
            serde_json::from_str::<serde_json::Value>(&r.body).unwrap()
        }
    };
    let list = waiting(w.agent_cookie.clone()).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["chats"][0]["conversation_id"], w.conv.to_string());
    assert_eq!(list["chats"][0]["visitor_name"], "Vera");
    assert_eq!(
        waiting(outsider_cookie.clone()).await["total"],
        0,
        "not their group"
    );

    // The outsider cannot take it; their refusal changes nothing.
    let assign = |cookie: String| {
        form_post(
            "/api/conversations/assign_to_me",
            &format!("conversation_id={}", w.conv),
            Some(&cookie),
        )
    };
    let r = send(&app, assign(outsider_cookie), ip).await;
    assert_eq!(r.status, http::StatusCode::FORBIDDEN, "{}", r.body);

    // Dashboards hear that the queue changed; the visitor hears who joined.
    let mut dashboard = Client::agent(server.addr, &second_cookie).await;
    let mut v = Client::visitor(server.addr, &w.visitor_token).await;
    v.subscribe(w.conv, 0).await;

    // Two members race: exactly one wins, the other is told.
    let (a, b) = tokio::join!(
        send(&app, assign(w.agent_cookie.clone()), ip),
        send(&app, assign(second_cookie.clone()), ip)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [http::StatusCode::OK, http::StatusCode::CONFLICT]);
    let loser = if a.status == http::StatusCode::CONFLICT {
        &a
    } else {
        &b
    };
    assert!(
        loser.body.contains("Someone else took this chat"),
        "{}",
        loser.body
    );
    let winner = if a.status == http::StatusCode::OK {
        w.agent
    } else {
        second.id
    };
    let assigned = loop {
        if let ServerFrame::Event(e) = v.recv().await {
            break e;
        }
    };
    assert!(
        matches!(assigned.kind, EventKind::Assigned { agent_id: Some(id), .. } if id == winner),
        "{assigned:?}"
    );
    loop {
        if matches!(dashboard.recv_any().await, ServerFrame::QueueChanged) {
            break;
        }
    }
    assert_eq!(waiting(w.agent_cookie.clone()).await["total"], 0);
    let status: String = sqlx::query_scalar("SELECT status FROM conversations WHERE id = $1")
        .bind(w.conv)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "assigned");
}
