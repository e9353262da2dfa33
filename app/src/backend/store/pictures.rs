//! Account pictures (PNG, already decoded and re-encoded by the service).
use async_trait::async_trait;

use super::StoreResult;
use crate::domain::ids::UserId;

/// Reads outside a write transaction.
#[async_trait]
pub trait PictureStore {
    /// An account's picture (PNG) and when it was set.
    async fn avatar(&self, user: UserId) -> StoreResult<Option<(Vec<u8>, i64)>>;
    /// When an account's picture was set (`None`: it has none), without reading the image.
    async fn avatar_at(&self, user: UserId) -> StoreResult<Option<i64>>;
}

/// Inside a write transaction.
#[async_trait]
pub trait PictureTx: Send {
    /// Sets (`Some`) or removes an account's picture; whether one existed before.
    async fn set_avatar(&mut self, user: UserId, png: Option<&[u8]>, now: i64) -> StoreResult<bool>;
}
