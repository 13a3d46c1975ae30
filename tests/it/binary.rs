//! The `switchboard` binary as an operator runs it: bad DATABASE_URL, and the embedded
//! Postgres default (created, used, stopped cleanly on SIGTERM, reused on the next start).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn an_unreachable_database_url_exits_with_one_line_naming_it() {
    let port = free_port();
    let url = format!("postgres://postgres:hunter2@127.0.0.1:{port}/nowhere");
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .env("DATABASE_URL", &url)
        .env("SWITCHBOARD_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line, got: {stderr}");
    assert!(lines[0].contains("DATABASE_URL"), "{}", lines[0]);
    assert!(
        lines[0].contains(&format!("127.0.0.1:{port}/nowhere")),
        "{}",
        lines[0]
    );
    assert!(
        !lines[0].contains("hunter2"),
        "the password must not be printed"
    );
}

/// Reads the child's stdout until `needle` shows up (or panics after `secs`).
fn wait_for_line(reader: &mut impl BufRead, needle: &str, secs: u64) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    let mut line = String::new();
    while Instant::now() < deadline {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        seen.push(line.trim_end().to_string());
        if line.contains(needle) {
            return seen;
        }
    }
    panic!("{needle:?} not printed; got {seen:?}");
}

#[test]
fn embedded_postgres_starts_stops_cleanly_and_is_reused() {
    if switchboard::server::embedded_pg::find_bin_dir().is_none() {
        panic!("Postgres server binaries are needed for this test (apt-get install postgresql)");
    }
    let dir = tempfile::tempdir().unwrap();
    // Running as root, the cluster belongs to the postgres user, who must be able to enter here.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.path().join("data");
    let start = |expect_first: bool| {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .env_remove("DATABASE_URL")
            .env("SWITCHBOARD_DATA_DIR", &data)
            .env("SWITCHBOARD_ADDR", &addr)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let lines = wait_for_line(&mut out, "Switchboard is running at", 120);
        let printed_first = lines.iter().any(|l| l.contains("first start"));
        assert_eq!(printed_first, expect_first, "{lines:?}");
        if expect_first {
            assert!(lines.iter().any(|l| l.contains("Password:")), "{lines:?}");
        }
        // The server answers, and its database is ready.
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        use std::io::{Read, Write};
        write!(
            stream,
            "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut resp = String::new();
        stream.read_to_string(&mut resp).unwrap();
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");

        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "clean exit on SIGTERM, got {status}");
        assert!(
            !data.join("postgres/postmaster.pid").exists(),
            "the embedded cluster is stopped with the server"
        );
    };
    start(true);
    assert!(data.join("postgres/PG_VERSION").exists());
    start(false);
}
