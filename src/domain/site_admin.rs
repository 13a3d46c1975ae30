//! Admin settings of sites and groups: create, rename, archive a site, its allowed origins,
//! guest mode and guest group, rotating its identity secret; groups and their specialist
//! members. Every change runs in one transaction with its audit entry, and site edits are
//! checked against the version the admin's form was loaded with (a stale form is refused,
//! never silently overwritten).

use crate::db::admin::{self as q, AdminSiteRow, GroupRow};
use crate::db::{self, Pool};
use crate::domain::secrets::random_token;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

/// The longest site name (the schema's limit).
pub const MAX_SITE_NAME_CHARS: usize = 120;
/// The longest group name (the schema's limit).
pub const MAX_GROUP_NAME_CHARS: usize = 80;

/// Why an admin settings change was refused.
#[derive(Debug, thiserror::Error)]
pub enum SiteAdminError {
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("No such site.")]
    UnknownSite,
    #[error("No such group.")]
    UnknownGroup,
    #[error("No such agent.")]
    UnknownAgent,
    #[error("This site is archived.")]
    Archived,
    /// The form was loaded at an older version; the name is who saved the newer one.
    #[error("This setting was changed by {0}; reload to see it")]
    Stale(String),
    #[error("This site already has a group named {0}.")]
    DuplicateGroup(String),
    /// Removing the last member of the guest group would leave guests with nobody.
    #[error("This is the last member of the guest group. Turn guest mode off or add another member first.")]
    LastGuestMember,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> SiteAdminError {
    SiteAdminError::Invalid {
        field,
        message: message.into(),
    }
}

/// A name: trimmed, 1–`max` characters.
pub(crate) fn name(
    field: &'static str,
    what: &str,
    raw: &str,
    max: usize,
) -> Result<String, SiteAdminError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(invalid(field, format!("{what} is required.")));
    }
    if v.chars().count() > max {
        return Err(invalid(
            field,
            format!("{what} can be at most {max} characters."),
        ));
    }
    Ok(v.to_string())
}

/// One origin as browsers send it: `http` or `https`, a host, an optional port, no path.
/// Returns it lower-cased, without a trailing "/" (which browsers never send).
pub fn parse_origin(raw: &str) -> Option<String> {
    let v = raw.trim().to_ascii_lowercase();
    let v = v.strip_suffix('/').unwrap_or(&v);
    let (scheme, rest) = v.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let (host, port) = match rest.rsplit_once(':') {
        // An IPv6 literal has colons inside its brackets.
        Some((h, p)) if !p.contains(']') => (h, Some(p)),
        _ => (rest, None),
    };
    if let Some(p) = port {
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) || p.parse::<u16>().ok()? == 0 {
            return None;
        }
    }
    let host_ok = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        !inner.is_empty()
            && inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
    } else {
        !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    host_ok.then(|| v.to_string())
}

