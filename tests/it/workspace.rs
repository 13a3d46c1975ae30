//! The agent workspace's actions through the real router: lists per level, assign, transfer
//! (with its note for agents only), reopen, rename and tags, the detail pane, and every
//! action refused to an agent outside the site.

use crate::common::{account, app, form_post, send, Reply};
use http::StatusCode;
use sqlx::PgPool;
use switchboard::domain::accounts::session;
use switchboard::model::Role;
use uuid::Uuid;

const IP: [u8; 4] = [10, 0, 0, 9];

struct Team {
    app: axum::Router,
    site: Uuid,
    l1: (Uuid, String),
    l1b: (Uuid, String),
    l2: (Uuid, String),
    outsider: String,
    support: Uuid,
    experts: Uuid,
}

async fn cookie(pool: &PgPool, user: Uuid) -> String {
    let s = session::issue(pool, user, "127.0.0.1", "test")
        .await
        .unwrap();
    format!("sb_session={}", s.token)
}

async fn agent(pool: &PgPool) -> (Uuid, String) {
    let a = account(
        pool,
        &format!("{}@example.com", Uuid::new_v4()),
        Role::Agent,
    )
    .await;
    (a.id, cookie(pool, a.id).await)
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

async fn group(pool: &PgPool, site: Uuid, name: &str) -> Uuid {
    sqlx::query_scalar("INSERT INTO groups (site_id, name) VALUES ($1, $2) RETURNING id")
        .bind(site)
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A site with a level-1 group "Support" (two agents) and a group "Experts" with a level-2
/// specialist; an outsider works on another site.
async fn team(pool: &PgPool) -> Team {
    let site = switchboard::db::sites::insert(pool, &Uuid::new_v4().to_string(), "Shop", "s")
        .await
        .unwrap()
        .id;
    let other = switchboard::db::sites::insert(pool, &Uuid::new_v4().to_string(), "Other", "s")
        .await
        .unwrap()
        .id;
    let support = group(pool, site, "Support").await;
    let experts = group(pool, site, "Experts").await;
    let elsewhere = group(pool, other, "Elsewhere").await;
    let (l1, l1b, l2, out) = (
        agent(pool).await,
        agent(pool).await,
        agent(pool).await,
        agent(pool).await,
    );
    member(pool, support, l1.0, 1).await;
    member(pool, support, l1b.0, 1).await;
    member(pool, experts, l2.0, 2).await;
    member(pool, elsewhere, out.0, 1).await;
    Team {
        app: app(pool.clone()),
        site,
        l1,
        l1b,
        l2,
        outsider: out.1,
        support,
        experts,
    }
}

async fn chat(pool: &PgPool, t: &Team, name: &str) -> Uuid {
    let reg = switchboard::domain::visitors::register(pool, t.site, name, None, None, 365)
        .await
        .unwrap();
    switchboard::domain::conversations::start_conversation::start_conversation(
        pool,
        t.site,
        reg.contact_id,
        Some(t.support),
    )
    .await
    .unwrap()
}

async fn call(t: &Team, endpoint: &str, form: &str, cookie: &str) -> Reply {
    send(
        &t.app,
        form_post(
            &format!("/api/conversations/{endpoint}"),
            form,
            Some(cookie),
        ),
        IP,
    )
    .await
}

async fn status_of(pool: &PgPool, conv: Uuid) -> (String, Option<Uuid>, bool) {
    sqlx::query_as("SELECT status, assignee_id, transferred FROM conversations WHERE id = $1")
        .bind(conv)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn level_two_specialists_get_only_transferred_chats_and_read_the_note(pool: PgPool) {
    let t = team(&pool).await;
    let conv = chat(&pool, &t, "Vera").await;

    // The level-2 specialist does not see the visitor-initiated chat, and cannot take it.
    let r = call(&t, "waiting", "", &t.l2.1).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("\"total\":0"), "{}", r.body);
    let r = call(
        &t,
        "assign_to_me",
        &format!("conversation_id={conv}"),
        &t.l2.1,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("Level-2 specialists"), "{}", r.body);
    let r = call(&t, "waiting", "", &t.l1.1).await;
    assert!(
        r.body.contains("\"total\":1") && r.body.contains("Vera"),
        "{}",
        r.body
    );

    // Level 1 takes it, then transfers it to the experts with a note.
    let r = call(
        &t,
        "assign_to_me",
        &format!("conversation_id={conv}"),
        &t.l1.1,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let form = format!(
        "conversation_id={conv}&expected_assignee={}&group_id={}&note=Needs+a+refund+expert",
        t.l1.0, t.experts
    );
    let r = call(&t, "transfer", &form, &t.l1.1).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(status_of(&pool, conv).await, ("waiting".into(), None, true));

    // Now the specialist sees it and takes it.
    let r = call(&t, "waiting", "", &t.l2.1).await;
    assert!(r.body.contains("\"total\":1"), "{}", r.body);
    let r = call(
        &t,
        "assign_to_me",
        &format!("conversation_id={conv}"),
        &t.l2.1,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(status_of(&pool, conv).await.1, Some(t.l2.0));

    // The note is stored for agents only (the hub never gives agents-only events to visitors).
    let (payload, agents_only): (serde_json::Value, bool) = sqlx::query_as(
        "SELECT payload, agents_only FROM conversation_events WHERE conversation_id = $1 AND kind = 'transferred'",
    )
    .bind(conv)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(agents_only);
    assert_eq!(payload["note"], "Needs a refund expert");
    assert_eq!(payload["to"], "Experts");
}

#[sqlx::test]
async fn assign_and_transfer_to_an_agent_are_conditional_on_what_the_agent_saw(pool: PgPool) {
    let t = team(&pool).await;
    let conv = chat(&pool, &t, "Walt").await;
    // Assign to a colleague (it was unassigned).
    let r = call(
        &t,
        "assign",
        &format!("conversation_id={conv}&agent_id={}", t.l1b.0),
        &t.l1.1,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(status_of(&pool, conv).await.1, Some(t.l1b.0));
    // A second agent still looking at the unassigned chat is told it changed.
    let r = call(
        &t,
        "assign",
        &format!("conversation_id={conv}&agent_id={}", t.l1.0),
        &t.l1.1,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("changed meanwhile"), "{}", r.body);
    assert_eq!(status_of(&pool, conv).await.1, Some(t.l1b.0));
    // A level-2 specialist is reached through their group unless the site allows it directly.
    let form = format!(
        "conversation_id={conv}&expected_assignee={}&agent_id={}",
        t.l1b.0, t.l2.0
    );
    let r = call(&t, "transfer", &form, &t.l1b.1).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.body.contains("transfer to their group instead"),
        "{}",
        r.body
    );
    sqlx::query("UPDATE sites SET allow_direct_level2 = true WHERE id = $1")
        .bind(t.site)
        .execute(&pool)
        .await
        .unwrap();
    let r = call(&t, "transfer", &form, &t.l1b.1).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        status_of(&pool, conv).await,
        ("assigned".into(), Some(t.l2.0), true)
    );
    // Neither or both targets: a clear 400.
    let r = call(&t, "transfer", &format!("conversation_id={conv}"), &t.l2.1).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.body.contains("Choose one agent or one group"),
        "{}",
        r.body
    );
    // Someone from another site is no target.
    let stranger = account(&pool, "stranger@example.com", Role::Agent).await;
    let form = format!(
        "conversation_id={conv}&expected_assignee={}&agent_id={}",
        t.l2.0, stranger.id
    );
    let r = call(&t, "transfer", &form, &t.l2.1).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("does not work on this site"), "{}", r.body);
}

#[sqlx::test]
async fn resolve_reopen_rename_and_tag(pool: PgPool) {
    let t = team(&pool).await;
    let conv = chat(&pool, &t, "Xena").await;
    call(
        &t,
        "assign_to_me",
        &format!("conversation_id={conv}"),
        &t.l1.1,
    )
    .await;
    let r = call(&t, "resolve", &format!("conversation_id={conv}"), &t.l1.1).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Reopen: back to the agent who had it.
    let r = call(&t, "reopen", &format!("conversation_id={conv}"), &t.l1b.1).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(status_of(&pool, conv).await.0, "assigned");
    assert_eq!(status_of(&pool, conv).await.1, Some(t.l1.0));
    // Reopening what is not resolved is a conflict, not a silent success.
    let r = call(&t, "reopen", &format!("conversation_id={conv}"), &t.l1.1).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    let r = call(
        &t,
        "rename",
        &format!("conversation_id={conv}&title=Refund+for+order+42"),
        &t.l1.1,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for tag in ["Billing", "billing", "vip"] {
        let r = call(
            &t,
            "tag",
            &format!("conversation_id={conv}&tag={tag}&add=true"),
            &t.l1b.1,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let r = call(
        &t,
        "tag",
        &format!("conversation_id={conv}&tag=vip&add=false"),
        &t.l1.1,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = call(
        &t,
        "tag",
        &format!("conversation_id={conv}&tag=%3Cb%3E&add=true"),
        &t.l1.1,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("A tag is 1"), "{}", r.body);
    let (title, tags): (Option<String>, Vec<String>) =
        sqlx::query_as("SELECT title, tags FROM conversations WHERE id = $1")
            .bind(conv)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(title.as_deref(), Some("Refund for order 42"));
    assert_eq!(tags, ["billing"]);
    // Tags are searchable (the GIN index serves `tags @> ...`).
    let found: i64 =
        sqlx::query_scalar("SELECT count(*) FROM conversations WHERE tags @> ARRAY['billing']")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(found, 1);

    // The pane's detail shows it all, plus the visitor's previous conversations.
    let r = call(&t, "detail", &format!("conversation_id={conv}"), &t.l1b.1).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(d["title"], "Refund for order 42");
    assert_eq!(d["visitor"]["name"], "Xena");
    assert_eq!(d["status"], "assigned");
    assert!(d["groups"].as_array().unwrap().len() == 2);
}

#[sqlx::test]
async fn chatting_lists_mine_first_and_counts(pool: PgPool) {
    let t = team(&pool).await;
    let a = chat(&pool, &t, "Ann").await;
    let b = chat(&pool, &t, "Ben").await;
    call(
        &t,
        "assign_to_me",
        &format!("conversation_id={a}"),
        &t.l1b.1,
    )
    .await;
    call(&t, "assign_to_me", &format!("conversation_id={b}"), &t.l1.1).await;
    let r = call(&t, "chatting", "", &t.l1.1).await;
    let l: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(l["total"], 2);
    assert_eq!(l["mine"], 1);
    assert_eq!(l["chats"][0]["visitor_name"], "Ben");
    assert_eq!(l["chats"][0]["mine"], true);
    assert_eq!(l["chats"][1]["assignee_name"], "Test User");
    // Lists are pages with an exact total: one entry shown, two in all.
    let r = call(&t, "chatting", "limit=1", &t.l1.1).await;
    let l: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(l["total"], 2);
    assert_eq!(l["chats"].as_array().unwrap().len(), 1);
    assert_eq!(l["chats"][0]["visitor_name"], "Ben");
    // The outsider's lists are empty.
    let r = call(&t, "chatting", "", &t.outsider).await;
    assert!(r.body.contains("\"total\":0"), "{}", r.body);
}

#[sqlx::test]
async fn every_action_is_refused_to_an_agent_outside_the_site(pool: PgPool) {
    let t = team(&pool).await;
    let conv = chat(&pool, &t, "Yuri").await;
    let forms = [
        ("assign_to_me", format!("conversation_id={conv}")),
        (
            "assign",
            format!("conversation_id={conv}&agent_id={}", t.l1.0),
        ),
        (
            "transfer",
            format!("conversation_id={conv}&group_id={}", t.experts),
        ),
        ("resolve", format!("conversation_id={conv}")),
        ("reopen", format!("conversation_id={conv}")),
        ("rename", format!("conversation_id={conv}&title=x")),
        ("tag", format!("conversation_id={conv}&tag=x&add=true")),
        ("detail", format!("conversation_id={conv}")),
    ];
    for (endpoint, form) in forms {
        let r = call(&t, endpoint, &form, &t.outsider).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{endpoint}: {}", r.body);
    }
    // Nothing changed.
    assert_eq!(
        status_of(&pool, conv).await,
        ("waiting".into(), None, false)
    );
    let title: Option<String> = sqlx::query_scalar("SELECT title FROM conversations WHERE id = $1")
        .bind(conv)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(title, None);
}
