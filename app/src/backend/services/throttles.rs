//! The sign-in throttle keys: which attempts count against one budget. Both the password
//! step (`auth`) and the code step (`security`) charge and clear these keys, so they live
//! here rather than in either (which would make the two modules import each other).
use crate::domain::ids::UserId;

/// The sign-in throttle key of an account (whichever name was typed); shared with
/// re-authentication and the admin unlock.
pub(crate) fn password_throttle_key(user: UserId) -> String {
    format!("user:{}", user.0)
}

/// The throttle key of every code check for an account (sign-in step, re-authentication).
pub(crate) fn code_throttle_key(user: UserId) -> String {
    format!("mfa:{}", user.0)
}
