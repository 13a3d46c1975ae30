//! Auto-assignment: off assigns nothing; caps hold (also under concurrent runs, also across
//! sites); round robin and least busy choose as they should; level 2 only gets transferred
//! chats; unavailable, inactive and disconnected agents are skipped; and through the real
//! router and sockets, a new chat, a resolved chat, an agent connecting, the "Available"
//! switch and a visitor reopening a chat all trigger it.

use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use http::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;
use switchboard::domain::accounts::session;
use switchboard::domain::conversations::auto_assign::auto_assign;
use switchboard::model::Role;
use switchboard::realtime::protocol::{EventKind, ServerFrame};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

// ---- fixtures -------------------------------------------------------------------------

/// A site in `mode` (off, round_robin, least_busy); returns (key, id).
async fn site(pool: &PgPool, mode: &str) -> (String, Uuid) {
    let key = Uuid::new_v4().simple().to_string();
    let id = switchboard::db::sites::insert(pool, &key, "Shop", "secret")
        .await
        .unwrap()
        .id;
    sqlx::query("UPDATE sites SET assignment_mode = $1 WHERE id = $2")
        .bind(mode)
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    (key, id)
}

async fn group(pool: &PgPool, site: Uuid, name: &str) -> Uuid {
    sqlx::query_scalar("INSERT INTO groups (site_id, name) VALUES ($1, $2) RETURNING id")
        .bind(site)
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// An agent account with a cap of `max_chats`.
async fn agent(pool: &PgPool, max_chats: i32) -> Uuid {
    let user = account(
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
    user.id
}

async fn member(pool: &PgPool, group: Uuid, user: Uuid, level: i16) {
    sqlx::query("INSERT INTO group_members (group_id, user_id, level) VALUES ($1, $2, $3)")
        .bind(group)
        .bind(user)
        .bind(level)
        .execute(pool)
        .await
        .unwrap();
}

/// A waiting chat of a new visitor, waiting for `minutes` (so tests control the order);
/// returns (conversation, visitor token).
async fn chat_with_token(
    pool: &PgPool,
    site: Uuid,
    group: Option<Uuid>,
    minutes: i32,
) -> (Uuid, String) {
    let reg = switchboard::domain::visitors::register(pool, site, "Vera", None, None, 365)
        .await
        .unwrap();
    let conv = switchboard::domain::conversations::start_conversation::start_conversation(
        pool,
        site,
        reg.contact_id,
        group,
    )
    .await
    .unwrap();
    sqlx::query(
        "UPDATE conversations SET waiting_since = now() - make_interval(mins => $1) WHERE id = $2",
    )
    .bind(minutes)
    .bind(conv)
    .execute(pool)
    .await
    .unwrap();
    (conv, reg.token)
}

async fn chat(pool: &PgPool, site: Uuid, group: Option<Uuid>, minutes: i32) -> Uuid {
    chat_with_token(pool, site, group, minutes).await.0
}

/// A chat `agent` already holds (status active).
async fn open_chat(pool: &PgPool, site: Uuid, group: Uuid, agent: Uuid) -> Uuid {
    let conv = chat(pool, site, Some(group), 0).await;
    sqlx::query("UPDATE conversations SET assignee_id = $1, status = 'active' WHERE id = $2")
        .bind(agent)
        .bind(conv)
        .execute(pool)
        .await
        .unwrap();
    conv
}

async fn status(pool: &PgPool, conv: Uuid) -> String {
    sqlx::query_scalar("SELECT status FROM conversations WHERE id = $1")
        .bind(conv)
        .fetch_one(pool)
        .await
        .unwrap()
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

/// Waits (up to 10 s) until `conv` has an assignee; for work the server does in the background.
async fn eventually_assigned(pool: &PgPool, conv: Uuid) -> Uuid {
    for _ in 0..200 {
        if let Some(a) = assignee(pool, conv).await {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{conv} was not assigned within 10 s");
}

async fn cookie_for(pool: &PgPool, user: Uuid) -> String {
    let s = session::issue(pool, user, "127.0.0.1", "test")
        .await
        .unwrap();
    format!("sb_session={}", s.token)
}

/// Everyone is connected (domain-level tests: presence is the caller's business).
fn everyone(_: Uuid) -> bool {
    true
}

// ---- a minimal server and socket client (as in realtime.rs) ---------------------------

struct Server {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `app` on a free port; the caller keeps `app` to send server-function requests
/// through the same state (same presence, same hub).
async fn serve(app: axum::Router) -> Server {
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

    /// An agent's dashboard socket (connected: presence online).
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

    /// The next frame other than presence, or a panic after 10 s.
    async fn recv(&mut self) -> ServerFrame {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a frame within 10 s")
                .expect("socket open")
                .expect("no socket error");
            if let Message::Text(t) = msg {
                let f: ServerFrame = serde_json::from_str(t.as_str()).unwrap();
                if !matches!(f, ServerFrame::Presence { .. }) {
                    return f;
                }
            }
        }
    }

    async fn subscribe(&mut self, conv: Uuid) {
        self.send(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0}))
            .await;
        loop {
            if let ServerFrame::Subscribed { .. } = self.recv().await {
                return;
            }
        }
    }

    /// Reads until an `assigned` event of `conv`; returns its agent.
    async fn next_assigned(&mut self, conv: Uuid) -> Option<Uuid> {
        loop {
            if let ServerFrame::Event(e) = self.recv().await {
                if let EventKind::Assigned { agent_id, .. } = e.kind {
                    if e.conversation_id == conv {
                        return agent_id;
                    }
                }
            }
        }
    }
}

// ---- the rules, on the domain function --------------------------------------------------

#[sqlx::test(migrations = "./migrations")]
async fn with_the_mode_off_nothing_is_assigned(pool: PgPool) {
    let (_, site) = site(&pool, "off").await;
    let g = group(&pool, site, "Support").await;
    let a = agent(&pool, 5).await;
    member(&pool, g, a, 1).await;
    let c = chat(&pool, site, Some(g), 1).await;
    let events = auto_assign(&pool, site, everyone).await.unwrap();
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(assignee(&pool, c).await, None);
    assert_eq!(status(&pool, c).await, "waiting");
}

#[sqlx::test(migrations = "./migrations")]
async fn round_robin_alternates_and_then_goes_to_who_waited_longest(pool: PgPool) {
    let (_, site) = site(&pool, "round_robin").await;
    let g = group(&pool, site, "Support").await;
    let (a, b) = (agent(&pool, 5).await, agent(&pool, 5).await);
    member(&pool, g, a, 1).await;
    member(&pool, g, b, 1).await;
    let chats = [
        chat(&pool, site, Some(g), 40).await,
        chat(&pool, site, Some(g), 30).await,
        chat(&pool, site, Some(g), 20).await,
        chat(&pool, site, Some(g), 10).await,
    ];
    let events = auto_assign(&pool, site, everyone).await.unwrap();
    assert_eq!(events.len(), 4);
    // Events come longest-waiting first and carry the agent.
    let order: Vec<Uuid> = events.iter().map(|e| e.conversation_id).collect();
    assert_eq!(order, chats);
    let who = [
        assignee(&pool, chats[0]).await.unwrap(),
        assignee(&pool, chats[1]).await.unwrap(),
        assignee(&pool, chats[2]).await.unwrap(),
        assignee(&pool, chats[3]).await.unwrap(),
    ];
    // Both never had one: the lower id goes first (deterministic), then they alternate.
    assert_eq!(who[0], a.min(b));
    assert_ne!(who[0], who[1]);
    assert_eq!(who[0], who[2]);
    assert_eq!(who[1], who[3]);
    for (e, w) in events.iter().zip(who) {
        assert!(
            matches!(&e.kind, EventKind::Assigned { agent_id: Some(id), agent_name: Some(_) } if *id == w),
            "{e:?}"
        );
    }
    assert_eq!(status(&pool, chats[0]).await, "assigned");
    // In a later run, the next chat goes to whoever got one longest ago.
    let next = chat(&pool, site, Some(g), 0).await;
    auto_assign(&pool, site, everyone).await.unwrap();
    assert_eq!(assignee(&pool, next).await, Some(who[0]));
}

#[sqlx::test(migrations = "./migrations")]
async fn least_busy_picks_the_agent_with_fewer_open_chats(pool: PgPool) {
    let (_, site) = site(&pool, "least_busy").await;
    let g = group(&pool, site, "Support").await;
    let (a, b) = (agent(&pool, 5).await, agent(&pool, 5).await);
    member(&pool, g, a, 1).await;
    member(&pool, g, b, 1).await;
    // a holds two chats, b one; b got one recently, a never (round robin would pick a).
    open_chat(&pool, site, g, a).await;
    open_chat(&pool, site, g, a).await;
    open_chat(&pool, site, g, b).await;
    sqlx::query("UPDATE users SET last_assigned_at = now() WHERE id = $1")
        .bind(b)
        .execute(&pool)
        .await
        .unwrap();
    let first = chat(&pool, site, Some(g), 20).await;
    let second = chat(&pool, site, Some(g), 10).await;
    auto_assign(&pool, site, everyone).await.unwrap();
    assert_eq!(assignee(&pool, first).await, Some(b));
    // Two each now: the tie goes to whoever got one longest ago (a: never).
    assert_eq!(assignee(&pool, second).await, Some(a));
    assert_eq!(
        (open_count(&pool, a).await, open_count(&pool, b).await),
        (3, 2)
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_cap_holds_and_the_rest_waits_longest_waiting_first(pool: PgPool) {
    let (_, site) = site(&pool, "round_robin").await;
    let g = group(&pool, site, "Support").await;
    let a = agent(&pool, 2).await;
    member(&pool, g, a, 1).await;
    let newest = chat(&pool, site, Some(g), 1).await;
    let oldest = chat(&pool, site, Some(g), 30).await;
    let middle = chat(&pool, site, Some(g), 20).await;
    let events = auto_assign(&pool, site, everyone).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(assignee(&pool, oldest).await, Some(a));
    assert_eq!(assignee(&pool, middle).await, Some(a));
    assert_eq!(assignee(&pool, newest).await, None);
    assert_eq!(status(&pool, newest).await, "waiting");
    // Running again changes nothing while the agent is at the cap.
    assert!(auto_assign(&pool, site, everyone).await.unwrap().is_empty());
    assert_eq!(open_count(&pool, a).await, 2);
}

#[sqlx::test(migrations = "./migrations")]
async fn level_2_gets_only_transferred_chats(pool: PgPool) {
    let (_, site) = site(&pool, "round_robin").await;
    let g = group(&pool, site, "Specialists").await;
    let specialist = agent(&pool, 5).await;
    member(&pool, g, specialist, 2).await;
    let routed = chat(&pool, site, Some(g), 20).await;
    let unrouted = chat(&pool, site, None, 10).await;
    assert!(auto_assign(&pool, site, everyone).await.unwrap().is_empty());
    assert_eq!(assignee(&pool, routed).await, None);
    assert_eq!(assignee(&pool, unrouted).await, None);
    sqlx::query("UPDATE conversations SET transferred = true WHERE id = $1")
        .bind(routed)
        .execute(&pool)
        .await
        .unwrap();
    let events = auto_assign(&pool, site, everyone).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(assignee(&pool, routed).await, Some(specialist));
    // A chat without a group wants a first-line agent of the site.
    assert_eq!(assignee(&pool, unrouted).await, None);
    let first_line = agent(&pool, 5).await;
    let g1 = group(&pool, site, "Support").await;
    member(&pool, g1, first_line, 1).await;
    auto_assign(&pool, site, everyone).await.unwrap();
    assert_eq!(assignee(&pool, unrouted).await, Some(first_line));
}

#[sqlx::test(migrations = "./migrations")]
async fn unavailable_inactive_and_disconnected_agents_are_skipped(pool: PgPool) {
    let (_, site) = site(&pool, "least_busy").await;
    let g = group(&pool, site, "Support").await;
    let away = agent(&pool, 5).await;
    let gone = agent(&pool, 5).await;
    let offline = agent(&pool, 5).await;
    let other_group = agent(&pool, 5).await;
    for a in [away, gone, offline] {
        member(&pool, g, a, 1).await;
    }
    let g2 = group(&pool, site, "Billing").await;
    member(&pool, g2, other_group, 1).await;
    sqlx::query("UPDATE users SET available = false WHERE id = $1")
        .bind(away)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE users SET active = false WHERE id = $1")
        .bind(gone)
        .execute(&pool)
        .await
        .unwrap();
    let connected = move |u: Uuid| u != offline;
    let c = chat(&pool, site, Some(g), 5).await;
    assert!(auto_assign(&pool, site, connected)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(assignee(&pool, c).await, None);
    // Someone who qualifies: they get it, the others still do not.
    let ok = agent(&pool, 5).await;
    member(&pool, g, ok, 1).await;
    auto_assign(&pool, site, connected).await.unwrap();
    assert_eq!(assignee(&pool, c).await, Some(ok));
}

#[sqlx::test(migrations = "./migrations")]
async fn concurrent_runs_never_exceed_a_cap_even_across_sites(pool: PgPool) {
    // One agent in groups of two sites, cap 3; both sites have 4 chats waiting.
    let (_, s1) = site(&pool, "round_robin").await;
    let (_, s2) = site(&pool, "least_busy").await;
    let (g1, g2) = (group(&pool, s1, "One").await, group(&pool, s2, "Two").await);
    let shared = agent(&pool, 3).await;
    member(&pool, g1, shared, 1).await;
    member(&pool, g2, shared, 1).await;
    // And one agent of site 1 only, cap 2.
    let local = agent(&pool, 2).await;
    member(&pool, g1, local, 1).await;
    for i in 0..4 {
        chat(&pool, s1, Some(g1), 10 + i).await;
        chat(&pool, s2, Some(g2), 10 + i).await;
    }
    let (r1, r2, r3, r4) = tokio::join!(
        auto_assign(&pool, s1, everyone),
        auto_assign(&pool, s2, everyone),
        auto_assign(&pool, s1, everyone),
        auto_assign(&pool, s2, everyone),
    );
    let events: Vec<_> = [r1, r2, r3, r4]
        .into_iter()
        .flat_map(|r| r.unwrap())
        .collect();
    assert_eq!(open_count(&pool, shared).await, 3);
    assert_eq!(open_count(&pool, local).await, 2);
    // Every event is a distinct chat: nothing was assigned twice.
    assert_eq!(events.len(), 5);
    let distinct: HashSet<Uuid> = events.iter().map(|e| e.conversation_id).collect();
    assert_eq!(distinct.len(), 5);
    let assigned_events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM conversation_events WHERE kind = 'assigned'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(assigned_events, 5);
}

// ---- through the router and the sockets ---------------------------------------------------

#[sqlx::test(migrations = "./migrations")]
async fn a_chat_started_in_the_widget_goes_to_the_connected_agent(pool: PgPool) {
    let (key, site) = site(&pool, "round_robin").await;
    let g = group(&pool, site, "Guests").await;
    sqlx::query("UPDATE sites SET guest_group_id = $1 WHERE id = $2")
        .bind(g)
        .bind(site)
        .execute(&pool)
        .await
        .unwrap();
    let a = agent(&pool, 5).await;
    member(&pool, g, a, 1).await;
    let app = app(pool.clone());
    let server = serve(app.clone()).await;
    let mut dashboard = Client::agent(server.addr, &cookie_for(&pool, a).await).await;
    let r = send(
        &app,
        form_post(
            "/api/widget/start",
            &format!("site_key={key}&name=Vera&email=vera%40example.com"),
            None,
        ),
        [10, 0, 0, 2],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let conv: Uuid = v["conversation_id"].as_str().unwrap().parse().unwrap();
    // Assigned before the visitor's request returned.
    assert_eq!(assignee(&pool, conv).await, Some(a));
    assert_eq!(status(&pool, conv).await, "assigned");
    // The dashboard hears that the queues moved, and the chat's log says who has it.
    assert!(matches!(dashboard.recv().await, ServerFrame::QueueChanged));
    dashboard.subscribe(conv).await;
    assert_eq!(dashboard.next_assigned(conv).await, Some(a));
}

#[sqlx::test(migrations = "./migrations")]
async fn connecting_takes_up_to_the_cap_and_a_resolved_chat_frees_a_place(pool: PgPool) {
    let (_, site) = site(&pool, "least_busy").await;
    let g = group(&pool, site, "Support").await;
    let a = agent(&pool, 2).await;
    member(&pool, g, a, 1).await;
    let admin = account(&pool, "boss@example.com", Role::Admin).await.id;
    let oldest = chat(&pool, site, Some(g), 30).await;
    let middle = chat(&pool, site, Some(g), 20).await;
    let newest = chat(&pool, site, Some(g), 10).await;
    let app = app(pool.clone());
    let server = serve(app.clone()).await;
    // Nobody connected: everything waits.
    assert_eq!(assignee(&pool, oldest).await, None);
    // The agent's dashboard connects: the two longest-waiting chats are theirs.
    let _dashboard = Client::agent(server.addr, &cookie_for(&pool, a).await).await;
    assert_eq!(eventually_assigned(&pool, oldest).await, a);
    assert_eq!(eventually_assigned(&pool, middle).await, a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(assignee(&pool, newest).await, None);
    // An admin (not the assignee) resolves one: the assignee's freed place takes the third.
    let r = send(
        &app,
        form_post(
            "/api/conversations/resolve",
            &format!("conversation_id={oldest}"),
            Some(&cookie_for(&pool, admin).await),
        ),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(status(&pool, oldest).await, "resolved");
    assert_eq!(assignee(&pool, newest).await, Some(a));
    assert_eq!(open_count(&pool, a).await, 2);
}

#[sqlx::test(migrations = "./migrations")]
async fn switching_available_on_assigns_live_to_the_subscribed_dashboard(pool: PgPool) {
    let (_, site) = site(&pool, "round_robin").await;
    let g = group(&pool, site, "Support").await;
    let a = agent(&pool, 5).await;
    member(&pool, g, a, 1).await;
    sqlx::query("UPDATE users SET available = false WHERE id = $1")
        .bind(a)
        .execute(&pool)
        .await
        .unwrap();
    let conv = chat(&pool, site, Some(g), 5).await;
    let app = app(pool.clone());
    let server = serve(app.clone()).await;
    let cookie = cookie_for(&pool, a).await;
    let mut dashboard = Client::agent(server.addr, &cookie).await;
    dashboard.subscribe(conv).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(assignee(&pool, conv).await, None, "not available yet");
    let r = send(
        &app,
        form_post("/api/agents/set_available", "available=true", Some(&cookie)),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(assignee(&pool, conv).await, Some(a));
    assert_eq!(dashboard.next_assigned(conv).await, Some(a));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_visitor_reopening_a_resolved_chat_is_assigned_again(pool: PgPool) {
    let (_, site) = site(&pool, "round_robin").await;
    let g = group(&pool, site, "Support").await;
    let a = agent(&pool, 1).await;
    member(&pool, g, a, 1).await;
    let (conv, token) = chat_with_token(&pool, site, Some(g), 5).await;
    sqlx::query(
        "UPDATE conversations SET status = 'resolved', assignee_id = $1, resolved_at = now()
         WHERE id = $2",
    )
    .bind(a)
    .bind(conv)
    .execute(&pool)
    .await
    .unwrap();
    let server = serve(app(pool.clone())).await;
    let _dashboard = Client::agent(server.addr, &cookie_for(&pool, a).await).await;
    let mut visitor = Client::visitor(server.addr, &token).await;
    visitor
        .send(json!({"type": "send", "conversation_id": conv, "key": "k1", "body": "Me again"}))
        .await;
    // Back to waiting (no assignee), then taken again in the background.
    for _ in 0..200 {
        if status(&pool, conv).await == "assigned" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status(&pool, conv).await, "assigned");
    assert_eq!(assignee(&pool, conv).await, Some(a));
    let assigned_events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM conversation_events WHERE conversation_id = $1 AND kind = 'assigned'",
    )
    .bind(conv)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(assigned_events, 1);
}
