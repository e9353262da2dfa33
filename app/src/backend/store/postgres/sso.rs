//! SQL for single sign-on: providers, linked identities and flows in progress.
use async_trait::async_trait;
use sqlx::Row;

use super::{savepoint, settle, PgStore, PgTx};
use crate::backend::store::{SsoFlowRecord, SsoLinkRecord, SsoProviderRecord, SsoStore, SsoTx, StoreResult};
use crate::domain::ids::{OrgId, RoleId, UserId};

const PROVIDER_COLS: &str = "id, slug, display_name, issuer, client_id, client_secret, scopes, username_claim, \
     email_claim, name_claim, auto_create, org_id, role_id, allowed_domains, enabled, created_at";

fn provider_row(r: &sqlx::postgres::PgRow) -> Result<SsoProviderRecord, sqlx::Error> {
    Ok(SsoProviderRecord {
        id: r.try_get("id")?,
        slug: r.try_get("slug")?,
        display_name: r.try_get("display_name")?,
        issuer: r.try_get("issuer")?,
        client_id: r.try_get("client_id")?,
        client_secret: r.try_get("client_secret")?,
        scopes: r.try_get("scopes")?,
        username_claim: r.try_get("username_claim")?,
        email_claim: r.try_get("email_claim")?,
        name_claim: r.try_get("name_claim")?,
        auto_create: r.try_get("auto_create")?,
        org_id: r.try_get::<Option<i64>, _>("org_id")?.map(OrgId),
        role_id: r.try_get::<Option<i64>, _>("role_id")?.map(RoleId),
        allowed_domains: r.try_get("allowed_domains")?,
        enabled: r.try_get("enabled")?,
        created_at: r.try_get("created_at")?,
    })
}

const LINK_COLS: &str = "id, provider_id, issuer, subject, user_id, email, created_at, last_used_at";

