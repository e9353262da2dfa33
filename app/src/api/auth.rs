use leptos::prelude::*;

use crate::domain::security::SignInStep;
use crate::domain::users::Me;
use crate::domain::Error;

#[server(prefix = "/rpc", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<Me>, Error> {
    let (b, ctx) = super::ctx()?;
    Ok(crate::backend::services::auth::me(&b, &ctx))
}

#[server(prefix = "/rpc", endpoint = "switch_org")]
pub async fn switch_org(org: String) -> Result<Me, Error> {
    let (b, ctx) = super::ctx()?;
    let org = super::id_arg("org", &org)?;
    crate::backend::services::auth::switch_org(&b, &ctx, org).await
}

#[server(prefix = "/rpc", endpoint = "sign_up_open")]
pub async fn sign_up_open() -> Result<bool, Error> {
    let (b, _) = super::ctx()?;
    crate::backend::services::auth::sign_up_open(&b).await
}

#[server(prefix = "/rpc", endpoint = "sign_up")]
pub async fn sign_up(username: String, full_name: String, email: String, password: String) -> Result<Me, Error> {
    use crate::backend::services::auth;
    let (b, ctx) = super::ctx()?;
    let s = auth::sign_up(&b, &ctx, auth::SignUp { username, full_name, email, password }).await?;
    super::set_header(http::header::SET_COOKIE, crate::backend::sessions::set_cookie(&b, &s.token));
    super::on_success_go("/");
    Ok(s.me)
}

#[server(prefix = "/rpc", endpoint = "sign_in")]
pub async fn sign_in(login: String, password: String) -> Result<SignInStep, Error> {
    use crate::backend::services::auth::{self, SignInOutcome};
    use crate::backend::sessions;
    let (b, ctx) = super::ctx()?;
    match auth::sign_in(&b, &ctx, &login, &password).await? {
        SignInOutcome::Done(s) => {
            super::set_header(http::header::SET_COOKIE, sessions::set_cookie(&b, &s.token));
            super::on_success_go(super::after_sign_in());
            Ok(SignInStep::Done(s.me))
        }
        SignInOutcome::SecondFactor { challenge, totp, passkey } => {
            super::set_header(http::header::SET_COOKIE, sessions::set_challenge_cookie(&b, &challenge));
            super::on_success_go(if super::after_sign_in() == "/" {
                "/sign-in?step=second-factor"
            } else {
                "/sign-in?step=second-factor&continue=1"
            });
            Ok(SignInStep::SecondFactor { totp, passkey })
        }
    }
}

/// The second sign-in step: a code from the authenticator app, or a recovery code.
#[server(prefix = "/rpc", endpoint = "sign_in_code")]
pub async fn sign_in_code(code: String) -> Result<Me, Error> {
    use crate::backend::sessions;
    let (b, ctx) = super::ctx()?;
    let s = crate::backend::services::auth::second_factor(&b, &ctx, &code).await?;
    super::set_header(http::header::SET_COOKIE, sessions::set_cookie(&b, &s.token));
    super::set_header(http::header::SET_COOKIE, sessions::clear_challenge_cookie(&b));
    super::on_success_go(super::after_sign_in());
    Ok(s.me)
}

/// The second sign-in step still due in this browser (after a single sign-on redirect).
#[server(prefix = "/rpc", endpoint = "pending_second_factor")]
pub async fn pending_second_factor() -> Result<Option<SignInStep>, Error> {
    let (b, ctx) = super::ctx()?;
    let pending = crate::backend::services::auth::pending_second_factor(&b, &ctx).await?;
    Ok(pending.map(|(totp, passkey)| SignInStep::SecondFactor { totp, passkey }))
}

/// Sudo mode: enter the password (or a code) again before a sensitive change.
#[server(prefix = "/rpc", endpoint = "reauthenticate")]
pub async fn reauthenticate(password: String, #[server(default)] code: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::security::reauthenticate(&b, &ctx, &password, &code).await
}

#[server(prefix = "/rpc", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::auth::sign_out(&b, &ctx).await?;
    super::set_header(http::header::SET_COOKIE, crate::backend::sessions::clear_cookie(&b));
    super::on_success_go("/sign-in");
    Ok(())
}
