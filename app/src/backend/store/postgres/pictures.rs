//! SQL for account pictures.
use async_trait::async_trait;

use super::{PgStore, PgTx};
use crate::backend::store::{PictureStore, PictureTx, StoreResult};
use crate::domain::ids::UserId;

#[async_trait]
impl PictureStore for PgStore {
    async fn avatar(&self, user: UserId) -> StoreResult<Option<(Vec<u8>, i64)>> {
        Ok(sqlx::query_as("SELECT image, updated_at FROM avatars WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn avatar_at(&self, user: UserId) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT updated_at FROM avatars WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&self.pool)
            .await?)
    }
}

#[async_trait]
impl PictureTx for PgTx {
    async fn set_avatar(&mut self, user: UserId, png: Option<&[u8]>, now: i64) -> StoreResult<bool> {
        let existed: i64 = sqlx::query_scalar("SELECT count(*) FROM avatars WHERE user_id = $1")
            .bind(user.0)
            .fetch_one(&mut *self.tx)
            .await?;
        match png {
            Some(png) => {
                sqlx::query(
                    "INSERT INTO avatars (user_id, image, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id) DO UPDATE SET image = excluded.image, updated_at = excluded.updated_at",
                )
                .bind(user.0)
                .bind(png)
                .bind(now)
                .execute(&mut *self.tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM avatars WHERE user_id = $1").bind(user.0).execute(&mut *self.tx).await?;
            }
        }
        Ok(existed > 0)
    }
}
