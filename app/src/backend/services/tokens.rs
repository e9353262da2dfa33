//! API keys and personal access tokens: created by their owner (sudo mode; never by another
//! token) or for a service account from the CLI, listed without their secret, revoked with
//! immediate effect (every request looks the token up).
use serde_json::json;

use super::{audit, sudo_credentials, validate_name};
use crate::backend::store::NewTokenRecord;
use crate::backend::{sessions, tokens, Backend, Caller, Ctx};
use crate::domain::abilities::{Ability, AbilitySet};
use crate::domain::error::Error;
use crate::domain::ids::UserId;
use crate::domain::policy;
use crate::domain::tokens::{CreatedToken, NewToken, TokenInfo, TokenKind};
use crate::domain::validate;

const MAX_DAYS: i64 = 3650;

/// The caller's tokens, or (CLI only) `for_user`'s.
pub async fn list(b: &Backend, ctx: &Ctx, for_user: Option<&str>) -> Result<Vec<TokenInfo>, Error> {
    let owner = match (&ctx.caller, for_user) {
        (Caller::Cli, Some(name)) => {
            b.store.user_by_username(&validate::username_key(name)).await?.ok_or_else(|| Error::not_found("User"))?.id
        }
        (_, Some(_)) => return Err(Error::Forbidden(policy::Denied::NotSuperAdmin)),
        (_, None) => ctx.user()?.id,
    };
    Ok(b.store.tokens_of(owner).await?.iter().map(|t| t.to_info()).collect())
}

/// Creates a token for the caller, or (CLI only) for `for_user`. The secret is returned this
/// once; only its hash is stored.
pub async fn create(b: &Backend, ctx: &Ctx, for_user: Option<&str>, n: NewToken) -> Result<CreatedToken, Error> {
    let owner = match (&ctx.caller, for_user) {
        (Caller::Cli, Some(name)) => b
            .store
            .user_by_username(&validate::username_key(name))
            .await?
            .filter(|u| !u.public)
            .ok_or_else(|| Error::not_found("User"))?,
        (Caller::Cli, None) => return Err(Error::invalid("user", "Name the account the token is for.")),
        (_, Some(_)) => return Err(Error::Forbidden(policy::Denied::NotSuperAdmin)),
        (_, None) => {
            let u = ctx.user()?;
            sudo_credentials(b, ctx)?;
            b.store.user_by_username(&validate::username_key(&u.username)).await?.ok_or(Error::Unauthenticated)?
        }
    };
    let mut f = super::Fields::default();
    let name = f.take(validate_name("name", "token", &n.name).map_err(|e| super::first_field(e, "name")));
    let kind = f.take(
        TokenKind::parse(&n.kind)
            .ok_or_else(|| crate::domain::FieldError::new("kind", "Choose an API key or a personal access token.")),
    );
    let days = f.take(match n.expires_in_days {
        None | Some(0) => Ok(None),
        Some(d) if (1..=MAX_DAYS).contains(&d) => Ok(Some(d)),
        Some(_) => Err(crate::domain::FieldError::new(
            "expires_in_days",
            format!("Expiry must be between 1 and {MAX_DAYS} days, or empty for none."),
        )),
    });
    let scope = f.take(parse_scope(&n.abilities));
    f.finish()?;
    let (Some(name), Some(kind), Some(days), Some(scope)) = (name, kind, days, scope) else {
        return Err(Error::invalid("name", "Invalid input."));
    };
    let anywhere = held_anywhere(b, owner.id);
    policy::can_scope_token(owner.super_admin, anywhere, scope).map_err(Error::Forbidden)?;
    let now = b.now();
    let expires_at = days.map(|d| now + d * 86_400_000).unwrap_or(0);
    let (token, prefix) = tokens::generate(kind);
    let hash = sessions::hash_token(&token);
    let mut tx = b.store.begin().await?;
    let id = tx
        .insert_token(&NewTokenRecord {
            user_id: owner.id,
            name: &name,
            kind,
            prefix: &prefix,
            token_hash: &hash,
            abilities: scope,
            created_at: now,
            expires_at,
        })
        .await?;
    let mut ev = audit(b, ctx, "token.created", true);
    ev.target = Some(owner.username.clone());
    ev.after = Some(json!({
        "id": id, "name": name, "kind": kind.as_str(), "prefix": prefix,
        "abilities": scope.map(|s| s.codes()), "expires_at": (expires_at > 0).then_some(expires_at),
    }));
    tx.insert_audit(&ev).await?;
    let record = tx.token(id).await?.ok_or_else(|| crate::backend::internal("token vanished after insert"))?;
    tx.commit().await?;
    Ok(CreatedToken { token, info: record.to_info() })
}

/// Revokes one of the caller's tokens; every later request with it is refused.
pub async fn revoke(b: &Backend, ctx: &Ctx, id: i64) -> Result<(), Error> {
    let u = ctx.user()?;
    let now = b.now();
    let mut tx = b.store.begin().await?;
    let t = tx.token(id).await?.filter(|t| t.user_id == u.id).ok_or_else(|| Error::not_found("Token"))?;
    if !tx.revoke_token(id, now).await? {
        return Ok(());
    }
    let mut ev = audit(b, ctx, "token.revoked", true);
    ev.target = Some(u.username.clone());
    ev.before = Some(json!({ "id": t.id, "name": t.name, "prefix": t.prefix, "revoked": false }));
    ev.after = Some(json!({ "id": t.id, "revoked": true }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

/// Ability codes -> a scope; none listed: `None` (everything the owner holds).
fn parse_scope(codes: &[String]) -> Result<Option<AbilitySet>, crate::domain::FieldError> {
    let codes: Vec<&str> = codes.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    if codes.is_empty() {
        return Ok(None);
    }
    let mut set = AbilitySet::EMPTY;
    for c in codes {
        let a = Ability::parse(c)
            .ok_or_else(|| crate::domain::FieldError::new("abilities", format!("'{c}' is not an ability.")))?;
        set.insert(a);
    }
    Ok(Some(set))
}

/// Every ability the account holds in any of its organizations.
fn held_anywhere(b: &Backend, user: UserId) -> AbilitySet {
    let m = b.access.read();
    m.orgs_of(user).into_iter().fold(AbilitySet::EMPTY, |acc, o| acc.union(m.abilities(Some(user), o).1))
}
