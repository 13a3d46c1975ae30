//! Attachments in an S3-compatible bucket, through the real router and the real Postgres:
//! moto (PyPI, `moto_server`) plays S3. Upload → send → download with the bytes in the
//! bucket, the 413/415 refusals storing nothing, a file larger than one part (streamed into a
//! multipart upload, then copied to its content address with no temporary object left), and
//! two nodes sharing the bucket: uploaded through node A, downloaded through node B.
//!
//! Skips, loudly, only when moto cannot be installed (`.ci/lib.sh` `ensure_moto`).

use axum::body::Body;
use axum::extract::ConnectInfo;
use futures_util::{SinkExt, StreamExt};
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use switchboard::db::attachment_store::{AttachmentStore, S3Setting};
use switchboard::model::Role;
use switchboard::realtime::protocol::{AttachmentRef, EventKind, ServerFrame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tower::ServiceExt;
use uuid::Uuid;

/// A moto S3 server on a free port; dropped, it is killed.
struct Moto {
    child: std::process::Child,
    addr: SocketAddr,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_binary() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(p) = std::env::var("SWITCHBOARD_MOTO_SERVER") {
        candidates.push(p.into());
    }
    if let Ok(home) = std::env::var("HOME") {
        candidates.push(PathBuf::from(home).join(".cache/switchboard-moto/bin/moto_server"));
    }
    candidates.push("moto_server".into());
    candidates.into_iter().find(|c| {
        std::process::Command::new(c)
            .arg("--help")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Starts moto, installing it first (the project's own recipe) when it is missing.
async fn moto() -> Option<Moto> {
    let bin = match moto_binary() {
        Some(b) => b,
        None => {
            let root = env!("CARGO_MANIFEST_DIR");
            let _ = std::process::Command::new("bash")
                .args(["-c", "source .ci/lib.sh && ensure_moto"])
                .current_dir(root)
                .status();
            match moto_binary() {
                Some(b) => b,
                None => {
                    eprintln!(
                        "\n\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                         !! SKIPPED: the S3 attachment-store test needs moto_server       !!\n\
                         !! (pip install 'moto[server]'; see ensure_moto in .ci/lib.sh)   !!\n\
                         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
                    );
                    return None;
                }
            }
        }
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let child = std::process::Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let moto = Moto { child, addr };
    for _ in 0..300 {
        if raw_http(addr, "GET", "/").await.is_some() {
            return Some(moto);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto_server did not answer on {addr} within 30 s");
}

/// One plain HTTP/1.0 request (moto takes unsigned requests): status and body.
async fn raw_http(addr: SocketAddr, method: &str, path: &str) -> Option<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    let req = format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.ok()?;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

fn setting(moto: &Moto, bucket: &str) -> S3Setting {
    S3Setting {
        bucket: bucket.into(),
        endpoint: Some(format!("http://{}", moto.addr)),
        region: "us-east-1".into(),
        prefix: "attachments".into(),
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
    }
}

/// A request through a router as if from a client; the body read whole, as bytes.
async fn call(
    app: &axum::Router,
    mut req: Request<Body>,
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 40000))));
    let res = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

fn upload(conv: Uuid, auth: &str, ct: &str, name: &str, bytes: Vec<u8>) -> Request<Body> {
    Request::post(format!("/files?conversation_id={conv}&filename={name}"))
        .header(header::CONTENT_TYPE, ct)
        .header(header::AUTHORIZATION, auth)
        .body(Body::from(bytes))
        .unwrap()
}

fn download(id: Uuid, auth: Option<&str>, cookie: Option<&str>) -> Request<Body> {
    let mut req = Request::get(format!("/files/{id}"));
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    req.body(Body::empty()).unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn attachments_live_in_an_s3_bucket_shared_by_two_nodes(pool: PgPool) {
    let Some(moto) = moto().await else { return };
    let bucket = format!("sb-{}", Uuid::new_v4().simple());
    let (status, body) = raw_http(moto.addr, "PUT", &format!("/{bucket}"))
        .await
        .expect("moto answers");
    assert_eq!(status, 200, "creating the bucket: {body}");
    let store_a = AttachmentStore::s3(&setting(&moto, &bucket)).unwrap();
    let store_b = AttachmentStore::s3(&setting(&moto, &bucket)).unwrap();
    store_a.probe().await.expect("the bucket answers");
    let node_a = crate::common::app_with_store(pool.clone(), store_a.clone());
    let node_b = crate::common::app_with_store(pool.clone(), store_b);

    // A site, its agent, a visitor and their conversation.
    let site = switchboard::db::sites::insert(&pool, &Uuid::new_v4().to_string(), "Shop", "s")
        .await
        .unwrap()
        .id;
    let agent =
        crate::common::account(&pool, &format!("{}@x.test", Uuid::new_v4()), Role::Agent).await;
    let group: Uuid =
        sqlx::query_scalar("INSERT INTO groups (site_id, name) VALUES ($1, 'S') RETURNING id")
            .bind(site)
            .fetch_one(&pool)
            .await
            .unwrap();
    sqlx::query("INSERT INTO group_members (group_id, user_id, level) VALUES ($1, $2, 1)")
        .bind(group)
        .bind(agent.id)
        .execute(&pool)
        .await
        .unwrap();
    let session = switchboard::domain::accounts::session::issue(&pool, agent.id, "127.0.0.1", "t")
        .await
        .unwrap();
    let agent_cookie = format!("sb_session={}", session.token);
    let reg = switchboard::domain::visitors::register(&pool, site, "Vera", None, None, 1)
        .await
        .unwrap();
    let conv = switchboard::domain::conversations::start_conversation::start_conversation(
        &pool,
        site,
        reg.contact_id,
        Some(group),
    )
    .await
    .unwrap();
    let bearer = format!("Bearer {}", reg.token);
    let sha = |b: &[u8]| hex::encode(Sha256::digest(b));

    // Refusals still come first and store nothing: wrong type (415), too big (413, while
    // streaming, and at once from Content-Length).
    let html = b"<script>alert(1)</script>".to_vec();
    let (status, _, _) = call(
        &node_a,
        upload(conv, &bearer, "text/html", "x.html", html.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(!store_a.contains(&sha(&html)).await.unwrap());
    sqlx::query("UPDATE sites SET attachment_max_bytes = 1024 WHERE id = $1")
        .bind(site)
        .execute(&pool)
        .await
        .unwrap();
    let big = vec![7u8; 2048];
    let (status, _, body) = call(
        &node_a,
        upload(conv, &bearer, "image/png", "b.png", big.clone()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let mut announced = upload(conv, &bearer, "image/png", "b.png", big.clone());
    announced
        .headers_mut()
        .insert(header::CONTENT_LENGTH, "2048".parse().unwrap());
    let (status, _, _) = call(&node_a, announced).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!store_a.contains(&sha(&big)).await.unwrap());
    sqlx::query("UPDATE sites SET attachment_max_bytes = 20 * 1024 * 1024 WHERE id = $1")
        .bind(site)
        .execute(&pool)
        .await
        .unwrap();

    // A picture, uploaded through node A: in the bucket, not on this machine's disk.
    let png: Vec<u8> = [b"\x89PNG\r\n\x1a\n".as_slice(), Uuid::new_v4().as_bytes()].concat();
    let (status, _, body) = call(
        &node_a,
        upload(conv, &bearer, "image/png", "cat.png", png.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let pic: AttachmentRef = serde_json::from_slice(&body).unwrap();
    assert_eq!(pic.size, png.len() as i64);
    assert!(store_a.contains(&sha(&png)).await.unwrap());
    assert!(
        !switchboard::domain::attachments::path_for(&std::env::temp_dir(), &sha(&png)).exists()
    );

    // A document larger than one part (5 MiB): streamed in parts, then filed by its hash.
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend(
        (0..6 * 1024 * 1024 + 123).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8),
    );
    pdf.extend(Uuid::new_v4().as_bytes());
    let (status, _, body) = call(
        &node_a,
        upload(conv, &bearer, "application/pdf", "big.pdf", pdf.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let doc: AttachmentRef = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc.size, pdf.len() as i64);
    assert!(store_a.contains(&sha(&pdf)).await.unwrap());
    let (status, listing) = raw_http(
        moto.addr,
        "GET",
        &format!("/{bucket}?list-type=2&prefix=attachments/tmp/"),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert!(
        !listing.contains("<Key>"),
        "no temporary object left: {listing}"
    );

    // Sent with a message over node A's socket.
    let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let app = node_a.clone();
    let serving = tokio::spawn(async move {
        axum::serve(
            server,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    let mut say = async |v: serde_json::Value| {
        ws.send(Message::text(v.to_string())).await.unwrap();
    };
    say(json!({"type": "hello", "visitor_token": reg.token})).await;
    say(json!({"type": "subscribe", "conversation_id": conv, "after_seq": 0})).await;
    say(json!({"type": "send", "conversation_id": conv, "key": "pic", "body": "", "attachment": pic.id}))
        .await;
    let sent = loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .unwrap()
            .unwrap();
        let Message::Text(t) = msg else { continue };
        if let ServerFrame::Event(e) = serde_json::from_str(t.as_str()).unwrap() {
            if let EventKind::Message { attachment, .. } = e.kind {
                break attachment;
            }
        }
    };
    assert_eq!(sent.as_ref(), Some(&pic));
    serving.abort();

    // Node B has never seen these files: it reads them from the bucket, with every check.
    let (status, headers, bytes) = call(&node_b, download(pic.id, Some(&bearer), None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, png);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-disposition"],
        "inline; filename*=UTF-8''cat.png"
    );
    assert_eq!(headers["content-length"], png.len().to_string().as_str());
    let (status, headers, bytes) = call(&node_b, download(doc.id, None, Some(&agent_cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename*=UTF-8''big.pdf"
    );
    assert_eq!(sha(&bytes), sha(&pdf), "the large file comes back whole");
    let stranger = switchboard::domain::visitors::register(&pool, site, "Eve", None, None, 1)
        .await
        .unwrap();
    let (status, _, bytes) = call(
        &node_b,
        download(pic.id, Some(&format!("Bearer {}", stranger.token)), None),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!bytes.windows(png.len()).any(|w| w == png.as_slice()));

    // The same bytes uploaded again through node B: one object, two rows.
    let (status, _, body) = call(
        &node_b,
        upload(conv, &bearer, "image/png", "again.png", png.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let (status, listing) = raw_http(
        moto.addr,
        "GET",
        &format!(
            "/{bucket}?list-type=2&prefix=attachments/{}/",
            &sha(&png)[..2]
        ),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(listing.matches(&sha(&png)).count(), 1, "{listing}");
}
