use leptos::prelude::*;

use crate::domain::users::Me;
use crate::domain::Error;

#[server(prefix = "/rpc", endpoint = "update_profile")]
pub async fn update_profile(full_name: String, email: String) -> Result<Me, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::profile::update(&b, &ctx, &full_name, &email).await
}

#[server(prefix = "/rpc", endpoint = "change_password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::profile::change_password(&b, &ctx, &current_password, &new_password).await
}

#[server(prefix = "/rpc", endpoint = "remove_avatar")]
pub async fn remove_avatar() -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::profile::remove_avatar(&b, &ctx).await
}
