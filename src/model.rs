//! Plain data shared by server and browser: what server functions return.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Working-hours day keys, Monday first (as `jiff` numbers weekdays 1–7): the stored keys,
/// the error fields and the form's input ids all use them.
pub const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// What a signed-in user may do. Admins can do everything agents can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }

    /// Parses the stored name; anything else is not a role.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A staff account as the UI sees it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
    pub max_chats: i32,
}

/// One pre-chat field's settings: shown or not, required or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRule {
    pub show: bool,
    pub required: bool,
}

/// Which pre-chat fields show and which are required (`sites.prechat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreChat {
    pub name: FieldRule,
    pub email: FieldRule,
    pub phone: FieldRule,
}

impl Default for PreChat {
    /// Name required; email and phone shown and optional.
    fn default() -> Self {
        let optional = FieldRule {
            show: true,
            required: false,
        };
        PreChat {
            name: FieldRule {
                show: true,
                required: true,
            },
            email: optional,
            phone: optional,
        }
    }
}

/// The `sites.appearance` document: how the widget looks and speaks. Missing keys fall back
/// to the defaults (a document saved before a key existed still reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Appearance {
    /// `#rgb` or `#rrggbb`.
    pub color: String,
    /// "left" or "right": where the launcher sits.
    pub position: String,
    pub title: String,
    pub welcome: String,
    /// A code of the widget's strings table (`ui::widget::text::LANGUAGES`), e.g. "en".
    pub language: String,
}

impl Default for Appearance {
    fn default() -> Self {
        Appearance {
            color: "#2563eb".into(),
            position: "right".into(),
            title: "Chat with us".into(),
            welcome: "Hi! How can we help?".into(),
            language: "en".into(),
        }
    }
}

/// Whether `s` is a colour safe to put in CSS as is: `#rgb` or `#rrggbb`.
pub fn is_hex_color(s: &str) -> bool {
    let Some(hex) = s.strip_prefix('#') else {
        return false;
    };
    matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit())
}

fn default_language() -> String {
    "en".into()
}

/// What the widget shows before a chat starts: the site's look and its pre-chat form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetSettings {
    pub site_name: String,
    pub title: String,
    pub welcome: String,
    pub color: String,
    /// "left" or "right".
    pub position: String,
    /// The language of the widget's own strings (a code of `ui::widget::text::LANGUAGES`).
    #[serde(default = "default_language")]
    pub language: String,
    pub guest_mode: bool,
    pub prechat: PreChat,
}

/// A visitor's current conversation, found from their device token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumedChat {
    pub conversation_id: Uuid,
    pub visitor_name: String,
}

// How the browser reads these (`crate::json`; the server writes them with serde).

impl crate::json::FromJson for FieldRule {
    fn from_json<J: crate::json::Json>(v: &J) -> Option<Self> {
        use crate::json::field;
        Some(FieldRule {
            show: field(v, "show")?,
            required: field(v, "required")?,
        })
    }
}

impl crate::json::FromJson for PreChat {
    fn from_json<J: crate::json::Json>(v: &J) -> Option<Self> {
        use crate::json::field;
        Some(PreChat {
            name: field(v, "name")?,
            email: field(v, "email")?,
            phone: field(v, "phone")?,
        })
    }
}

impl crate::json::FromJson for WidgetSettings {
    fn from_json<J: crate::json::Json>(v: &J) -> Option<Self> {
        use crate::json::field;
        Some(WidgetSettings {
            site_name: field(v, "site_name")?,
            title: field(v, "title")?,
            welcome: field(v, "welcome")?,
            color: field(v, "color")?,
            position: field(v, "position")?,
            language: field::<Option<String>, _>(v, "language")?.unwrap_or_else(default_language),
            guest_mode: field(v, "guest_mode")?,
            prechat: field(v, "prechat")?,
        })
    }
}

impl crate::json::FromJson for ResumedChat {
    fn from_json<J: crate::json::Json>(v: &J) -> Option<Self> {
        use crate::json::field;
        Some(ResumedChat {
            conversation_id: field(v, "conversation_id")?,
            visitor_name: field(v, "visitor_name")?,
        })
    }
}

/// A file size for people: "12 B", "512 KB", "1.5 MB", "10 MB". Integer arithmetic on
/// purpose: float formatting would add ~14 KB to the widget's WASM.
pub fn human_size(bytes: i64) -> String {
    const MB: i64 = 1024 * 1024;
    if bytes >= MB {
        let tenths = (bytes * 10 + MB / 2) / MB;
        if tenths % 10 == 0 {
            format!("{} MB", tenths / 10)
        } else {
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    } else if bytes >= 1024 {
        format!("{} KB", (bytes + 512) / 1024)
    } else {
        format!("{bytes} B")
    }
}

/// A chat that passed one of its site's response-time targets (the lists flag it "Overdue").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overdue {
    /// Waiting longer than the first-response target.
    FirstResponse,
    /// Open longer than the resolution target.
    Resolution,
}

impl Overdue {
    /// What the flag means, for its accessible description.
    pub fn description(self) -> &'static str {
        match self {
            Overdue::FirstResponse => "First response target passed",
            Overdue::Resolution => "Resolution target passed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn colours() {
        use super::is_hex_color;
        assert!(is_hex_color("#2563eb"));
        assert!(is_hex_color("#fff"));
        assert!(is_hex_color("#AA3300"));
        assert!(!is_hex_color("red;background:url(x)"));
        assert!(!is_hex_color("#12345"));
        assert!(!is_hex_color("aa3300"));
        assert!(!is_hex_color("#ggg"));
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(12), "12 B");
        assert_eq!(human_size(1000), "1000 B");
        assert_eq!(human_size(1024), "1 KB");
        assert_eq!(human_size(512 * 1024), "512 KB");
        assert_eq!(human_size(1536 * 1024), "1.5 MB");
        assert_eq!(human_size(10 * 1024 * 1024), "10 MB");
    }

    #[test]
    fn the_browser_reads_what_the_server_writes() {
        use super::*;
        let settings = WidgetSettings {
            site_name: "Acme".into(),
            title: "Chat \"with\" us".into(),
            welcome: "Hi 🎉".into(),
            color: "#aa3300".into(),
            position: "left".into(),
            language: "fr".into(),
            guest_mode: true,
            prechat: PreChat {
                phone: FieldRule {
                    show: false,
                    required: false,
                },
                ..PreChat::default()
            },
        };
        crate::json::assert_reads(&settings);
        let mut json = serde_json::to_value(&settings).unwrap();
        json.as_object_mut().unwrap().remove("language");
        let old: WidgetSettings = crate::json::from_str(&json.to_string()).unwrap();
        assert_eq!(old.language, "en");
        crate::json::assert_reads(&ResumedChat {
            conversation_id: Uuid::new_v4(),
            visitor_name: "Ann".into(),
        });
        crate::json::assert_reads(&Some(ResumedChat {
            conversation_id: Uuid::new_v4(),
            visitor_name: "Bo".into(),
        }));
        crate::json::assert_reads(&None::<ResumedChat>);
    }
}
