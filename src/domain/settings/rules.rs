//! Rules for how a site's chats are served: assignment mode, transfer rules and response-time targets.
//!
//! Every value is read from `sites` where it is used (auto-assignment reads the mode on each
//! run, "Transfer" the direct level-2 rule on each transfer, the workspace lists the targets
//! on each fetch), so a saved change applies at once, without a restart. Saves carry the
//! site's version (a stale form is refused) and are audited with before and after.

use crate::db::{self, site_rules::RulesRow, Pool};
use crate::domain::conversations::auto_assign::AssignmentMode;
use crate::domain::site_admin::{audit, invalid, lock_current, SiteAdminError};
use crate::model::Overdue;
use time::OffsetDateTime;
use uuid::Uuid;

/// The longest target an admin may set, in minutes: 30 days.
pub const MAX_TARGET_MINUTES: i32 = 30 * 24 * 60;

/// A site's serving rules with the version a form must send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRules {
    pub site_id: Uuid,
    pub version: i32,
    pub rules: RulesRow,
}

/// What a save did: the rules as they are now, and whether auto-assignment should run
/// (the mode changed to one that assigns: chats already waiting are handed out now rather
/// than at the next new chat).
#[derive(Debug, Clone)]
pub struct Saved {
    pub rules: SiteRules,
    pub assign_now: bool,
}

/// The "Assignment mode" select as submitted: exactly one of the stored names.
pub fn parse_mode(raw: &str) -> Result<AssignmentMode, SiteAdminError> {
    match raw.trim() {
        "off" => Ok(AssignmentMode::Off),
        "round_robin" => Ok(AssignmentMode::RoundRobin),
        "least_busy" => Ok(AssignmentMode::LeastBusy),
        _ => Err(invalid(
            "assignment_mode",
            "Choose off, round robin or least busy.",
        )),
    }
}

/// A target field in minutes: empty means no target; otherwise a whole number from 1 to
/// [`MAX_TARGET_MINUTES`]. Returns seconds, as stored.
pub fn parse_target(
    field: &'static str,
    what: &str,
    raw: &str,
) -> Result<Option<i32>, SiteAdminError> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let minutes: i64 = v.parse().map_err(|_| {
        invalid(
            field,
            format!("{what}: enter a whole number of minutes, or leave it empty for no target."),
        )
    })?;
    if !(1..=i64::from(MAX_TARGET_MINUTES)).contains(&minutes) {
        return Err(invalid(
            field,
            format!("{what} must be from 1 to {MAX_TARGET_MINUTES} minutes (30 days)."),
        ));
    }
    // In range, so the product fits an i32 (30 days = 2,592,000 s).
    Ok(Some(minutes as i32 * 60))
}

/// Both targets, checked together: a chat cannot be resolved before its first response, so
/// a resolution target shorter than the first-response target is a mistake.
pub fn parse_targets(
    first_response: &str,
    resolution: &str,
) -> Result<(Option<i32>, Option<i32>), SiteAdminError> {
    let first = parse_target(
        "first_response_minutes",
        "First-response target",
        first_response,
    )?;
    let resolve = parse_target("resolution_minutes", "Resolution target", resolution)?;
    if let (Some(f), Some(r)) = (first, resolve) {
        if r < f {
            return Err(invalid(
                "resolution_minutes",
                "The resolution target cannot be shorter than the first-response target.",
            ));
        }
    }
    Ok((first, resolve))
}

/// A chat as its site's response-time targets see it: what "Overdue" is computed from.
#[derive(Debug, Clone, Copy)]
pub struct ChatClock<'a> {
    pub status: &'a str,
    /// When it last started waiting (a reopened chat waits anew).
    pub waiting_since: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub first_response_secs: Option<i32>,
    pub resolution_secs: Option<i32>,
}

impl ChatClock<'_> {
    /// Whether the chat passed a target at `now`: waiting longer than the first-response
    /// target (counted from when it started waiting), else open (waiting, assigned, active)
    /// longer than the resolution target.
    pub fn overdue(&self, now: OffsetDateTime) -> Option<Overdue> {
        let passed =
            |since: OffsetDateTime, secs: i32| (now - since).whole_seconds() > i64::from(secs);
        if let (Some(t), Some(since)) = (self.first_response_secs, self.first_response_from()) {
            if passed(since, t) {
                return Some(Overdue::FirstResponse);
            }
        }
        match self.resolution_secs {
            Some(t) if self.open() && passed(self.created_at, t) => Some(Overdue::Resolution),
            _ => None,
        }
    }

    /// Seconds from `now` until the next target not passed yet would pass, so a list can
    /// fetch again then and show "Overdue" without waiting for another change. `None`: no
    /// target ahead (none set, or all passed).
    pub fn overdue_in(&self, now: OffsetDateTime) -> Option<i64> {
        // `overdue` flags a chat once more than `secs` have gone by: one second after the mark.
        let left = |since: OffsetDateTime, secs: i32| {
            Some(i64::from(secs) + 1 - (now - since).whole_seconds()).filter(|s| *s > 0)
        };
        let first = match (self.first_response_secs, self.first_response_from()) {
            (Some(t), Some(since)) => left(since, t),
            _ => None,
        };
        let resolution = match self.resolution_secs {
            Some(t) if self.open() => left(self.created_at, t),
            _ => None,
        };
        match (first, resolution) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Where the first-response clock starts; `None` unless the chat is waiting.
    fn first_response_from(&self) -> Option<OffsetDateTime> {
        (self.status == "waiting").then(|| self.waiting_since.unwrap_or(self.created_at))
    }

    fn open(&self) -> bool {
        matches!(self.status, "waiting" | "assigned" | "active")
    }
}

