//! Admin settings through the real router: sites (create, rename, archive, allowed origins,
//! identity secret rotation, stale edits), groups with specialist levels, guest mode's rule,
//! the audit log, and an agent refused by every admin server function.

use crate::common::{app, form_post, send, staff, Reply};
use axum::Router;
use http::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use switchboard::model::Role;
use uuid::Uuid;

const IP: [u8; 4] = [10, 0, 0, 9];

/// An audit row: action, actor, before, after.
type AuditTuple = (String, Option<Uuid>, Option<Value>, Option<Value>);

async fn post(app: &Router, path: &str, form: &str, cookie: &str) -> Reply {
    send(app, form_post(path, form, Some(cookie)), IP).await
}

/// Creates a site through the API; returns its JSON.
async fn create_site(app: &Router, cookie: &str, name: &str) -> Value {
    let r = post(
        app,
        "/api/admin/sites/create",
        &format!("name={name}"),
        cookie,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

/// The save form of a site at `version`, with extra fields appended.
fn save_form(site: &Value, version: i64, name: &str, origins: &str, extra: &str) -> String {
    format!(
        "id={}&version={version}&name={name}&allowed_origins={origins}{extra}",
        site["id"].as_str().unwrap()
    )
}

#[sqlx::test(migrations = "./migrations")]
async fn sites_are_created_renamed_and_archived(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = staff(&pool, "Alice Admin", Role::Admin).await;

    let site = create_site(&app, &admin, "Shop+One").await;
    let key = site["key"].as_str().unwrap();
    assert!(key.len() >= 12, "a generated key: {key}");
    assert_eq!(site["name"], "Shop One");
    assert_eq!(
        site["guest_mode"], false,
        "guest mode waits for a guest group"
    );
    assert_eq!(
        site["embed_snippet"],
        format!(
            r#"<script src="http://switchboard.test/widget.js" data-site="{key}" async></script>"#
        )
    );
    let r = post(&app, "/api/admin/sites/create", "name=+++", &admin).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("Site name is required."), "{}", r.body);

    // Rename, with origins normalised.
    let v = site["version"].as_i64().unwrap();
    let form = save_form(
        &site,
        v,
        "Shop+Two",
        "https%3A%2F%2FShop.example.com%2F%0Ahttp%3A%2F%2Flocalhost%3A3000",
        "",
    );
    let r = post(&app, "/api/admin/sites/save", &form, &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let saved = r.json();
    assert_eq!(saved["name"], "Shop Two");
    assert_eq!(
        saved["allowed_origins"],
        serde_json::json!(["https://shop.example.com", "http://localhost:3000"])
    );
    assert_eq!(saved["version"].as_i64().unwrap(), v + 1);
    // The widget reads the new origins at once.
    let widget = switchboard::db::sites::widget(&pool, key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(widget.allowed_origins.len(), 2);

    let r = post(&app, "/api/admin/sites/list", "", &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["key"] == key && s["name"] == "Shop Two"));

    // Archive: the widget no longer answers for the key.
    let form = format!("id={}&version={}", site["id"].as_str().unwrap(), v + 1);
    let r = post(&app, "/api/admin/sites/archive", &form, &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(switchboard::db::sites::widget(&pool, key)
        .await
        .unwrap()
        .is_none());
}

#[sqlx::test(migrations = "./migrations")]
async fn a_malformed_origin_is_refused_with_its_line_number(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = staff(&pool, "Alice Admin", Role::Admin).await;
    let site = create_site(&app, &admin, "Shop").await;
    let form = save_form(
        &site,
        site["version"].as_i64().unwrap(),
        "Shop",
        "https%3A%2F%2Fok.example.com%0A%0Ahttps%3A%2F%2Fshop.example.com%2Fcart",
        "",
    );
    let r = post(&app, "/api/admin/sites/save", &form, &admin).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let e = r.json();
    assert_eq!(e["Invalid"]["field"], "allowed_origins", "{}", r.body);
    let message = e["Invalid"]["message"].as_str().unwrap();
    assert!(message.starts_with("Line 3: "), "{message}");
    assert!(
        message.contains("https://shop.example.com/cart"),
        "{message}"
    );
    assert!(message.contains("is not an origin"), "{message}");
    let origins: Vec<String> =
        sqlx::query_scalar("SELECT allowed_origins FROM sites WHERE key = $1")
            .bind(site["key"].as_str().unwrap())
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(origins.is_empty(), "nothing saved");
}

#[sqlx::test(migrations = "./migrations")]
async fn rotating_the_secret_stops_old_hashes_verifying(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = staff(&pool, "Alice Admin", Role::Admin).await;
    let site = create_site(&app, &admin, "Shop").await;
    let key = site["key"].as_str().unwrap().to_string();
    let identify = |hash: &str| {
        form_post(
            "/api/widget/identify",
            &format!(
                "site_key={key}&user_id=user-42&email=v%40example.com&name=Vera&user_hash={hash}"
            ),
            None,
        )
    };
    let rotate = format!("id={}", site["id"].as_str().unwrap());

    let r = post(&app, "/api/admin/sites/rotate_secret", &rotate, &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let first: String = serde_json::from_str(&r.body).unwrap();
    let old_hash = switchboard::domain::identify::user_hash(&first, "user-42");
    let r = send(&app, identify(&old_hash), IP).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the shown secret verifies: {}",
        r.body
    );

    let r = post(&app, "/api/admin/sites/rotate_secret", &rotate, &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let second: String = serde_json::from_str(&r.body).unwrap();
    assert_ne!(first, second);
    let r = send(&app, identify(&old_hash), IP).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "the old hash fails: {}",
        r.body
    );
    let new_hash = switchboard::domain::identify::user_hash(&second, "user-42");
    let r = send(&app, identify(&new_hash), IP).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The audit log says it happened but never holds the secret.
    let after: Value = sqlx::query_scalar(
        "SELECT after FROM audit_log WHERE action = 'rotate_identity_secret' LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!after.to_string().contains(&second));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_stale_form_is_refused_with_who_changed_it(pool: PgPool) {
    let app = app(pool.clone());
    let (_, alice) = staff(&pool, "Alice Admin", Role::Admin).await;
    let (_, bob) = staff(&pool, "Bob Boss", Role::Admin).await;
    let site = create_site(&app, &alice, "Shop").await;
    let v = site["version"].as_i64().unwrap();

    let r = post(
        &app,
        "/api/admin/sites/save",
        &save_form(&site, v, "By+Bob", "", ""),
        &bob,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = post(
        &app,
        "/api/admin/sites/save",
        &save_form(&site, v, "By+Alice", "", ""),
        &alice,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body
            .contains("This setting was changed by Bob Boss; reload to see it"),
        "{}",
        r.body
    );
    let name: String = sqlx::query_scalar("SELECT name FROM sites WHERE id = $1")
        .bind(Uuid::parse_str(site["id"].as_str().unwrap()).unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(name, "By Bob", "not overwritten");
    // Archiving a stale version is refused too.
    let form = format!("id={}&version={v}", site["id"].as_str().unwrap());
    let r = post(&app, "/api/admin/sites/archive", &form, &alice).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}

#[sqlx::test(migrations = "./migrations")]
async fn groups_members_levels_and_the_guest_mode_rule(pool: PgPool) {
    let app = app(pool.clone());
    let (admin_id, admin) = staff(&pool, "Alice Admin", Role::Admin).await;
    let (carl, _) = staff(&pool, "Carl First", Role::Agent).await;
    let (dora, _) = staff(&pool, "Dora Second", Role::Agent).await;
    let site = create_site(&app, &admin, "Shop").await;
    let site_id = site["id"].as_str().unwrap();
    let mut version = site["version"].as_i64().unwrap();

    let r = post(
        &app,
        "/api/admin/groups/create",
        &format!("site_id={site_id}&name=Sales"),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let group = r.json()["id"].as_str().unwrap().to_string();
    let r = post(
        &app,
        "/api/admin/groups/create",
        &format!("site_id={site_id}&name=sales"),
        &admin,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "duplicate name: {}",
        r.body
    );
    assert!(
        r.body.contains("already has a group named sales"),
        "{}",
        r.body
    );

    // Guest mode with an empty group, or no group: refused on the guest_group field.
    let guest = |v: i64, group: &str| {
        save_form(
            &site,
            v,
            "Shop",
            "",
            &format!("&guest_mode=on&guest_group={group}"),
        )
    };
    for g in ["", group.as_str()] {
        let r = post(&app, "/api/admin/sites/save", &guest(version, g), &admin).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.json()["Invalid"]["field"], "guest_group", "{}", r.body);
    }
    assert!(
        !sqlx::query_scalar::<_, bool>("SELECT guest_mode FROM sites WHERE id = $1::uuid")
            .bind(site_id)
            .fetch_one(&pool)
            .await
            .unwrap()
    );

    // Members at both levels; a level outside 1–2 is refused.
    let add = |user: Uuid, level: u8| format!("group_id={group}&user_id={user}&level={level}");
    for (user, level) in [(carl, 1), (dora, 2)] {
        let r = post(
            &app,
            "/api/admin/groups/add_member",
            &add(user, level),
            &admin,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let r = post(&app, "/api/admin/groups/add_member", &add(carl, 3), &admin).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = post(
        &app,
        "/api/admin/groups/list",
        &format!("site_id={site_id}"),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let groups = r.json();
    assert_eq!(groups[0]["name"], "Sales");
    let members: Vec<(String, i64)> = groups[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_string(),
                m["level"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        members,
        vec![
            ("Carl First".to_string(), 1),
            ("Dora Second".to_string(), 2)
        ]
    );

    // Now guest mode can be turned on with that group, and off again.
    let r = post(
        &app,
        "/api/admin/sites/save",
        &guest(version, &group),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let saved = r.json();
    assert_eq!(saved["guest_mode"], true);
    assert_eq!(saved["guest_group_id"], group.as_str());
    version += 1;
    let off = save_form(&site, version, "Shop", "", &format!("&guest_group={group}"));
    let r = post(&app, "/api/admin/sites/save", &off, &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["guest_mode"], false);
    version += 1;

    // Remove a member.
    let r = post(
        &app,
        "/api/admin/groups/remove_member",
        &format!("group_id={group}&user_id={dora}"),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let left: Vec<Uuid> =
        sqlx::query_scalar("SELECT user_id FROM group_members WHERE group_id = $1::uuid")
            .bind(&group)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(left, vec![carl]);

    // With guest mode on, the guest group's last member stays until it is turned off.
    let r = post(
        &app,
        "/api/admin/sites/save",
        &guest(version, &group),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = post(
        &app,
        "/api/admin/groups/remove_member",
        &format!("group_id={group}&user_id={carl}"),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("last member of the guest group"),
        "{}",
        r.body
    );

    // Every change is in the audit log, by this admin, with before and after.
    let rows: Vec<AuditTuple> =
        sqlx::query_as("SELECT action, actor_id, before, after FROM audit_log ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let actions: Vec<&str> = rows
        .iter()
        .filter(|r| r.1 == Some(admin_id))
        .map(|r| r.0.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "create_site",
            "create_group",
            "add_group_member",
            "add_group_member",
            "update_site",
            "update_site",
            "remove_group_member",
            "update_site"
        ]
    );
    let enable = rows.iter().find(|r| r.0 == "update_site").unwrap();
    assert_eq!(enable.2.as_ref().unwrap()["guest_mode"], false);
    assert_eq!(enable.3.as_ref().unwrap()["guest_mode"], true);
    let r = post(&app, "/api/admin/audit", "", &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let log = r.json();
    assert_eq!(log[0]["action"], "update_site", "newest first");
    assert_eq!(log[1]["action"], "remove_group_member");
    assert_eq!(log[0]["actor"], "Alice Admin");
}

#[sqlx::test(migrations = "./migrations")]
async fn an_agent_is_refused_every_admin_function(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = staff(&pool, "Alice Admin", Role::Admin).await;
    let (agent_id, agent) = staff(&pool, "Carl Agent", Role::Agent).await;
    let site = create_site(&app, &admin, "Shop").await;
    let id = site["id"].as_str().unwrap();
    let r = post(
        &app,
        "/api/admin/groups/create",
        &format!("site_id={id}&name=Sales"),
        &admin,
    )
    .await;
    let group = r.json()["id"].as_str().unwrap().to_string();
    let calls = [
        ("/api/admin/sites/list", String::new()),
        ("/api/admin/sites/create", "name=Mine".to_string()),
        (
            "/api/admin/sites/save",
            format!("id={id}&version=1&name=Mine&allowed_origins="),
        ),
        ("/api/admin/sites/archive", format!("id={id}&version=1")),
        ("/api/admin/sites/rotate_secret", format!("id={id}")),
        ("/api/admin/groups/list", format!("site_id={id}")),
        (
            "/api/admin/groups/create",
            format!("site_id={id}&name=Mine"),
        ),
        (
            "/api/admin/groups/add_member",
            format!("group_id={group}&user_id={agent_id}&level=1"),
        ),
        (
            "/api/admin/groups/remove_member",
            format!("group_id={group}&user_id={agent_id}"),
        ),
        ("/api/admin/audit", String::new()),
    ];
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&pool)
        .await
        .unwrap();
    for (path, form) in calls {
        let r = post(&app, path, &form, &agent).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(before, after, "nothing changed");
    // And the pages themselves.
    for page in ["/admin/sites", "/admin/groups", "/admin/audit"] {
        let r = send(&app, crate::common::get(page, Some(&agent)), IP).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{page}");
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn the_admin_pages_render_their_settings(pool: PgPool) {
    let app = app(pool.clone());
    let (_, admin) = staff(&pool, "Alice Admin", Role::Admin).await;
    let site = create_site(&app, &admin, "Shop").await;
    let id = site["id"].as_str().unwrap();
    let r = post(
        &app,
        "/api/admin/groups/create",
        &format!("site_id={id}&name=Sales"),
        &admin,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let page = |path: &'static str| {
        let app = app.clone();
        let admin = admin.clone();
        async move { send(&app, crate::common::get(path, Some(&admin)), IP).await }
    };
    let r = page("/admin/sites").await;
    assert_eq!(r.status, StatusCode::OK);
    for text in [
        "Site name",
        "Embed snippet",
        "Copy snippet",
        "Allowed origins",
        "Guest mode",
        "Guest group",
        "Rotate identity secret",
        "Archive site",
        "Save site",
        site["key"].as_str().unwrap(),
    ] {
        assert!(r.body.contains(text), "/admin/sites lacks {text}");
    }
    let r = page("/admin/groups").await;
    assert_eq!(r.status, StatusCode::OK);
    for text in [
        "Group name",
        "Sales",
        "Level 1: serves visitor-initiated chats",
        "Level 2: only transferred chats",
        "Add to group",
    ] {
        assert!(r.body.contains(text), "/admin/groups lacks {text}");
    }
    let r = page("/admin/audit").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("create_group"), "{}", r.body);
}
