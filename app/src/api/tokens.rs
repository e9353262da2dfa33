use leptos::prelude::*;

use crate::domain::tokens::{CreatedToken, NewToken, TokenInfo};
use crate::domain::Error;

#[server(prefix = "/rpc", endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenInfo>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::tokens::list(&b, &ctx, None).await
}

#[server(prefix = "/rpc", endpoint = "create_token")]
pub async fn create_token(token: NewToken) -> Result<CreatedToken, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::tokens::create(&b, &ctx, None, token).await
}

#[server(prefix = "/rpc", endpoint = "revoke_token")]
pub async fn revoke_token(id: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    let id = super::id_arg("id", &id)?;
    crate::backend::services::tokens::revoke(&b, &ctx, id).await
}
