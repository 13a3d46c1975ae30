//! Rules for when a site is open: a weekly schedule in the site's time zone, plus holidays.
//! Outside those hours the widget is offline (it offers the offline form) whatever the
//! agents' "Available" switches say. A site without a schedule (`sites.working_hours` null)
//! is always open.
//!
//! Stored as `{"time_zone":"Europe/Paris","weekly":{"mon":["09:00","17:00"],…},
//! "holidays":["2026-12-25"]}`; a day missing from `weekly` is closed all day.

use crate::db::{self, Pool};
use crate::domain::site_admin::{audit, invalid, lock_current, SiteAdminError};
use jiff::{civil, tz::TimeZone, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Day keys in the order of the week (one list for server and form: `model::DAY_KEYS`).
pub const DAYS: [&str; 7] = crate::model::DAY_KEYS;

/// At most this many holidays per site (one per line in the form).
pub const MAX_HOLIDAYS: usize = 366;

/// The stored schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingHours {
    /// An IANA time zone name, e.g. "Europe/Paris".
    pub time_zone: String,
    /// Day key → ["HH:MM" opens, "HH:MM" closes]; missing = closed.
    pub weekly: BTreeMap<String, [String; 2]>,
    /// Dates ("YYYY-MM-DD") the site is closed all day.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// The schedule as the admin typed it: per day (Monday first) "from" and "until" times
/// (both empty = closed), and holidays one date per line.
#[derive(Debug, Clone, Default)]
pub struct HoursForm<'a> {
    /// `false` = always open (the schedule is cleared).
    pub enabled: bool,
    pub time_zone: &'a str,
    pub days: [(&'a str, &'a str); 7],
    pub holidays: &'a str,
}

fn minutes(raw: &str) -> Option<u16> {
    let (h, m) = raw.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.get(..2)?.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Checks the form and turns it into the stored schedule (`None`: always open).
pub fn parse(form: &HoursForm<'_>) -> Result<Option<WorkingHours>, SiteAdminError> {
    if !form.enabled {
        return Ok(None);
    }
    let zone = form.time_zone.trim();
    if zone.is_empty() {
        return Err(invalid(
            "time_zone",
            "Enter a time zone, e.g. Europe/Paris.",
        ));
    }
    if TimeZone::get(zone).is_err() {
        return Err(invalid(
            "time_zone",
            format!(
                "Unknown time zone \"{zone}\". Use a name like Europe/Paris or America/New_York."
            ),
        ));
    }
    let mut weekly = BTreeMap::new();
    for (i, (from, until)) in form.days.iter().enumerate() {
        let day = DAYS[i];
        let (from, until) = (from.trim(), until.trim());
        if from.is_empty() && until.is_empty() {
            continue;
        }
        let field = day;
        let (Some(opens), Some(closes)) = (minutes(from), minutes(until)) else {
            return Err(invalid(
                field,
                "Enter both times as HH:MM, or leave both empty for a closed day.",
            ));
        };
        if closes <= opens {
            return Err(invalid(
                field,
                "The closing time must be after the opening time.",
            ));
        }
        weekly.insert(day.to_string(), [hhmm(opens), hhmm(closes)]);
    }
    let mut holidays = Vec::new();
    for (n, line) in form.holidays.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let date: civil::Date = line.parse().map_err(|_| {
            invalid(
                "holidays",
                format!("Line {}: \"{line}\" is not a date (use YYYY-MM-DD).", n + 1),
            )
        })?;
        holidays.push(date.to_string());
    }
    holidays.sort();
    holidays.dedup();
    if holidays.len() > MAX_HOLIDAYS {
        return Err(invalid(
            "holidays",
            format!("At most {MAX_HOLIDAYS} holidays."),
        ));
    }
    Ok(Some(WorkingHours {
        time_zone: zone.to_string(),
        weekly,
        holidays,
    }))
}

impl WorkingHours {
    /// Whether the site is open at `now`. An unreadable time zone counts as open: a broken
    /// setting must not silently turn every visitor away (saving validates it anyway).
    pub fn is_open(&self, now: Timestamp) -> bool {
        let Ok(tz) = TimeZone::get(&self.time_zone) else {
            return true;
        };
        let local = now.to_zoned(tz);
        let date = local.date().to_string();
        if self.holidays.contains(&date) {
            return false;
        }
        let day = DAYS[usize::from(local.weekday().to_monday_one_offset().unsigned_abs()) - 1];
        let Some([from, until]) = self.weekly.get(day) else {
            return false;
        };
        let minute =
            u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0);
        match (minutes(from), minutes(until)) {
            (Some(opens), Some(closes)) => (opens..closes).contains(&minute),
            _ => true,
        }
    }
}

