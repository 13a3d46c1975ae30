//! Working hours and greetings through the real router: saving (validation, stale forms,
//! audit, 403 for agents), the offline decision outside hours whatever the agents' switches,
//! the auto-greeting as a chat's first message, and the busy reply posted once.

use crate::common::{form_post, json_post, send, staff, Reply};
use axum::Router;
use http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use switchboard::domain::cases::someone_available;
use switchboard::domain::conversations::send_busy_replies::send_busy_replies;
use switchboard::model::Role;
use uuid::Uuid;

const IP: [u8; 4] = [10, 0, 0, 7];

/// A guest-mode site whose group has `agent` at level 1; returns (key, site id).
async fn site(pool: &PgPool, agent: Uuid) -> (String, Uuid) {
    let key = format!("k{}", Uuid::new_v4().simple());
    let site: Uuid = sqlx::query_scalar(
        "INSERT INTO sites (key, name, identity_secret) VALUES ($1, 'Acme', 's') RETURNING id",
    )
    .bind(&key)
    .fetch_one(pool)
    .await
    .unwrap();
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
    sqlx::query("UPDATE sites SET guest_group_id = $2 WHERE id = $1")
        .bind(site)
        .bind(group)
        .execute(pool)
        .await
        .unwrap();
    (key, site)
}

async fn post(app: &Router, path: &str, body: Value, cookie: &str) -> Reply {
    send(app, json_post(path, &body, Some(cookie)), IP).await
}

fn closed_week(site: Uuid, version: i64, zone: &str) -> Value {
    json!({ "form": {
        "site_id": site, "version": version, "enabled": true, "time_zone": zone,
        "days": vec![("", ""); 7], "holidays": ""
    }})
}

