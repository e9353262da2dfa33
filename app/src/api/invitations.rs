//! Invitation links: listed, made, re-sent and withdrawn in the current organization; the
//! invitation page's preview and its two forms (a new account, or joining with the signed-in
//! one). A new link comes back once (sealed for a page posted before the WASM arrives).
use leptos::prelude::*;

use crate::domain::invitations::{Invitation, InvitationLink, InvitationPreview};
use crate::domain::users::Me;
use crate::domain::Error;

#[server(prefix = "/rpc", endpoint = "list_invitations")]
pub async fn list_invitations() -> Result<Vec<Invitation>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::invitations::list(&b, &ctx, ctx.org()).await
}

/// From the invite form: the role by id, extras as checkboxes, the days as text (empty: 7).
#[server(prefix = "/rpc", endpoint = "create_invitation")]
pub async fn create_invitation(
    email: String,
    role: String,
    #[server(default)] extras: Vec<String>,
    #[server(default)] days: String,
) -> Result<InvitationLink, Error> {
    use crate::domain::ids::RoleId;
    let (b, ctx) = super::ctx()?;
    // (both fields' mistakes at once: the form shows each on its field)
    let mut errors = Vec::new();
    if let Err(e) = crate::domain::validate::email(&email) {
        errors.push(e);
    }
    let role = role.trim().parse::<i64>().map_err(|_| crate::domain::FieldError::new("role", "Choose a role."));
    if let Err(e) = &role {
        errors.push(e.clone());
    }
    if !errors.is_empty() {
        return Err(Error::Invalid { errors });
    }
    let role = role.map_err(|e| Error::Invalid { errors: vec![e] })?;
    let extras = super::orgs::extras_of(&extras)?;
    let days = match days.trim() {
        "" => None,
        d => Some(d.parse::<i64>().map_err(|_| Error::invalid("days", "The days must be a whole number."))?),
    };
    crate::backend::services::invitations::create(&b, &ctx, ctx.org(), &email, RoleId(role), extras, days).await
}

#[server(prefix = "/rpc", endpoint = "resend_invitation")]
pub async fn resend_invitation(id: String) -> Result<InvitationLink, Error> {
    let (b, ctx) = super::ctx()?;
    let id = super::id_arg("id", &id)?;
    crate::backend::services::invitations::resend(&b, &ctx, ctx.org(), id, None).await
}

#[server(prefix = "/rpc", endpoint = "revoke_invitation")]
pub async fn revoke_invitation(id: String) -> Result<Invitation, Error> {
    let (b, ctx) = super::ctx()?;
    let id = super::id_arg("id", &id)?;
    crate::backend::services::invitations::revoke(&b, &ctx, ctx.org(), id).await
}

/// What the invitation page shows; changes nothing.
#[server(prefix = "/rpc", endpoint = "preview_invitation")]
pub async fn preview_invitation(token: String) -> Result<InvitationPreview, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::invitations::preview(&b, &ctx, &token).await
}

/// Accepts with a new account, signed in at once.
#[server(prefix = "/rpc", endpoint = "accept_invitation")]
pub async fn accept_invitation(
    token: String,
    username: String,
    full_name: String,
    password: String,
) -> Result<Me, Error> {
    use crate::backend::services::invitations::{accept_new, NewAccount};
    let (b, ctx) = super::ctx()?;
    let s = accept_new(&b, &ctx, &token, NewAccount { username, full_name, password }).await?;
    super::set_header(http::header::SET_COOKIE, crate::backend::sessions::set_cookie(&b, &s.token));
    super::on_success_go("/");
    Ok(s.me)
}

/// Accepts with the signed-in account.
#[server(prefix = "/rpc", endpoint = "join_invitation")]
pub async fn join_invitation(token: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::invitations::accept_existing(&b, &ctx, &token).await?;
    super::on_success_go("/");
    Ok(())
}

/// Starts accepting with a passkey instead of a password: the browser's registration options
/// for the account to be.
#[server(prefix = "/rpc", endpoint = "begin_invitation_passkey")]
pub async fn begin_invitation_passkey(
    token: String,
    username: String,
    full_name: String,
) -> Result<crate::domain::passkeys::PasskeyChallenge, Error> {
    let (b, _ctx) = super::ctx()?;
    crate::backend::services::invitations::begin_passkey(&b, &token, &username, &full_name).await
}

/// Finishes accepting with the new passkey: the account is made and signed in.
#[server(prefix = "/rpc", endpoint = "finish_invitation_passkey")]
pub async fn finish_invitation_passkey(token: String, ceremony: String, credential: String) -> Result<Me, Error> {
    let (b, ctx) = super::ctx()?;
    let s = crate::backend::services::invitations::finish_passkey(&b, &ctx, &token, &ceremony, &credential).await?;
    super::set_header(http::header::SET_COOKIE, crate::backend::sessions::set_cookie(&b, &s.token));
    Ok(s.me)
}