/// Whether a site with this stored schedule (null = none) is open at `now`.
pub fn open_at(stored: Option<&serde_json::Value>, now: Timestamp) -> bool {
    match stored.map(|v| serde_json::from_value::<WorkingHours>(v.clone())) {
        None => true,
        Some(Ok(hours)) => hours.is_open(now),
        // Unreadable (hand-edited) schedule: open, as above.
        Some(Err(_)) => true,
    }
}

/// A site's schedule as stored (`None`: always open).
pub async fn load(pool: &Pool, site_id: Uuid) -> Result<Option<WorkingHours>, SiteAdminError> {
    let raw = db::site_settings::working_hours(pool, site_id).await?;
    Ok(raw.and_then(|v| serde_json::from_value(v).ok()))
}

/// Saves a site's schedule if the form's `version` is current; audited.
pub async fn save(
    pool: &Pool,
    actor: Uuid,
    site_id: Uuid,
    version: i32,
    form: &HoursForm<'_>,
) -> Result<Option<WorkingHours>, SiteAdminError> {
    let hours = parse(form)?;
    let mut tx = pool.begin().await?;
    lock_current(&mut tx, site_id, version).await?;
    let before = db::site_settings::working_hours(&mut *tx, site_id).await?;
    let after = hours
        .as_ref()
        .map(|h| serde_json::to_value(h).unwrap_or_default());
    db::site_settings::set_working_hours(&mut *tx, site_id, actor, after.as_ref()).await?;
    audit(
        &mut tx,
        actor,
        "update_working_hours",
        "site",
        site_id,
        Some(before.unwrap_or(serde_json::Value::Null)),
        Some(after.unwrap_or(serde_json::Value::Null)),
    )
    .await?;
    tx.commit().await?;
    Ok(hours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form<'a>(days: [(&'a str, &'a str); 7], holidays: &'a str) -> HoursForm<'a> {
        HoursForm {
            enabled: true,
            time_zone: "Europe/Paris",
            days,
            holidays,
        }
    }

    const WEEKDAYS: [(&str, &str); 7] = [
        ("09:00", "17:00"),
        ("09:00", "17:00"),
        ("09:00", "17:00"),
        ("09:00", "17:00"),
        ("09:00", "17:00"),
        ("", ""),
        ("", ""),
    ];

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn open_in_the_sites_time_zone() {
        let h = parse(&form(WEEKDAYS, "2026-12-25")).unwrap().unwrap();
        // Monday 2026-11-23: 08:30 UTC is 09:30 in Paris (open); 16:30 UTC is 17:30 (closed).
        assert!(h.is_open(at("2026-11-23T08:30:00Z")));
        assert!(!h.is_open(at("2026-11-23T07:59:00Z")));
        assert!(!h.is_open(at("2026-11-23T16:30:00Z")));
        // Saturday closed; a holiday (Friday) closed.
        assert!(!h.is_open(at("2026-11-28T10:00:00Z")));
        assert!(!h.is_open(at("2026-12-25T10:00:00Z")));
        assert!(h.is_open(at("2026-12-24T10:00:00Z")));
    }

    #[test]
    fn disabled_means_always_open() {
        let f = HoursForm {
            enabled: false,
            ..form(WEEKDAYS, "")
        };
        assert_eq!(parse(&f).unwrap(), None);
        assert!(open_at(None, at("2026-11-28T03:00:00Z")));
    }

    #[test]
    fn bad_input_names_the_field() {
        let field = |r: Result<Option<WorkingHours>, SiteAdminError>| match r {
            Err(SiteAdminError::Invalid { field, message }) => (field, message),
            other => panic!("{other:?}"),
        };
        let mut days = WEEKDAYS;
        days[2] = ("17:00", "09:00");
        assert_eq!(field(parse(&form(days, ""))).0, "wed");
        days[2] = ("9", "");
        assert_eq!(field(parse(&form(days, ""))).0, "wed");
        let (f, m) = field(parse(&form(WEEKDAYS, "2026-12-25\nxmas")));
        assert_eq!(f, "holidays");
        assert!(m.starts_with("Line 2:"), "{m}");
        let bad_zone = HoursForm {
            time_zone: "Mars/Olympus",
            ..form(WEEKDAYS, "")
        };
        assert_eq!(field(parse(&bad_zone)).0, "time_zone");
    }
}
