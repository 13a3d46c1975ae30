//! Realtime load benchmark: visitor→agent delivery latency with the durable insert, on one
//! node or across several nodes and a bus, and server memory per idle socket. Loopback only,
//! bounded in count and time.
//!
//! Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --features ssr --bench realtime`
//! Knobs (env):
//! - `BENCH_VISITORS` (1000) active visitor sockets, `BENCH_AGENTS` (10) agent sockets,
//!   `BENCH_RATE` (200 msg/s) from visitors in turn, `BENCH_SECONDS` (20);
//! - `BENCH_IDLE` (0) extra identified, idle visitor sockets (the memory figure); beyond
//!   `BENCH_PER_PROCESS` (15000) sockets they are opened by child processes of this bench,
//!   each under its own open-files limit;
//! - `BENCH_NODES` (1) server processes on one database, `BENCH_BUS` (`postgres`, `none`,
//!   or `nats://127.0.0.1:4222`): with more than one node every visitor's agent sits on
//!   another node, so every message crosses the bus;
//! - `BENCH_BIN` (the `switchboard` binary cargo built for this bench).
//!
//! It starts the real binary on a fresh database, opens the sockets from this process with
//! source addresses spread over 127.0.0.2–127.0.0.251 (one address has ~28k ephemeral
//! ports), sends from visitors at a fixed rate and timestamps receipt on the agents' sockets.

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard::realtime::protocol::{EventKind, ServerFrame};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
use uuid::Uuid;

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

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

/// CPU seconds (user + system) a process has used.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// CPU seconds used by every Postgres process (backends, WAL writer, ...).
fn postgres_cpu() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_secs)
        .sum()
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// The n-th client's source address: 127.0.0.2 to 127.0.0.251 in turn.
fn source(n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (n % 250) as u8))
}

/// A WebSocket from source address `from` (bound before connecting).
async fn ws(addr: SocketAddr, from: IpAddr, cookie: Option<&str>) -> Ws {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(from, 0)).expect("bind source");
    let stream = socket.connect(addr).await.expect("connect");
    let _ = stream.set_nodelay(true);
    let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
    req.headers_mut()
        .insert("origin", format!("http://{addr}").parse().unwrap());
    if let Some(c) = cookie {
        req.headers_mut().insert("cookie", c.parse().unwrap());
    }
    // Small client buffers too: 100,000 clients at tungstenite's 128 KiB default would not fit.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(4096);
    tokio_tungstenite::client_async_with_config(req, stream, Some(config))
        .await
        .expect("handshake")
        .0
}

/// A visitor socket that said hello and got its welcome.
async fn visitor(addr: SocketAddr, from: IpAddr, token: &str) -> Ws {
    let mut sock = ws(addr, from, None).await;
    sock.send(Message::text(
        json!({"type":"hello","visitor_token":token}).to_string(),
    ))
    .await
    .unwrap();
    while let Some(Ok(m)) = sock.next().await {
        if let Message::Text(t) = m {
            if t.as_str().contains("\"welcome\"") {
                break;
            }
        }
    }
    sock
}

/// Child-process role: holds idle visitor sockets (tokens on stdin, one `addr token` per
/// line), prints `ready` when all are identified, and exits when stdin closes.
async fn idle_child() {
    let first: usize = env_num("BENCH_SOURCE_OFFSET", 0) as usize;
    let lines: Vec<String> = std::io::stdin()
        .lock()
        .lines()
        .map_while(Result::ok)
        .take_while(|l| !l.is_empty())
        .collect();
    let mut held = Vec::with_capacity(lines.len());
    let mut opening = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let (addr, token) = line.split_once(' ').unwrap();
        let addr: SocketAddr = addr.parse().unwrap();
        let token = token.to_string();
        opening.push(tokio::spawn(async move {
            visitor(addr, source(first + i), &token).await
        }));
        if opening.len() == 200 {
            for t in opening.drain(..) {
                held.push(t.await.unwrap());
            }
        }
    }
    for t in opening.drain(..) {
        held.push(t.await.unwrap());
    }
    // Keep them open and drain what arrives (nothing, for idle sockets) from one task each.
    let count = held.len();
    for mut sock in held {
        tokio::spawn(async move { while let Some(Ok(_)) = sock.next().await {} });
    }
    println!("ready {count}");
    std::io::stdout().flush().unwrap();
    // Parent closes our stdin (already read to the blank line) by killing us.
    tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
}

struct NodeProc {
    addr: SocketAddr,
    child: std::process::Child,
}