fn link_row(r: &sqlx::postgres::PgRow) -> Result<SsoLinkRecord, sqlx::Error> {
    Ok(SsoLinkRecord {
        id: r.try_get("id")?,
        provider_id: r.try_get("provider_id")?,
        issuer: r.try_get("issuer")?,
        subject: r.try_get("subject")?,
        user_id: UserId(r.try_get("user_id")?),
        email: r.try_get("email")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

async fn links_of<'e>(
    e: impl sqlx::Executor<'e, Database = sqlx::Postgres>,
    user: UserId,
) -> StoreResult<Vec<SsoLinkRecord>> {
    let rows = sqlx::query(&format!("SELECT {LINK_COLS} FROM sso_links WHERE user_id = $1 ORDER BY id"))
        .bind(user.0)
        .fetch_all(e)
        .await?;
    Ok(rows.iter().map(link_row).collect::<Result<_, _>>()?)
}

#[async_trait]
impl SsoStore for PgStore {
    async fn sso_providers(&self) -> StoreResult<Vec<SsoProviderRecord>> {
        let rows = sqlx::query(&format!("SELECT {PROVIDER_COLS} FROM sso_providers ORDER BY lower(display_name), id"))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(provider_row).collect::<Result<_, _>>()?)
    }

    async fn sso_links_of(&self, user: UserId) -> StoreResult<Vec<SsoLinkRecord>> {
        links_of(&self.pool, user).await
    }
}

#[async_trait]
impl SsoTx for PgTx {
    async fn sso_provider(&mut self, slug: &str) -> StoreResult<Option<SsoProviderRecord>> {
        let row = sqlx::query(&format!("SELECT {PROVIDER_COLS} FROM sso_providers WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(provider_row).transpose()?)
    }

    async fn sso_provider_by_id(&mut self, id: i64) -> StoreResult<Option<SsoProviderRecord>> {
        let row = sqlx::query(&format!("SELECT {PROVIDER_COLS} FROM sso_providers WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(provider_row).transpose()?)
    }

    /// One statement for both: the slug never changes, so it identifies the row; an update
    /// without a secret keeps the stored one.
    async fn save_sso_provider(&mut self, p: &SsoProviderRecord) -> StoreResult<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sso_providers (slug, display_name, issuer, client_id, client_secret, scopes, username_claim, \
             email_claim, name_claim, auto_create, org_id, role_id, allowed_domains, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (slug) DO UPDATE SET display_name = excluded.display_name, issuer = excluded.issuer, \
             client_id = excluded.client_id, client_secret = COALESCE(excluded.client_secret, sso_providers.client_secret), \
             scopes = excluded.scopes, username_claim = excluded.username_claim, email_claim = excluded.email_claim, \
             name_claim = excluded.name_claim, auto_create = excluded.auto_create, org_id = excluded.org_id, \
             role_id = excluded.role_id, allowed_domains = excluded.allowed_domains, enabled = excluded.enabled \
             RETURNING id",
        )
        .bind(&p.slug)
        .bind(&p.display_name)
        .bind(&p.issuer)
        .bind(&p.client_id)
        .bind(&p.client_secret)
        .bind(&p.scopes)
        .bind(&p.username_claim)
        .bind(&p.email_claim)
        .bind(&p.name_claim)
        .bind(p.auto_create)
        .bind(p.org_id.map(|o| o.0))
        .bind(p.role_id.map(|r| r.0))
        .bind(&p.allowed_domains)
        .bind(p.enabled)
        .bind(p.created_at)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(id)
    }

    async fn delete_sso_provider(&mut self, id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM sso_providers WHERE id = $1").bind(id).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn insert_sso_flow(&mut self, f: &SsoFlowRecord, purge_before: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM sso_flows WHERE created_at < $1").bind(purge_before).execute(&mut *self.tx).await?;
        sqlx::query(
            "INSERT INTO sso_flows (state_hash, browser_hash, provider_id, link_user_id, nonce, pkce_verifier, created_at, invitation_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&f.state_hash)
        .bind(&f.browser_hash)
        .bind(f.provider_id)
        .bind(f.link_user_id.map(|u| u.0))
        .bind(&f.nonce)
        .bind(&f.pkce_verifier)
        .bind(f.created_at)
        .bind(f.invitation_hash.as_deref())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn take_sso_flow(&mut self, state_hash: &[u8]) -> StoreResult<Option<SsoFlowRecord>> {
        let row = sqlx::query(
            "DELETE FROM sso_flows WHERE state_hash = $1 \
             RETURNING state_hash, browser_hash, provider_id, link_user_id, nonce, pkce_verifier, created_at, invitation_hash",
        )
        .bind(state_hash)
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(SsoFlowRecord {
            state_hash: r.try_get("state_hash")?,
            browser_hash: r.try_get("browser_hash")?,
            provider_id: r.try_get("provider_id")?,
            link_user_id: r.try_get::<Option<i64>, _>("link_user_id")?.map(UserId),
            nonce: r.try_get("nonce")?,
            pkce_verifier: r.try_get("pkce_verifier")?,
            created_at: r.try_get("created_at")?,
            invitation_hash: r.try_get("invitation_hash")?,
        }))
    }

    async fn sso_link(&mut self, issuer: &str, subject: &str) -> StoreResult<Option<SsoLinkRecord>> {
        let row = sqlx::query(&format!("SELECT {LINK_COLS} FROM sso_links WHERE issuer = $1 AND subject = $2"))
            .bind(issuer)
            .bind(subject)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(link_row).transpose()?)
    }

    async fn sso_links_of(&mut self, user: UserId) -> StoreResult<Vec<SsoLinkRecord>> {
        links_of(&mut *self.tx, user).await
    }

    async fn insert_sso_link(&mut self, l: &SsoLinkRecord) -> StoreResult<i64> {
        savepoint(&mut self.tx).await?;
        let r = sqlx::query_scalar(
            "INSERT INTO sso_links (provider_id, issuer, subject, user_id, email, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(l.provider_id)
        .bind(&l.issuer)
        .bind(&l.subject)
        .bind(l.user_id.0)
        .bind(&l.email)
        .bind(l.created_at)
        .bind(l.last_used_at)
        .fetch_one(&mut *self.tx)
        .await;
        let id: i64 = settle(&mut self.tx, r).await?;
        Ok(id)
    }

    async fn touch_sso_link(&mut self, id: i64, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE sso_links SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn delete_sso_link(&mut self, id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM sso_links WHERE id = $1").bind(id).execute(&mut *self.tx).await?;
        Ok(())
    }
}