async fn audits(pool: &PgPool, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn outside_working_hours_the_site_is_offline_whatever_the_switches(pool: PgPool) {
    let app = crate::common::app(pool.clone());
    let (_, admin) = staff(&pool, "Ada", Role::Admin).await;
    let (agent_id, agent) = staff(&pool, "Bob", Role::Agent).await;
    let (_, site_id) = site(&pool, agent_id).await;
    let connected = |_| true;
    assert!(someone_available(&pool, site_id, None, connected)
        .await
        .unwrap());

    let got = send(
        &app,
        form_post(
            "/api/admin/hours/get",
            &format!("site_id={site_id}"),
            Some(&admin),
        ),
        IP,
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    let v = got.json();
    assert_eq!(v["enabled"], false);
    let version = v["version"].as_i64().unwrap();

    // Bad input names its field and changes nothing.
    let bad = post(
        &app,
        "/api/admin/hours/save",
        closed_week(site_id, version, "Mars/Olympus"),
        &admin,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(
        bad.body.contains("time_zone") && bad.body.contains("Unknown time zone"),
        "{}",
        bad.body
    );
    let mut wrong_order = closed_week(site_id, version, "Europe/Paris");
    wrong_order["form"]["days"][0] = json!(["17:00", "09:00"]);
    let bad = post(&app, "/api/admin/hours/save", wrong_order, &admin).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(
        bad.body.contains("closing time must be after"),
        "{}",
        bad.body
    );
    let mut bad_holiday = closed_week(site_id, version, "Europe/Paris");
    bad_holiday["form"]["holidays"] = json!("2026-12-25\nChristmas");
    let bad = post(&app, "/api/admin/hours/save", bad_holiday, &admin).await;
    assert!(bad.body.contains("Line 2"), "{}", bad.body);

    // An agent may not save (nor read) hours.
    let refused = post(
        &app,
        "/api/admin/hours/save",
        closed_week(site_id, version, "UTC"),
        &agent,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let refused = send(
        &app,
        form_post(
            "/api/admin/hours/get",
            &format!("site_id={site_id}"),
            Some(&agent),
        ),
        IP,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(someone_available(&pool, site_id, None, connected)
        .await
        .unwrap());

    // Closed every day: offline although the agent is available and connected.
    let saved = post(
        &app,
        "/api/admin/hours/save",
        closed_week(site_id, version, "Europe/Paris"),
        &admin,
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["version"].as_i64().unwrap(), version + 1);
    assert!(!someone_available(&pool, site_id, None, connected)
        .await
        .unwrap());
    assert_eq!(audits(&pool, "update_working_hours").await, 1);

    // A second save of the stale form is refused with who changed it.
    let stale = post(
        &app,
        "/api/admin/hours/save",
        closed_week(site_id, version, "UTC"),
        &admin,
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(
        stale
            .body
            .contains("This setting was changed by Ada; reload to see it"),
        "{}",
        stale.body
    );

    // Open around the clock every day (00:00–23:59) → online again, unless today is a
    // holiday. The zone is chosen so that it is around noon there now: the one closed minute
    // (23:59) never falls inside the test, whenever it runs.
    let utc_hour: i32 =
        sqlx::query_scalar("SELECT extract(hour FROM now() AT TIME ZONE 'UTC')::int")
            .fetch_one(&pool)
            .await
            .unwrap();
    let offset = 12 - utc_hour; // -11..=12 hours east of UTC
                                // IANA's Etc/GMT names count the other way round: Etc/GMT-3 is three hours east.
    let zone = match offset {
        0 => "UTC".to_string(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    };
    let mut always = closed_week(site_id, version + 1, &zone);
    always["form"]["days"] = json!(vec![("00:00", "23:59"); 7]);
    let saved = post(&app, "/api/admin/hours/save", always.clone(), &admin).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(someone_available(&pool, site_id, None, connected)
        .await
        .unwrap());
    let today: String = sqlx::query_scalar("SELECT to_char(now() AT TIME ZONE $1, 'YYYY-MM-DD')")
        .bind(&zone)
        .fetch_one(&pool)
        .await
        .unwrap();
    always["form"]["version"] = json!(version + 2);
    always["form"]["holidays"] = json!(today);
    let saved = post(&app, "/api/admin/hours/save", always, &admin).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(!someone_available(&pool, site_id, None, connected)
        .await
        .unwrap());
    // Turned off: always open again.
    let mut off = closed_week(site_id, version + 3, "UTC");
    off["form"]["enabled"] = json!(false);
    let saved = post(&app, "/api/admin/hours/save", off, &admin).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["enabled"], false);
    assert!(someone_available(&pool, site_id, None, connected)
        .await
        .unwrap());
    assert_eq!(audits(&pool, "update_working_hours").await, 4);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_greeting_opens_a_chat_and_the_busy_reply_comes_once(pool: PgPool) {
    let app = crate::common::app(pool.clone());
    let (_, admin) = staff(&pool, "Ada", Role::Admin).await;
    let (agent_id, agent) = staff(&pool, "Bob", Role::Agent).await;
    let (key, site_id) = site(&pool, agent_id).await;
    let form = |version: i64, minutes: &str| {
        json!({ "form": {
            "site_id": site_id, "version": version, "greeting": "Hello from Acme!",
            "busy_text": "", "busy_minutes": minutes, "away": "Back Monday."
        }})
    };
    let bad = post(&app, "/api/admin/greetings/save", form(1, "0"), &admin).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(bad.body.contains("busy_minutes"), "{}", bad.body);
    let refused = post(&app, "/api/admin/greetings/save", form(1, "2"), &agent).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let saved = post(&app, "/api/admin/greetings/save", form(1, "2"), &admin).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let v = saved.json();
    assert_eq!(
        v["busy_text"],
        "All our agents are busy; we'll be with you shortly"
    );
    assert_eq!(v["away"], "Back Monday.");
    assert_eq!(audits(&pool, "update_greetings").await, 1);

    // Two chats start: each opens with the greeting, signed by the site.
    let start = || async {
        let r = send(
            &app,
            form_post(
                "/api/widget/start",
                &format!("site_key={key}&name=Vera"),
                None,
            ),
            [10, 0, 0, 2],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()["conversation_id"]
            .as_str()
            .unwrap()
            .parse::<Uuid>()
            .unwrap()
    };
    let (first, second) = (start().await, start().await);
    for c in [first, second] {
        let greeting: (String, String, i64) = sqlx::query_as(
            "SELECT author_kind, body, seq FROM messages WHERE conversation_id = $1",
        )
        .bind(c)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(greeting, ("system".into(), "Hello from Acme!".into(), 1));
    }
    // Nothing is owed before the minutes pass.
    assert!(send_busy_replies(&pool).await.unwrap().is_empty());
    // Three minutes later: the first chat (unanswered) gets the busy reply; the second was
    // answered by an agent and does not.
    sqlx::query(
        "UPDATE conversations SET waiting_since = now() - interval '3 minutes' WHERE site_id = $1",
    )
    .bind(site_id)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO messages (conversation_id, seq, author_kind, author_user_id, body, idempotency_key)
         VALUES ($1, 2, 'agent', $2, 'Hi!', 'k1')",
    )
    .bind(second)
    .bind(agent_id)
    .execute(&pool)
    .await
    .unwrap();
    let events = send_busy_replies(&pool).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].conversation_id, first);
    assert_eq!(events[0].seq, 2);
    // Once only, however often the sweep runs (every node runs it).
    assert!(send_busy_replies(&pool).await.unwrap().is_empty());
    let busy: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE conversation_id = $1 AND idempotency_key = 'auto:busy'",
    )
    .bind(first)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(busy, 1);
}
