//! Input rules shared by the UI forms, the JSON API and the CLI. Each function returns the
//! normalised value or a field error with a sentence a person can act on.
use unicode_normalization::UnicodeNormalization;

use super::error::FieldError;

pub const USERNAME_MAX: usize = 64;
pub const FULL_NAME_MAX: usize = 200;
pub const EMAIL_MAX: usize = 254;
/// Upper bound in bytes: argon2 would hash megabytes happily, which is a cheap DoS.
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// Usernames (SlashDB's rule, plus `.`): start with a letter or underscore; then letters,
/// digits and `@ _ - ~ .` (identity providers send e-mail-shaped ids such as
/// `ann.lee@corp.com`; SlashDB itself refuses the dot, which its export says). ASCII only, so
/// look-alike characters cannot impersonate an account.
pub fn username(raw: &str) -> Result<String, FieldError> {
    let f = |m: &str| Err(FieldError::new("username", m));
    if raw.is_empty() {
        return f("Username is required.");
    }
    if raw.len() > USERNAME_MAX {
        return f(&format!("Username must be at most {USERNAME_MAX} characters."));
    }
    let mut chars = raw.chars();
    let first = chars.next().unwrap_or(' ');
    if !(first.is_ascii_alphabetic() || first == '_') {
        return f("Username must start with a letter or an underscore.");
    }
    if let Some(bad) = raw.chars().find(|c| !(c.is_ascii_alphanumeric() || "@_-~.".contains(*c))) {
        let shown = if bad.is_whitespace() { "a space".to_string() } else { format!("'{bad}'") };
        return Err(FieldError::new(
            "username",
            format!("Username may only contain letters, digits and @ _ - ~ . (found {shown})."),
        ));
    }
    Ok(raw.to_string())
}

/// Whether SlashDB would accept `username` as a user id (its rule has no `.`).
pub fn slashdb_username(username: &str) -> bool {
    !username.contains('.')
}

/// Case-insensitive key used for uniqueness and look-ups.
pub fn username_key(username: &str) -> String {
    username.to_ascii_lowercase()
}

/// Emails: trimmed, one `@`, something on both sides, a dot in the domain, no spaces.
/// Deliverability is not ours to check; uniqueness is case-insensitive (see `email_key`).
pub fn email(raw: &str) -> Result<String, FieldError> {
    let e = raw.trim();
    let f = |m: &str| Err(FieldError::new("email", m));
    if e.is_empty() {
        return f("Email is required.");
    }
    if e.len() > EMAIL_MAX {
        return f(&format!("Email must be at most {EMAIL_MAX} characters."));
    }
    let Some((local, domain)) = e.split_once('@') else {
        return f("Email must contain an @, like name@example.com.");
    };
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return f("Email must look like name@example.com.");
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return f("The part after @ must be a domain such as example.com.");
    }
    if e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return f("Email must not contain spaces.");
    }
    Ok(e.to_string())
}

/// An email that may be left out (SlashDB accounts, service accounts): empty, or a valid one.
pub fn optional_email(raw: &str) -> Result<String, FieldError> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    email(raw)
}

/// The stored uniqueness key of an account's email: its `email_key`, or for an account without
/// one a key no email can have (a space never passes `email`), unique by username, so any
/// number of accounts go without an email while each email stays unique.
pub fn stored_email_key(email: &str, username: &str) -> String {
    if email.trim().is_empty() {
        return format!(" {}", username_key(username));
    }
    email_key(email)
}

pub fn email_key(email: &str) -> String {
    email.to_lowercase()
}

pub fn full_name(raw: &str) -> Result<String, FieldError> {
    let n = raw.trim();
    if n.chars().count() > FULL_NAME_MAX {
        return Err(FieldError::new("full_name", format!("Full name must be at most {FULL_NAME_MAX} characters.")));
    }
    if n.chars().any(|c| c.is_control()) {
        return Err(FieldError::new("full_name", "Full name must not contain control characters."));
    }
    Ok(n.to_string())
}

/// Normalises a password the same way when it is set and when it is verified (NFKC), so
/// "é" typed as one or two code points is the same password. Never truncates.
pub fn normalize_password(raw: &str) -> String {
    raw.nfkc().collect()
}

/// Password rules. Defaults follow NIST 800-63B: length, no composition rules; the optional
/// complexity rules are SlashDB-style and off unless configured.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub require_upper: bool,
    pub require_lower: bool,
    pub require_digit: bool,
    pub require_symbol: bool,
}

impl PasswordPolicy {
    /// The rules in one sentence, for the forms that set a password.
    pub fn describe(&self) -> String {
        let mut kinds = Vec::new();
        if self.require_upper {
            kinds.push("an upper-case letter");
        }
        if self.require_lower {
            kinds.push("a lower-case letter");
        }
        if self.require_digit {
            kinds.push("a digit");
        }
        if self.require_symbol {
            kinds.push("a symbol");
        }
        let mut s = format!("At least {} characters", self.min_length);
        if !kinds.is_empty() {
            s.push_str(&format!(", with {}", kinds.join(", ")));
        }
        s.push_str(". Not a common password, and not the username or email. A passphrase works well.");
        s
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        // 15: while a password is the only factor (NIST 800-63B rev 4).
        Self { min_length: 15, require_upper: false, require_lower: false, require_digit: false, require_symbol: false }
    }
}

