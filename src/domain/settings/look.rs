//! Rules for how a site's widget looks and what it accepts: pre-chat fields, appearance
//! (colour, position, title, welcome, language) and attachments.
//!
//! Each area is saved on its own, in one transaction with its audit entry, under the site's
//! version check (`site_admin::lock_current`): a form loaded before someone else's save is
//! refused, never silently overwritten. The widget and the upload path read these columns on
//! every request, so a save takes effect at once.

use crate::db::site_look::{self as q, LookRow};
use crate::db::Pool;
use crate::domain::site_admin::{audit, invalid, lock_current, SiteAdminError};
use crate::model::{is_hex_color, Appearance, PreChat};
use crate::ui::widget::text;
use serde_json::json;
use uuid::Uuid;

/// The longest widget title.
pub const MAX_TITLE_CHARS: usize = 80;
/// The longest welcome text.
pub const MAX_WELCOME_CHARS: usize = 500;
/// The attachment size limit's range, in MB (1 MB = 1,048,576 bytes, as the widget shows it).
pub const MAX_MB_RANGE: std::ops::RangeInclusive<i64> = 1..=100;
/// Bytes in one MB.
pub const MB: i64 = 1024 * 1024;
/// The most attachment types a site may list.
pub const MAX_TYPES: usize = 50;

/// A site's look settings as the admin page shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookSettings {
    pub site_id: Uuid,
    /// The site's version (shared with its other settings).
    pub version: i32,
    pub prechat: PreChat,
    pub appearance: Appearance,
    pub attachment_max_bytes: i64,
    pub attachment_types: Vec<String>,
    pub archived: bool,
}

impl From<LookRow> for LookSettings {
    fn from(r: LookRow) -> Self {
        LookSettings {
            site_id: r.id,
            version: r.version,
            // A document the widget could not read shows as the widget would use it.
            prechat: serde_json::from_value(r.prechat).unwrap_or_default(),
            appearance: serde_json::from_value(r.appearance).unwrap_or_default(),
            attachment_max_bytes: r.attachment_max_bytes,
            attachment_types: r.attachment_types,
            archived: r.archived,
        }
    }
}

/// One site's look settings.
pub async fn look(pool: &Pool, site_id: Uuid) -> Result<LookSettings, SiteAdminError> {
    q::find(pool, site_id)
        .await?
        .map(LookSettings::from)
        .ok_or(SiteAdminError::UnknownSite)
}

/// The pre-chat form: a field may be required only if it is shown (a hidden required field
/// would make every chat impossible to start).
pub fn check_prechat(p: PreChat) -> Result<PreChat, SiteAdminError> {
    for (rule, field, label) in [
        (p.name, "name_required", "Name"),
        (p.email, "email_required", "Email"),
        (p.phone, "phone_required", "Phone"),
    ] {
        if rule.required && !rule.show {
            return Err(invalid(
                field,
                format!(
                    "{label} cannot be required while it is hidden. Show it, or make it optional."
                ),
            ));
        }
    }
    Ok(p)
}

/// A primary colour: `#rgb` or `#rrggbb`, stored lower-case.
pub fn parse_color(raw: &str) -> Result<String, SiteAdminError> {
    let v = raw.trim().to_ascii_lowercase();
    if is_hex_color(&v) {
        Ok(v)
    } else {
        Err(invalid(
            "color",
            format!(
                "\u{201c}{}\u{201d} is not a colour. Write it in hex as #rgb or #rrggbb, like #2563eb.",
                raw.trim()
            ),
        ))
    }
}

/// The appearance form as submitted.
#[derive(Debug, Clone, Copy)]
pub struct AppearanceForm<'a> {
    pub color: &'a str,
    pub position: &'a str,
    pub title: &'a str,
    pub welcome: &'a str,
    pub language: &'a str,
}

/// Checks the appearance form; the first bad field is refused with its own message.
pub fn check_appearance(f: AppearanceForm<'_>) -> Result<Appearance, SiteAdminError> {
    let color = parse_color(f.color)?;
    let position = match f.position.trim() {
        p @ ("left" | "right") => p.to_string(),
        _ => return Err(invalid("position", "Choose left or right.")),
    };
    let title = f.title.trim();
    if title.is_empty() {
        return Err(invalid("title", "Title is required."));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(invalid(
            "title",
            format!("Title can be at most {MAX_TITLE_CHARS} characters."),
        ));
    }
    let welcome = f.welcome.trim();
    if welcome.chars().count() > MAX_WELCOME_CHARS {
        return Err(invalid(
            "welcome",
            format!("Welcome text can be at most {MAX_WELCOME_CHARS} characters."),
        ));
    }
    let language = f.language.trim();
    if !text::supported(language) {
        return Err(invalid("language", "Choose one of the languages listed."));
    }
    Ok(Appearance {
        color,
        position,
        title: title.to_string(),
        welcome: welcome.to_string(),
        language: language.to_string(),
    })
}