/// What the audit log keeps of the rules.
fn rules_json(r: &RulesRow) -> serde_json::Value {
    serde_json::json!({
        "assignment_mode": r.assignment_mode,
        "allow_direct_level2": r.allow_direct_level2,
    })
}

/// What the audit log keeps of the targets.
fn targets_json(r: &RulesRow) -> serde_json::Value {
    serde_json::json!({
        "first_response_target_secs": r.first_response_target_secs,
        "resolution_target_secs": r.resolution_target_secs,
    })
}

/// The rules of a site (archived ones too: an admin may look).
pub async fn rules(pool: &Pool, site_id: Uuid) -> Result<SiteRules, SiteAdminError> {
    let site = crate::domain::site_admin::site(pool, site_id).await?;
    let rules = db::site_rules::find(pool, site_id)
        .await?
        .ok_or(SiteAdminError::UnknownSite)?;
    Ok(SiteRules {
        site_id,
        version: site.version,
        rules,
    })
}

/// The assignment and transfer form as submitted.
#[derive(Debug, Clone)]
pub struct RulesForm<'a> {
    /// The version the form was loaded at.
    pub version: i32,
    pub assignment_mode: &'a str,
    pub allow_direct_level2: bool,
}

/// Saves the assignment mode and the transfer rule, if the site is still at the form's
/// version; audited with before and after.
pub async fn save_rules(
    pool: &Pool,
    actor: Uuid,
    site_id: Uuid,
    form: RulesForm<'_>,
) -> Result<Saved, SiteAdminError> {
    let mode = parse_mode(form.assignment_mode)?;
    let mut tx = pool.begin().await?;
    let site = lock_current(&mut tx, site_id, form.version).await?;
    let before = db::site_rules::find(&mut *tx, site_id)
        .await?
        .ok_or(SiteAdminError::UnknownSite)?;
    db::site_rules::set_rules(
        &mut *tx,
        site_id,
        actor,
        mode.as_str(),
        form.allow_direct_level2,
    )
    .await?;
    let after = RulesRow {
        assignment_mode: mode.as_str().to_string(),
        allow_direct_level2: form.allow_direct_level2,
        ..before.clone()
    };
    audit(
        &mut tx,
        actor,
        "update_rules",
        "site",
        site_id,
        Some(rules_json(&before)),
        Some(rules_json(&after)),
    )
    .await?;
    tx.commit().await?;
    let assign_now = mode != AssignmentMode::Off && before.assignment_mode != mode.as_str();
    Ok(Saved {
        rules: SiteRules {
            site_id,
            version: site.version + 1,
            rules: after,
        },
        assign_now,
    })
}

/// The targets form as submitted (minutes as typed; empty = no target).
#[derive(Debug, Clone)]
pub struct TargetsForm<'a> {
    /// The version the form was loaded at.
    pub version: i32,
    pub first_response_minutes: &'a str,
    pub resolution_minutes: &'a str,
}

