//! Two-factor authentication as the browser sees it.
use serde::{Deserialize, Serialize};

/// An account's second factors (Profile -> Security).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityStatus {
    pub totp: bool,
    /// Whether this instance can register and check passkeys (it needs its public URL).
    pub passkeys_available: bool,
    /// Unused recovery codes left.
    pub recovery_codes_left: i64,
    /// Whether this session may change credentials now without re-entering the password.
    pub recently_authenticated: bool,
    /// Whether the current organization or the instance requires two-factor authentication.
    pub two_factor_required: bool,
}

/// What enrolment shows once: the QR code, the URI behind it, and the secret for manual entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrolment {
    pub secret: String,
    pub uri: String,
    /// An SVG document, rendered by the server.
    pub qr_svg: String,
}

/// Recovery codes, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// Whether an account has two-factor authentication: a confirmed TOTP seed or a passkey
/// (recovery codes alone are not a factor; they back up TOTP). Decides the stored flag that
/// 2FA-required organizations check.
pub fn has_two_factor(confirmed_totp: bool, passkey: bool) -> bool {
    confirmed_totp || passkey
}

/// The answer to a password sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInStep {
    /// Signed in.
    Done(crate::domain::users::Me),
    /// The password was right; a second factor is needed next: a TOTP or recovery code, or
    /// a passkey when the account has one.
    SecondFactor { totp: bool, passkey: bool },
}

#[cfg(test)]
mod tests {
    use super::has_two_factor;

    #[test]
    fn either_factor_counts() {
        assert!(!has_two_factor(false, false));
        assert!(has_two_factor(true, false));
        assert!(has_two_factor(false, true));
        assert!(has_two_factor(true, true));
    }
}
