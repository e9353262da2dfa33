//! Bulk action plans: what a dry run found, kept until it is applied (by any instance) or
//! expires. One implementation serves both backends (`impl_bulk_plan_store!`). A plan's id is
//! stored as its SHA-256; applying marks it with one conditional UPDATE, so a plan is applied
//! once however many requests race for it.
use async_trait::async_trait;

use super::StoreResult;
use crate::domain::ids::{OrgId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkPlanRecord {
    /// Who made it (`None`: the command line); only they apply it.
    pub actor: Option<UserId>,
    /// The organization the plan was made in (the actor's rights there).
    pub org: OrgId,
    /// The action, as JSON (`domain::bulk::BulkAction`).
    pub action: String,
    /// Each account and its outcome in selection order: `id:c,id:u,id:r` (`Outcome::code`).
    pub items: String,
    pub created_at: i64,
    pub applied_at: Option<i64>,
}

#[async_trait]
pub trait BulkPlanTx: Send {
    /// Stores a plan, and deletes those made before `expired_before`.
    async fn insert_bulk_plan(&mut self, id_hash: &[u8], r: &BulkPlanRecord, expired_before: i64) -> StoreResult<()>;
    async fn bulk_plan(&mut self, id_hash: &[u8]) -> StoreResult<Option<BulkPlanRecord>>;
    /// Marks the plan applied; `false` when it was already.
    async fn finish_bulk_plan(&mut self, id_hash: &[u8], now: i64) -> StoreResult<bool>;
}

macro_rules! impl_bulk_plan_store {
    ($tx:ty) => {
        #[async_trait::async_trait]
        impl $crate::backend::store::bulk_plans::BulkPlanTx for $tx {
            async fn insert_bulk_plan(
                &mut self,
                id_hash: &[u8],
                r: &$crate::backend::store::bulk_plans::BulkPlanRecord,
                expired_before: i64,
            ) -> $crate::backend::store::StoreResult<()> {
                sqlx::query("DELETE FROM bulk_plans WHERE created_at < $1")
                    .bind(expired_before)
                    .execute(&mut *self.tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO bulk_plans (id_hash, actor_id, org_id, action, items, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id_hash)
                .bind(r.actor.map(|u| u.0))
                .bind(r.org.0)
                .bind(&r.action)
                .bind(&r.items)
                .bind(r.created_at)
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn bulk_plan(
                &mut self,
                id_hash: &[u8],
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::bulk_plans::BulkPlanRecord>> {
                use sqlx::Row;
                let row = sqlx::query(
                    "SELECT actor_id, org_id, action, items, created_at, applied_at FROM bulk_plans WHERE id_hash = $1",
                )
                .bind(id_hash)
                .fetch_optional(&mut *self.tx)
                .await?;
                let Some(r) = row else { return Ok(None) };
                Ok(Some($crate::backend::store::bulk_plans::BulkPlanRecord {
                    actor: r.try_get::<Option<i64>, _>("actor_id")?.map($crate::domain::ids::UserId),
                    org: $crate::domain::ids::OrgId(r.try_get("org_id")?),
                    action: r.try_get("action")?,
                    items: r.try_get("items")?,
                    created_at: r.try_get("created_at")?,
                    applied_at: r.try_get("applied_at")?,
                }))
            }

            async fn finish_bulk_plan(
                &mut self,
                id_hash: &[u8],
                now: i64,
            ) -> $crate::backend::store::StoreResult<bool> {
                let r = sqlx::query("UPDATE bulk_plans SET applied_at = $1 WHERE id_hash = $2 AND applied_at IS NULL")
                    .bind(now)
                    .bind(id_hash)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(r.rows_affected() == 1)
            }
        }
    };
}
pub(crate) use impl_bulk_plan_store;
