//! Canned responses through the real router: personal ones (create, list, duplicate, bad
//! shortcut, delete only your own) and site-wide ones (admins create them; agents of that
//! site use them; agents of other sites do not see them).

use crate::common::{app, form_post, send, Reply};
use axum::Router;
use http::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use switchboard::domain::accounts::session;
use switchboard::model::Role;
use uuid::Uuid;

const IP: [u8; 4] = [10, 0, 0, 8];

async fn cookie_for(pool: &PgPool, user: Uuid) -> String {
    let s = session::issue(pool, user, "127.0.0.1", "test")
        .await
        .unwrap();
    format!("sb_session={}", s.token)
}

async fn user(pool: &PgPool, role: Role) -> (Uuid, String) {
    let id = crate::common::account(pool, &format!("{}@example.com", Uuid::new_v4()), role)
        .await
        .id;
    (id, cookie_for(pool, id).await)
}

/// A site whose group has `agent` as a member.
async fn site_with_agent(pool: &PgPool, agent: Uuid) -> Uuid {
    let site = switchboard::db::sites::insert(pool, &Uuid::new_v4().to_string(), "Shop", "secret")
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

async fn call(app: &Router, path: &str, form: &str, cookie: &str) -> Reply {
    send(app, form_post(path, form, Some(cookie)), IP).await
}

fn json(r: &Reply) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

async fn create(app: &Router, cookie: &str, shortcut: &str, body: &str) -> Reply {
    call(
        app,
        "/api/canned/create",
        &format!("shortcut={shortcut}&body={body}"),
        cookie,
    )
    .await
}

/// The shortcuts `cookie`'s user may use (of `site` only, when given), in order, with
/// whether each is personal.
async fn usable(app: &Router, cookie: &str, site: Option<Uuid>) -> Vec<(String, bool)> {
    let form = site.map(|s| format!("site_id={s}")).unwrap_or_default();
    let r = call(app, "/api/canned/list", &form, cookie).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    json(&r)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["shortcut"].as_str().unwrap().to_string(),
                c["personal"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn owned(list: &[(&str, bool)]) -> Vec<(String, bool)> {
    list.iter().map(|(s, p)| (s.to_string(), *p)).collect()
}

#[sqlx::test(migrations = "./migrations")]
async fn personal_responses_are_created_listed_and_checked(pool: PgPool) {
    let app = app(pool.clone());
    let (_, amy) = user(&pool, Role::Agent).await;
    let (_, bob) = user(&pool, Role::Agent).await;

    // Trimmed and lower-cased; a typed "/" is dropped.
    let r = create(
        &app,
        &amy,
        "+%2FHello+",
        "Hi+%7B%7Bvisitor.name%7D%7D%2C+I%27m+%7B%7Bagent.name%7D%7D.",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let c = json(&r);
    assert_eq!(c["shortcut"], "hello");
    assert_eq!(c["body"], "Hi {{visitor.name}}, I'm {{agent.name}}.");
    assert_eq!(c["personal"], true);
    assert_eq!(
        create(&app, &amy, "bye", "Bye!").await.status,
        StatusCode::OK
    );

    // Listed by shortcut; nobody else sees them.
    assert_eq!(
        usable(&app, &amy, None).await,
        owned(&[("bye", true), ("hello", true)])
    );
    assert!(usable(&app, &bob, None).await.is_empty());

    // The same shortcut again (any case) is a conflict that names it; another agent may use it.
    let r = create(&app, &amy, "HELLO", "Again").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body
            .contains("You already have a response with the shortcut /hello."),
        "{}",
        r.body
    );
    assert_eq!(
        create(&app, &bob, "hello", "Hey").await.status,
        StatusCode::OK
    );

    // Bad input is named by field, with a message the form shows.
    let long = "a".repeat(33);
    for (shortcut, body, field, text) in [
        ("two+words", "x", "shortcut", "no spaces"),
        ("", "x", "shortcut", "Shortcut is required."),
        (long.as_str(), "x", "shortcut", "at most 32"),
        ("ok", "+++", "body", "Text is required."),
    ] {
        let r = create(&app, &amy, shortcut, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{shortcut}: {}", r.body);
        let e = json(&r);
        assert_eq!(e["Invalid"]["field"], field, "{}", r.body);
        assert!(r.body.contains(text), "{shortcut}: {}", r.body);
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM canned_responses")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 3, "nothing stored from bad input");
}

#[sqlx::test(migrations = "./migrations")]
async fn only_your_own_responses_can_be_deleted(pool: PgPool) {
    let app = app(pool.clone());
    let (_, amy) = user(&pool, Role::Agent).await;
    let (_, bob) = user(&pool, Role::Agent).await;
    let id = json(&create(&app, &amy, "hello", "Hi").await)["id"]
        .as_str()
        .unwrap()
        .to_string();

    let r = call(&app, "/api/canned/delete", &format!("id={id}"), &bob).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = call(
        &app,
        "/api/canned/delete",
        &format!("id={}", Uuid::new_v4()),
        &amy,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(usable(&app, &amy, None).await.len(), 1, "still there");

    let r = call(&app, "/api/canned/delete", &format!("id={id}"), &amy).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(usable(&app, &amy, None).await.is_empty());
}

#[sqlx::test(migrations = "./migrations")]
async fn site_wide_responses_are_made_by_admins_for_that_sites_agents(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = user(&pool, Role::Admin).await;
    let (member_id, member) = user(&pool, Role::Agent).await;
    let (outsider_id, outsider) = user(&pool, Role::Agent).await;
    let site = site_with_agent(&pool, member_id).await;
    let other_site = site_with_agent(&pool, outsider_id).await;

    let site_create = |cookie: String, site: Uuid, shortcut: &'static str| {
        let app = app.clone();
        async move {
            call(
                &app,
                "/api/canned/create_site",
                &format!("site_id={site}&shortcut={shortcut}&body=Our+hours+are+9-5."),
                &cookie,
            )
            .await
        }
    };
    // An agent may not create site-wide responses.
    let r = site_create(member.clone(), site, "hours").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    let r = site_create(admin.clone(), site, "hours").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(json(&r)["personal"], false);
    let r = site_create(admin.clone(), site, "hours").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = site_create(admin.clone(), Uuid::new_v4(), "hours").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'canned.create'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);

    // The member sees it after their own ones (a personal one may share the shortcut).
    assert_eq!(
        create(&app, &member, "hours", "Mine").await.status,
        StatusCode::OK
    );
    let expected = owned(&[("hours", true), ("hours", false)]);
    assert_eq!(usable(&app, &member, None).await, expected);
    assert_eq!(usable(&app, &member, Some(site)).await, expected);

    // The outsider does not see it, and may not ask for that site.
    assert!(usable(&app, &outsider, None).await.is_empty());
    assert!(usable(&app, &outsider, Some(other_site)).await.is_empty());
    let r = call(
        &app,
        "/api/canned/list",
        &format!("site_id={site}"),
        &outsider,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // Nobody but its scope deletes a site-wide response, not even through "delete mine".
    let id: Uuid = sqlx::query_scalar("SELECT id FROM canned_responses WHERE owner_id IS NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    let r = call(&app, "/api/canned/delete", &format!("id={id}"), &member).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
}
