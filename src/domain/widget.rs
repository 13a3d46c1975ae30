//! The widget's view of a site: its look and pre-chat form, who may embed it, and the
//! conversation a returning visitor picks up again.

use crate::db::{self, Pool};
use crate::domain::visitors;
use crate::model::{is_hex_color, Appearance, PreChat, ResumedChat, WidgetSettings};
use crate::ui::widget::text;
use uuid::Uuid;

/// A site as the widget and its loader see it.
#[derive(Debug, Clone)]
pub struct WidgetSite {
    pub id: Uuid,
    /// Where new chats are routed (the guest group), if set.
    pub guest_group: Option<Uuid>,
    pub settings: WidgetSettings,
    /// Origins whose pages may embed the widget; empty = any.
    pub allowed_origins: Vec<String>,
}

impl WidgetSite {
    /// Whether a page on `origin` may show this widget.
    pub fn allows(&self, origin: &str) -> bool {
        origin_allowed(&self.allowed_origins, origin)
    }
}

/// The widget settings of a live site, by its public key.
pub async fn site(pool: &Pool, key: &str) -> sqlx::Result<Option<WidgetSite>> {
    let Some(row) = db::sites::widget(pool, key).await? else {
        return Ok(None);
    };
    let look: Appearance = serde_json::from_value(row.appearance).unwrap_or_default();
    // Only a colour we can put in CSS safely: #rgb or #rrggbb.
    let color = if is_hex_color(&look.color) {
        look.color
    } else {
        Appearance::default().color
    };
    // A language the strings table no longer has reads as English.
    let language = if text::supported(&look.language) {
        look.language
    } else {
        Appearance::default().language
    };
    let position = if look.position == "left" {
        "left"
    } else {
        "right"
    };
    Ok(Some(WidgetSite {
        id: row.id,
        guest_group: row.guest_group_id,
        settings: WidgetSettings {
            site_name: row.name,
            title: look.title,
            welcome: look.welcome,
            color,
            position: position.into(),
            language,
            guest_mode: row.guest_mode,
            prechat: serde_json::from_value::<PreChat>(row.prechat).unwrap_or_default(),
        },
        allowed_origins: row.allowed_origins,
    }))
}

/// `origin` (scheme://host[:port]) is on the list, or the list is empty. Compared without
/// case and without a trailing slash, as admins type them.
pub fn origin_allowed(allowed: &[String], origin: &str) -> bool {
    let norm = |s: &str| s.trim().trim_end_matches('/').to_ascii_lowercase();
    let origin = norm(origin);
    allowed.is_empty() || allowed.iter().any(|a| norm(a) == origin)
}

/// The conversation a device token leads back to on this site, if the token is live and
/// belongs to this site (a token of another site resumes nothing).
pub async fn resume(pool: &Pool, site_key: &str, token: &str) -> sqlx::Result<Option<ResumedChat>> {
    let Some(site) = db::sites::chat_settings(pool, site_key).await? else {
        return Ok(None);
    };
    let Some(visitor) = visitors::authenticate(pool, token).await? else {
        return Ok(None);
    };
    if visitor.site_id != site.id {
        return Ok(None);
    }
    let conversation =
        db::conversations::latest_for_contact(pool, site.id, visitor.contact_id).await?;
    Ok(conversation.map(|conversation_id| ResumedChat {
        conversation_id,
        visitor_name: visitor.name,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert!(origin_allowed(&[], "https://any.example"));
        let list = vec![
            "https://shop.example/".to_string(),
            "http://localhost:8080".into(),
        ];
        assert!(origin_allowed(&list, "https://SHOP.example"));
        assert!(origin_allowed(&list, "http://localhost:8080"));
        assert!(!origin_allowed(&list, "http://localhost:8081"));
        assert!(!origin_allowed(&list, "https://shop.example.evil"));
        assert!(!origin_allowed(&list, "null"));
    }
}
