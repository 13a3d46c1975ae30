//! Admin settings through the real router: a site's assignment mode, transfer rule and
//! response-time targets (validation, stale forms, audit, switching assignment on hands
//! out the waiting chats, "Overdue" in the agents' lists); agents' name, email and cap;
//! site-wide canned responses; and an agent refused by every admin server function and page.

use crate::common::{app, assignee, form_post, send, staff, Reply, HOST};
use axum::body::Body;
use axum::Router;
use http::{header, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::time::Duration;
use switchboard::model::Role;
use switchboard::realtime::protocol::ServerFrame;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
use uuid::Uuid;

const IP: [u8; 4] = [10, 0, 0, 11];

/// An audit row: action, actor, before, after.
type AuditTuple = (String, Option<Uuid>, Option<Value>, Option<Value>);

// ---- fixtures -------------------------------------------------------------------------

async fn post(app: &Router, path: &str, form: &str, cookie: &str) -> Reply {
    send(app, form_post(path, form, Some(cookie)), IP).await
}

/// A same-origin JSON POST (server functions with a JSON input encoding).
async fn post_json(app: &Router, path: &str, body: &Value, cookie: &str) -> Reply {
    let req = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, format!("http://{HOST}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, cookie)
        .body(Body::from(body.to_string()))
        .unwrap();
    send(app, req, IP).await
}

/// Asserts a 400 naming `field`.
fn assert_field_error(r: &Reply, field: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        r.json()["Invalid"]["field"],
        field,
        "the error names {field}: {}",
        r.body
    );
}

/// Creates a site through the API; returns its id.
async fn create_site(app: &Router, cookie: &str, name: &str) -> Uuid {
    let r = post(
        app,
        "/api/admin/sites/create",
        &format!("name={name}"),
        cookie,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["id"].as_str().unwrap().parse().unwrap()
}

async fn rules(app: &Router, cookie: &str, site: Uuid) -> Value {
    let r = post(
        app,
        "/api/admin/rules/get",
        &format!("site_id={site}"),
        cookie,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn save_rules(app: &Router, cookie: &str, site: Uuid, version: i64, extra: &str) -> Reply {
    post(
        app,
        "/api/admin/rules/save",
        &format!("site_id={site}&version={version}{extra}"),
        cookie,
    )
    .await
}

async fn save_targets(
    app: &Router,
    cookie: &str,
    site: Uuid,
    version: i64,
    first: &str,
    resolution: &str,
) -> Reply {
    post(
        app,
        "/api/admin/rules/targets",
        &format!(
            "site_id={site}&version={version}&first_response_minutes={first}&resolution_minutes={resolution}"
        ),
        cookie,
    )
    .await
}

/// The audit entries of `action`, oldest first.
async fn audits(pool: &PgPool, action: &str) -> Vec<AuditTuple> {
    sqlx::query_as(
        "SELECT action, actor_id, before, after FROM audit_log WHERE action = $1 ORDER BY id",
    )
    .bind(action)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn audit_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A group of `site` with `user` as a level-1 member.
async fn group_with(pool: &PgPool, site: Uuid, user: Uuid) -> Uuid {
    let group: Uuid = sqlx::query_scalar(
        "INSERT INTO groups (site_id, name) VALUES ($1, 'Support') RETURNING id",
    )
    .bind(site)
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO group_members (group_id, user_id, level) VALUES ($1, $2, 1)")
        .bind(group)
        .bind(user)
        .execute(pool)
        .await
        .unwrap();
    group
}

/// A waiting chat of a new visitor that started `minutes` ago.
async fn chat(pool: &PgPool, site: Uuid, minutes: i32) -> Uuid {
    let reg = switchboard::domain::visitors::register(pool, site, "Vera", None, None, 365)
        .await
        .unwrap();
    let conv = switchboard::domain::conversations::start_conversation::start_conversation(
        pool,
        site,
        reg.contact_id,
        None,
    )
    .await
    .unwrap();
    sqlx::query(
        "UPDATE conversations SET waiting_since = now() - make_interval(mins => $1),
             created_at = now() - make_interval(mins => $1)
         WHERE id = $2",
    )
    .bind(minutes)
    .bind(conv)
    .execute(pool)
    .await
    .unwrap();
    conv
}

// ---- assignment and targets ---------------------------------------------------------

#[sqlx::test(migrations = "./migrations")]
async fn rules_and_targets_are_validated_versioned_and_audited(pool: PgPool) {
    let app = app(pool.clone());
    let (alice, admin) = staff(&pool, "Alice Admin", Role::Admin).await;
    let (_, bob) = staff(&pool, "Bob Admin", Role::Admin).await;
    let site = create_site(&app, &admin, "Shop").await;

    let r = rules(&app, &admin, site).await;
    assert_eq!(r["assignment_mode"], "off");
    assert_eq!(r["allow_direct_level2"], false);
    assert_eq!(r["first_response_minutes"], Value::Null);
    assert_eq!(r["resolution_minutes"], Value::Null);
    let v = r["version"].as_i64().unwrap();

    // Bad input: 400 naming the field, nothing saved, nothing audited.
    let before = audit_count(&pool).await;
    let bad = save_rules(&app, &admin, site, v, "&assignment_mode=random").await;
    assert_field_error(&bad, "assignment_mode");
    for (first, resolution, field) in [
        ("abc", "", "first_response_minutes"),
        ("0", "", "first_response_minutes"),
        ("1.5", "", "first_response_minutes"),
        ("", "43201", "resolution_minutes"),
        ("30", "10", "resolution_minutes"),
    ] {
        let bad = save_targets(&app, &admin, site, v, first, resolution).await;
        assert_field_error(&bad, field);
    }
    assert_eq!(audit_count(&pool).await, before);
    assert_eq!(rules(&app, &admin, site).await["version"], v);

    // Good input: saved, next version, audited with before and after.
    let r = save_rules(
        &app,
        &admin,
        site,
        v,
        "&assignment_mode=least_busy&allow_direct_level2=on",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let saved = r.json();
    assert_eq!(saved["assignment_mode"], "least_busy");
    assert_eq!(saved["allow_direct_level2"], true);
    assert_eq!(saved["version"], v + 1);
    let r = save_targets(&app, &admin, site, v + 1, " 5 ", "120").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["first_response_minutes"], 5);
    assert_eq!(r.json()["resolution_minutes"], 120);
    let stored: (String, bool, Option<i32>, Option<i32>, i32) = sqlx::query_as(
        "SELECT assignment_mode, allow_direct_level2, first_response_target_secs,
                resolution_target_secs, version FROM sites WHERE id = $1",
    )
    .bind(site)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        stored,
        (
            "least_busy".into(),
            true,
            Some(300),
            Some(7200),
            v as i32 + 2
        )
    );

    let log = audits(&pool, "update_rules").await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].1, Some(alice));
    assert_eq!(
        log[0].2,
        Some(json!({"assignment_mode": "off", "allow_direct_level2": false}))
    );
    assert_eq!(
        log[0].3,
        Some(json!({"assignment_mode": "least_busy", "allow_direct_level2": true}))
    );
    let log = audits(&pool, "update_targets").await;
    assert_eq!(
        log[0].2,
        Some(json!({"first_response_target_secs": null, "resolution_target_secs": null}))
    );
    assert_eq!(
        log[0].3,
        Some(json!({"first_response_target_secs": 300, "resolution_target_secs": 7200}))
    );

    // Bob's form was loaded before Alice's saves: refused, naming her, nothing changed.
    let stale = save_rules(&app, &bob, site, v, "&assignment_mode=off").await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(
        stale
            .body
            .contains("This setting was changed by Alice Admin; reload to see it"),
        "{}",
        stale.body
    );
    let stale = save_targets(&app, &bob, site, v + 1, "", "").await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    let now = rules(&app, &bob, site).await;
    assert_eq!(now["assignment_mode"], "least_busy");
    assert_eq!(now["first_response_minutes"], 5);

    // Empty fields clear the targets.
    let r = save_targets(&app, &bob, site, v + 2, "", "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["first_response_minutes"], Value::Null);

    // An unknown site is a 404, not a 500.
    let r = save_rules(&app, &admin, Uuid::new_v4(), 1, "&assignment_mode=off").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}

/// Serves `app` on a free port (for the agent's dashboard socket); aborted on drop.
struct Server {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(app: Router) -> Server {
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

/// Opens an agent's dashboard socket and waits for its welcome (the agent is then online).
async fn connect_dashboard(
    addr: SocketAddr,
    cookie: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use futures_util::StreamExt;
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut()
        .insert("origin", format!("http://{addr}").parse().unwrap());
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("socket open")
            .expect("no socket error");
        if let Message::Text(t) = msg {
            if let Ok(ServerFrame::Welcome { .. }) = serde_json::from_str(t.as_str()) {
                return ws;
            }
        }
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn switching_assignment_on_hands_out_the_waiting_chats_at_once(pool: PgPool) {
    let app = app(pool.clone());
    let server = serve(app.clone()).await;
    let (_, admin) = staff(&pool, "Alice Admin", Role::Admin).await;
    let (agent, agent_cookie) = staff(&pool, "Carl Agent", Role::Agent).await;
    let site = create_site(&app, &admin, "Shop").await;
    group_with(&pool, site, agent).await;
    sqlx::query("UPDATE users SET available = true WHERE id = $1")
        .bind(agent)
        .execute(&pool)
        .await
        .unwrap();
    let first = chat(&pool, site, 3).await;
    let second = chat(&pool, site, 2).await;
    let third = chat(&pool, site, 1).await;
    // The agent is online; with the mode off, connecting assigns nothing.
    let _ws = connect_dashboard(server.addr, &agent_cookie).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(assignee(&pool, first).await, None);

    // A cap of 2, set on the agents page.
    let form = format!("id={agent}&name=Carl%20Agent&email=carl%40example.com&max_chats=2");
    let r = post(&app, "/api/users/save", &form, &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(assignee(&pool, first).await, None, "the mode is still off");

    let v = rules(&app, &admin, site).await["version"].as_i64().unwrap();
    let r = save_rules(&app, &admin, site, v, "&assignment_mode=round_robin").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Done when the save answers: the two longest-waiting chats, up to the cap.
    assert_eq!(assignee(&pool, first).await, Some(agent));
    assert_eq!(assignee(&pool, second).await, Some(agent));
    assert_eq!(assignee(&pool, third).await, None, "the cap of 2 holds");

    // Raising the cap hands out the rest at once.
    let form = format!("id={agent}&name=Carl%20Agent&email=carl%40example.com&max_chats=3");
    let r = post(&app, "/api/users/save", &form, &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(assignee(&pool, third).await, Some(agent));
}

/// The `overdue` of each listed chat, by id.
async fn overdue_in(app: &Router, list: &str, cookie: &str) -> Vec<(Uuid, Value)> {
    let r = post(app, &format!("/api/conversations/{list}"), "", cookie).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["chats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["conversation_id"].as_str().unwrap().parse().unwrap(),
                c["overdue"].clone(),
            )
        })
        .collect()
}

#[sqlx::test(migrations = "./migrations")]
async fn chats_past_the_targets_are_flagged_overdue_at_once(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = staff(&pool, "Alice Admin", Role::Admin).await;
    let (agent, agent_cookie) = staff(&pool, "Carl Agent", Role::Agent).await;
    let site = create_site(&app, &admin, "Shop").await;
    group_with(&pool, site, agent).await;
    let late = chat(&pool, site, 3).await;
    let fresh = chat(&pool, site, 0).await;
    let old_open = chat(&pool, site, 90).await;
    sqlx::query("UPDATE conversations SET status = 'active', assignee_id = $1 WHERE id = $2")
        .bind(agent)
        .bind(old_open)
        .execute(&pool)
        .await
        .unwrap();

    // No targets: nothing is overdue.
    for (_, o) in overdue_in(&app, "waiting", &agent_cookie).await {
        assert_eq!(o, Value::Null);
    }

    let v = rules(&app, &admin, site).await["version"].as_i64().unwrap();
    let r = save_targets(&app, &admin, site, v, "1", "60").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let waiting = overdue_in(&app, "waiting", &agent_cookie).await;
    assert_eq!(
        waiting,
        vec![(late, json!("first_response")), (fresh, Value::Null)]
    );
    let chatting = overdue_in(&app, "chatting", &agent_cookie).await;
    assert_eq!(chatting, vec![(old_open, json!("resolution"))]);
    // When the next target comes due, so the dashboard fetches again then: the fresh chat
    // passes its 1-minute target within a minute; the old one has passed everything.
    let due = |list: &Value, id: Uuid| {
        list["chats"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["conversation_id"] == json!(id))
            .unwrap()["overdue_in_secs"]
            .clone()
    };
    let waiting = post(&app, "/api/conversations/waiting", "", &agent_cookie)
        .await
        .json();
    let secs = due(&waiting, fresh).as_i64().unwrap();
    assert!((1..=61).contains(&secs), "{secs}");
    let chatting = post(&app, "/api/conversations/chatting", "", &agent_cookie)
        .await
        .json();
    assert_eq!(due(&chatting, old_open), Value::Null);

    // Targets removed: the flags go at once.
    let r = save_targets(&app, &admin, site, v + 1, "", "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let chatting = overdue_in(&app, "chatting", &agent_cookie).await;
    assert_eq!(chatting, vec![(old_open, Value::Null)]);
}

// ---- agents ------------------------------------------------------------------------

#[sqlx::test(migrations = "./migrations")]
async fn an_agents_name_email_and_cap_are_validated_and_audited(pool: PgPool) {
    let app = app(pool.clone());
    let (alice, admin) = staff(&pool, "Alice Admin", Role::Admin).await;
    let (agent, _) = staff(&pool, "Carl Agent", Role::Agent).await;
    let (_, _) = staff(&pool, "Dora Agent", Role::Agent).await;
    sqlx::query("UPDATE users SET email = 'dora@example.com' WHERE name = 'Dora Agent'")
        .execute(&pool)
        .await
        .unwrap();
    let save = |name: &str, email: &str, cap: &str| {
        format!("id={agent}&name={name}&email={email}&max_chats={cap}")
    };
    let before = audit_count(&pool).await;
    for (form, field) in [
        (save("", "carl%40example.com", "5"), "name"),
        (save("Carl", "not-an-email", "5"), "email"),
        (save("Carl", "carl%40example.com", "0"), "max_chats"),
        (save("Carl", "carl%40example.com", "51"), "max_chats"),
        (save("Carl", "carl%40example.com", "lots"), "max_chats"),
        (save("Carl", "DORA%40example.com", "5"), "email"),
    ] {
        let r = post(&app, "/api/users/save", &form, &admin).await;
        assert_field_error(&r, field);
    }
    assert_eq!(audit_count(&pool).await, before, "nothing saved");

    let r = post(
        &app,
        "/api/users/save",
        &save("Carla%20Agent", "Carla%40Example.com", "12"),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let saved = r.json();
    assert_eq!(saved["name"], "Carla Agent");
    assert_eq!(saved["email"], "carla@example.com");
    assert_eq!(saved["max_chats"], 12);
    let stored: (String, String, i32) =
        sqlx::query_as("SELECT name, email, max_chats FROM users WHERE id = $1")
            .bind(agent)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        stored,
        ("Carla Agent".into(), "carla@example.com".into(), 12)
    );
    let log = audits(&pool, "edit").await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].1, Some(alice));
    let (b, a) = (log[0].2.clone().unwrap(), log[0].3.clone().unwrap());
    assert_eq!(
        (b["name"].clone(), b["max_chats"].clone()),
        (json!("Carl Agent"), json!(5))
    );
    assert_eq!(
        (a["name"].clone(), a["max_chats"].clone()),
        (json!("Carla Agent"), json!(12))
    );
    assert_eq!(a["email"], "carla@example.com");

    // The page lists the cap and the edit form's fields.
    let r = send(&app, crate::common::get("/admin/agents", Some(&admin)), IP).await;
    assert_eq!(r.status, StatusCode::OK);
    for text in ["Max chats", "Edit Carla Agent"] {
        assert!(r.body.contains(text), "/admin/agents lacks {text}");
    }
}

// ---- site canned responses ----------------------------------------------------------

#[sqlx::test(migrations = "./migrations")]
async fn site_canned_responses_are_listed_edited_and_deleted(pool: PgPool) {
    let app = app(pool.clone());
    let (alice, admin) = staff(&pool, "Alice Admin", Role::Admin).await;
    let (agent, agent_cookie) = staff(&pool, "Carl Agent", Role::Agent).await;
    let site = create_site(&app, &admin, "Shop").await;
    let other = create_site(&app, &admin, "Other").await;
    group_with(&pool, site, agent).await;

    let add = |site: Uuid, shortcut: &str, body: &str| {
        format!("site_id={site}&shortcut={shortcut}&body={body}")
    };
    let r = post(
        &app,
        "/api/canned/create_site",
        &add(site, "hello", "Hi%20there"),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let hello = r.json()["id"].as_str().unwrap().to_string();
    let r = post(
        &app,
        "/api/canned/create_site",
        &add(site, "bye", "Bye"),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = post(
        &app,
        "/api/canned/create_site",
        &add(other, "elsewhere", "X"),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = post(
        &app,
        "/api/canned/create_site",
        &add(site, "two%20words", "X"),
        &admin,
    )
    .await;
    assert_field_error(&r, "shortcut");

    let list = |site: Uuid| {
        let app = app.clone();
        let admin = admin.clone();
        async move {
            let r = post(
                &app,
                "/api/canned/site_list",
                &format!("site_id={site}"),
                &admin,
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.json()
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    format!(
                        "{}={}",
                        c["shortcut"].as_str().unwrap(),
                        c["body"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(site).await, ["bye=Bye", "hello=Hi there"]);

    // Edit: validated, a taken shortcut refused, then saved and audited.
    let edit = |shortcut: &str, body: &str| {
        format!("id={hello}&version=1&shortcut={shortcut}&body={body}")
    };
    let r = post(&app, "/api/canned/site_update", &edit("hi", "%20"), &admin).await;
    assert_field_error(&r, "body");
    let r = post(&app, "/api/canned/site_update", &edit("bye", "Hi"), &admin).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = post(
        &app,
        "/api/canned/site_update",
        &edit("%2FHi", "Hello%20{{visitor.name}}"),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(list(site).await, ["bye=Bye", "hi=Hello {{visitor.name}}"]);
    let log = audits(&pool, "canned.update").await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].1, Some(alice));
    assert_eq!(log[0].2.as_ref().unwrap()["shortcut"], "hello");
    assert_eq!(log[0].3.as_ref().unwrap()["shortcut"], "hi");

    // A second admin's form still holds version 1: refused, naming who changed it, and the
    // text stays as Alice saved it. With the new version it goes through.
    let (_, bea) = staff(&pool, "Bea Admin", Role::Admin).await;
    let r = post(&app, "/api/canned/site_update", &edit("hey", "Hey"), &bea).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body
            .contains("This response was changed by Alice Admin; reload to see it."),
        "{}",
        r.body
    );
    assert_eq!(list(site).await, ["bye=Bye", "hi=Hello {{visitor.name}}"]);
    let r = post(
        &app,
        "/api/canned/site_update",
        &format!("id={hello}&version=2&shortcut=hi&body=Hello%20again"),
        &bea,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["version"], 3);
    assert_eq!(list(site).await, ["bye=Bye", "hi=Hello again"]);

    // The agent of the site uses it in the composer ("/" lists the usable responses).
    let r = post(
        &app,
        "/api/canned/list",
        &format!("site_id={site}"),
        &agent_cookie,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("\"shortcut\":\"hi\""), "{}", r.body);

    // Delete: gone, audited; a second delete is a 404.
    let r = post(
        &app,
        "/api/canned/site_delete",
        &format!("id={hello}"),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(list(site).await, ["bye=Bye"]);
    let log = audits(&pool, "canned.delete").await;
    assert_eq!(log[0].2.as_ref().unwrap()["shortcut"], "hi");
    assert_eq!(log[0].3, None);
    let r = post(
        &app,
        "/api/canned/site_delete",
        &format!("id={hello}"),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(list(other).await, ["elsewhere=X"]);

    // A personal response is not a site-wide one.
    let r = post(
        &app,
        "/api/canned/create",
        "shortcut=mine&body=Mine",
        &agent_cookie,
    )
    .await;
    let mine = r.json()["id"].as_str().unwrap().to_string();
    let r = post(
        &app,
        "/api/canned/site_delete",
        &format!("id={mine}"),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}

// ---- access ------------------------------------------------------------------------

#[sqlx::test(migrations = "./migrations")]
async fn an_agent_is_refused_every_admin_function_and_page(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = staff(&pool, "Alice Admin", Role::Admin).await;
    let (agent_id, agent) = staff(&pool, "Carl Agent", Role::Agent).await;
    let site = create_site(&app, &admin, "Shop").await;
    let group = group_with(&pool, site, agent_id).await;
    let r = post(
        &app,
        "/api/canned/create_site",
        &format!("site_id={site}&shortcut=hello&body=Hi"),
        &admin,
    )
    .await;
    let canned = r.json()["id"].as_str().unwrap().to_string();

    // Every admin function with arguments an admin's call would succeed with.
    let form_calls: Vec<(&str, String)> = vec![
        ("/api/admin/sites/list", String::new()),
        ("/api/admin/sites/create", "name=Mine".into()),
        (
            "/api/admin/sites/save",
            format!("id={site}&version=1&name=Mine&allowed_origins="),
        ),
        ("/api/admin/sites/archive", format!("id={site}&version=1")),
        ("/api/admin/sites/rotate_secret", format!("id={site}")),
        ("/api/admin/groups/list", format!("site_id={site}")),
        ("/api/admin/groups/create", format!("site_id={site}&name=Mine")),
        (
            "/api/admin/groups/add_member",
            format!("group_id={group}&user_id={agent_id}&level=2"),
        ),
        (
            "/api/admin/groups/remove_member",
            format!("group_id={group}&user_id={agent_id}"),
        ),
        ("/api/admin/audit", String::new()),
        ("/api/users/list", String::new()),
        (
            "/api/users/create",
            "name=Eve&email=eve%40example.com&password=correct-horse-1&role=admin".into(),
        ),
        ("/api/users/role", format!("id={agent_id}&role=admin")),
        ("/api/users/active", format!("id={agent_id}&active=false")),
        (
            "/api/users/save",
            format!("id={agent_id}&name=Me&email=me%40example.com&max_chats=50"),
        ),
        ("/api/admin/rules/get", format!("site_id={site}")),
        (
            "/api/admin/rules/save",
            format!("site_id={site}&version=1&assignment_mode=round_robin&allow_direct_level2=on"),
        ),
        (
            "/api/admin/rules/targets",
            format!("site_id={site}&version=1&first_response_minutes=1&resolution_minutes=2"),
        ),
        (
            "/api/canned/create_site",
            format!("site_id={site}&shortcut=mine&body=Mine"),
        ),
        ("/api/canned/site_list", format!("site_id={site}")),
        (
            "/api/canned/site_update",
            format!("id={canned}&version=1&shortcut=mine&body=Mine"),
        ),
        ("/api/canned/site_delete", format!("id={canned}")),
        ("/api/admin/widget/get", format!("site_id={site}")),
        (
            "/api/admin/widget/prechat",
            format!("site_id={site}&version=1&name_show=on"),
        ),
        (
            "/api/admin/widget/appearance",
            format!(
                "site_id={site}&version=1&color=%23000000&position=left&title=Mine&welcome=Mine&language=en"
            ),
        ),
        (
            "/api/admin/widget/attachments",
            format!("site_id={site}&version=1&max_mb=1&types=image%2F*"),
        ),
        ("/api/admin/hours/get", format!("site_id={site}")),
        ("/api/admin/greetings/get", format!("site_id={site}")),
    ];
    // JSON-encoded saves: the form is what the page loads (read as the admin), sent back.
    let loaded = |path: &'static str| {
        let app = app.clone();
        let admin = admin.clone();
        async move {
            let r = post(&app, path, &format!("site_id={site}"), &admin).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
            r.json()
        }
    };
    let json_calls: Vec<(&str, Value)> = vec![
        (
            "/api/admin/hours/save",
            json!({ "form": loaded("/api/admin/hours/get").await }),
        ),
        (
            "/api/admin/greetings/save",
            json!({ "form": loaded("/api/admin/greetings/get").await }),
        ),
    ];

    // Every registered admin function is in the table above (a new one must be added).
    let covered: Vec<&str> = form_calls
        .iter()
        .map(|(p, _)| *p)
        .chain(json_calls.iter().map(|(p, _)| *p))
        .collect();
    let admin_only = |p: &str| {
        p.starts_with("/api/admin/")
            || p.starts_with("/api/users/")
            || (p.starts_with("/api/canned/") && p.contains("site"))
    };
    let mut registered: Vec<String> = server_fn::axum::server_fn_paths()
        .map(|(p, _)| p.to_string())
        .filter(|p| admin_only(p))
        .collect();
    registered.sort();
    registered.dedup();
    for path in &registered {
        assert!(
            covered.contains(&path.as_str()),
            "{path} is an admin function this test does not call; add it"
        );
    }
    for path in &covered {
        assert!(
            registered.iter().any(|p| p == path),
            "{path} is not a registered server function"
        );
    }

    let snapshot = || async {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT row_to_json(t)::text FROM (
                 SELECT (SELECT count(*) FROM audit_log) AS audit,
                        (SELECT json_agg(s ORDER BY s.id) FROM sites s) AS sites,
                        (SELECT json_agg(u ORDER BY u.id) FROM users u) AS users,
                        (SELECT json_agg(g ORDER BY g.group_id, g.user_id) FROM group_members g) AS members,
                        (SELECT json_agg(c ORDER BY c.id) FROM canned_responses c) AS canned,
                        (SELECT count(*) FROM groups) AS groups
             ) t",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        rows
    };
    let before = snapshot().await;
    for (path, form) in &form_calls {
        let r = post(&app, path, form, &agent).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    for (path, body) in &json_calls {
        let r = post_json(&app, path, body, &agent).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    assert_eq!(snapshot().await, before, "nothing changed");

    // The pages: the guard answers 403 before any admin page code runs.
    for page in [
        "/admin",
        "/admin/agents",
        "/admin/sites",
        "/admin/groups",
        "/admin/widget",
        "/admin/rules",
        "/admin/canned",
        "/admin/hours",
        "/admin/greetings",
        "/admin/audit",
    ] {
        let r = send(&app, crate::common::get(page, Some(&agent)), IP).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{page}");
        assert!(!r.body.contains("Save rules"), "{page}");
        let r = send(&app, crate::common::get(page, Some(&admin)), IP).await;
        assert_eq!(r.status, StatusCode::OK, "{page} for an admin");
    }
}
