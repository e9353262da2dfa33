use leptos::prelude::*;

use crate::domain::security::{RecoveryCodes, SecurityStatus, TotpEnrolment};
use crate::domain::Error;

#[server(prefix = "/rpc", endpoint = "security_status")]
pub async fn get_security_status() -> Result<SecurityStatus, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::security::status(&b, &ctx).await
}

#[server(prefix = "/rpc", endpoint = "begin_totp")]
pub async fn begin_totp() -> Result<TotpEnrolment, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::security::begin_totp(&b, &ctx).await
}

/// The enrolment begun and not yet confirmed (see `services::security::resume_totp`).
#[server(prefix = "/rpc", endpoint = "resume_totp")]
pub async fn resume_totp() -> Result<Option<TotpEnrolment>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::security::resume_totp(&b, &ctx).await
}

#[server(prefix = "/rpc", endpoint = "confirm_totp")]
pub async fn confirm_totp(code: String) -> Result<RecoveryCodes, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::security::confirm_totp(&b, &ctx, &code).await
}

#[server(prefix = "/rpc", endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes() -> Result<RecoveryCodes, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::security::regenerate_recovery_codes(&b, &ctx).await
}

#[server(prefix = "/rpc", endpoint = "disable_two_factor")]
pub async fn disable_two_factor() -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::security::disable(&b, &ctx).await
}

/// An administrator turns off another account's two-factor authentication.
#[server(prefix = "/rpc", endpoint = "reset_two_factor")]
pub async fn reset_two_factor(username: String, reason: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::security::admin_reset(&b, &ctx, &username, &reason).await
}

/// Super admins: require two-factor authentication in an organization (`org`) or everywhere.
#[server(prefix = "/rpc", endpoint = "set_two_factor_requirement")]
pub async fn set_two_factor_requirement(
    #[server(default)] org: String,
    #[server(default)] required: String,
) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    let org = match org.trim() {
        "" => None,
        o => Some(crate::domain::ids::OrgId(super::id_arg("org", o)?)),
    };
    crate::backend::services::security::set_requirement(&b, &ctx, org, super::flag_arg(&required)).await
}

#[server(prefix = "/rpc", endpoint = "instance_two_factor_requirement")]
pub async fn instance_two_factor_requirement() -> Result<bool, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::security::instance_requirement(&b, &ctx).await
}

/// Lifts a sign-in lock-out.
#[server(prefix = "/rpc", endpoint = "unlock_user")]
pub async fn unlock_user(username: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::security::unlock(&b, &ctx, &username).await
}

/// Whether `username`'s sign-in is held back by failed attempts right now.
#[server(prefix = "/rpc", endpoint = "sign_in_locked")]
pub async fn sign_in_locked(username: String) -> Result<bool, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::security::sign_in_locked(&b, &ctx, &username).await
}
