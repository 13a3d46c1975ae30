//! What agents learn about a visitor's visit: browser and OS (from the User-Agent), IP,
//! the page they are on (the loader reports page changes), referrer, language, time zone.
//! Kept in `contacts.metadata`, newest values win.

use crate::db::{self, Pool};
use serde::Serialize;
use uuid::Uuid;

/// What the widget reports (lengths are capped; anything longer is cut, not refused, since
/// the visitor did not type it).
#[derive(Debug, Clone, Default)]
pub struct PageReport<'a> {
    pub url: Option<&'a str>,
    pub title: Option<&'a str>,
    pub referrer: Option<&'a str>,
    pub language: Option<&'a str>,
    pub time_zone: Option<&'a str>,
}

/// The metadata document stored for a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisitMetadata {
    pub browser: String,
    pub os: String,
    pub ip: String,
    pub page_url: Option<String>,
    pub page_title: Option<String>,
    pub referrer: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
}

fn cap(v: Option<&str>, max: usize) -> Option<String> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(max).collect())
}

/// Only http(s) URLs are kept (no `javascript:` for an agent to click).
fn web_url(v: Option<&str>) -> Option<String> {
    cap(v, 2048).filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

/// Browser and OS names, e.g. ("Chrome 120.0", "Windows 10"), from a User-Agent header.
pub fn browser_and_os(user_agent: &str) -> (String, String) {
    let known = |s: &str| !s.is_empty() && s != "UNKNOWN";
    match woothee::parser::Parser::new().parse(user_agent) {
        Some(r) if known(r.name) => {
            let browser = if !known(r.version) {
                r.name.to_string()
            } else {
                format!("{} {}", r.name, r.version)
            };
            let os = if !known(r.os) {
                "Unknown".to_string()
            } else if !known(&r.os_version) {
                r.os.to_string()
            } else {
                format!("{} {}", r.os, r.os_version)
            };
            (browser, os)
        }
        _ => ("Unknown".into(), "Unknown".into()),
    }
}

/// Builds the metadata for one report.
pub fn metadata(user_agent: &str, ip: &str, page: &PageReport<'_>) -> VisitMetadata {
    let (browser, os) = browser_and_os(user_agent);
    VisitMetadata {
        browser,
        os,
        ip: ip.to_string(),
        page_url: web_url(page.url),
        page_title: cap(page.title, 300),
        referrer: web_url(page.referrer),
        language: cap(page.language, 35),
        time_zone: cap(page.time_zone, 64),
    }
}

/// Records a visit report for a contact.
pub async fn record(pool: &Pool, contact: Uuid, meta: &VisitMetadata) -> sqlx::Result<()> {
    let doc = serde_json::to_value(meta).unwrap_or_default();
    db::contacts::merge_metadata(pool, contact, &doc).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents() {
        let (b, o) = browser_and_os(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        );
        assert!(b.starts_with("Chrome"), "{b}");
        assert!(o.starts_with("Windows"), "{o}");
        let (b, o) = browser_and_os(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        );
        assert!(b.starts_with("Safari"), "{b}");
        assert!(o.starts_with("iPhone"), "{o}");
        assert_eq!(browser_and_os("").0, "Unknown");
    }

    #[test]
    fn pages_are_capped_and_only_web_urls_kept() {
        let long = "t".repeat(500);
        let m = metadata(
            "",
            "203.0.113.7",
            &PageReport {
                url: Some("javascript:alert(1)"),
                title: Some(&long),
                referrer: Some("https://search.example/?q=shoes"),
                language: Some("de-CH"),
                time_zone: Some("Europe/Zurich"),
            },
        );
        assert_eq!(m.page_url, None);
        assert_eq!(m.page_title.unwrap().chars().count(), 300);
        assert_eq!(
            m.referrer.as_deref(),
            Some("https://search.example/?q=shoes")
        );
        assert_eq!(m.ip, "203.0.113.7");
    }
}