impl PasswordPolicy {
    /// Checks everything that does not need the server: length, byte bound, optional
    /// complexity, and context words (the username and the email's local part).
    /// The bundled common-password list is checked on the server only.
    pub fn check(&self, field: &str, raw: &str, context: &[&str]) -> Result<String, FieldError> {
        let pw = normalize_password(raw);
        let f = |m: String| Err(FieldError::new(field, m));
        let len = pw.chars().count();
        if len < self.min_length {
            return f(format!("Password must be at least {} characters long.", self.min_length));
        }
        if pw.len() > PASSWORD_MAX_BYTES {
            return f(format!("Password must be at most {PASSWORD_MAX_BYTES} bytes long."));
        }
        if self.require_upper && !pw.chars().any(char::is_uppercase) {
            return f("Password must contain an upper-case letter.".into());
        }
        if self.require_lower && !pw.chars().any(char::is_lowercase) {
            return f("Password must contain a lower-case letter.".into());
        }
        if self.require_digit && !pw.chars().any(|c| c.is_ascii_digit()) {
            return f("Password must contain a digit.".into());
        }
        if self.require_symbol && !pw.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace()) {
            return f("Password must contain a symbol.".into());
        }
        let lower = pw.to_lowercase();
        for word in context {
            let w = word.trim().to_lowercase();
            if w.chars().count() >= 3 && lower.contains(&w) {
                return f("Password must not contain your username or email.".into());
            }
        }
        Ok(pw)
    }
}

/// The local part of an email, used as a context word for password checks.
pub fn email_local(email: &str) -> &str {
    email.split('@').next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_slashdb_rules() {
        let ok = ["a", "_a", "Alice", "bob@corp", "x-y_z~1", "A9", "_", "ann.lee@corp.com", "a."];
        for u in ok {
            assert_eq!(username(u).as_deref(), Ok(u), "{u} should be accepted");
        }
        let bad = [
            ("", "required"),
            ("1abc", "start with a letter"),
            ("-abc", "start with a letter"),
            ("@abc", "start with a letter"),
            ("ab c", "a space"),
            ("ab/c", "'/'"),
            (".abc", "start with a letter"),
            ("jösé", "'ö'"),
            ("abc!", "'!'"),
        ];
        for (u, why) in bad {
            let e = username(u).expect_err(u);
            assert_eq!(e.field, "username");
            assert!(e.message.contains(why), "{u}: {}", e.message);
        }
        assert!(username(&"a".repeat(USERNAME_MAX)).is_ok());
        assert!(username(&"a".repeat(USERNAME_MAX + 1)).is_err());
    }

    #[test]
    fn username_key_is_case_insensitive() {
        assert_eq!(username_key("AliCe"), username_key("alice"));
    }

    #[test]
    fn emails_may_be_left_out_and_stay_unique_when_given() {
        assert_eq!(optional_email("  ").as_deref(), Ok(""));
        assert_eq!(optional_email(" Ann@Example.com").as_deref(), Ok("Ann@Example.com"));
        assert!(optional_email("ann").is_err());
        assert_eq!(stored_email_key("Ann@Example.com", "ann"), "ann@example.com");
        // Two accounts without an email get different keys, which no email can equal.
        let (a, b) = (stored_email_key("", "Ann"), stored_email_key("", "bob"));
        assert_ne!(a, b);
        assert!(email(&a).is_err() && email(&b).is_err());
        assert!(slashdb_username("ann_lee") && !slashdb_username("ann.lee"));
    }

    #[test]
    fn emails() {
        assert_eq!(email("  Ann@Example.COM ").as_deref(), Ok("Ann@Example.COM"));
        assert_eq!(email_key("Ann@Example.COM"), "ann@example.com");
        for bad in ["", "ann", "ann@", "@x.io", "ann@localhost", "a b@x.io", "a@b@c.io", "a@.io", "a@x."] {
            assert!(email(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn full_names() {
        assert_eq!(full_name("  Ann Lee ").as_deref(), Ok("Ann Lee"));
        assert_eq!(full_name("").as_deref(), Ok(""));
        assert!(full_name("a\u{7}b").is_err());
        assert!(full_name(&"x".repeat(FULL_NAME_MAX + 1)).is_err());
    }

    #[test]
    fn password_policy_defaults() {
        let p = PasswordPolicy::default();
        assert!(p.check("password", "short", &[]).is_err());
        assert!(p.check("password", "fifteen chars!!", &[]).is_ok());
        // Unicode counts characters, not bytes.
        assert!(p.check("password", "ééééééééééééééé", &[]).is_ok());
        // Upper bound in bytes.
        assert!(p.check("password", &"x".repeat(PASSWORD_MAX_BYTES + 1), &[]).is_err());
        // Context words.
        let e = p.check("password", "my name is alice123 ok", &["Alice123", "alice"]).expect_err("context");
        assert!(e.message.contains("username"));
        // Short context words do not block everything.
        assert!(p.check("password", "a long passphrase here", &["a"]).is_ok());
    }

    #[test]
    fn password_complexity_is_optional() {
        let p = PasswordPolicy {
            min_length: 8,
            require_upper: true,
            require_lower: true,
            require_digit: true,
            require_symbol: true,
        };
        assert!(p.check("password", "alllowercase", &[]).unwrap_err().message.contains("upper"));
        assert!(p.check("password", "ALLUPPERCASE", &[]).unwrap_err().message.contains("lower"));
        assert!(p.check("password", "NoDigitsHere", &[]).unwrap_err().message.contains("digit"));
        assert!(p.check("password", "NoSymbols123", &[]).unwrap_err().message.contains("symbol"));
        assert!(p.check("password", "Has-All-4-kinds", &[]).is_ok());
    }

    #[test]
    fn passwords_are_normalised_not_truncated() {
        // "é" precomposed vs. e + combining acute: same password after NFKC.
        assert_eq!(normalize_password("caf\u{e9}"), normalize_password("cafe\u{301}"));
        let long = "y".repeat(500);
        assert_eq!(normalize_password(&long).len(), 500);
    }
}
