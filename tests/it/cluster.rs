//! Scale-out: several `switchboard` processes (the real binary) on different ports over one
//! per-test database, for each bus (Postgres LISTEN/NOTIFY and NATS at 127.0.0.1:4222).
//! Messages flow both ways live between nodes; a node killed with SIGKILL mid-stream loses
//! nothing (its agent resumes on another node); presence crosses nodes and expires when its
//! node dies; auto-assignment caps hold when two nodes assign at the same moment, and
//! auto-assignment sees agents connected to another node.

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use sqlx::PgPool;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use switchboard::domain::accounts::session;
use switchboard::model::Role;
use switchboard::realtime::protocol::{EventKind, PresenceState, ServerFrame};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

const NATS: &str = "nats://127.0.0.1:4222";

// ---- nodes ------------------------------------------------------------------------------

/// One `switchboard` process; dropped, it is killed.
struct Node {
    addr: SocketAddr,
    child: Child,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Node {
    /// Starts the binary on this test's database with `bus`; returns once it serves.
    fn start(pool: &PgPool, bus: &str, subject: &str) -> Node {
        let base = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let db = pool.connect_options().get_database().unwrap().to_string();
        let url = format!("{}/{db}", base.rsplit_once('/').unwrap().0);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .env("DATABASE_URL", &url)
            .env("SWITCHBOARD_ADDR", addr.to_string())
            .env("SWITCHBOARD_BUS", bus)
            .env("SWITCHBOARD_BUS_SUBJECT", subject)
            // Several nodes and tests share the server's 100 connections.
            .env("SWITCHBOARD_DB_MAX_CONNECTIONS", "8")
            .env("SWITCHBOARD_DATA_DIR", std::env::temp_dir())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Read stdout to the end, so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("Switchboard is running at") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the node starts within 60 s");
        Node { addr, child }
    }

    /// SIGKILL: no shutdown, no goodbye on the bus.
    fn kill(&mut self) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        let _ = self.child.wait();
    }
}

// ---- fixtures ---------------------------------------------------------------------------

async fn site(pool: &PgPool, mode: &str) -> Uuid {
    let id = switchboard::db::sites::insert(pool, &Uuid::new_v4().to_string(), "Shop", "secret")
        .await
        .unwrap()
        .id;
    sqlx::query("UPDATE sites SET assignment_mode = $1 WHERE id = $2")
        .bind(mode)
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    id
}

async fn group(pool: &PgPool, site: Uuid) -> Uuid {
    sqlx::query_scalar("INSERT INTO groups (site_id, name) VALUES ($1, 'Support') RETURNING id")
        .bind(site)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// An agent in `group` with a cap of `max_chats`; returns (id, session cookie).
async fn agent(pool: &PgPool, group: Uuid, max_chats: i32) -> (Uuid, String) {
    let user = crate::common::account(
        pool,
        &format!("{}@example.com", Uuid::new_v4()),
        Role::Agent,
    )
    .await;
    sqlx::query("UPDATE users SET max_chats = $1 WHERE id = $2")
        .bind(max_chats)
        .bind(user.id)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO group_members (group_id, user_id, level) VALUES ($1, $2, 1)")
        .bind(group)
        .bind(user.id)
        .execute(pool)
        .await
        .unwrap();
    let s = session::issue(pool, user.id, "127.0.0.1", "test")
        .await
        .unwrap();
    (user.id, format!("sb_session={}", s.token))
}

/// A waiting chat of a new visitor; returns (conversation, visitor token).
async fn chat(pool: &PgPool, site: Uuid, group: Uuid) -> (Uuid, String) {
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
    (conv, reg.token)
}

async fn assign(pool: &PgPool, conv: Uuid, agent: Uuid) {
    sqlx::query("UPDATE conversations SET assignee_id = $1, status = 'active' WHERE id = $2")
        .bind(agent)
        .bind(conv)
        .execute(pool)
        .await
        .unwrap();
}

async fn open_count(pool: &PgPool, agent: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM conversations WHERE assignee_id = $1 AND status IN ('assigned', 'active')",
    )
    .bind(agent)
    .fetch_one(pool)
    .await
    .unwrap()
}

// ---- a socket client --------------------------------------------------------------------

struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
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

    async fn agent(addr: SocketAddr, cookie: &str) -> Client {
        let mut c = Client::connect(addr, Some(cookie)).await;
        assert!(matches!(c.recv().await, ServerFrame::Welcome { .. }));
        c
    }

    async fn visitor(addr: SocketAddr, token: &str) -> Client {
        let mut c = Client::connect(addr, None).await;
        c.send(json!({"type": "hello", "visitor_token": token}))
            .await;
        assert!(matches!(c.recv().await, ServerFrame::Welcome { .. }));
        c
    }

    async fn send(&mut self, v: serde_json::Value) {
        self.ws.send(Message::text(v.to_string())).await.unwrap();
    }

    /// The next frame of any kind, `None` when the socket closed, a panic after `secs`.
    async fn next(&mut self, secs: u64) -> Option<ServerFrame> {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(secs), self.ws.next())
                .await
                .expect("a frame in time");
            match msg {
                Some(Ok(Message::Text(t))) => {
                    return Some(serde_json::from_str(t.as_str()).unwrap())
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
                Some(Ok(_)) => {}
            }
        }
    }

    /// The next frame other than presence and queue refreshes, or a panic after 10 s.
    async fn recv(&mut self) -> ServerFrame {
        loop {
            let f = self.next(10).await.expect("socket open");
            if !matches!(f, ServerFrame::Presence { .. } | ServerFrame::QueueChanged) {
                return f;
            }
        }
    }

    async fn subscribe(&mut self, conv: Uuid, after: i64) -> Vec<ServerFrame> {
        self.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": after}))
            .await;
        let mut seen = Vec::new();
        loop {
            let f = self.next(10).await.expect("socket open");
            if matches!(f, ServerFrame::Subscribed { .. }) {
                return seen;
            }
            seen.push(f);
        }
    }

    /// Sends a message and waits for its `sent` answer; returns its sequence.
    async fn say(&mut self, conv: Uuid, key: &str) -> i64 {
        self.send(json!({"type": "send", "conversation_id": conv, "key": key, "body": key}))
            .await;
        loop {
            match self.recv().await {
                ServerFrame::Sent { key: k, seq, .. } if k == key => return seq,
                ServerFrame::Error { message, .. } => panic!("send refused: {message}"),
                _ => {}
            }
        }
    }

    /// Reads until the message with `key` arrives (a panic after 10 s without frames).
    async fn expect_message(&mut self, key: &str) {
        loop {
            if let ServerFrame::Event(e) = self.recv().await {
                if matches!(&e.kind, EventKind::Message { key: k, .. } if k == key) {
                    return;
                }
            }
        }
    }

    /// Reads until `agent` is reported `state` (bounded by `secs`).
    async fn expect_presence(&mut self, agent: Uuid, state: PresenceState, secs: u64) {
        let end = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let left = end.saturating_duration_since(tokio::time::Instant::now());
            assert!(!left.is_zero(), "{agent} not {state:?} within {secs} s");
            let f = self.next(left.as_secs().max(1)).await.expect("socket open");
            if let ServerFrame::Presence {
                user_id, state: s, ..
            } = f
            {
                if user_id == agent && s == state {
                    return;
                }
            }
        }
    }
}

/// Records the message events a socket applies: key → how many times, and the sequences
/// in the order they arrived.
#[derive(Default)]
struct Applied {
    keys: HashMap<String, usize>,
    seqs: Vec<i64>,
}

impl Applied {
    fn apply(&mut self, f: &ServerFrame) {
        if let ServerFrame::Event(e) = f {
            self.seqs.push(e.seq);
            if let EventKind::Message { key, .. } = &e.kind {
                *self.keys.entry(key.clone()).or_default() += 1;
            }
        }
    }

    fn has_all(&self, keys: &[String]) -> bool {
        keys.iter().all(|k| self.keys.contains_key(k))
    }

    fn last(&self) -> i64 {
        self.seqs.last().copied().unwrap_or(0)
    }

    /// Every event exactly once and in order (no gap, no repeat).
    fn assert_complete(&self, who: &str, keys: &[String]) {
        for w in self.seqs.windows(2) {
            assert_eq!(w[1], w[0] + 1, "{who}: sequences {:?}", self.seqs);
        }
        for k in keys {
            assert_eq!(
                self.keys.get(k),
                Some(&1),
                "{who}: {k} once; got {:?}",
                self.keys
            );
        }
    }
}

// ---- the tests --------------------------------------------------------------------------

