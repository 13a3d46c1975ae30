//! Starting a guest chat through the real router: the pre-chat form's rules, guest mode,
//! routing to the guest group, and a token that identifies the visitor.
#![cfg(feature = "ssr")]

mod common;

use common::*;
use http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

async fn site(pool: &PgPool) -> (String, Uuid, Uuid) {
    let key = Uuid::new_v4().simple().to_string();
    let site = switchboard::db::sites::insert(pool, &key, "Shop", "secret")
        .await
        .unwrap();
    let group: Uuid =
        sqlx::query_scalar("INSERT INTO groups (site_id, name) VALUES ($1, 'Guests') RETURNING id")
            .bind(site.id)
            .fetch_one(pool)
            .await
            .unwrap();
    sqlx::query("UPDATE sites SET guest_group_id = $1 WHERE id = $2")
        .bind(group)
        .bind(site.id)
        .execute(pool)
        .await
        .unwrap();
    (key, site.id, group)
}

#[sqlx::test(migrations = "./migrations")]
async fn a_guest_starts_a_chat_routed_to_the_guest_group(pool: PgPool) {
    let (key, site_id, group) = site(&pool).await;
    let app = app(pool.clone());
    let r = send(
        &app,
        form_post(
            "/api/widget/start",
            &format!(
                "site_key={key}&name=+Vera+&email=Vera%40Example.com&phone=%2B44+20+7946+0958"
            ),
            None,
        ),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let started: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let token = started["visitor_token"].as_str().unwrap();
    let conv: Uuid = started["conversation_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let visitor = switchboard::domain::visitors::authenticate(&pool, token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(visitor.name, "Vera");
    assert_eq!(visitor.site_id, site_id);
    let (status, group_id, contact): (String, Option<Uuid>, Uuid) =
        sqlx::query_as("SELECT status, group_id, contact_id FROM conversations WHERE id = $1")
            .bind(conv)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), group_id, contact),
        ("waiting", Some(group), visitor.contact_id)
    );
    let (email, phone): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT email, phone FROM contacts WHERE id = $1")
            .bind(contact)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(email.as_deref(), Some("vera@example.com"));
    assert_eq!(phone.as_deref(), Some("+44 20 7946 0958"));
}

#[sqlx::test(migrations = "./migrations")]
async fn the_pre_chat_form_is_checked_field_by_field(pool: PgPool) {
    let (key, _, _) = site(&pool).await;
    let app = app(pool.clone());
    let long = "n".repeat(81);
    let cases = [
        (format!("site_key={key}&name=+++"), "Name is required."),
        (
            format!("site_key={key}&name={long}"),
            "Name must be at most 80 characters.",
        ),
        (
            format!("site_key={key}&name=V&email=not-an-email"),
            "Enter a valid email address.",
        ),
        (
            format!("site_key={key}&name=V&phone=12345"),
            "Enter a phone number of 7 to 20 digits (+ and spaces allowed).",
        ),
    ];
    for (form, message) in cases {
        let r = send(
            &app,
            form_post("/api/widget/start", &form, None),
            [10, 0, 0, 1],
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{form}: {}", r.body);
        assert!(r.body.contains(message), "{form}: {}", r.body);
    }
    // Optional fields may be left empty.
    let ok = send(
        &app,
        form_post(
            "/api/widget/start",
            &format!("site_key={key}&name=V&email=&phone="),
            None,
        ),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    // A site that requires the email.
    sqlx::query(
        "UPDATE sites SET prechat = jsonb_set(prechat, '{email,required}', 'true') WHERE key = $1",
    )
    .bind(&key)
    .execute(&pool)
    .await
    .unwrap();
    let r = send(
        &app,
        form_post("/api/widget/start", &format!("site_key={key}&name=V"), None),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Email is required."), "{}", r.body);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "refused forms store nothing");
}

#[sqlx::test(migrations = "./migrations")]
async fn no_guest_chat_without_guest_mode_or_on_an_unknown_site(pool: PgPool) {
    let (key, _, _) = site(&pool).await;
    sqlx::query("UPDATE sites SET guest_mode = false WHERE key = $1")
        .bind(&key)
        .execute(&pool)
        .await
        .unwrap();
    let app = app(pool.clone());
    let r = send(
        &app,
        form_post("/api/widget/start", &format!("site_key={key}&name=V"), None),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.body.contains("Please sign in to chat with us."),
        "{}",
        r.body
    );
    let r = send(
        &app,
        form_post("/api/widget/start", "site_key=nope&name=V", None),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}