/// Saves the response-time targets, if the site is still at the form's version; audited
/// with before and after.
pub async fn save_targets(
    pool: &Pool,
    actor: Uuid,
    site_id: Uuid,
    form: TargetsForm<'_>,
) -> Result<SiteRules, SiteAdminError> {
    let (first, resolve) = parse_targets(form.first_response_minutes, form.resolution_minutes)?;
    let mut tx = pool.begin().await?;
    let site = lock_current(&mut tx, site_id, form.version).await?;
    let before = db::site_rules::find(&mut *tx, site_id)
        .await?
        .ok_or(SiteAdminError::UnknownSite)?;
    db::site_rules::set_targets(&mut *tx, site_id, actor, first, resolve).await?;
    let after = RulesRow {
        first_response_target_secs: first,
        resolution_target_secs: resolve,
        ..before.clone()
    };
    audit(
        &mut tx,
        actor,
        "update_targets",
        "site",
        site_id,
        Some(targets_json(&before)),
        Some(targets_json(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(SiteRules {
        site_id,
        version: site.version + 1,
        rules: after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(
        status: &str,
        waiting_since: Option<OffsetDateTime>,
        created_at: OffsetDateTime,
        first_response_secs: Option<i32>,
        resolution_secs: Option<i32>,
    ) -> ChatClock<'_> {
        ChatClock {
            status,
            waiting_since,
            created_at,
            first_response_secs,
            resolution_secs,
        }
    }
    use time::Duration;

    fn field_of(e: SiteAdminError) -> &'static str {
        match e {
            SiteAdminError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn modes() {
        assert_eq!(
            parse_mode("round_robin").unwrap(),
            AssignmentMode::RoundRobin
        );
        assert_eq!(
            parse_mode(" least_busy ").unwrap(),
            AssignmentMode::LeastBusy
        );
        assert_eq!(parse_mode("off").unwrap(), AssignmentMode::Off);
        assert_eq!(
            field_of(parse_mode("random").unwrap_err()),
            "assignment_mode"
        );
        assert_eq!(field_of(parse_mode("").unwrap_err()), "assignment_mode");
    }

    #[test]
    fn targets() {
        assert_eq!(parse_targets("", " ").unwrap(), (None, None));
        assert_eq!(parse_targets("1", "60").unwrap(), (Some(60), Some(3600)));
        assert_eq!(
            parse_targets("43200", "").unwrap(),
            (Some(43200 * 60), None)
        );
        for bad in ["0", "-5", "1.5", "ten", "43201", "99999999999999"] {
            assert_eq!(
                field_of(parse_targets(bad, "").unwrap_err()),
                "first_response_minutes",
                "{bad}"
            );
            assert_eq!(
                field_of(parse_targets("", bad).unwrap_err()),
                "resolution_minutes",
                "{bad}"
            );
        }
        assert_eq!(
            field_of(parse_targets("30", "10").unwrap_err()),
            "resolution_minutes"
        );
    }

    #[test]
    fn overdue_flags() {
        let now = OffsetDateTime::now_utc();
        let ago = |m: i64| now - Duration::minutes(m);
        // Waiting 2 min with a 1-minute target: first response passed.
        assert_eq!(
            clock("waiting", Some(ago(2)), ago(2), Some(60), None).overdue(now),
            Some(Overdue::FirstResponse)
        );
        // Exactly at the target is not past it.
        assert_eq!(
            clock("waiting", Some(ago(1)), ago(1), Some(60), None).overdue(now),
            None
        );
        // No target, no flag.
        assert_eq!(
            clock("waiting", Some(ago(600)), ago(600), None, None).overdue(now),
            None
        );
        // Reopened: counted from when it waits again, but the chat itself is old.
        assert_eq!(
            clock("waiting", Some(ago(0)), ago(90), Some(60), Some(3600)).overdue(now),
            Some(Overdue::Resolution)
        );
        // An open chat past the resolution target; the first-response target no longer applies.
        assert_eq!(
            clock("active", None, ago(61), Some(60), Some(3600)).overdue(now),
            Some(Overdue::Resolution)
        );
        assert_eq!(
            clock("assigned", None, ago(59), Some(60), Some(3600)).overdue(now),
            None
        );
        // Resolved chats are never overdue.
        assert_eq!(
            clock("resolved", None, ago(999), Some(60), Some(60)).overdue(now),
            None
        );
    }

    #[test]
    fn time_until_overdue() {
        let now = OffsetDateTime::now_utc();
        let ago = |secs: i64| now - time::Duration::seconds(secs);
        // Waiting 50 s of a 60 s first-response target: flagged 11 s from now.
        assert_eq!(
            clock("waiting", Some(ago(50)), ago(50), Some(60), None).overdue_in(now),
            Some(11)
        );
        // The sooner of the two targets.
        assert_eq!(
            clock("waiting", Some(ago(10)), ago(3590), Some(60), Some(3600)).overdue_in(now),
            Some(11)
        );
        // Past the first-response target: only the resolution target is ahead.
        assert_eq!(
            clock("waiting", Some(ago(100)), ago(100), Some(60), Some(3600)).overdue_in(now),
            Some(3501)
        );
        // An assigned chat has no first-response target to pass.
        assert_eq!(
            clock("assigned", Some(ago(10)), ago(10), Some(60), None).overdue_in(now),
            None
        );
        // All passed, none set, or resolved: nothing ahead.
        assert_eq!(
            clock("active", None, ago(99), Some(60), Some(60)).overdue_in(now),
            None
        );
        assert_eq!(
            clock("waiting", None, ago(1), None, None).overdue_in(now),
            None
        );
        assert_eq!(
            clock("resolved", None, ago(1), Some(60), Some(60)).overdue_in(now),
            None
        );
        // At the moment `overdue_in` names, `overdue` flags it.
        let due = clock("waiting", Some(ago(50)), ago(50), Some(60), None)
            .overdue_in(now)
            .unwrap();
        let then = now + time::Duration::seconds(due);
        assert!(clock("waiting", Some(ago(50)), ago(50), Some(60), None)
            .overdue(then)
            .is_some());
    }
}