/// Visitor on node 1, agents on nodes 2 and 3: live both ways; node 2 killed mid-stream, its
/// agent resumes on node 3 and misses nothing; an agent's presence on node 2 reaches a
/// visitor on node 1 and expires after node 2 dies.
async fn three_nodes(pool: PgPool, bus: &str) {
    let site = site(&pool, "off").await;
    let group = group(&pool, site).await;
    let (a, a_cookie) = agent(&pool, group, 5).await;
    let (_b, b_cookie) = agent(&pool, group, 5).await;
    let (c, c_cookie) = agent(&pool, group, 5).await;
    let (conv, token) = chat(&pool, site, group).await;
    assign(&pool, conv, a).await;
    let (conv2, token2) = chat(&pool, site, group).await;
    assign(&pool, conv2, c).await;

    let subject = format!("switchboard.test.{}", Uuid::new_v4().simple());
    let n1 = Node::start(&pool, bus, &subject);
    let mut n2 = Node::start(&pool, bus, &subject);
    let n3 = Node::start(&pool, bus, &subject);

    let mut on_a = Client::agent(n2.addr, &a_cookie).await;
    let mut on_b = Client::agent(n3.addr, &b_cookie).await;
    let _on_c = Client::agent(n2.addr, &c_cookie).await;
    on_a.subscribe(conv, 0).await;
    on_b.subscribe(conv, 0).await;
    let mut v = Client::visitor(n1.addr, &token).await;
    v.subscribe(conv, 0).await;

    // Presence of C (node 2 only) reaches C's visitor on node 1.
    let mut v2 = Client::visitor(n1.addr, &token2).await;
    v2.send(json!({"type": "subscribe", "conversation_id": conv2, "after_seq": 0}))
        .await;
    v2.expect_presence(c, PresenceState::Online, 10).await;

    // Both ways, live.
    v.say(conv, "from-visitor").await;
    on_a.expect_message("from-visitor").await;
    on_b.expect_message("from-visitor").await;
    on_a.say(conv, "from-a").await;
    v.expect_message("from-a").await;
    on_b.expect_message("from-a").await;
    on_b.say(conv, "from-b").await;
    v.expect_message("from-b").await;
    on_a.expect_message("from-b").await;

    // Mid-stream: the visitor keeps writing while node 2 is killed (15 messages: within
    // the visitor's burst allowance of 20).
    let keys: Vec<String> = (0..15).map(|i| format!("m{i}")).collect();
    let writer = {
        let keys = keys.clone();
        tokio::spawn(async move {
            for k in &keys {
                v.say(conv, k).await;
                tokio::time::sleep(Duration::from_millis(60)).await;
            }
            v
        })
    };
    let mut got_a = Applied::default();
    let mut got_b = Applied::default();
    // A applies what reaches it until m3, then its node dies under it.
    loop {
        let f = on_a.recv().await;
        got_a.apply(&f);
        if got_a.keys.contains_key("m3") {
            break;
        }
    }
    n2.kill();
    // Whatever was already on the wire is applied too; then the socket is gone.
    while let Some(f) = on_a.next(10).await {
        got_a.apply(&f);
    }
    let mut on_a = Client::agent(n3.addr, &a_cookie).await;
    for f in on_a.subscribe(conv, got_a.last()).await {
        got_a.apply(&f);
    }
    let end = tokio::time::Instant::now() + Duration::from_secs(30);
    while !got_a.has_all(&keys) {
        assert!(tokio::time::Instant::now() < end, "A got {:?}", got_a.keys);
        let f = on_a.recv().await;
        got_a.apply(&f);
    }
    while !got_b.has_all(&keys) {
        let f = on_b.recv().await;
        got_b.apply(&f);
    }
    let mut v = writer.await.unwrap();
    // Live again on node 3: B writes, A (resumed) and the visitor (node 1) receive.
    on_b.say(conv, "after-resume").await;
    while !got_a.keys.contains_key("after-resume") {
        let f = on_a.recv().await;
        got_a.apply(&f);
    }
    v.expect_message("after-resume").await;
    // Nothing more, nothing twice, nothing out of order.
    let mut all = keys.clone();
    all.push("after-resume".into());
    got_a.assert_complete("agent A (resumed on node 3)", &all);
    got_b.assert_complete("agent B (node 3)", &keys);

    // After the kill A is on node 3, so A stays online for A's visitor; C is gone with node 2
    // and expires for C's visitor on node 1.
    v2.expect_presence(c, PresenceState::Offline, 20).await;
    on_a.say(conv, "after").await;
    v.expect_message("after").await;
    drop((n1, n3));
}

