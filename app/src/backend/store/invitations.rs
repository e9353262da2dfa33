//! Invitation links. One implementation serves both backends (`impl_invitation_store!`: the
//! SQL text is the same). A token is stored only as its SHA-256; using one is a single
//! conditional UPDATE, so a link is accepted once however many requests race for it.
use async_trait::async_trait;

use super::StoreResult;
use crate::domain::abilities::AbilitySet;
use crate::domain::ids::{OrgId, RoleId, UserId};

/// An invitation as stored, with the names it is shown with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRecord {
    /// 0 for one not yet stored.
    pub id: i64,
    pub org: OrgId,
    pub email: String,
    pub role: RoleId,
    pub abilities: AbilitySet,
    pub invited_by: Option<UserId>,
    pub invited_by_name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    pub accepted_user: Option<UserId>,
    pub revoked_at: Option<i64>,
    /// Read with the row (ignored when written).
    pub org_name: String,
    pub role_name: String,
    pub accepted_by: Option<String>,
}

#[async_trait]
pub trait InvitationStore {
    /// An organization's most recent invitations, newest first.
    async fn invitations(&self, org: OrgId, limit: i64) -> StoreResult<Vec<InvitationRecord>>;
    async fn invitation_by_token(&self, token_hash: &[u8]) -> StoreResult<Option<InvitationRecord>>;
}

#[async_trait]
pub trait InvitationTx: Send {
    async fn insert_invitation(&mut self, r: &InvitationRecord, token_hash: &[u8]) -> StoreResult<i64>;
    async fn invitation(&mut self, org: OrgId, id: i64) -> StoreResult<Option<InvitationRecord>>;
    async fn invitation_by_token(&mut self, token_hash: &[u8]) -> StoreResult<Option<InvitationRecord>>;
    /// Marks the invitation accepted by `user`, if it is still pending at `now`; `false` when
    /// it was not (used, withdrawn or expired meanwhile): the single-use guarantee.
    async fn consume_invitation(&mut self, id: i64, user: UserId, now: i64) -> StoreResult<bool>;
    /// Withdraws a pending invitation; `false` if it was not pending.
    async fn revoke_invitation(&mut self, id: i64, now: i64) -> StoreResult<bool>;
    /// A new token and expiry for a pending or expired invitation (the old link stops
    /// working); `false` if it was used or withdrawn.
    async fn renew_invitation(&mut self, id: i64, token_hash: &[u8], expires_at: i64) -> StoreResult<bool>;
}

pub(crate) const INVITATION_SQL: &str = "SELECT i.id, i.org_id, i.email, i.role_id, i.abilities, i.invited_by, \
     i.invited_by_name, i.created_at, i.expires_at, i.accepted_at, i.accepted_user_id, i.revoked_at, \
     o.name AS org_name, r.name AS role_name, a.username AS accepted_by \
     FROM invitations i JOIN orgs o ON o.id = i.org_id JOIN roles r ON r.id = i.role_id \
     LEFT JOIN users a ON a.id = i.accepted_user_id";

pub(crate) fn invitation_row<R: sqlx::Row>(r: &R) -> Result<InvitationRecord, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let abilities: String = r.try_get("abilities")?;
    Ok(InvitationRecord {
        id: r.try_get("id")?,
        org: OrgId(r.try_get("org_id")?),
        email: r.try_get("email")?,
        role: RoleId(r.try_get("role_id")?),
        abilities: super::scim_mappings::codes_of(&abilities),
        invited_by: r.try_get::<Option<i64>, _>("invited_by")?.map(UserId),
        invited_by_name: r.try_get("invited_by_name")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        accepted_at: r.try_get("accepted_at")?,
        accepted_user: r.try_get::<Option<i64>, _>("accepted_user_id")?.map(UserId),
        revoked_at: r.try_get("revoked_at")?,
        org_name: r.try_get("org_name")?,
        role_name: r.try_get("role_name")?,
        accepted_by: r.try_get("accepted_by")?,
    })
}

