//! Webhooks (Settings -> Webhooks). The form sends flat text fields (organizations by name
//! separated by commas, one checkbox per kind), so it works before the WASM arrives; the
//! API takes the same settings as JSON.
// (a form's fields are the function's arguments; the macro's generated fn carries no allow)
#![allow(clippy::too_many_arguments)]
use leptos::prelude::*;

use crate::domain::webhooks::{Delivery, Webhook, WebhookSecret};
use crate::domain::Error;

#[server(prefix = "/rpc", endpoint = "list_webhooks")]
pub async fn list_webhooks() -> Result<Vec<Webhook>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::webhooks::list(&b, &ctx).await
}

/// Creates (no `id`) or replaces a hook's settings; a new hook's signing secret comes back
/// once.
#[server(prefix = "/rpc", endpoint = "save_webhook")]
pub async fn save_webhook(
    #[server(default)] id: String,
    name: String,
    url: String,
    #[server(default)] kind_user: String,
    #[server(default)] kind_role: String,
    #[server(default)] kind_org: String,
    #[server(default)] orgs: String,
    #[server(default)] enabled: String,
) -> Result<WebhookSecret, Error> {
    use crate::api::flag_arg;
    use crate::domain::webhooks::WebhookInput;
    let (b, ctx) = super::ctx()?;
    let id = match id.trim() {
        "" => Ok(None),
        raw => raw.parse::<i64>().map(Some).map_err(|_| Error::not_found("Webhook")),
    };
    let kinds = [("user", &kind_user), ("role", &kind_role), ("org", &kind_org)]
        .into_iter()
        .filter(|(_, on)| flag_arg(on))
        .map(|(k, _)| k.to_string())
        .collect();
    let input = WebhookInput {
        name,
        url,
        kinds,
        orgs: orgs.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect(),
        enabled: flag_arg(&enabled),
    };
    // (an unreadable id is answered only to those who may manage webhooks)
    match id {
        Ok(id) => crate::backend::services::webhooks::save_form(&b, &ctx, id, Ok(input)).await,
        Err(e) => crate::backend::services::webhooks::save_form(&b, &ctx, None, Err(e)).await,
    }
}

#[server(prefix = "/rpc", endpoint = "rotate_webhook_secret")]
pub async fn rotate_webhook_secret(id: i64) -> Result<WebhookSecret, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::webhooks::rotate_secret(&b, &ctx, id).await
}

#[server(prefix = "/rpc", endpoint = "resume_webhook")]
pub async fn resume_webhook(id: i64) -> Result<Webhook, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::webhooks::resume(&b, &ctx, id).await
}

#[server(prefix = "/rpc", endpoint = "delete_webhook")]
pub async fn delete_webhook(id: i64) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::webhooks::delete(&b, &ctx, id).await
}

#[server(prefix = "/rpc", endpoint = "webhook_deliveries")]
pub async fn webhook_deliveries(id: i64) -> Result<Vec<Delivery>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::webhooks::deliveries(&b, &ctx, id).await
}
