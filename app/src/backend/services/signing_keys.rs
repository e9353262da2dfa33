//! The keys Roster signs ID tokens with as an OpenID provider: the one that signs (made on
//! first use), the set published at `/oauth/jwks`, and rotation (`roster oidc rotate-key`).
//! Threats: a copied database (the private key is sealed with the instance key and bound to its
//! `kid`, so it neither opens elsewhere nor moves to another row), tokens that stop verifying at
//! a rotation (a retired key stays published until every token it signed has expired, clock
//! skew included), and keys kept past their use (a rotation removes those retired longer ago).
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;

use super::{audit_global, sudo_grants};
use crate::backend::signing::{SigningKey, ALG};
use crate::backend::store::SigningKeyRecord;
use crate::backend::{internal, Backend, Ctx};
use crate::domain::clients::ACCESS_SECONDS;
use crate::domain::error::Error;
use crate::domain::policy;

/// How long a retired key stays published: the longest a token lives, and five minutes of
/// clock skew.
pub const RETIRED_KEPT_MS: i64 = (ACCESS_SECONDS.1 as i64 + 300) * 1000;

/// What a key's sealed private half is bound to.
pub(crate) fn key_aad(kid: &str) -> String {
    format!("signing-key:{kid}")
}

/// A key as `roster oidc keys` lists it (never its private half).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

async fn generate(b: &Backend) -> Result<SigningKey, Error> {
    b.cpu.run(SigningKey::generate).await?.map_err(internal)
}

fn sealed(b: &Backend, key: &SigningKey, now: i64) -> Result<SigningKeyRecord, Error> {
    let der = key.to_pkcs8().map_err(internal)?;
    Ok(SigningKeyRecord {
        id: 0,
        kid: key.kid.clone(),
        alg: ALG.into(),
        private_key: b.secrets.seal(&der, &key_aad(&key.kid)),
        public_jwk: key.public_jwk().map_err(internal)?.to_string(),
        created_at: now,
        retired_at: None,
    })
}

fn unsealed(b: &Backend, r: &SigningKeyRecord) -> Result<Arc<SigningKey>, Error> {
    if let Some(k) = b.signing_keys.get(&r.kid) {
        return Ok(k);
    }
    let der = b
        .secrets
        .open(&r.private_key, &key_aad(&r.kid))
        .map_err(|_| internal(format!("signing key {} does not open with the instance key", r.kid)))?;
    let key = Arc::new(SigningKey::from_pkcs8(&r.kid, &der).map_err(internal)?);
    b.signing_keys.put(key.clone());
    Ok(key)
}

/// The key that signs now; the first one is made here, once (instances racing to make it
/// agree on one: the second finds the first's in its transaction).
pub async fn active(b: &Backend) -> Result<Arc<SigningKey>, Error> {
    let published = b.store.signing_keys(b.now() - RETIRED_KEPT_MS).await?;
    if let Some(r) = published.iter().find(|k| k.retired_at.is_none()) {
        return unsealed(b, r);
    }
    let key = generate(b).await?;
    let mut tx = b.store.begin().await?;
    if let Some(r) = tx.active_signing_key().await? {
        return unsealed(b, &r);
    }
    let record = sealed(b, &key, b.now())?;
    tx.insert_signing_key(&record).await?;
    tx.commit().await?;
    tracing::info!(kid = %key.kid, "made the first signing key of the OpenID provider");
    let key = Arc::new(key);
    b.signing_keys.put(key.clone());
    Ok(key)
}

/// The published key set (`/oauth/jwks`): the key that signs and those retired recently
/// enough that tokens they signed may still be valid.
pub async fn jwks(b: &Backend) -> Result<serde_json::Value, Error> {
    let mut keys = b.store.signing_keys(b.now() - RETIRED_KEPT_MS).await?;
    // (read again only on the very first call, once the first key is made)
    if !keys.iter().any(|k| k.retired_at.is_none()) {
        active(b).await?;
        keys = b.store.signing_keys(b.now() - RETIRED_KEPT_MS).await?;
    }
    let list: Vec<serde_json::Value> = keys.iter().filter_map(|k| serde_json::from_str(&k.public_jwk).ok()).collect();
    Ok(json!({ "keys": list }))
}

/// The published keys, newest first.
pub async fn list(b: &Backend, ctx: &Ctx) -> Result<Vec<KeyInfo>, Error> {
    policy::can_manage_clients(ctx.reader(b, ctx.org())?).map_err(Error::Forbidden)?;
    Ok(b.store
        .signing_keys(b.now() - RETIRED_KEPT_MS)
        .await?
        .into_iter()
        .map(|k| KeyInfo { kid: k.kid, alg: k.alg, created_at: k.created_at, retired_at: k.retired_at })
        .collect())
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rotated {
    pub kid: String,
    pub retired: u64,
    pub removed: u64,
}

/// A new key signs from now on; the one before stays published until the tokens it signed
/// have expired; keys retired longer ago than that are removed.
pub async fn rotate(b: &Backend, ctx: &Ctx) -> Result<Rotated, Error> {
    policy::can_manage_clients(ctx.actor()?).map_err(Error::Forbidden)?;
    sudo_grants(b, ctx)?;
    let key = generate(b).await?;
    let mut tx = b.store.begin().await?;
    policy::can_manage_clients(super::actor_in(&mut tx, ctx, ctx.org()).await?).map_err(Error::Forbidden)?;
    let now = b.now();
    let retired = tx.retire_signing_keys(now).await?;
    let removed = tx.delete_signing_keys_retired_before(now - RETIRED_KEPT_MS).await?;
    tx.insert_signing_key(&sealed(b, &key, now)?).await?;
    let done = Rotated { kid: key.kid.clone(), retired, removed };
    let mut ev = audit_global(b, ctx, "oidc.key_rotated", true);
    ev.target = Some(key.kid.clone());
    ev.after = Some(json!({ "kid": done.kid, "alg": ALG, "retired": retired, "removed": removed }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    b.signing_keys.put(Arc::new(key));
    Ok(done)
}
