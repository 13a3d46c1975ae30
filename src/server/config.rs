//! Configuration from environment variables (documented in README.md).

use crate::db::attachment_store::{AttachmentStore, StoreSetting};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything the server reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `SWITCHBOARD_ADDR`: where to listen (default 127.0.0.1:3000).
    pub addr: SocketAddr,
    /// `SWITCHBOARD_DATA_DIR`: embedded Postgres cluster and attachments (default ./data).
    pub data_dir: PathBuf,
    /// Where attachment bytes live: `$SWITCHBOARD_DATA_DIR/attachments` by default, an
    /// S3-compatible bucket when `SWITCHBOARD_S3_BUCKET` is set (with `SWITCHBOARD_S3_ENDPOINT`,
    /// `SWITCHBOARD_S3_REGION`, `SWITCHBOARD_S3_PREFIX` and the standard `AWS_*` credentials).
    /// Built from the environment; nodes of one installation must name the same store.
    pub attachment_store: AttachmentStore,
    /// `DATABASE_URL`: an existing database; unset means the embedded cluster.
    pub database_url: Option<String>,
    /// `SWITCHBOARD_ADMIN_EMAIL` / `SWITCHBOARD_ADMIN_PASSWORD`: first admin on first start.
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    /// `SWITCHBOARD_SITE_ROOT`: the built static site (default target/site, where cargo-leptos puts it).
    pub site_root: PathBuf,
    /// `SWITCHBOARD_PUBLIC_URL`: the URL people use (default http://ADDR); https makes cookies Secure.
    pub public_url: String,
    /// `SWITCHBOARD_SOCKET_TIMEOUT_SECS`: close WebSockets silent this long (default 60;
    /// clients ping every 25 s).
    pub socket_timeout: std::time::Duration,
    /// `SWITCHBOARD_TRUSTED_PROXIES`: comma-separated IPs or CIDR ranges of reverse proxies
    /// whose `X-Forwarded-For` is believed (default none: the TCP peer is the client).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `SWITCHBOARD_BUS`: how nodes hear each other: unset or `postgres` (LISTEN/NOTIFY on the
    /// database, the default), `nats://host:port`, or `none` (one node, nothing leaves it).
    pub bus: crate::realtime::bus::BusSetting,
    /// `SWITCHBOARD_METRICS_TOKEN`: lets `/metrics` be read from other hosts with
    /// `Authorization: Bearer TOKEN` (default none: loopback only, not through a proxy).
    pub metrics_token: Option<String>,
    /// `SWITCHBOARD_DB_MAX_CONNECTIONS`: the pool size (default 20; with the Postgres bus one
    /// of them is the listener). With several nodes, keep nodes × this under Postgres's
    /// `max_connections`.
    pub db_max_connections: u32,
}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("SWITCHBOARD_ADDR={0:?} is not a socket address like 127.0.0.1:3000")]
    Addr(String),
    #[error("SWITCHBOARD_PUBLIC_URL={0:?} must start with http:// or https://")]
    PublicUrl(String),
    #[error(
        "SWITCHBOARD_SOCKET_TIMEOUT_SECS={0:?} must be a whole number of seconds from 30 to 3600"
    )]
    SocketTimeout(String),
    #[error(
        "SWITCHBOARD_TRUSTED_PROXIES: {0:?} is not an IP address or CIDR range (like 10.0.0.0/8)"
    )]
    TrustedProxy(String),
    #[error("SWITCHBOARD_BUS={0:?} must be postgres, none, or a nats://host:port URL")]
    Bus(String),
    #[error("SWITCHBOARD_DB_MAX_CONNECTIONS={0:?} must be a whole number from 2 to 1000")]
    DbMaxConnections(String),
    #[error("attachment store: {0}")]
    AttachmentStore(String),
}

/// Parses a comma-separated list of IPs and CIDR ranges.
pub fn parse_proxies(raw: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError::TrustedProxy(s.to_string()))
        })
        .collect()
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        let addr_raw = var("SWITCHBOARD_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
        let addr: SocketAddr = addr_raw
            .trim()
            .parse()
            .map_err(|_| ConfigError::Addr(addr_raw.clone()))?;
        let public_url = var("SWITCHBOARD_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::PublicUrl(public_url));
        }
        let timeout_raw = var("SWITCHBOARD_SOCKET_TIMEOUT_SECS")
            .unwrap_or_else(|| crate::realtime::protocol::SILENCE_TIMEOUT_SECS.to_string());
        let socket_timeout = match timeout_raw.trim().parse::<u64>() {
            Ok(n) if (30..=3600).contains(&n) => std::time::Duration::from_secs(n),
            _ => return Err(ConfigError::SocketTimeout(timeout_raw)),
        };
        let trusted_proxies =
            parse_proxies(&var("SWITCHBOARD_TRUSTED_PROXIES").unwrap_or_default())?;
        let bus = crate::realtime::bus::BusSetting::parse(
            var("SWITCHBOARD_BUS").as_deref(),
            var("SWITCHBOARD_BUS_SUBJECT").as_deref(),
        )
        .map_err(ConfigError::Bus)?;
        let pool_raw = var("SWITCHBOARD_DB_MAX_CONNECTIONS").unwrap_or_else(|| "20".into());
        let db_max_connections = match pool_raw.trim().parse::<u32>() {
            Ok(n) if (2..=1000).contains(&n) => n,
            _ => return Err(ConfigError::DbMaxConnections(pool_raw)),
        };
        let data_dir: PathBuf = var("SWITCHBOARD_DATA_DIR")
            .unwrap_or_else(|| "./data".into())
            .into();
        let store_setting = StoreSetting::parse(var).map_err(ConfigError::AttachmentStore)?;
        let attachment_store = AttachmentStore::open(&store_setting, &data_dir)
            .map_err(|e| ConfigError::AttachmentStore(e.to_string()))?;
        Ok(Config {
            addr,
            attachment_store,
            bus,
            db_max_connections,
            metrics_token: var("SWITCHBOARD_METRICS_TOKEN"),
            socket_timeout,
            trusted_proxies,
            data_dir,
            database_url: var("DATABASE_URL"),
            admin_email: var("SWITCHBOARD_ADMIN_EMAIL"),
            admin_password: var("SWITCHBOARD_ADMIN_PASSWORD"),
            site_root: var("SWITCHBOARD_SITE_ROOT")
                .unwrap_or_else(|| "target/site".into())
                .into(),
            public_url,
        })
    }

    /// Whether cookies get the `Secure` attribute (served over https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The URL with any password replaced by `***`, for error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_proxies, redact_url};

    #[test]
    fn proxies() {
        let p = parse_proxies(" 10.0.0.0/8, 127.0.0.1 ,::1").unwrap();
        assert_eq!(p.len(), 3);
        assert!(p[1].contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        assert!(parse_proxies("").unwrap().is_empty());
        assert!(parse_proxies("10.0.0.0/8,nope").is_err());
    }

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }
}
