use leptos::prelude::*;

use crate::domain::tokens::{CreatedToken, TokenInfo};
use crate::domain::Error;

#[server(prefix = "/rpc", endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenInfo>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::tokens::list(&b, &ctx, None).await
}

/// Flat fields, so the form also posts natively before the WASM arrives:
/// `expires_in_days` empty means never; `abilities[]` empty means everything the owner holds.
#[server(prefix = "/rpc", endpoint = "create_token")]
pub async fn create_token(
    name: String,
    kind: String,
    #[server(default)] expires_in_days: String,
    #[server(default)] abilities: Vec<String>,
) -> Result<CreatedToken, Error> {
    let (b, ctx) = super::ctx()?;
    let expires_in_days = match expires_in_days.trim() {
        "" => None,
        days => Some(days.parse::<i64>().map_err(|_| {
            Error::invalid("expires_in_days", "Enter a whole number of days, or leave it empty for no expiry.")
        })?),
    };
    let token = crate::domain::tokens::NewToken { name, kind, expires_in_days, abilities };
    crate::backend::services::tokens::create(&b, &ctx, None, token).await
}

#[server(prefix = "/rpc", endpoint = "revoke_token")]
pub async fn revoke_token(id: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    let id = super::id_arg("id", &id)?;
    crate::backend::services::tokens::revoke(&b, &ctx, id).await
}