/// The allowed-origins textarea: one origin per line, blank lines ignored, duplicates
/// dropped. The first malformed line is refused with its (1-based) number.
pub fn parse_origins(text: &str) -> Result<Vec<String>, SiteAdminError> {
    let mut out: Vec<String> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_origin(line) {
            Some(o) if !out.contains(&o) => out.push(o),
            Some(_) => {}
            None => {
                return Err(invalid(
                    "allowed_origins",
                    format!(
                        "Line {}: \u{201c}{}\u{201d} is not an origin. Write scheme, host and \
                         optional port, without a path, like https://shop.example.com or \
                         http://localhost:3000.",
                        i + 1,
                        line.trim()
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// Records a change in the audit log.
pub(crate) async fn audit(
    tx: &mut PgConnection,
    actor: Uuid,
    action: &str,
    entity: &str,
    entity_id: Uuid,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), SiteAdminError> {
    db::audit::record(
        tx,
        db::audit::Entry {
            actor_id: Some(actor),
            action,
            entity,
            entity_id: Some(entity_id.to_string()),
            before,
            after,
        },
    )
    .await?;
    Ok(())
}

/// What the audit log keeps of a site (never its secret).
fn site_json(s: &AdminSiteRow) -> serde_json::Value {
    json!({
        "name": s.name,
        "allowed_origins": s.allowed_origins,
        "guest_mode": s.guest_mode,
        "guest_group_id": s.guest_group_id,
        "archived": s.archived,
    })
}

/// Every site, live ones first.
pub async fn sites(pool: &Pool) -> Result<Vec<AdminSiteRow>, SiteAdminError> {
    Ok(q::list_sites(pool).await?)
}

/// One site.
pub async fn site(pool: &Pool, id: Uuid) -> Result<AdminSiteRow, SiteAdminError> {
    q::find_site(pool, id, false)
        .await?
        .ok_or(SiteAdminError::UnknownSite)
}

/// Creates a site with a generated public key and identity secret.
pub async fn create_site(
    pool: &Pool,
    actor: Uuid,
    raw_name: &str,
) -> Result<AdminSiteRow, SiteAdminError> {
    let name = name("name", "Site name", raw_name, MAX_SITE_NAME_CHARS)?;
    let mut tx = pool.begin().await?;
    let id = q::insert_site(&mut *tx, &random_token(12), &name, &random_token(32), actor).await?;
    let site = q::find_site(&mut *tx, id, false)
        .await?
        .ok_or(SiteAdminError::UnknownSite)?;
    audit(
        &mut tx,
        actor,
        "create_site",
        "site",
        id,
        None,
        Some(site_json(&site)),
    )
    .await?;
    tx.commit().await?;
    Ok(site)
}

/// The site settings form as submitted.
#[derive(Debug, Clone)]
pub struct SiteForm<'a> {
    /// The version the form was loaded at.
    pub version: i32,
    pub name: &'a str,
    pub allowed_origins: &'a str,
    pub guest_mode: bool,
    pub guest_group_id: Option<Uuid>,
}

/// Locks a live site and checks the form's version against it.
pub(crate) async fn lock_current(
    tx: &mut PgConnection,
    id: Uuid,
    version: i32,
) -> Result<AdminSiteRow, SiteAdminError> {
    let site = q::find_site(&mut *tx, id, true)
        .await?
        .ok_or(SiteAdminError::UnknownSite)?;
    if site.archived {
        return Err(SiteAdminError::Archived);
    }
    if site.version != version {
        return Err(SiteAdminError::Stale(
            site.updated_by_name
                .clone()
                .unwrap_or_else(|| "another admin".into()),
        ));
    }
    Ok(site)
}

/// Saves a site's name, allowed origins and guest mode. Enabling guest mode (or changing
/// its group while on) needs a guest group of this site with at least one member, so guests
/// never wait in a queue nobody serves.
pub async fn save_site(
    pool: &Pool,
    actor: Uuid,
    id: Uuid,
    form: SiteForm<'_>,
) -> Result<AdminSiteRow, SiteAdminError> {
    let new_name = name("name", "Site name", form.name, MAX_SITE_NAME_CHARS)?;
    let origins = parse_origins(form.allowed_origins)?;
    let mut tx = pool.begin().await?;
    let before = lock_current(&mut tx, id, form.version).await?;
    if let Some(g) = form.guest_group_id {
        let group = q::find_group(&mut *tx, g).await?;
        if group.is_none_or(|g| g.site_id != id) {
            return Err(invalid("guest_group", "Choose a group of this site."));
        }
    }
    let enabling =
        form.guest_mode && (!before.guest_mode || before.guest_group_id != form.guest_group_id);
    if enabling {
        let Some(g) = form.guest_group_id else {
            return Err(invalid(
                "guest_group",
                "Choose a guest group before turning guest mode on.",
            ));
        };
        if q::member_count(&mut *tx, g).await? == 0 {
            return Err(invalid(
                "guest_group",
                "The guest group has no members. Add at least one agent to it before turning \
                 guest mode on.",
            ));
        }
    }
    q::update_site(
        &mut *tx,
        id,
        actor,
        q::SiteUpdate {
            name: &new_name,
            allowed_origins: &origins,
            guest_mode: form.guest_mode,
            guest_group_id: form.guest_group_id,
        },
    )
    .await?;
    let after = q::find_site(&mut *tx, id, false)
        .await?
        .ok_or(SiteAdminError::UnknownSite)?;
    audit(
        &mut tx,
        actor,
        "update_site",
        "site",
        id,
        Some(site_json(&before)),
        Some(site_json(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Archives a site: its widget stops loading; history stays.
pub async fn archive_site(
    pool: &Pool,
    actor: Uuid,
    id: Uuid,
    version: i32,
) -> Result<(), SiteAdminError> {
    let mut tx = pool.begin().await?;
    let before = lock_current(&mut tx, id, version).await?;
    q::archive_site(&mut *tx, id, actor).await?;
    let after = AdminSiteRow {
        archived: true,
        ..before.clone()
    };
    audit(
        &mut tx,
        actor,
        "archive_site",
        "site",
        id,
        Some(site_json(&before)),
        Some(site_json(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces a site's identity secret and returns the new one (shown to the admin once).
/// identify() reads the current secret, so hashes made with the old one stop verifying at once.
pub async fn rotate_secret(pool: &Pool, actor: Uuid, id: Uuid) -> Result<String, SiteAdminError> {
    let mut tx = pool.begin().await?;
    let site = q::find_site(&mut *tx, id, true)
        .await?
        .ok_or(SiteAdminError::UnknownSite)?;
    if site.archived {
        return Err(SiteAdminError::Archived);
    }
    let secret = random_token(32);
    q::set_identity_secret(&mut *tx, id, &secret, actor).await?;
    // The audit log records that it happened, never the secret itself.
    audit(
        &mut tx,
        actor,
        "rotate_identity_secret",
        "site",
        id,
        None,
        Some(json!({ "identity_secret": "rotated" })),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// A group with its members.
#[derive(Debug, Clone)]
pub struct GroupWithMembers {
    pub group: GroupRow,
    pub members: Vec<q::MemberRow>,
}

/// The live groups of a site with their members.
pub async fn groups(pool: &Pool, site_id: Uuid) -> Result<Vec<GroupWithMembers>, SiteAdminError> {
    let groups = q::groups_of_site(pool, site_id).await?;
    let mut members = q::members_of_site(pool, site_id).await?;
    Ok(groups
        .into_iter()
        .map(|group| {
            let (mine, rest) = std::mem::take(&mut members)
                .into_iter()
                .partition(|m| m.group_id == group.id);
            members = rest;
            GroupWithMembers {
                group,
                members: mine,
            }
        })
        .collect())
}

/// Creates a group of a site.
pub async fn create_group(
    pool: &Pool,
    actor: Uuid,
    site_id: Uuid,
    raw_name: &str,
) -> Result<GroupRow, SiteAdminError> {
    let name = name("name", "Group name", raw_name, MAX_GROUP_NAME_CHARS)?;
    let mut tx = pool.begin().await?;
    let site = q::find_site(&mut *tx, site_id, false)
        .await?
        .ok_or(SiteAdminError::UnknownSite)?;
    if site.archived {
        return Err(SiteAdminError::Archived);
    }
    let group = q::insert_group(&mut *tx, site_id, &name)
        .await?
        .ok_or_else(|| SiteAdminError::DuplicateGroup(name.clone()))?;
    audit(
        &mut tx,
        actor,
        "create_group",
        "group",
        group.id,
        None,
        Some(json!({ "site_id": site_id, "name": group.name })),
    )
    .await?;
    tx.commit().await?;
    Ok(group)
}

/// Adds an agent to a group at level 1 (serves visitor-initiated chats) or 2 (only
/// transferred chats); an agent already in the group gets the new level.
pub async fn add_member(
    pool: &Pool,
    actor: Uuid,
    group_id: Uuid,
    user_id: Uuid,
    level: i16,
) -> Result<(), SiteAdminError> {
    if !(1..=2).contains(&level) {
        return Err(invalid("level", "Choose level 1 or level 2."));
    }
    let mut tx = pool.begin().await?;
    q::find_group(&mut *tx, group_id)
        .await?
        .ok_or(SiteAdminError::UnknownGroup)?;
    let user = db::users::find(&mut *tx, user_id)
        .await?
        .filter(|u| u.info().active)
        .ok_or(SiteAdminError::UnknownAgent)?;
    let old = q::upsert_member(&mut *tx, group_id, user_id, level).await?;
    let member = |level: i16| json!({ "user_id": user_id, "name": user.name, "level": level });
    audit(
        &mut tx,
        actor,
        "add_group_member",
        "group",
        group_id,
        old.map(member),
        Some(member(level)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes an agent from a group.
pub async fn remove_member(
    pool: &Pool,
    actor: Uuid,
    group_id: Uuid,
    user_id: Uuid,
) -> Result<(), SiteAdminError> {
    let mut tx = pool.begin().await?;
    let level = q::delete_member(&mut *tx, group_id, user_id)
        .await?
        .ok_or(SiteAdminError::UnknownAgent)?;
    if q::member_count(&mut *tx, group_id).await? == 0
        && q::serves_guests(&mut *tx, group_id).await?
    {
        return Err(SiteAdminError::LastGuestMember);
    }
    audit(
        &mut tx,
        actor,
        "remove_group_member",
        "group",
        group_id,
        Some(json!({ "user_id": user_id, "level": level })),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_origin, parse_origins, SiteAdminError};

    #[test]
    fn origins() {
        assert_eq!(
            parse_origin("https://Shop.Example.com/").as_deref(),
            Some("https://shop.example.com")
        );
        assert_eq!(
            parse_origin("http://localhost:3000").as_deref(),
            Some("http://localhost:3000")
        );
        assert!(parse_origin("http://[::1]:8080").is_some());
        for bad in [
            "shop.example.com",
            "ftp://shop.example.com",
            "https://shop.example.com/path",
            "https://shop.example.com:",
            "https://shop.example.com:99999",
            "https://",
            "https://bad host",
            "https://a..b",
            "https://shop.example.com?x=1",
        ] {
            assert_eq!(parse_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn origin_lines() {
        let ok =
            parse_origins("https://a.example\n\n  http://localhost:3000 \nhttps://a.example\n")
                .unwrap();
        assert_eq!(ok, vec!["https://a.example", "http://localhost:3000"]);
        match parse_origins("https://a.example\n\nhttps://b.example/shop") {
            Err(SiteAdminError::Invalid { field, message }) => {
                assert_eq!(field, "allowed_origins");
                assert!(message.starts_with("Line 3: "), "{message}");
                assert!(message.contains("is not an origin"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
