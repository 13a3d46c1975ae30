//! Input rules shared by the account and settings forms. Each returns the cleaned value
//! or the message the form shows under the field.

/// A display name: 1–80 characters after trimming.
pub fn name(raw: &str) -> Result<String, &'static str> {
    let v = raw.trim();
    if v.is_empty() {
        return Err("Name is required.");
    }
    if v.chars().count() > 80 {
        return Err("Name must be at most 80 characters.");
    }
    Ok(v.to_string())
}

/// An email address, trimmed and lower-cased. Deliberately modest (one `@`, a dot in the
/// domain, no spaces): the only real check of an address is mail reaching it.
pub fn email(raw: &str) -> Result<String, &'static str> {
    let v = raw.trim().to_lowercase();
    if v.is_empty() {
        return Err("Email is required.");
    }
    let valid = v.len() <= 254
        && !v.chars().any(char::is_whitespace)
        && match v.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid {
        Ok(v)
    } else {
        Err("Enter a valid email address.")
    }
}

/// A new password: 8–128 characters (not trimmed: spaces are allowed in passphrases).
pub fn new_password(raw: &str) -> Result<&str, &'static str> {
    let n = raw.chars().count();
    if n < 8 {
        return Err("Password must be at least 8 characters.");
    }
    if n > 128 {
        return Err("Password must be at most 128 characters.");
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email(" Ann@Example.COM ").unwrap(), "ann@example.com");
        for bad in [
            "", "ann", "ann@", "@x.io", "ann@x", "a b@x.io", "a@b@x.io", "a@.x", "a@x.",
        ] {
            assert!(email(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn names_and_passwords() {
        assert_eq!(name("  Ann ").unwrap(), "Ann");
        assert!(name("   ").is_err());
        assert!(name(&"x".repeat(81)).is_err());
        assert!(name(&"é".repeat(80)).is_ok());
        assert!(new_password("short").is_err());
        assert!(new_password("long enough").is_ok());
        assert!(new_password(&"x".repeat(129)).is_err());
    }
}
