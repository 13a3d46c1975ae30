//! Cases through the real router: the open / closed lists and paging, access (an agent of
//! another site sees none and is refused everything), notes, closing and reopening, and
//! "Turn chat into case" (only resolved chats, once, with the transcript note).

use crate::common::{app, form_post, send, Reply};
use axum::Router;
use http::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use switchboard::domain::accounts::session;
use switchboard::domain::conversations::{
    send_message::{send_message, MessageDraft},
    Viewer,
};
use switchboard::model::Role;
use uuid::Uuid;

const IP: [u8; 4] = [10, 0, 0, 7];

/// A site with a group and its agent; an agent of another site (the outsider); an admin.
struct World {
    site: Uuid,
    agent: Uuid,
    agent_cookie: String,
    outsider_cookie: String,
    admin_cookie: String,
}

async fn cookie_for(pool: &PgPool, user: Uuid) -> String {
    let s = session::issue(pool, user, "127.0.0.1", "test")
        .await
        .unwrap();
    format!("sb_session={}", s.token)
}

/// A site named `name` whose group has `agent` as a member.
async fn site_with_agent(pool: &PgPool, name: &str, agent: Uuid) -> Uuid {
    let site = switchboard::db::sites::insert(pool, &Uuid::new_v4().to_string(), name, "secret")
        .await
        .unwrap()
        .id;
    let group: Uuid = sqlx::query_scalar(
        "INSERT INTO groups (site_id, name) VALUES ($1, 'Support') RETURNING id",
    )
    .bind(site)
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO group_members (group_id, user_id, level) VALUES ($1, $2, 1)")
        .bind(group)
        .bind(agent)
        .execute(pool)
        .await
        .unwrap();
    site
}

async fn user(pool: &PgPool, role: Role) -> Uuid {
    crate::common::account(pool, &format!("{}@example.com", Uuid::new_v4()), role)
        .await
        .id
}

async fn world(pool: &PgPool) -> World {
    let agent = user(pool, Role::Agent).await;
    let outsider = user(pool, Role::Agent).await;
    let admin = user(pool, Role::Admin).await;
    let site = site_with_agent(pool, "Shop", agent).await;
    site_with_agent(pool, "Elsewhere", outsider).await;
    World {
        site,
        agent,
        agent_cookie: cookie_for(pool, agent).await,
        outsider_cookie: cookie_for(pool, outsider).await,
        admin_cookie: cookie_for(pool, admin).await,
    }
}

/// An offline-message case on `site`, created `age_secs` ago.
async fn offline_case(pool: &PgPool, site: Uuid, name: &str, age_secs: i64) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO cases (site_id, name, email, message, created_at)
         VALUES ($1, $2, 'x@example.com', $3, now() - make_interval(secs => $4)) RETURNING id",
    )
    .bind(site)
    .bind(name)
    .bind(format!("Message from {name}"))
    .bind(age_secs as f64)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn call(app: &Router, path: &str, form: &str, cookie: &str) -> Reply {
    send(app, form_post(path, form, Some(cookie)), IP).await
}

fn json(r: &Reply) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