/// The size limit field: a whole number of MB from 1 to 100; returns bytes.
pub fn parse_max_mb(raw: &str) -> Result<i64, SiteAdminError> {
    let (lo, hi) = (MAX_MB_RANGE.start(), MAX_MB_RANGE.end());
    let message = || format!("Enter a whole number of MB from {lo} to {hi}.");
    let mb: i64 = raw
        .trim()
        .parse()
        .map_err(|_| invalid("max_mb", message()))?;
    if !MAX_MB_RANGE.contains(&mb) {
        return Err(invalid("max_mb", message()));
    }
    Ok(mb * MB)
}

/// One MIME token (RFC 6838 restricted-name characters), lower-case.
fn mime_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 127
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
}

/// The allowed types: one per line or comma-separated, each `type/subtype` or `type/*`
/// (never `*/*`: a site cannot accept everything, HTML included). Lower-cased, duplicates
/// dropped, at least one.
pub fn parse_types(text: &str) -> Result<Vec<String>, SiteAdminError> {
    let mut out: Vec<String> = Vec::new();
    for item in text
        .split(['\n', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let v = item.to_ascii_lowercase();
        let ok = v
            .split_once('/')
            .is_some_and(|(major, minor)| mime_token(major) && (minor == "*" || mime_token(minor)));
        if !ok {
            return Err(invalid(
                "types",
                format!(
                    "\u{201c}{item}\u{201d} is not a file type. Write type/subtype like \
                     application/pdf, or type/* like image/*."
                ),
            ));
        }
        if !out.contains(&v) {
            out.push(v);
        }
    }
    if out.is_empty() {
        return Err(invalid(
            "types",
            "List at least one file type, like image/* or application/pdf.",
        ));
    }
    if out.len() > MAX_TYPES {
        return Err(invalid(
            "types",
            format!("List at most {MAX_TYPES} file types."),
        ));
    }
    Ok(out)
}

fn attachments_json(max_bytes: i64, types: &[String]) -> serde_json::Value {
    json!({ "attachment_max_bytes": max_bytes, "attachment_types": types })
}

/// Saves the pre-chat form if the site is still at `version`.
pub async fn save_prechat(
    pool: &Pool,
    actor: Uuid,
    site_id: Uuid,
    version: i32,
    prechat: PreChat,
) -> Result<LookSettings, SiteAdminError> {
    let prechat = check_prechat(prechat)?;
    let doc = json!(prechat);
    let mut tx = pool.begin().await?;
    lock_current(&mut tx, site_id, version).await?;
    let before = q::find(&mut *tx, site_id)
        .await?
        .ok_or(SiteAdminError::UnknownSite)?;
    q::set_prechat(&mut *tx, site_id, actor, &doc).await?;
    audit(
        &mut tx,
        actor,
        "update_prechat",
        "site",
        site_id,
        Some(json!({ "prechat": before.prechat })),
        Some(json!({ "prechat": doc })),
    )
    .await?;
    let after = q::find(&mut *tx, site_id)
        .await?
        .ok_or(SiteAdminError::UnknownSite)?;
    tx.commit().await?;
    Ok(after.into())
}

/// Saves the appearance if the site is still at `version`.
pub async fn save_appearance(
    pool: &Pool,
    actor: Uuid,
    site_id: Uuid,
    version: i32,
    form: AppearanceForm<'_>,
) -> Result<LookSettings, SiteAdminError> {
    let doc = json!(check_appearance(form)?);
    let mut tx = pool.begin().await?;
    lock_current(&mut tx, site_id, version).await?;
    let before = q::find(&mut *tx, site_id)
        .await?
        .ok_or(SiteAdminError::UnknownSite)?;
    q::set_appearance(&mut *tx, site_id, actor, &doc).await?;
    audit(
        &mut tx,
        actor,
        "update_appearance",
        "site",
        site_id,
        Some(json!({ "appearance": before.appearance })),
        Some(json!({ "appearance": doc })),
    )
    .await?;
    let after = q::find(&mut *tx, site_id)
        .await?
        .ok_or(SiteAdminError::UnknownSite)?;
    tx.commit().await?;
    Ok(after.into())
}

/// Saves the attachment size limit (`max_mb`, as typed) and allowed types (as typed) if the
/// site is still at `version`. The upload path reads them per upload: they apply at once.
pub async fn save_attachments(
    pool: &Pool,
    actor: Uuid,
    site_id: Uuid,
    version: i32,
    max_mb: &str,
    types: &str,
) -> Result<LookSettings, SiteAdminError> {
    let max_bytes = parse_max_mb(max_mb)?;
    let types = parse_types(types)?;
    let mut tx = pool.begin().await?;
    lock_current(&mut tx, site_id, version).await?;
    let before = q::find(&mut *tx, site_id)
        .await?
        .ok_or(SiteAdminError::UnknownSite)?;
    q::set_attachments(&mut *tx, site_id, actor, max_bytes, &types).await?;
    audit(
        &mut tx,
        actor,
        "update_attachments",
        "site",
        site_id,
        Some(attachments_json(
            before.attachment_max_bytes,
            &before.attachment_types,
        )),
        Some(attachments_json(max_bytes, &types)),
    )
    .await?;
    let after = q::find(&mut *tx, site_id)
        .await?
        .ok_or(SiteAdminError::UnknownSite)?;
    tx.commit().await?;
    Ok(after.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldRule;

    fn field(e: Result<impl std::fmt::Debug, SiteAdminError>) -> (&'static str, String) {
        match e {
            Err(SiteAdminError::Invalid { field, message }) => (field, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn colours() {
        assert_eq!(parse_color(" #AA3300 ").unwrap(), "#aa3300");
        assert_eq!(parse_color("#abc").unwrap(), "#abc");
        for bad in ["aa3300", "#ab", "#abcd", "red", "#12345g", "#aa3300;x"] {
            let (f, m) = field(parse_color(bad));
            assert_eq!(f, "color");
            assert!(m.contains("#rgb or #rrggbb"), "{m}");
        }
    }

    #[test]
    fn required_but_hidden() {
        let mut p = PreChat::default();
        assert!(check_prechat(p).is_ok());
        p.email = FieldRule {
            show: false,
            required: true,
        };
        let (f, m) = field(check_prechat(p));
        assert_eq!(f, "email_required");
        assert!(
            m.starts_with("Email cannot be required while it is hidden"),
            "{m}"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_max_mb("1").unwrap(), MB);
        assert_eq!(parse_max_mb(" 100 ").unwrap(), 100 * MB);
        for bad in ["0", "101", "-5", "2.5", "", "ten"] {
            assert_eq!(field(parse_max_mb(bad)).0, "max_mb", "{bad}");
        }
    }

    #[test]
    fn types() {
        assert_eq!(
            parse_types("image/*\nApplication/PDF, text/plain\nimage/*\n\n").unwrap(),
            vec!["image/*", "application/pdf", "text/plain"]
        );
        assert!(parse_types(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        )
        .is_ok());
        for bad in [
            "images",
            "*/*",
            "image/",
            "/png",
            "text/html; charset=x",
            "a b/c",
            "\n \n",
        ] {
            assert_eq!(field(parse_types(bad)).0, "types", "{bad:?}");
        }
    }

    #[test]
    fn appearance() {
        let ok = AppearanceForm {
            color: "#aa3300",
            position: "left",
            title: " Help ",
            welcome: "",
            language: "fr",
        };
        let a = check_appearance(ok).unwrap();
        assert_eq!((a.title.as_str(), a.language.as_str()), ("Help", "fr"));
        let long = "x".repeat(MAX_TITLE_CHARS + 1);
        for (bad, f) in [
            (
                AppearanceForm {
                    position: "top",
                    ..ok
                },
                "position",
            ),
            (AppearanceForm { title: " ", ..ok }, "title"),
            (AppearanceForm { title: &long, ..ok }, "title"),
            (
                AppearanceForm {
                    language: "xx",
                    ..ok
                },
                "language",
            ),
            (
                AppearanceForm {
                    color: "blue",
                    ..ok
                },
                "color",
            ),
        ] {
            assert_eq!(field(check_appearance(bad)).0, f);
        }
    }
}
