//! Accounts through the real router on a real (per-test) Postgres database: sign-in, cookies,
//! lockout, role gating, deactivation, cross-site refusal, and bad bodies.

use crate::common::*;
use http::{header, StatusCode};
use sqlx::PgPool;
use switchboard::model::Role;

#[sqlx::test(migrations = "./migrations")]
async fn sign_in_sets_a_safe_cookie_and_opens_the_dashboard(pool: PgPool) {
    account(&pool, "ann@example.com", Role::Agent).await;
    let app = app(pool);
    let r = login(&app, "Ann%40Example.com", "correct-horse-1", [10, 0, 0, 1]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let set_cookie = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "plain http must not set Secure: {set_cookie}"
    );
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/agent");
    let cookie = r.session_cookie().unwrap();

    let me = send(&app, form_post("/api/me", "", Some(&cookie)), [10, 0, 0, 1]).await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(
        me.body.contains("\"email\":\"ann@example.com\""),
        "{}",
        me.body
    );
    assert!(me.body.contains("\"role\":\"agent\""), "{}", me.body);

    let page = send(&app, get("/agent", Some(&cookie)), [10, 0, 0, 1]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Sign out"));

    let anon = send(&app, get("/agent", None), [10, 0, 0, 1]).await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert_eq!(
        anon.headers.get(header::LOCATION).unwrap(),
        "/login?next=/agent"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn wrong_password_and_unknown_email_read_the_same(pool: PgPool) {
    account(&pool, "ann@example.com", Role::Agent).await;
    let app = app(pool);
    let wrong = login(&app, "ann%40example.com", "nope-nope", [10, 0, 0, 1]).await;
    let unknown = login(&app, "bob%40example.com", "nope-nope", [10, 0, 0, 1]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body, unknown.body);
    assert!(wrong.session_cookie().is_none());
}

#[sqlx::test(migrations = "./migrations")]
async fn more_than_five_failures_lock_out_that_email_and_ip(pool: PgPool) {
    account(&pool, "ann@example.com", Role::Agent).await;
    let app = app(pool);
    for _ in 0..5 {
        let r = login(&app, "ann%40example.com", "wrong-pass", [10, 0, 0, 7]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // The sixth attempt is refused even with the right password.
    let locked = login(&app, "ann%40example.com", "correct-horse-1", [10, 0, 0, 7]).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        locked.body.contains("Too many failed sign-in attempts"),
        "{}",
        locked.body
    );
    assert!(locked.session_cookie().is_none());
    // Another IP is not locked out.
    let elsewhere = login(&app, "ann%40example.com", "correct-horse-1", [10, 0, 0, 8]).await;
    assert_eq!(elsewhere.status, StatusCode::OK);
}

#[sqlx::test(migrations = "./migrations")]
async fn agents_are_refused_every_admin_page_and_function(pool: PgPool) {
    let agent = account(&pool, "agent@example.com", Role::Agent).await;
    account(&pool, "admin@example.com", Role::Admin).await;
    let app = app(pool);
    let agent_cookie = sign_in(&app, "agent%40example.com").await;
    let admin_cookie = sign_in(&app, "admin%40example.com").await;

    for path in ["/admin", "/admin/agents"] {
        let r = send(&app, get(path, Some(&agent_cookie)), [10, 0, 0, 1]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert!(r.body.contains("403 — Admins only"), "{path}: {}", r.body);
        let ok = send(&app, get(path, Some(&admin_cookie)), [10, 0, 0, 1]).await;
        assert_eq!(ok.status, StatusCode::OK, "{path}");
    }
    let calls = [
        ("/api/users/list", String::new()),
        (
            "/api/users/create",
            "name=X&email=x%40example.com&password=long-enough&role=admin".to_string(),
        ),
        ("/api/users/role", format!("id={}&role=admin", agent.id)),
        ("/api/users/active", format!("id={}&active=false", agent.id)),
    ];
    for (path, form) in &calls {
        let r = send(
            &app,
            form_post(path, form, Some(&agent_cookie)),
            [10, 0, 0, 1],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
        let anon = send(&app, form_post(path, form, None), [10, 0, 0, 1]).await;
        assert_eq!(
            anon.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {}",
            anon.body
        );
    }
    // Nothing was changed by the refused calls.
    let me = send(
        &app,
        form_post("/api/me", "", Some(&agent_cookie)),
        [10, 0, 0, 1],
    )
    .await;
    assert!(me.body.contains("\"role\":\"agent\""), "{}", me.body);
}

#[sqlx::test(migrations = "./migrations")]
async fn admin_manages_accounts_and_deactivation_ends_sessions_at_once(pool: PgPool) {
    let admin = account(&pool, "admin@example.com", Role::Admin).await;
    let app = app(pool.clone());
    let admin_cookie = sign_in(&app, "admin%40example.com").await;

    let created = send(
        &app,
        form_post(
            "/api/users/create",
            "name=Bea&email=Bea%40Example.com&password=bea-password&role=agent",
            Some(&admin_cookie),
        ),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let bea: serde_json::Value = serde_json::from_str(&created.body).unwrap();
    let bea_id = bea["id"].as_str().unwrap().to_string();
    assert_eq!(bea["email"], "bea@example.com");

    let dup = send(
        &app,
        form_post(
            "/api/users/create",
            "name=Bea2&email=bea%40example.com&password=bea-password&role=agent",
            Some(&admin_cookie),
        ),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    assert!(dup.body.contains("already exists"), "{}", dup.body);

    let bea_cookie = {
        let r = login(&app, "bea%40example.com", "bea-password", [10, 0, 0, 2]).await;
        r.session_cookie().unwrap()
    };
    assert_eq!(
        send(&app, get("/agent", Some(&bea_cookie)), [10, 0, 0, 2])
            .await
            .status,
        StatusCode::OK
    );

    let off = send(
        &app,
        form_post(
            "/api/users/active",
            &format!("id={bea_id}&active=false"),
            Some(&admin_cookie),
        ),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    let after = send(&app, get("/agent", Some(&bea_cookie)), [10, 0, 0, 2]).await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "the deactivated session must end at once"
    );
    let sessions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1::uuid")
            .bind(&bea_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(sessions, 0);
    let again = login(&app, "bea%40example.com", "bea-password", [10, 0, 0, 2]).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);

    // An admin cannot lock themselves out.
    let own = send(
        &app,
        form_post(
            "/api/users/active",
            &format!("id={}&active=false", admin.id),
            Some(&admin_cookie),
        ),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(own.status, StatusCode::CONFLICT, "{}", own.body);

    let audit: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE entity = 'user'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        audit >= 3,
        "create ×2 (admin, Bea) and deactivate are audited, got {audit}"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn cross_site_writes_are_refused(pool: PgPool) {
    account(&pool, "ann@example.com", Role::Agent).await;
    let app = app(pool);
    let mut req = form_post(
        "/api/login",
        "email=ann%40example.com&password=correct-horse-1",
        None,
    );
    req.headers_mut()
        .insert(header::ORIGIN, "http://evil.example".parse().unwrap());
    let r = send(&app, req, [10, 0, 0, 1]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("Cross-site request refused"), "{}", r.body);
    assert!(r.session_cookie().is_none());

    let mut req = form_post("/api/logout", "", None);
    req.headers_mut().remove(header::ORIGIN);
    req.headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(
        send(&app, req, [10, 0, 0, 1]).await.status,
        StatusCode::FORBIDDEN
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn malformed_and_oversized_bodies_get_400_with_a_message(pool: PgPool) {
    let app = app(pool);
    let missing = send(
        &app,
        form_post("/api/login", "password=x", None),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.body.contains("Malformed request"),
        "{}",
        missing.body
    );

    let garbage = send(
        &app,
        form_post("/api/login", "%%%&&&==", None),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST, "{}", garbage.body);

    let big = format!("email=a%40b.io&password={}", "x".repeat(200 * 1024));
    let oversized = send(&app, form_post("/api/login", &big, None), [10, 0, 0, 1]).await;
    assert_eq!(oversized.status, StatusCode::BAD_REQUEST);
    assert!(oversized.body.contains("too large"), "{}", oversized.body);

    let bad_role = send(
        &app,
        form_post(
            "/api/users/create",
            "name=X&email=x%40y.io&password=12345678&role=root",
            None,
        ),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(
        bad_role.status,
        StatusCode::BAD_REQUEST,
        "{}",
        bad_role.body
    );

    let unknown = send(&app, form_post("/api/nope", "", None), [10, 0, 0, 1]).await;
    assert!(unknown.status.is_client_error(), "{}", unknown.status);
}

#[sqlx::test(migrations = "./migrations")]
async fn health_probes_and_first_start(pool: PgPool) {
    use switchboard::domain::bootstrap::first_start;
    let first = first_start(&pool, Some("Boss@Example.com".into()), None)
        .await
        .unwrap()
        .expect("first start on an empty database");
    assert_eq!(first.admin_email, "boss@example.com");
    assert!(first.password_generated && first.admin_password.len() >= 16);
    assert!(
        first_start(&pool, None, None).await.unwrap().is_none(),
        "only once"
    );
    let sites: i64 = sqlx::query_scalar("SELECT count(*) FROM sites")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(sites, 1);

    let app = app(pool);
    let r = send(
        &app,
        form_post(
            "/api/login",
            &format!("email=boss%40example.com&password={}", first.admin_password),
            None,
        ),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "the printed password signs in");
    assert_eq!(
        send(&app, get("/healthz", None), [10, 0, 0, 1])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, get("/readyz", None), [10, 0, 0, 1]).await.status,
        StatusCode::OK
    );
    let demo = send(&app, get("/demo", None), [10, 0, 0, 1]).await;
    assert!(
        demo.body.contains(&first.site_key),
        "the demo page names the site"
    );
}