#[tokio::main]
async fn main() {
    if std::env::var("BENCH_ROLE").as_deref() == Ok("idle") {
        return idle_child().await;
    }
    let visitors = env_num("BENCH_VISITORS", 1000) as usize;
    let agents = env_num("BENCH_AGENTS", 10) as usize;
    let rate = env_num("BENCH_RATE", 200);
    let seconds = env_num("BENCH_SECONDS", 20);
    let idle = env_num("BENCH_IDLE", 0) as usize;
    let per_process = env_num("BENCH_PER_PROCESS", 15_000) as usize;
    let nodes = env_num("BENCH_NODES", 1).max(1) as usize;
    let bus = std::env::var("BENCH_BUS").unwrap_or_else(|_| "postgres".into());
    let bin =
        std::env::var("BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_switchboard").into());
    assert!(
        agents >= nodes && agents.is_multiple_of(nodes),
        "BENCH_AGENTS must be a multiple of BENCH_NODES"
    );
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
        .max_connections(8)
        .connect(&db_url)
        .await
        .unwrap();
    switchboard::db::migrate(&pool).await.unwrap();

    let subject = format!("switchboard.bench.{}", std::process::id());
    // Nodes × pool must stay under max_connections (100 by default, shared with this bench).
    let pool_size = (48 / nodes).clamp(4, 20).to_string();
    let mut procs = Vec::new();
    for _ in 0..nodes {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = std::process::Command::new(&bin)
            .env("DATABASE_URL", &db_url)
            .env("SWITCHBOARD_ADDR", addr.to_string())
            .env("SWITCHBOARD_ADMIN_PASSWORD", "bench-password")
            .env("SWITCHBOARD_BUS", &bus)
            .env("SWITCHBOARD_BUS_SUBJECT", &subject)
            .env("SWITCHBOARD_DB_MAX_CONNECTIONS", &pool_size)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("server binary");
        for _ in 0..400 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        procs.push(NodeProc { addr, child });
    }
    let addrs: Vec<SocketAddr> = procs.iter().map(|p| p.addr).collect();
    let pids: Vec<u32> = procs.iter().map(|p| p.child.id()).collect();

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
    // Visitors and their conversations, created concurrently (setup, not measured).
    let total_visitors = visitors + idle;
    let made = Arc::new(Mutex::new(Vec::with_capacity(total_visitors)));
    let next = Arc::new(AtomicUsize::new(0));
    let mut makers = Vec::new();
    for _ in 0..8 {
        let (pool, made, next) = (pool.clone(), made.clone(), next.clone());
        makers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total_visitors {
                    break;
                }
                let reg = switchboard::domain::visitors::register(
                    &pool,
                    site,
                    &format!("V{i}"),
                    None,
                    None,
                    1,
                )
                .await
                .unwrap();
                let conv =
                    switchboard::domain::conversations::start_conversation::start_conversation(
                        &pool,
                        site,
                        reg.contact_id,
                        Some(group),
                    )
                    .await
                    .unwrap();
                made.lock().unwrap().push((i, reg.token, conv));
            }
        }));
    }
    for m in makers {
        m.await.unwrap();
    }
    let mut convs = std::mem::take(&mut *made.lock().unwrap());
    convs.sort_by_key(|c| c.0);
    let convs: Vec<(String, Uuid)> = convs.into_iter().map(|(_, t, c)| (t, c)).collect();

    let rss_before: Vec<u64> = pids.iter().map(|p| rss_kb(*p)).collect();
    let mut sockets_on = vec![0usize; nodes];
    let mut src = 0usize;
    // Agents: agent k sits on node k % nodes. Conversation j's visitor sits on node j % nodes
    // and its agent on node (j + 1) % nodes (the same node when there is one).
    let t0 = Instant::now();
    let received: Arc<Mutex<HashMap<String, Vec<f64>>>> = Arc::default();
    let per_node = agents / nodes;
    let agent_of = |j: usize| -> usize {
        let node = (j + 1) % nodes;
        ((j / nodes) % per_node) * nodes + node
    };
    let mut agent_tasks = Vec::new();
    for (k, cookie) in agent_cookies.iter().enumerate() {
        let node = k % nodes;
        let mut sock = ws(addrs[node], source(src), Some(cookie)).await;
        src += 1;
        sockets_on[node] += 1;
        for (_, conv) in convs
            .iter()
            .take(visitors)
            .enumerate()
            .filter(|(j, _)| agent_of(*j) == k)
            .map(|(_, c)| c)
        {
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
    // Active visitors: one socket each, subscribed to their conversation.
    let mut senders = Vec::new();
    for (j, (token, conv)) in convs.iter().take(visitors).enumerate() {
        let node = j % nodes;
        let mut sock = visitor(addrs[node], source(src), token).await;
        src += 1;
        sockets_on[node] += 1;
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
    // Idle visitors (identified, not subscribed: a widget on a page, chat closed): here up
    // to the per-process budget, the rest in child processes.
    let idle_convs = &convs[visitors..];
    let here = idle.min(per_process.saturating_sub(visitors + agents));
    let mut idle_held = Vec::new();
    let mut opening = Vec::new();
    for (i, (token, _)) in idle_convs.iter().take(here).enumerate() {
        let node = i % nodes;
        sockets_on[node] += 1;
        let (addr, from, token) = (addrs[node], source(src), token.clone());
        src += 1;
        opening.push(tokio::spawn(
            async move { visitor(addr, from, &token).await },
        ));
        if opening.len() == 200 {
            for t in opening.drain(..) {
                idle_held.push(t.await.unwrap());
            }
        }
    }
    for t in opening.drain(..) {
        idle_held.push(t.await.unwrap());
    }
    let mut children = Vec::new();
    for (c, chunk) in idle_convs[here..].chunks(per_process).enumerate() {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .env("BENCH_ROLE", "idle")
            .env("BENCH_SOURCE_OFFSET", (src + c * per_process).to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("idle child");
        let mut stdin = child.stdin.take().unwrap();
        for (i, (token, _)) in chunk.iter().enumerate() {
            let node = (here + c * per_process + i) % nodes;
            sockets_on[node] += 1;
            writeln!(stdin, "{} {token}", addrs[node]).unwrap();
        }
        writeln!(stdin).unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert!(line.starts_with("ready"), "idle child: {line}");
        children.push((child, stdin));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sockets: usize = sockets_on.iter().sum();
    let rss_connected: Vec<u64> = pids.iter().map(|p| rss_kb(*p)).collect();

    // Load: `rate` messages per second from visitors in turn, for `seconds`.
    let cpu0: Vec<f64> = pids.iter().map(|p| cpu_secs(*p)).collect();
    let pg0 = postgres_cpu();
    let stored0: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&pool)
        .await
        .unwrap();
    let started = Instant::now();
    let total = if visitors == 0 { 0 } else { rate * seconds };
    let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for n in 0..total {
        tick.tick().await;
        let _ = senders[(n as usize) % visitors].send(format!("m{n}")).await;
    }
    let send_secs = started.elapsed().as_secs_f64();
    let rss_loaded: Vec<u64> = pids.iter().map(|p| rss_kb(*p)).collect();
    // Wait for stragglers (bounded).
    let deadline = Instant::now() + Duration::from_secs(15);
    while received.lock().unwrap().len() < total as usize && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu: Vec<f64> = pids
        .iter()
        .zip(&cpu0)
        .map(|(p, c0)| cpu_secs(*p) - c0)
        .collect();
    let pg_cpu = postgres_cpu() - pg0;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&pool)
        .await
        .unwrap();
    let stored = stored - stored0;
    // Stored per second while stored: first to last insert of the run.
    let store_span: Option<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM max(created_at) - min(created_at))::float8 FROM messages",
    )
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

    let where_ = if nodes == 1 {
        "one node".to_string()
    } else {
        format!("{nodes} nodes, bus {bus}, every message crosses nodes")
    };
    println!(
        "switchboard realtime bench: {where_}; {visitors} visitors + {idle} idle, {agents} agents, {rate} msg/s for {seconds} s"
    );
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
        "  throughput: {:.0} msg/s offered over {send_secs:.1} s; {:.0} msg/s stored (first to last insert)",
        total as f64 / send_secs,
        stored as f64 / store_span.unwrap_or(f64::NAN).max(0.001)
    );
    for (n, pid) in pids.iter().enumerate() {
        let on = sockets_on[n].max(1);
        println!(
            "  node {n}: RSS {} KB before sockets, {} KB with {} sockets ({:.1} KB per socket), {} KB under load; CPU {:.2} s over {wall:.1} s ({:.0} % of one core)",
            rss_before[n],
            rss_connected[n],
            sockets_on[n],
            rss_connected[n].saturating_sub(rss_before[n]) as f64 / on as f64,
            rss_loaded[n],
            cpu[n],
            100.0 * cpu[n] / wall
        );
        let _ = pid;
    }
    let cpu_all: f64 = cpu.iter().sum();
    println!(
        "  total: {sockets} sockets; server CPU {:.2} s ({:.0} µs per message), Postgres CPU {:.2} s ({:.0} µs per message)",
        cpu_all,
        1e6 * cpu_all / total.max(1) as f64,
        pg_cpu,
        1e6 * pg_cpu / total.max(1) as f64
    );

    for (mut child, stdin) in children {
        drop(stdin);
        let _ = child.kill();
        let _ = child.wait();
    }
    drop(idle_held);
    for mut p in procs {
        let _ = p.child.kill();
        let _ = p.child.wait();
    }
    for t in agent_tasks {
        t.abort();
    }
    pool.close().await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
        .execute(&admin)
        .await;
}