async fn list(app: &Router, cookie: &str, status: &str, offset: i64) -> Value {
    let r = call(
        app,
        "/api/cases/list",
        &format!("status={status}&offset={offset}"),
        cookie,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    json(&r)
}

#[sqlx::test(migrations = "./migrations")]
async fn open_and_closed_lists_page_newest_first(pool: PgPool) {
    let w = world(&pool).await;
    let app = app(pool.clone());
    // 53 open cases: case 0 is the newest.
    let mut ids = Vec::new();
    for i in 0..53 {
        ids.push(offline_case(&pool, w.site, &format!("Person {i}"), i * 10).await);
    }

    let page = list(&app, &w.agent_cookie, "open", 0).await;
    assert_eq!(page["total"], 53);
    let cases = page["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 50, "50 per page");
    assert_eq!(cases[0]["name"], "Person 0", "newest first");
    assert_eq!(cases[0]["site_name"], "Shop");
    assert_eq!(cases[0]["status"], "open");
    assert_eq!(cases[0]["email"], "x@example.com");
    assert!(cases[0]["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(cases[0]["conversation_id"], Value::Null);
    let rest = list(&app, &w.agent_cookie, "open", 50).await;
    assert_eq!(rest["total"], 53);
    let names: Vec<&str> = rest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Person 50", "Person 51", "Person 52"]);

    // Closing moves a case to the closed list; reopening moves it back.
    let r = call(
        &app,
        "/api/cases/status",
        &format!("id={}&status=closed", ids[3]),
        &w.agent_cookie,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let closed = list(&app, &w.agent_cookie, "closed", 0).await;
    assert_eq!(closed["total"], 1);
    assert_eq!(closed["cases"][0]["id"], ids[3].to_string());
    assert_eq!(closed["cases"][0]["status"], "closed");
    assert_eq!(list(&app, &w.agent_cookie, "open", 0).await["total"], 52);
    let closed_at: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT closed_at FROM cases WHERE id = $1")
            .bind(ids[3])
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(closed_at.is_some());
    let r = call(
        &app,
        "/api/cases/status",
        &format!("id={}&status=open", ids[3]),
        &w.agent_cookie,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(list(&app, &w.agent_cookie, "closed", 0).await["total"], 0);

    // Admins see every site's cases.
    assert_eq!(list(&app, &w.admin_cookie, "open", 0).await["total"], 53);

    // A status other than open/closed is named as bad input.
    let r = call(
        &app,
        "/api/cases/list",
        "status=pending&offset=0",
        &w.agent_cookie,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(json(&r)["Invalid"]["field"], "status");
}

#[sqlx::test(migrations = "./migrations")]
async fn an_outsider_sees_no_case_and_is_refused_everything(pool: PgPool) {
    let w = world(&pool).await;
    let app = app(pool.clone());
    let case = offline_case(&pool, w.site, "Olga", 0).await;
    let conv = resolved_chat(&pool, &app, &w, Some("Hello?")).await;

    let mine = list(&app, &w.outsider_cookie, "open", 0).await;
    assert_eq!(mine["total"], 0);
    assert_eq!(mine["cases"].as_array().unwrap().len(), 0);

    let id = format!("id={case}");
    for (path, form) in [
        ("/api/cases/detail", id.clone()),
        ("/api/cases/status", format!("{id}&status=closed")),
        ("/api/cases/note", format!("{id}&body=sneaky")),
        ("/api/cases/from_chat", format!("conversation_id={conv}")),
    ] {
        let r = call(&app, path, &form, &w.outsider_cookie).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    let (status, notes, cases): (String, i64, i64) = sqlx::query_as(
        "SELECT (SELECT status FROM cases WHERE id = $1),
                (SELECT count(*) FROM case_notes), (SELECT count(*) FROM cases)",
    )
    .bind(case)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), notes, cases),
        ("open", 0, 1),
        "nothing changed"
    );

    // Unknown ids are 404s; nobody signed in is a 401.
    let unknown = Uuid::new_v4();
    for (path, form) in [
        ("/api/cases/detail", format!("id={unknown}")),
        ("/api/cases/note", format!("id={unknown}&body=hi")),
        ("/api/cases/from_chat", format!("conversation_id={unknown}")),
    ] {
        let r = call(&app, path, &form, &w.agent_cookie).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
    }
    let r = send(
        &app,
        form_post("/api/cases/list", "status=open&offset=0", None),
        IP,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

#[sqlx::test(migrations = "./migrations")]
async fn notes_are_added_in_order_and_empty_ones_refused(pool: PgPool) {
    let w = world(&pool).await;
    let app = app(pool.clone());
    let case = offline_case(&pool, w.site, "Olga", 0).await;
    for body in ["Called+back", "Sent+the+refund"] {
        let r = call(
            &app,
            "/api/cases/note",
            &format!("id={case}&body={body}"),
            &w.agent_cookie,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let r = call(
        &app,
        "/api/cases/note",
        &format!("id={case}&body=+++"),
        &w.agent_cookie,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(json(&r)["Invalid"]["field"], "body");

    let r = call(
        &app,
        "/api/cases/detail",
        &format!("id={case}"),
        &w.agent_cookie,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = json(&r);
    assert_eq!(d["summary"]["name"], "Olga");
    assert_eq!(d["message"], "Message from Olga");
    let notes = d["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0]["body"], "Called back");
    assert_eq!(notes[1]["body"], "Sent the refund");
    assert_eq!(notes[0]["author_name"], "Test User");
}

/// A conversation on the world's site by "Vera" (email and phone given), in which the
/// visitor wrote `first` (if any), then resolved by the world's agent.
async fn resolved_chat(pool: &PgPool, app: &Router, w: &World, first: Option<&str>) -> Uuid {
    let conv = chat(pool, w, first).await;
    let r = call(
        app,
        "/api/conversations/resolve",
        &format!("conversation_id={conv}"),
        &w.agent_cookie,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    conv
}

/// A waiting conversation by "Vera" with the visitor's `first` message (if any).
async fn chat(pool: &PgPool, w: &World, first: Option<&str>) -> Uuid {
    let reg = switchboard::domain::visitors::register(
        pool,
        w.site,
        "Vera",
        Some("vera@example.com"),
        Some("+44 20 7946 0958"),
        365,
    )
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
    if let Some(body) = first {
        let visitor = Viewer::Visitor {
            contact_id: reg.contact_id,
            name: "Vera".into(),
        };
        for (key, body) in [("k1", body), ("k2", "And a second thing")] {
            let draft = MessageDraft {
                key,
                body,
                note: false,
                attachment: None,
            };
            send_message(pool, &visitor, conv, draft).await.unwrap();
        }
    }
    conv
}

#[sqlx::test(migrations = "./migrations")]
async fn a_resolved_chat_becomes_a_case_once_with_a_transcript_note(pool: PgPool) {
    let w = world(&pool).await;
    let app = app(pool.clone());
    let turn = |conv: Uuid| {
        let app = app.clone();
        let cookie = w.agent_cookie.clone();
        async move {
            call(
                &app,
                "/api/cases/from_chat",
                &format!("conversation_id={conv}"),
                &cookie,
            )
            .await
        }
    };

    // A chat still waiting cannot become a case.
    let waiting = chat(&pool, &w, Some("Hi")).await;
    let r = turn(waiting).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("Only a resolved chat can become a case."),
        "{}",
        r.body
    );

    let conv = resolved_chat(&pool, &app, &w, Some("Where is my order 42?")).await;
    let r = turn(conv).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let case: Uuid = serde_json::from_str(&r.body).unwrap();

    let r = call(
        &app,
        "/api/cases/detail",
        &format!("id={case}"),
        &w.agent_cookie,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = json(&r);
    let s = &d["summary"];
    assert_eq!(s["name"], "Vera");
    assert_eq!(s["email"], "vera@example.com");
    assert_eq!(s["phone"], "+44 20 7946 0958");
    assert_eq!(
        s["message"], "Where is my order 42?",
        "the visitor's first message"
    );
    assert_eq!(s["status"], "open");
    assert_eq!(s["conversation_id"], conv.to_string());
    let notes = d["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["body"], format!("Transcript: /agent/c/{conv}"));
    assert_eq!(notes[0]["author_name"], "Test User");
    let author: Option<Uuid> = sqlx::query_scalar("SELECT author_id FROM case_notes")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(author, Some(w.agent));
    let listed = list(&app, &w.agent_cookie, "open", 0).await;
    assert_eq!(listed["cases"][0]["id"], case.to_string());

    // A second time: refused, and still one case.
    let r = turn(conv).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("This chat is already a case."),
        "{}",
        r.body
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM cases WHERE conversation_id = $1")
        .bind(conv)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);

    // A chat where the visitor wrote nothing is named after the visitor.
    let silent = resolved_chat(&pool, &app, &w, None).await;
    let r = turn(silent).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let message: String =
        sqlx::query_scalar("SELECT message FROM cases WHERE conversation_id = $1")
            .bind(silent)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(message, "Chat with Vera");
}