/// Two nodes assign at the same moment: nobody goes over their cap. An agent connected only
/// to one node is taken into account by the other node's run.
async fn caps(pool: PgPool, bus: &str) {
    let site = site(&pool, "least_busy").await;
    let group = group(&pool, site).await;
    let mut agents = Vec::new();
    for _ in 0..4 {
        agents.push(agent(&pool, group, 2).await);
    }
    for _ in 0..12 {
        chat(&pool, site, group).await;
    }
    let subject = format!("switchboard.test.{}", Uuid::new_v4().simple());
    let n1 = Node::start(&pool, bus, &subject);
    let n2 = Node::start(&pool, bus, &subject);

    // Every agent's dashboard opens on both nodes at once: 8 runs race over 2 processes.
    let connects = agents.iter().flat_map(|(_, cookie)| {
        [n1.addr, n2.addr].map(|addr| {
            let cookie = cookie.clone();
            async move { Client::agent(addr, &cookie).await }
        })
    });
    let _sockets = futures_util::future::join_all(connects).await;
    let end = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let mut total = 0;
        for (id, _) in &agents {
            let n = open_count(&pool, *id).await;
            assert!(n <= 2, "agent {id} holds {n} chats, over the cap of 2");
            total += n;
        }
        if total == 8 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < end,
            "only {total} of 8 assigned"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Settled: still nobody over the cap, 4 chats still wait.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (id, _) in &agents {
        assert_eq!(open_count(&pool, *id).await, 2);
    }
    let waiting: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM conversations WHERE site_id = $1 AND status = 'waiting'",
    )
    .bind(site)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(waiting, 4);

    // Cross-node availability: D is connected to node 1 only; a run on node 2 (triggered by
    // E connecting, who is at the cap) gives D the new chat.
    let site2 = self::site(&pool, "round_robin").await;
    let group2 = self::group(&pool, site2).await;
    let (d, d_cookie) = agent(&pool, group2, 1).await;
    let (e, e_cookie) = agent(&pool, group2, 1).await;
    let (held, _) = chat(&pool, site2, group2).await;
    assign(&pool, held, e).await; // E is at the cap
    let _d_socket = Client::agent(n1.addr, &d_cookie).await;
    // Node 2 hears of D at once (presence signal) or at the next heartbeat.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (conv, _) = chat(&pool, site2, group2).await;
    let _e_socket = Client::agent(n2.addr, &e_cookie).await;
    let end = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let assignee = crate::common::assignee(&pool, conv).await;
        if assignee == Some(d) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < end,
            "node 2 did not assign to D (connected to node 1): {assignee:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn postgres_bus_three_nodes_live_kill_resume_presence(pool: PgPool) {
    three_nodes(pool, "postgres").await;
}

#[sqlx::test(migrations = "./migrations")]
async fn nats_bus_three_nodes_live_kill_resume_presence(pool: PgPool) {
    three_nodes(pool, NATS).await;
}

#[sqlx::test(migrations = "./migrations")]
async fn postgres_bus_caps_hold_across_nodes(pool: PgPool) {
    caps(pool, "postgres").await;
}

#[sqlx::test(migrations = "./migrations")]
async fn nats_bus_caps_hold_across_nodes(pool: PgPool) {
    caps(pool, NATS).await;
}

/// `/metrics`: Prometheus text from loopback, 404 from elsewhere or through a proxy unless
/// the token is given.
#[sqlx::test(migrations = "./migrations")]
async fn metrics_are_served_to_loopback_or_with_the_token(pool: PgPool) {
    use crate::common::{app, send};
    use axum::body::Body;
    use http::{Request, StatusCode};
    let app = app(pool);
    let get = |auth: Option<&str>, forwarded: bool| {
        let mut b = Request::get("/metrics").header("host", crate::common::HOST);
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        if forwarded {
            b = b.header("x-forwarded-for", "203.0.113.9");
        }
        b.body(Body::empty()).unwrap()
    };
    let r = send(&app, get(None, false), [127, 0, 0, 1]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"),);
    assert!(
        r.body.contains("switchboard_db_pool_connections"),
        "{}",
        r.body
    );
    assert_eq!(
        send(&app, get(None, false), [10, 0, 0, 7]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&app, get(None, true), [127, 0, 0, 1]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&app, get(Some("Bearer wrong"), false), [10, 0, 0, 7])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(
            &app,
            get(Some("Bearer test-metrics-token"), false),
            [10, 0, 0, 7]
        )
        .await
        .status,
        StatusCode::OK
    );
}
