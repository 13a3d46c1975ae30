//! Starting a guest chat through the real router: the pre-chat form's rules, guest mode,
//! routing to the guest group, and a token that identifies the visitor.

use crate::common::*;
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

fn get_with(path: &str, header: (&str, &str)) -> http::Request<axum::body::Body> {
    http::Request::get(path)
        .header(header.0, header.1)
        .body(axum::body::Body::empty())
        .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn the_loader_gets_settings_on_allowed_origins_and_a_reason_elsewhere(pool: PgPool) {
    let (key, site_id, _) = site(&pool).await;
    let app = app(pool.clone());
    let path = format!("/widget/{key}/config");

    // An empty list: any origin; the answer is readable cross-origin (CORS).
    let r = send(
        &app,
        get_with(&path, ("origin", "https://shop.example")),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.headers.get("access-control-allow-origin").unwrap(),
        "https://shop.example"
    );
    let cfg: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(cfg["position"], "right");
    assert_eq!(cfg["color"], "#2563eb");
    assert_eq!(cfg["label"], "Open chat");

    switchboard::db::sites::set_allowed_origins(&pool, site_id, &["https://shop.example".into()])
        .await
        .unwrap();
    let ok = send(
        &app,
        get_with(&path, ("origin", "https://SHOP.example")),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    let refused = send(
        &app,
        get_with(&path, ("origin", "https://evil.example")),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused
            .body
            .contains("does not allow the chat widget on https://evil.example"),
        "{}",
        refused.body
    );
    // The refusal is readable by the loader, which logs it.
    assert_eq!(
        refused.headers.get("access-control-allow-origin").unwrap(),
        "https://evil.example"
    );

    // The iframe page: refused for that origin, and only allowed origins may frame it.
    let page = send(
        &app,
        get(
            &format!("/widget/{key}?origin=https%3A%2F%2Fevil.example"),
            None,
        ),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = send(
        &app,
        get(
            &format!("/widget/{key}?origin=https%3A%2F%2Fshop.example"),
            None,
        ),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.headers.get("content-security-policy").unwrap(),
        "frame-ancestors 'self' https://shop.example"
    );

    let unknown = send(
        &app,
        get_with("/widget/nope/config", ("origin", "https://a.example")),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_widget_page_carries_the_form_settings_escaped(pool: PgPool) {
    let (key, site_id, _) = site(&pool).await;
    sqlx::query(
        r#"UPDATE sites SET appearance = appearance || '{"title":"Help </script><b>x</b>","color":"red;x"}',
           prechat = '{"name":{"show":true,"required":true},"email":{"show":true,"required":true},"phone":{"show":false,"required":false}}'
           WHERE id = $1"#,
    )
    .bind(site_id)
    .execute(&pool)
    .await
    .unwrap();
    let app = app(pool.clone());
    let page = send(&app, get(&format!("/widget/{key}"), None), [10, 0, 0, 1]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        page.headers.get("content-security-policy").unwrap(),
        "frame-ancestors *"
    );
    // The title is text, never markup; the settings JSON cannot close its script tag.
    assert!(!page.body.contains("><b>x</b><"), "{}", page.body);
    assert!(page
        .body
        .contains("Help &lt;/script&gt;&lt;b&gt;x&lt;/b&gt;"));
    assert!(page.body.contains(r#"Help <\/script><b>x<\/b>"#));
    // An unsafe colour falls back to the default.
    assert!(page.body.contains("--sb-color:#2563eb"));
    assert!(page.body.contains("/widget-pkg/widget.js"));
    // The hydrated form is rendered on the server too... once the token is known; the
    // settings say which fields the browser shows.
    let boot = page
        .body
        .split(r#"id="sb-settings" type="application/json">"#)
        .nth(1)
        .unwrap();
    let boot = boot
        .split("</script>")
        .next()
        .unwrap()
        .replace("<\\/", "</");
    let boot: serde_json::Value = serde_json::from_str(&boot).unwrap();
    assert_eq!(boot["settings"]["prechat"]["email"]["required"], true);
    assert_eq!(boot["settings"]["prechat"]["phone"]["show"], false);
    assert_eq!(boot["site_key"], key.as_str());
}

#[sqlx::test(migrations = "./migrations")]
async fn a_returning_visitor_resumes_their_conversation_until_the_token_expires(pool: PgPool) {
    let (key, _, _) = site(&pool).await;
    let (other_key, _, _) = site(&pool).await;
    let app = app(pool.clone());
    let r = send(
        &app,
        form_post(
            "/api/widget/start",
            &format!("site_key={key}&name=Rita"),
            None,
        ),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let started: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let token = started["visitor_token"].as_str().unwrap().to_string();
    let resume = |site: String, token: String| {
        let app = app.clone();
        async move {
            send(
                &app,
                form_post(
                    "/api/widget/resume",
                    &format!("site_key={site}&visitor_token={token}"),
                    None,
                ),
                [10, 0, 0, 1],
            )
            .await
        }
    };
    let r = resume(key.clone(), token.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let resumed: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(resumed["conversation_id"], started["conversation_id"]);
    assert_eq!(resumed["visitor_name"], "Rita");

    // Another site's key, or a made-up token: nothing to resume, nothing revealed.
    assert_eq!(resume(other_key, token.clone()).await.body, "null");
    assert_eq!(resume(key.clone(), "made-up".into()).await.body, "null");

    // The token lives 365 days by default...
    let days: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM expires_at - created_at)::float8 / 86400 FROM visitor_tokens",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!((days - 365.0).abs() < 0.01, "{days}");
    // ...and an expired one resumes nothing.
    sqlx::query("UPDATE visitor_tokens SET expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(resume(key, token).await.body, "null");
}

async fn start_guest(app: &axum::Router, key: &str, name: &str, email: &str) -> (String, Uuid) {
    let r = send(
        app,
        form_post(
            "/api/widget/start",
            &format!("site_key={key}&name={name}&email={email}"),
            None,
        ),
        [10, 0, 0, 2],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    (
        v["visitor_token"].as_str().unwrap().to_string(),
        v["conversation_id"].as_str().unwrap().parse().unwrap(),
    )
}

async fn owner(pool: &PgPool, conversation: Uuid) -> Uuid {
    sqlx::query_scalar("SELECT contact_id FROM conversations WHERE id = $1")
        .bind(conversation)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn identify_verifies_the_hmac_and_attaches_the_guest_history_by_email(pool: PgPool) {
    let (key, site_id, _) = site(&pool).await;
    let app = app(pool.clone());
    // The same person as a guest on two devices (email case differs), and somebody else.
    let (token_a, conv_a) = start_guest(&app, &key, "Vera", "vera%40example.com").await;
    let (_, conv_b) = start_guest(&app, &key, "Vera", "VERA%40Example.COM").await;
    let (_, conv_c) = start_guest(&app, &key, "Other", "other%40example.com").await;
    let before = (owner(&pool, conv_a).await, owner(&pool, conv_b).await);
    let identify = |token: Option<&str>, hash: &str| {
        form_post(
            "/api/widget/identify",
            &format!(
                "site_key={key}&user_id=user-42&email=Vera%40example.com&name=Vera+V&user_hash={hash}{}",
                token.map(|t| format!("&visitor_token={t}")).unwrap_or_default()
            ),
            None,
        )
    };

    // A forged hash: 403, nothing merged, nothing registered, nothing revealed.
    let forged = switchboard::domain::identify::user_hash("wrong-secret", "user-42");
    let r = send(&app, identify(Some(&token_a), &forged), [10, 0, 0, 2]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(
        r.body.contains("We could not verify who you are."),
        "{}",
        r.body
    );
    assert!(!r.body.contains("conversation"), "{}", r.body);
    assert_eq!(
        (owner(&pool, conv_a).await, owner(&pool, conv_b).await),
        before
    );
    let registered: i64 =
        sqlx::query_scalar("SELECT count(*) FROM contacts WHERE site_id = $1 AND verified")
            .bind(site_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(registered, 0);

    // The real hash: both guest conversations with that email now belong to the visitor.
    let good = switchboard::domain::identify::user_hash("secret", "user-42");
    let r = send(&app, identify(Some(&token_a), &good), [10, 0, 0, 2]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let token = v["visitor_token"].as_str().unwrap().to_string();
    let contact = owner(&pool, conv_a).await;
    assert_eq!(owner(&pool, conv_b).await, contact);
    assert_ne!(
        owner(&pool, conv_c).await,
        contact,
        "another email stays apart"
    );
    assert_eq!(v["conversation_id"], conv_b.to_string(), "the latest one");
    let (verified, external): (bool, String) =
        sqlx::query_as("SELECT verified, external_id FROM contacts WHERE id = $1")
            .bind(contact)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((verified, external.as_str()), (true, "user-42"));

    // A new device (no token) identifies as the same user: same contact, same history.
    let r = send(&app, identify(None, &good), [10, 0, 0, 3]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v2: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_ne!(
        v2["visitor_token"], v["visitor_token"],
        "each device its own token"
    );
    assert_eq!(v2["conversation_id"], conv_b.to_string());
    let visitor =
        switchboard::domain::visitors::authenticate(&pool, v2["visitor_token"].as_str().unwrap())
            .await
            .unwrap()
            .unwrap();
    assert_eq!(visitor.contact_id, contact);
    let agent_view = switchboard::domain::conversations::access::visible_conversation(
        &pool,
        &switchboard::domain::conversations::Viewer::Visitor {
            contact_id: contact,
            name: "Vera".into(),
        },
        conv_a,
    )
    .await;
    assert!(agent_view.is_ok(), "the guest conversation is theirs now");

    // Guest mode off: guests are refused, the identified visitor starts a chat without a form.
    switchboard::db::sites::set_guest_mode(&pool, site_id, false)
        .await
        .unwrap();
    let r = send(
        &app,
        form_post(
            "/api/widget/start",
            &format!("site_key={key}&name=Eve"),
            None,
        ),
        [10, 0, 0, 4],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(
        r.body.contains("Please sign in to chat with us."),
        "{}",
        r.body
    );
    let r = send(
        &app,
        form_post(
            "/api/widget/start",
            &format!("site_key={key}&name=&visitor_token={token}"),
            None,
        ),
        [10, 0, 0, 2],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A guest's token is not enough.
    let (other_key, _, _) = site(&pool).await;
    let r = send(
        &app,
        form_post(
            "/api/widget/start",
            &format!("site_key={other_key}&name=&visitor_token={token}"),
            None,
        ),
        [10, 0, 0, 2],
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a token of another site: {}",
        r.body
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn an_offline_message_becomes_a_case_and_bad_input_is_named(pool: PgPool) {
    let (key, site_id, _) = site(&pool).await;
    let app = app(pool.clone());
    // Nobody is connected: the widget page says so, and new visitors get the offline form.
    let page = send(&app, get(&format!("/widget/{key}"), None), [10, 0, 0, 1]).await;
    assert!(page.body.contains(r#""online":false"#), "{}", page.body);

    let leave = |form: &str| {
        form_post(
            "/api/widget/offline",
            &format!("site_key={key}&{form}"),
            None,
        )
    };
    let cases = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM cases")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    for (form, field, text) in [
        ("name=&email=a%40b.example&message=hi", "name", "Name"),
        ("name=Olga&message=hi", "email", "email or a phone number"),
        ("name=Olga&email=nope&message=hi", "email", ""),
        ("name=Olga&phone=12&message=hi", "phone", "7 to 20 digits"),
        (
            "name=Olga&email=o%40b.example&message=+++",
            "message",
            "empty",
        ),
    ] {
        let r = send(&app, leave(form), [10, 0, 0, 1]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{form}: {}", r.body);
        let e: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(e["Invalid"]["field"], field, "{form}: {}", r.body);
        assert!(r.body.contains(text), "{form}: {}", r.body);
    }
    assert_eq!(cases().await, 0, "nothing stored from bad input");

    let r = send(
        &app,
        leave("name=Olga&phone=%2B44+20+7946+0958&message=Call+me+about+order+42"),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (sid, name, phone, message, status): (Uuid, String, String, String, String) =
        sqlx::query_as("SELECT site_id, name, phone, message, status FROM cases")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (
            sid,
            name.as_str(),
            phone.as_str(),
            message.as_str(),
            status.as_str()
        ),
        (
            site_id,
            "Olga",
            "+44 20 7946 0958",
            "Call me about order 42",
            "open"
        )
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn visit_metadata_is_kept_and_forwarded_ips_are_believed_only_from_trusted_proxies(
    pool: PgPool,
) {
    let (key, _, _) = site(&pool).await;
    let report = |token: &str| {
        let mut req = form_post(
            "/api/widget/visit",
            &format!(
                "visitor_token={token}&page_url=https%3A%2F%2Fshop.example%2Fcart&page_title=Your+cart\
                 &referrer=https%3A%2F%2Fsearch.example%2F&language=de-CH&time_zone=Europe%2FZurich"
            ),
            None,
        );
        let h = req.headers_mut();
        h.insert(
            "x-forwarded-for",
            "198.51.100.1, 203.0.113.9".parse().unwrap(),
        );
        h.insert(
            "user-agent",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
                .parse()
                .unwrap(),
        );
        req
    };
    let meta = |contact: Uuid| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, serde_json::Value>(
                "SELECT metadata FROM contacts WHERE id = $1",
            )
            .bind(contact)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };

    // Not behind a trusted proxy: the peer is the client, X-Forwarded-For is ignored.
    let direct = app(pool.clone());
    let (token, _) = start_guest(&direct, &key, "Mia", "mia%40example.com").await;
    let contact = switchboard::domain::visitors::authenticate(&pool, &token)
        .await
        .unwrap()
        .unwrap()
        .contact_id;
    let r = send(&direct, report(&token), [10, 0, 0, 5]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let m = meta(contact).await;
    assert_eq!(m["ip"], "10.0.0.5");
    assert!(m["browser"].as_str().unwrap().starts_with("Chrome"), "{m}");
    assert!(m["os"].as_str().unwrap().starts_with("Windows"), "{m}");
    assert_eq!(m["page_url"], "https://shop.example/cart");
    assert_eq!(m["page_title"], "Your cart");
    assert_eq!(m["referrer"], "https://search.example/");
    assert_eq!(m["language"], "de-CH");
    assert_eq!(m["time_zone"], "Europe/Zurich");

    // Behind a trusted proxy: the right-most address the proxy saw.
    let proxied = crate::common::app_trusting(pool.clone(), "10.0.0.0/8");
    let r = send(&proxied, report(&token), [10, 0, 0, 5]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(meta(contact).await["ip"], "203.0.113.9");
    // A peer that is not a trusted proxy cannot claim an address.
    let r = send(&proxied, report(&token), [192, 0, 2, 44]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(meta(contact).await["ip"], "192.0.2.44");

    // A made-up token records nothing.
    let r = send(&direct, report("made-up"), [10, 0, 0, 5]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
}
