//! Rules for what a site says on its own: an auto-greeting posted as a system message when
//! a chat starts, a busy reply when nobody has answered a waiting chat within N minutes,
//! and an away message shown above the offline form.
//!
//! Stored in `sites.greetings` as `{"greeting":…, "busy_text":…, "busy_minutes":…,
//! "away":…}`; an absent or empty text means "don't say it".

use crate::db::{self, Pool};
use crate::domain::site_admin::{audit, invalid, lock_current, SiteAdminError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The busy reply's text when the admin leaves it empty but sets the minutes.
pub const DEFAULT_BUSY_TEXT: &str = "All our agents are busy; we'll be with you shortly";

/// Longest greeting / reply / away text (a chat message's own limit is 5,000).
pub const MAX_TEXT_CHARS: usize = 1_000;

/// The busy reply may wait at most a day.
pub const MAX_BUSY_MINUTES: i32 = 1_440;

/// The idempotency keys of the automatic messages: each is posted at most once per
/// conversation (the unique key decides, also across nodes).
pub const GREETING_KEY: &str = "auto:greeting";
/// See [`GREETING_KEY`].
pub const BUSY_KEY: &str = "auto:busy";

/// A site's greetings as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Greetings {
    pub greeting: Option<String>,
    pub busy_text: Option<String>,
    /// Minutes a waiting, unanswered chat waits before the busy reply; `None` = never.
    pub busy_minutes: Option<i32>,
    pub away: Option<String>,
}

impl Greetings {
    /// Reads the stored document; anything unreadable counts as "say nothing".
    pub fn from_stored(v: serde_json::Value) -> Greetings {
        serde_json::from_value(v).unwrap_or_default()
    }
}

/// The greetings form as typed.
#[derive(Debug, Clone, Copy, Default)]
pub struct GreetingsForm<'a> {
    pub greeting: &'a str,
    pub busy_text: &'a str,
    /// Empty = no busy reply.
    pub busy_minutes: &'a str,
    pub away: &'a str,
}

fn text(field: &'static str, raw: &str) -> Result<Option<String>, SiteAdminError> {
    let t = raw.trim();
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(
            field,
            format!("At most {MAX_TEXT_CHARS} characters."),
        ));
    }
    Ok((!t.is_empty()).then(|| t.to_string()))
}

/// Checks the form.
pub fn parse(form: &GreetingsForm<'_>) -> Result<Greetings, SiteAdminError> {
    let busy_minutes = match form.busy_minutes.trim() {
        "" => None,
        m => match m.parse::<i32>() {
            Ok(n) if (1..=MAX_BUSY_MINUTES).contains(&n) => Some(n),
            _ => {
                return Err(invalid(
                    "busy_minutes",
                    format!("Enter whole minutes from 1 to {MAX_BUSY_MINUTES}, or leave it empty."),
                ))
            }
        },
    };
    let busy_text = text("busy_text", form.busy_text)?;
    Ok(Greetings {
        greeting: text("greeting", form.greeting)?,
        busy_text: busy_text.or_else(|| busy_minutes.map(|_| DEFAULT_BUSY_TEXT.to_string())),
        busy_minutes,
        away: text("away", form.away)?,
    })
}

/// A site's greetings.
pub async fn load(pool: &Pool, site_id: Uuid) -> Result<Greetings, SiteAdminError> {
    Ok(Greetings::from_stored(
        db::site_settings::greetings(pool, site_id).await?,
    ))
}

/// Saves a site's greetings if the form's `version` is current; audited.
pub async fn save(
    pool: &Pool,
    actor: Uuid,
    site_id: Uuid,
    version: i32,
    form: &GreetingsForm<'_>,
) -> Result<Greetings, SiteAdminError> {
    let greetings = parse(form)?;
    let mut tx = pool.begin().await?;
    lock_current(&mut tx, site_id, version).await?;
    let before = db::site_settings::greetings(&mut *tx, site_id).await?;
    let after = serde_json::to_value(&greetings).unwrap_or_default();
    db::site_settings::set_greetings(&mut *tx, site_id, actor, &after).await?;
    audit(
        &mut tx,
        actor,
        "update_greetings",
        "site",
        site_id,
        Some(before),
        Some(after),
    )
    .await?;
    tx.commit().await?;
    Ok(greetings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_and_default_busy_text() {
        let g = parse(&GreetingsForm {
            greeting: "  Hello! ",
            busy_minutes: "3",
            ..Default::default()
        })
        .unwrap();
        assert_eq!(g.greeting.as_deref(), Some("Hello!"));
        assert_eq!(g.busy_minutes, Some(3));
        assert_eq!(g.busy_text.as_deref(), Some(DEFAULT_BUSY_TEXT));
        assert_eq!(g.away, None);
        for bad in ["0", "-1", "1441", "two", "1.5"] {
            let r = parse(&GreetingsForm {
                busy_minutes: bad,
                ..Default::default()
            });
            assert!(
                matches!(
                    r,
                    Err(SiteAdminError::Invalid {
                        field: "busy_minutes",
                        ..
                    })
                ),
                "{bad}"
            );
        }
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        let r = parse(&GreetingsForm {
            away: &long,
            ..Default::default()
        });
        assert!(matches!(
            r,
            Err(SiteAdminError::Invalid { field: "away", .. })
        ));
    }
}
