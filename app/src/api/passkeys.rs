use leptos::prelude::*;

use crate::domain::passkeys::{PasskeyChallenge, PasskeyInfo};
use crate::domain::users::Me;
use crate::domain::Error;

#[server(prefix = "/rpc", endpoint = "begin_passkey_registration")]
pub async fn begin_passkey_registration(name: String) -> Result<PasskeyChallenge, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::passkeys::begin_registration(&b, &ctx, &name).await
}

#[server(prefix = "/rpc", endpoint = "finish_passkey_registration")]
pub async fn finish_passkey_registration(ceremony: String, credential: String) -> Result<PasskeyInfo, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::passkeys::finish_registration(&b, &ctx, &ceremony, &credential).await
}

#[server(prefix = "/rpc", endpoint = "rename_passkey")]
pub async fn rename_passkey(id: String, name: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    let id = super::id_arg("id", &id)?;
    crate::backend::services::passkeys::rename(&b, &ctx, id, &name).await
}

#[server(prefix = "/rpc", endpoint = "delete_passkey")]
pub async fn delete_passkey(id: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    let id = super::id_arg("id", &id)?;
    crate::backend::services::passkeys::delete(&b, &ctx, id).await
}

#[server(prefix = "/rpc", endpoint = "begin_passkey_sign_in")]
pub async fn begin_passkey_sign_in() -> Result<PasskeyChallenge, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::passkeys::begin_sign_in(&b, &ctx).await
}

#[server(prefix = "/rpc", endpoint = "finish_passkey_sign_in")]
pub async fn finish_passkey_sign_in(ceremony: String, credential: String) -> Result<Me, Error> {
    let (b, ctx) = super::ctx()?;
    let s = crate::backend::services::passkeys::finish_sign_in(&b, &ctx, &ceremony, &credential).await?;
    super::set_header(http::header::SET_COOKIE, crate::backend::sessions::set_cookie(&b, &s.token));
    Ok(s.me)
}

#[server(prefix = "/rpc", endpoint = "begin_passkey_second_factor")]
pub async fn begin_passkey_second_factor() -> Result<PasskeyChallenge, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::passkeys::begin_second_factor(&b, &ctx).await
}

#[server(prefix = "/rpc", endpoint = "finish_passkey_second_factor")]
pub async fn finish_passkey_second_factor(ceremony: String, credential: String) -> Result<Me, Error> {
    use crate::backend::sessions;
    let (b, ctx) = super::ctx()?;
    let s = crate::backend::services::passkeys::finish_second_factor(&b, &ctx, &ceremony, &credential).await?;
    super::set_header(http::header::SET_COOKIE, sessions::set_cookie(&b, &s.token));
    super::set_header(http::header::SET_COOKIE, sessions::clear_challenge_cookie(&b));
    Ok(s.me)
}

#[server(prefix = "/rpc", endpoint = "list_passkeys")]
pub async fn list_passkeys() -> Result<Vec<PasskeyInfo>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::passkeys::list(&b, &ctx).await
}
