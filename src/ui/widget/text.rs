//! Every string the visitor widget shows, as a table with one file per language.
//!
//! Adding a language is one file (copy `en.rs`, translate each field: the compiler refuses a
//! missing one) and one line in [`LANGUAGES`]. The site's `appearance.language` picks the
//! table, and the widget's views are handed it (`ui::widget::app`).
//! Plain `&'static str` data: no formatting machinery, so the widget's WASM stays small.

mod en;
mod fr;

/// The widget's strings in one language.
#[derive(Debug, PartialEq, Eq)]
pub struct Strings {
    pub open_chat: &'static str,
    pub close_chat: &'static str,
    pub loading: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub start_chat: &'static str,
    pub starting: &'static str,
    pub optional: &'static str,
    pub sign_in_to_chat: &'static str,
    pub waiting: &'static str,
    pub status_connecting: &'static str,
    pub reconnecting: &'static str,
    pub message: &'static str,
    pub send: &'static str,
    pub you: &'static str,
    pub conversation: &'static str,
    pub sending: &'static str,
    pub sent: &'static str,
    pub delivered: &'static str,
    pub read: &'static str,
    pub failed: &'static str,
    pub online: &'static str,
    pub idle: &'static str,
    pub offline: &'static str,
    pub is_typing: &'static str,
    pub resolved: &'static str,
    pub unknown_site: &'static str,
    pub network_error: &'static str,
    pub rate_prompt: &'static str,
    /// The accessible names of the five rating buttons.
    pub stars: [&'static str; 5],
    pub feedback: &'static str,
    pub anonymous: &'static str,
    pub submit_rating: &'static str,
    pub choose_stars: &'static str,
    pub thanks: &'static str,
    pub offline_title: &'static str,
    pub offline_help: &'static str,
    pub email_or_phone: &'static str,
    pub send_message: &'static str,
    pub offline_sent: &'static str,
    pub attach_file: &'static str,
    pub upload_failed: &'static str,
    pub file_unavailable: &'static str,
    pub drop_here: &'static str,
}

/// Every language the widget speaks: code (stored in `sites.appearance`), the name the admin
/// page shows (in that language), and its strings. The first one is the default.
pub const LANGUAGES: &[(&str, &str, &Strings)] =
    &[("en", "English", &en::EN), ("fr", "Français", &fr::FR)];

/// The strings of the language `code`; English for a code the table does not have.
pub fn strings(code: &str) -> &'static Strings {
    LANGUAGES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or(EN, |(_, _, s)| *s)
}

/// Whether the table has the language `code`.
pub fn supported(code: &str) -> bool {
    LANGUAGES.iter().any(|(c, _, _)| *c == code)
}

/// The English strings: the default, and what the staff dashboard's shared file calls use.
pub const EN: &Strings = &en::EN;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_complete_and_distinct() {
        assert_eq!(LANGUAGES[0].0, "en", "English is the default");
        assert_eq!(strings("fr").start_chat, "Démarrer la discussion");
        assert_eq!(strings("xx"), EN);
        assert!(supported("fr") && !supported("xx"));
        for (code, name, s) in LANGUAGES {
            assert!(!name.is_empty(), "{code}");
            // Every string is translated (none left empty).
            let all = format!("{s:?}");
            assert!(!all.contains("\"\""), "{code} has an empty string");
        }
    }

    #[test]
    fn english_is_unchanged() {
        // Tests select by these; they must not drift.
        assert_eq!(EN.start_chat, "Start Chat");
        assert_eq!(EN.waiting, "Waiting for support staff...");
        assert_eq!(EN.stars[4], "5 stars");
    }
}
