//! The embedded default database: a private Postgres cluster in `$SWITCHBOARD_DATA_DIR/postgres`,
//! run with the machine's own Postgres binaries (initdb, pg_ctl) so nothing is downloaded.
//!
//! The cluster listens on 127.0.0.1 on a free port (unix sockets are off: data paths can be
//! longer than a socket path may be). A second start reuses the cluster; a cluster left running
//! by a killed server is adopted rather than started twice. Postgres refuses to run as root, so
//! when we are root the cluster is owned and run by the `postgres` system user.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::process::Command;

/// The database created inside the cluster.
const DB_NAME: &str = "switchboard";

/// Why the embedded cluster could not start or stop.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPgError {
    #[error(
        "DATABASE_URL is unset and the Postgres server binaries (initdb, pg_ctl) were not found \
         on PATH or under /usr/lib/postgresql/*/bin; install them (Debian: apt-get install postgresql) \
         or set DATABASE_URL"
    )]
    BinariesMissing,
    #[error(
        "running as root, the embedded Postgres needs the 'postgres' system user to own its cluster; \
         create it (apt-get install postgresql does) or set DATABASE_URL"
    )]
    NoPostgresUser,
    #[error("embedded Postgres: cannot prepare {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("embedded Postgres: `{command}` failed: {output}")]
    Command { command: String, output: String },
}

/// A running cluster this process owns (or adopted).
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    cluster_dir: PathBuf,
    port: u16,
    run_as: Option<(u32, u32)>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EmbeddedPgError + '_ {
    move |source| EmbeddedPgError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The directory holding initdb and pg_ctl: PATH first, then the newest /usr/lib/postgresql/N/bin.
pub fn find_bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    });
    if on_path.is_some() {
        return on_path;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

impl EmbeddedPostgres {
    /// Starts (creating on first use) the cluster under `data_dir/postgres` and makes sure the
    /// `switchboard` database exists.
    pub async fn start(data_dir: &Path) -> Result<EmbeddedPostgres, EmbeddedPgError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedPgError::BinariesMissing)?;
        std::fs::create_dir_all(data_dir).map_err(io_err(data_dir))?;
        let data_dir = std::fs::canonicalize(data_dir).map_err(io_err(data_dir))?;
        let cluster_dir = data_dir.join("postgres");
        let run_as = if nix::unistd::geteuid().is_root() {
            let user = nix::unistd::User::from_name("postgres")
                .ok()
                .flatten()
                .ok_or(EmbeddedPgError::NoPostgresUser)?;
            Some((user.uid.as_raw(), user.gid.as_raw()))
        } else {
            None
        };
        if !cluster_dir.exists() {
            std::fs::create_dir_all(&cluster_dir).map_err(io_err(&cluster_dir))?;
        }
        if let Some((uid, gid)) = run_as {
            use std::os::unix::fs::PermissionsExt;
            // The postgres user must be able to reach its cluster through our data directory.
            std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o711))
                .map_err(io_err(&data_dir))?;
            std::os::unix::fs::chown(&cluster_dir, Some(uid), Some(gid))
                .map_err(io_err(&cluster_dir))?;
        }
        let mut pg = EmbeddedPostgres {
            bin_dir,
            cluster_dir,
            port: 0,
            run_as,
        };
        if !pg.cluster_dir.join("PG_VERSION").exists() {
            tracing::info!(dir = %pg.cluster_dir.display(), "creating the embedded Postgres cluster");
            let dir = pg.cluster_dir.to_string_lossy().to_string();
            pg.run(
                "initdb",
                &[
                    "-D",
                    &dir,
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ],
            )
            .await?;
        }
        match pg.running_port() {
            Some(port) if pg.is_running().await => {
                tracing::info!(port, "adopting the embedded Postgres left running");
                pg.port = port;
            }
            _ => {
                pg.port = free_port().map_err(io_err(&pg.cluster_dir))?;
                let dir = pg.cluster_dir.to_string_lossy().to_string();
                let log = pg
                    .cluster_dir
                    .join("server.log")
                    .to_string_lossy()
                    .to_string();
                let opts = format!(
                    "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''",
                    pg.port
                );
                pg.run(
                    "pg_ctl",
                    &[
                        "-D", &dir, "-l", &log, "-o", &opts, "-w", "-t", "60", "start",
                    ],
                )
                .await?;
                tracing::info!(port = pg.port, "embedded Postgres started");
            }
        }
        pg.ensure_database().await?;
        Ok(pg)
    }

    /// The URL of the `switchboard` database in this cluster.
    pub fn database_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{DB_NAME}", self.port)
    }

    /// The port the cluster listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the cluster cleanly (fast mode: sessions are ended, data is flushed).
    pub async fn stop(self) -> Result<(), EmbeddedPgError> {
        let dir = self.cluster_dir.to_string_lossy().to_string();
        self.run("pg_ctl", &["-D", &dir, "-m", "fast", "-w", "stop"])
            .await?;
        tracing::info!("embedded Postgres stopped");
        Ok(())
    }

    async fn is_running(&self) -> bool {
        let dir = self.cluster_dir.to_string_lossy().to_string();
        self.run("pg_ctl", &["-D", &dir, "status"]).await.is_ok()
    }

    /// The port recorded in postmaster.pid (its fourth line), if the file exists.
    fn running_port(&self) -> Option<u16> {
        let pid_file = std::fs::read_to_string(self.cluster_dir.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    async fn ensure_database(&self) -> Result<(), EmbeddedPgError> {
        let admin_url = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        let fail = |e: sqlx::Error| EmbeddedPgError::Command {
            command: format!("CREATE DATABASE {DB_NAME}"),
            output: e.to_string(),
        };
        let pool = super::connect(&admin_url).await.map_err(fail)?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(DB_NAME)
                .fetch_one(&pool)
                .await
                .map_err(fail)?;
        if !exists {
            sqlx::query(&format!("CREATE DATABASE {DB_NAME}"))
                .execute(&pool)
                .await
                .map_err(fail)?;
        }
        pool.close().await;
        Ok(())
    }

    /// Runs one of the Postgres tools, as the postgres user when we are root.
    async fn run(&self, tool: &str, args: &[&str]) -> Result<(), EmbeddedPgError> {
        let mut cmd = Command::new(self.bin_dir.join(tool));
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Postgres tools resolve relative paths against the working directory; it must be
            // one the postgres user can enter.
            .current_dir(&self.cluster_dir)
            .env_remove("PGDATA");
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        let describe = || format!("{tool} {}", args.join(" "));
        let out = cmd.output().await.map_err(|e| EmbeddedPgError::Command {
            command: describe(),
            output: e.to_string(),
        })?;
        if out.status.success() {
            Ok(())
        } else {
            let mut text = String::from_utf8_lossy(&out.stderr).trim().to_string();
            if text.is_empty() {
                text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            }
            Err(EmbeddedPgError::Command {
                command: describe(),
                output: text.replace('\n', " | "),
            })
        }
    }
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
