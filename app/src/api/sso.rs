use leptos::prelude::*;

use crate::domain::sso::{LinkedProvider, SsoButton, SsoProvider};
use crate::domain::Error;

/// The sign-in page's single sign-on buttons (anyone).
#[server(prefix = "/rpc", endpoint = "sso_buttons")]
pub async fn sso_buttons() -> Result<Vec<SsoButton>, Error> {
    let (b, _) = super::ctx()?;
    crate::backend::services::sso::buttons(&b).await
}

#[server(prefix = "/rpc", endpoint = "list_sso_providers")]
pub async fn list_sso_providers() -> Result<Vec<SsoProvider>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::sso::list_providers(&b, &ctx).await
}

#[server(prefix = "/rpc", endpoint = "save_sso_provider")]
pub async fn save_sso_provider(provider: SsoProvider, #[server(default)] create: bool) -> Result<SsoProvider, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::sso::save_provider(&b, &ctx, provider, create).await
}

#[server(prefix = "/rpc", endpoint = "delete_sso_provider")]
pub async fn delete_sso_provider(slug: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::sso::delete_provider(&b, &ctx, &slug).await
}

/// The signed-in account's linked (and linkable) providers.
#[server(prefix = "/rpc", endpoint = "linked_providers")]
pub async fn linked_providers() -> Result<Vec<LinkedProvider>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::sso::links(&b, &ctx).await
}

/// Starts linking a provider (sudo mode): answers the provider's URL for the browser to open.
#[server(prefix = "/rpc", endpoint = "begin_sso_link")]
pub async fn begin_sso_link(slug: String) -> Result<String, Error> {
    let (b, ctx) = super::ctx()?;
    let begun = crate::backend::services::sso::begin(&b, &ctx, &slug, true).await?;
    super::set_header(http::header::SET_COOKIE, crate::backend::sessions::set_sso_cookie(&b, &begun.browser_secret));
    super::on_success_leave_for(&begun.url);
    Ok(begun.url)
}

#[server(prefix = "/rpc", endpoint = "unlink_sso")]
pub async fn unlink_sso(slug: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::sso::unlink(&b, &ctx, &slug).await
}
