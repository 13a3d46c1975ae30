//! Realtime load benchmark: visitor→agent delivery latency with the durable insert, and
//! server memory per idle socket. Loopback only, bounded in count and time.
//!
//! Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --features ssr --bench realtime`
//! Knobs (env): BENCH_VISITORS (1000), BENCH_AGENTS (10), BENCH_RATE (200 msg/s),
//! BENCH_SECONDS (20), BENCH_IDLE (extra idle visitor sockets for the memory figure, 0).
//!
//! It starts the real `switchboard` binary on a fresh database, opens the sockets from this
//! process, sends from visitors at a fixed rate and timestamps receipt on the agents' sockets.

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard::realtime::protocol::{EventKind, ServerFrame};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
use uuid::Uuid;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds (user + system) the process has used.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn ws(
    addr: SocketAddr,
    cookie: Option<&str>,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut()
        .insert("origin", format!("http://{addr}").parse().unwrap());
    if let Some(c) = cookie {
        req.headers_mut().insert("cookie", c.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req)
        .await
        .expect("connect")
        .0
}

#[tokio::main]
async fn main() {
    let visitors = env_num("BENCH_VISITORS", 1000) as usize;
    let agents = env_num("BENCH_AGENTS", 10) as usize;
    let rate = env_num("BENCH_RATE", 200);
    let seconds = env_num("BENCH_SECONDS", 20);
    let idle = env_num("BENCH_IDLE", 0) as usize;
    let server_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let base = server_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap();

    // A fresh database and the real server binary on it.
    let db_name = format!("switchboard_bench_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&server_url)
        .await
        .expect("DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {db_name}"))
        .execute(&admin)
        .await
        .unwrap();
    let db_url = format!("{base}/{db_name}");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(5)
        .connect(&db_url)
        .await
        .unwrap();
    switchboard::db::migrate(&pool).await.unwrap();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .env("DATABASE_URL", &db_url)
        .env("SWITCHBOARD_ADDR", addr.to_string())
        .env("SWITCHBOARD_ADMIN_PASSWORD", "bench-password")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("server binary");
    let pid = server.id();
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // One site, one group with the agents, a conversation per visitor.
    let site = switchboard::db::sites::insert(&pool, "bench", "Bench", "secret")
        .await
        .unwrap()
        .id;
    let group: Uuid =
        sqlx::query_scalar("INSERT INTO groups (site_id, name) VALUES ($1, 'G') RETURNING id")
            .bind(site)
            .fetch_one(&pool)
            .await
            .unwrap();
    let mut agent_cookies = Vec::new();
    for i in 0..agents {
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, 'x', 'agent') RETURNING id",
        )
        .bind(format!("agent{i}@bench.test")).bind(format!("Agent {i}"))
        .fetch_one(&pool).await.unwrap();
        sqlx::query("INSERT INTO group_members (group_id, user_id, level) VALUES ($1, $2, 1)")
            .bind(group)
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        let s = switchboard::domain::accounts::session::issue(&pool, id, "127.0.0.1", "bench")
            .await
            .unwrap();
        agent_cookies.push(format!("sb_session={}", s.token));
    }
    let mut convs = Vec::new();
    for i in 0..visitors + idle {
        let reg =
            switchboard::domain::visitors::register(&pool, site, &format!("V{i}"), None, None, 1)
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
        convs.push((reg.token, conv));
    }

    let rss_before = rss_kb(pid);
    // Agents: each subscribes to its share of the active conversations and timestamps messages.
    let t0 = Instant::now();
    let received: Arc<Mutex<HashMap<String, Vec<f64>>>> = Arc::default();
    let mut agent_tasks = Vec::new();
    for (i, cookie) in agent_cookies.iter().enumerate() {
        let mut sock = ws(addr, Some(cookie)).await;
        let _welcome = sock.next().await;
        for (_, conv) in convs.iter().take(visitors).skip(i).step_by(agents) {
            sock.send(Message::text(
                json!({"type":"subscribe","conversation_id":conv,"after_seq":0}).to_string(),
            ))
            .await
            .unwrap();
        }
        let received = received.clone();
        agent_tasks.push(tokio::spawn(async move {
            while let Some(Ok(msg)) = sock.next().await {
                let Message::Text(t) = msg else { continue };
                if let Ok(ServerFrame::Event(e)) = serde_json::from_str::<ServerFrame>(t.as_str()) {
                    if let EventKind::Message { body, key, .. } = e.kind {
                        let sent_at: f64 = body.parse().unwrap_or(0.0);
                        let now = t0.elapsed().as_secs_f64() * 1000.0;
                        received
                            .lock()
                            .unwrap()
                            .entry(key)
                            .or_default()
                            .push(now - sent_at);
                    }
                }
            }
        }));
    }
    // Visitors: one socket each, subscribed to their conversation.
    let mut senders = Vec::new();
    for (token, conv) in convs.iter() {
        let mut sock = ws(addr, None).await;
        sock.send(Message::text(
            json!({"type":"hello","visitor_token":token}).to_string(),
        ))
        .await
        .unwrap();
        sock.send(Message::text(
            json!({"type":"subscribe","conversation_id":conv,"after_seq":0}).to_string(),
        ))
        .await
        .unwrap();
        let (mut tx, mut rx) = sock.split();
        // Drain what the server sends so no socket counts as a slow consumer.
        tokio::spawn(async move { while let Some(Ok(_)) = rx.next().await {} });
        let conv = *conv;
        let (cmd_tx, mut cmd_rx) = tokio::sync::mpsc::channel::<String>(16);
        tokio::spawn(async move {
            while let Some(key) = cmd_rx.recv().await {
                let body = format!("{:.3}", t0.elapsed().as_secs_f64() * 1000.0);
                let frame = json!({"type":"send","conversation_id":conv,"key":key,"body":body});
                if tx.send(Message::text(frame.to_string())).await.is_err() {
                    break;
                }
            }
        });
        senders.push(cmd_tx);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sockets = agents + visitors + idle;
    let rss_connected = rss_kb(pid);

    // Load: `rate` messages per second from visitors in turn, for `seconds`.
    let cpu0 = cpu_secs(pid);
    let started = Instant::now();
    let total = rate * seconds;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for n in 0..total {
        tick.tick().await;
        let _ = senders[(n as usize) % visitors].send(format!("m{n}")).await;
    }
    let send_secs = started.elapsed().as_secs_f64();
    let rss_loaded = rss_kb(pid);
    // Wait for stragglers (bounded).
    let deadline = Instant::now() + Duration::from_secs(10);
    while received.lock().unwrap().len() < total as usize && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cpu = cpu_secs(pid) - cpu0;
    let wall = started.elapsed().as_secs_f64();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&pool)
        .await
        .unwrap();

    let (mut lat, dups, received_count) = {
        let got = received.lock().unwrap();
        let lat: Vec<f64> = got.values().map(|v| v[0]).collect();
        let dups: usize = got.values().map(|v| v.len().saturating_sub(1)).sum();
        (lat, dups, got.len())
    };
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let lost = total as usize - received_count;

    println!("switchboard realtime bench: {visitors} visitors + {idle} idle, {agents} agents, {rate} msg/s for {seconds} s");
    println!(
        "  delivery visitor→agent (incl. durable insert): p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  messages: sent {total}, stored {stored}, received {received_count}, lost {lost}, duplicated {dups}"
    );
    println!(
        "  throughput: {:.0} msg/s offered over {send_secs:.1} s",
        total as f64 / send_secs
    );
    println!("  server RSS: {} KB before sockets, {} KB with {sockets} sockets ({:.1} KB per socket), {} KB under load",
        rss_before, rss_connected, (rss_connected.saturating_sub(rss_before)) as f64 / sockets as f64, rss_loaded);
    println!(
        "  server CPU: {:.2} s over {wall:.1} s ({:.0} % of one core)",
        cpu,
        100.0 * cpu / wall
    );

    let _ = server.kill();
    let _ = server.wait();
    for t in agent_tasks {
        t.abort();
    }
    pool.close().await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
        .execute(&admin)
        .await;
}