macro_rules! impl_invitation_store {
    ($store:ty, $pool:ident, $tx:ty) => {
        #[async_trait::async_trait]
        impl $crate::backend::store::invitations::InvitationStore for $store {
            async fn invitations(
                &self,
                org: $crate::domain::ids::OrgId,
                limit: i64,
            ) -> $crate::backend::store::StoreResult<Vec<$crate::backend::store::invitations::InvitationRecord>> {
                use $crate::backend::store::invitations::*;
                let rows = sqlx::query(&format!("{INVITATION_SQL} WHERE i.org_id = $1 ORDER BY i.id DESC LIMIT $2"))
                    .bind(org.0)
                    .bind(limit)
                    .fetch_all(&self.$pool)
                    .await?;
                Ok(rows.iter().map(invitation_row).collect::<Result<_, _>>()?)
            }

            async fn invitation_by_token(
                &self,
                token_hash: &[u8],
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::invitations::InvitationRecord>> {
                use $crate::backend::store::invitations::*;
                let row = sqlx::query(&format!("{INVITATION_SQL} WHERE i.token_hash = $1"))
                    .bind(token_hash)
                    .fetch_optional(&self.$pool)
                    .await?;
                Ok(row.as_ref().map(invitation_row).transpose()?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::backend::store::invitations::InvitationTx for $tx {
            async fn insert_invitation(
                &mut self,
                r: &$crate::backend::store::invitations::InvitationRecord,
                token_hash: &[u8],
            ) -> $crate::backend::store::StoreResult<i64> {
                Ok(sqlx::query_scalar(
                    "INSERT INTO invitations (org_id, email, role_id, abilities, token_hash, invited_by, \
                     invited_by_name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                )
                .bind(r.org.0)
                .bind(&r.email)
                .bind(r.role.0)
                .bind(r.abilities.codes().join(","))
                .bind(token_hash)
                .bind(r.invited_by.map(|u| u.0))
                .bind(&r.invited_by_name)
                .bind(r.created_at)
                .bind(r.expires_at)
                .fetch_one(&mut *self.tx)
                .await
                .map_err(map_unique)?)
            }

            async fn invitation(
                &mut self,
                org: $crate::domain::ids::OrgId,
                id: i64,
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::invitations::InvitationRecord>> {
                use $crate::backend::store::invitations::*;
                let row = sqlx::query(&format!("{INVITATION_SQL} WHERE i.org_id = $1 AND i.id = $2"))
                    .bind(org.0)
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                Ok(row.as_ref().map(invitation_row).transpose()?)
            }

            async fn invitation_by_token(
                &mut self,
                token_hash: &[u8],
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::invitations::InvitationRecord>> {
                use $crate::backend::store::invitations::*;
                let row = sqlx::query(&format!("{INVITATION_SQL} WHERE i.token_hash = $1"))
                    .bind(token_hash)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                Ok(row.as_ref().map(invitation_row).transpose()?)
            }

            async fn consume_invitation(
                &mut self,
                id: i64,
                user: $crate::domain::ids::UserId,
                now: i64,
            ) -> $crate::backend::store::StoreResult<bool> {
                let r = sqlx::query(
                    "UPDATE invitations SET accepted_at = $1, accepted_user_id = $2 \
                     WHERE id = $3 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
                )
                .bind(now)
                .bind(user.0)
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn revoke_invitation(&mut self, id: i64, now: i64) -> $crate::backend::store::StoreResult<bool> {
                let r = sqlx::query(
                    "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn renew_invitation(
                &mut self,
                id: i64,
                token_hash: &[u8],
                expires_at: i64,
            ) -> $crate::backend::store::StoreResult<bool> {
                let r = sqlx::query(
                    "UPDATE invitations SET token_hash = $1, expires_at = $2 \
                     WHERE id = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
                )
                .bind(token_hash)
                .bind(expires_at)
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
                Ok(r.rows_affected() == 1)
            }
        }
    };
}
// Expanded inside each backend's module, where its `map_unique` is in scope.
pub(crate) use impl_invitation_store;
