//! OAuth clients (Settings -> Applications). The form sends flat text fields (URIs one per
//! line, organizations by name separated by commas, one checkbox per scope), so it works
//! before the WASM arrives; the API takes the same settings as JSON.
// (a form's fields are the function's arguments; the macro's generated fn carries no allow)
#![allow(clippy::too_many_arguments)]
use leptos::prelude::*;

use crate::domain::clients::{ClientSecret, OAuthClient};
use crate::domain::Error;

#[server(prefix = "/rpc", endpoint = "list_clients")]
pub async fn list_clients() -> Result<Vec<OAuthClient>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::clients::list(&b, &ctx).await
}

/// Creates (`create`) or replaces an application's settings; a new secret comes back once.
#[server(prefix = "/rpc", endpoint = "save_client")]
pub async fn save_client(
    client_id: String,
    name: String,
    #[server(default)] create: bool,
    #[server(default)] kind: String,
    #[server(default)] redirect_uris: String,
    #[server(default)] post_logout_redirect_uris: String,
    #[server(default)] orgs: String,
    #[server(default)] scope_profile: String,
    #[server(default)] scope_email: String,
    #[server(default)] scope_roster: String,
    #[server(default)] scope_offline_access: String,
    #[server(default)] consent: String,
    #[server(default)] require_two_factor: String,
    #[server(default)] access_token_minutes: String,
    #[server(default)] refresh_token_days: String,
    #[server(default)] enabled: String,
) -> Result<ClientSecret, Error> {
    use crate::api::flag_arg;
    use crate::domain::clients::{self, ClientKind};
    let (b, ctx) = super::ctx()?;
    let number = |field: &str, raw: &str, unit: &str, times: u32| -> Result<u32, Error> {
        raw.trim()
            .parse::<u32>()
            .ok()
            .and_then(|n| n.checked_mul(times))
            .ok_or_else(|| Error::invalid(field, format!("Enter a whole number of {unit}.")))
    };
    // (what the form says, or why it cannot be read: the service answers that only to
    // those who may register applications)
    let input = (|| {
        let scopes: Vec<String> = [
            ("profile", &scope_profile),
            ("email", &scope_email),
            ("roster", &scope_roster),
            ("offline_access", &scope_offline_access),
        ]
        .into_iter()
        .filter(|(_, on)| flag_arg(on))
        .map(|(s, _)| s.to_string())
        .collect();
        Ok(OAuthClient {
            kind: ClientKind::parse(&kind).map_err(|e| Error::Invalid { errors: vec![e] })?,
            access_token_seconds: number("access_token_seconds", &access_token_minutes, "minutes", 60)?,
            refresh_token_seconds: number("refresh_token_seconds", &refresh_token_days, "days", 86_400)?,
            client_id: client_id.clone(),
            name: name.clone(),
            redirect_uris: clients::uri_lines(&redirect_uris),
            post_logout_redirect_uris: clients::uri_lines(&post_logout_redirect_uris),
            orgs: orgs.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect(),
            scopes,
            consent: flag_arg(&consent),
            require_two_factor: flag_arg(&require_two_factor),
            enabled: flag_arg(&enabled),
            ..Default::default()
        })
    })();
    crate::backend::services::clients::save_form(&b, &ctx, input, create).await
}

#[server(prefix = "/rpc", endpoint = "rotate_client_secret")]
pub async fn rotate_client_secret(client_id: String) -> Result<ClientSecret, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::clients::rotate_secret(&b, &ctx, &client_id).await
}

#[server(prefix = "/rpc", endpoint = "delete_client")]
pub async fn delete_client(client_id: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::clients::delete(&b, &ctx, &client_id).await
}
