//! Test helpers: the real router over a per-test database, driven with real HTTP requests.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::time::Duration;
use switchboard::domain::accounts::create_user::create_user;
use switchboard::model::{Role, UserInfo};
use switchboard::server::{config::Config, router, state::AppState};
use tower::ServiceExt;

pub const HOST: &str = "switchboard.test";

/// The application router on this test's database.
pub fn app(pool: PgPool) -> Router {
    app_with_socket_timeout(pool, Duration::from_secs(60))
}

/// The router with a given WebSocket silence timeout.
pub fn app_with_socket_timeout(pool: PgPool, socket_timeout: Duration) -> Router {
    app_with(pool, socket_timeout, "")
}

/// The router behind reverse proxies (`SWITCHBOARD_TRUSTED_PROXIES` syntax).
pub fn app_trusting(pool: PgPool, proxies: &str) -> Router {
    app_with(pool, Duration::from_secs(60), proxies)
}

fn app_with(pool: PgPool, socket_timeout: Duration, proxies: &str) -> Router {
    router::build(AppState::new(pool, config(socket_timeout, proxies)))
}

/// The router with its attachments in `store` (e.g. an S3 bucket).
pub fn app_with_store(
    pool: PgPool,
    store: switchboard::db::attachment_store::AttachmentStore,
) -> Router {
    let mut config = config(Duration::from_secs(60), "");
    config.attachment_store = store;
    router::build(AppState::new(pool, config))
}

/// The configuration the tests run with.
fn config(socket_timeout: Duration, proxies: &str) -> Config {
    Config {
        trusted_proxies: switchboard::server::config::parse_proxies(proxies).unwrap(),
        socket_timeout,
        addr: "127.0.0.1:3000".parse().unwrap(),
        data_dir: std::env::temp_dir(),
        attachment_store: switchboard::db::attachment_store::AttachmentStore::local(
            &std::env::temp_dir().join("attachments"),
        )
        .unwrap(),
        database_url: None,
        admin_email: None,
        admin_password: None,
        site_root: "target/site".into(),
        public_url: format!("http://{HOST}"),
        bus: switchboard::realtime::bus::BusSetting::InProcess,
        metrics_token: Some("test-metrics-token".into()),
        db_max_connections: 20,
    }
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    /// The session cookie this response sets, as `name=value`.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("sb_session=") && !v.starts_with("sb_session=;"))
            .map(|v| v.split(';').next().unwrap().to_string())
    }

    /// The body as JSON (the test fails, showing the body, when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Sends a request through the router as if from `ip`.
pub async fn send(app: &Router, mut req: Request<Body>, ip: [u8; 4]) -> Reply {
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    }
}

/// A same-origin form POST to a server function, with an optional session cookie.
pub fn form_post(path: &str, form: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, format!("http://{HOST}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::from(form.to_string())).unwrap()
}

/// A same-origin JSON POST to a server function declared with `input = Json`.
pub fn json_post(path: &str, body: &serde_json::Value, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, format!("http://{HOST}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

/// A GET of a page, with an optional session cookie.
pub fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path).header(header::HOST, HOST);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).unwrap()
}

/// Creates an account directly through the domain.
pub async fn account(pool: &PgPool, email: &str, role: Role) -> UserInfo {
    create_user(pool, None, "Test User", email, "correct-horse-1", role)
        .await
        .unwrap()
}

/// Posts the sign-in form (email already URL-encoded) from `ip`.
pub async fn login(app: &Router, email: &str, password: &str, ip: [u8; 4]) -> Reply {
    let form = format!("email={email}&password={password}");
    send(app, form_post("/api/login", &form, None), ip).await
}

/// Signs in through `/api/login` and returns the session cookie.
pub async fn sign_in(app: &Router, email: &str) -> String {
    let r = login(app, email, "correct-horse-1", [10, 0, 0, 1]).await;
    assert_eq!(r.status, StatusCode::OK, "sign-in failed: {}", r.body);
    r.session_cookie().expect("a session cookie")
}

/// A staff account named `name` (a fresh email) and its session cookie, `sb_session=…`.
pub async fn staff(pool: &PgPool, name: &str, role: Role) -> (uuid::Uuid, String) {
    let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    let id = create_user(pool, None, name, &email, "correct-horse-1", role)
        .await
        .unwrap()
        .id;
    let s = switchboard::domain::accounts::session::issue(pool, id, "127.0.0.1", "test")
        .await
        .unwrap();
    (id, format!("sb_session={}", s.token))
}

/// Who a conversation is assigned to, read from Postgres.
pub async fn assignee(pool: &PgPool, conv: uuid::Uuid) -> Option<uuid::Uuid> {
    sqlx::query_scalar("SELECT assignee_id FROM conversations WHERE id = $1")
        .bind(conv)
        .fetch_one(pool)
        .await
        .unwrap()
}
