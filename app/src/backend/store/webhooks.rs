//! The event outbox and the webhooks that read it. One implementation serves both backends
//! (`impl_webhook_store!`): the SQL is plain enough to be the same text on SQLite and
//! PostgreSQL, so it is written once.
use async_trait::async_trait;

use super::StoreResult;
use crate::domain::ids::OrgId;

/// One change, as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventRecord {
    /// 0 for an event not yet stored.
    pub id: i64,
    /// ms since the epoch.
    pub at: i64,
    /// `user`, `role`, `org` or `all`.
    pub kind: String,
    pub subject_id: Option<i64>,
    /// The subject's name at the time.
    pub name: Option<String>,
    /// The organizations it concerns (empty: every organization).
    pub orgs: Vec<OrgId>,
    /// The access version the change produced.
    pub version: i64,
}

/// A webhook as stored (`secret` sealed with the instance key, bound to the row id).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebhookRecord {
    /// 0 for a hook not yet stored.
    pub id: i64,
    pub name: String,
    pub url: String,
    pub kinds: Vec<String>,
    pub orgs: Vec<OrgId>,
    pub secret: Vec<u8>,
    pub enabled: bool,
    /// Why deliveries stopped (after too many failures); `None` while it delivers.
    pub paused: Option<String>,
    /// The last event this hook is done with.
    pub cursor: i64,
    /// Failed attempts at the event after `cursor`.
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One attempt to deliver one event to one hook.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliveryRecord {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: i64,
    pub attempt: i64,
    pub at: i64,
    pub status: Option<i64>,
    pub error: Option<String>,
    pub response: Option<String>,
    pub duration_ms: i64,
}

/// What a delivery attempt leaves on its hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookProgress {
    pub cursor: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub paused: Option<String>,
}

/// Reads outside a write transaction.
#[async_trait]
pub trait WebhookStore {
    /// Events after `after`, oldest first, at most `limit`.
    async fn events_after(&self, after: i64, limit: i64) -> StoreResult<Vec<EventRecord>>;
    /// The newest event's id (0: none).
    async fn last_event_id(&self) -> StoreResult<i64>;
    /// The oldest kept event's id (`None`: none kept).
    async fn first_event_id(&self) -> StoreResult<Option<i64>>;
    async fn webhooks(&self, limit: i64) -> StoreResult<Vec<WebhookRecord>>;
    async fn webhook(&self, id: i64) -> StoreResult<Option<WebhookRecord>>;
    /// A hook's deliveries, newest first, at most `limit`.
    async fn deliveries(&self, webhook: i64, limit: i64) -> StoreResult<Vec<DeliveryRecord>>;
}

/// Inside a write transaction.
#[async_trait]
pub trait WebhookTx: Send {
    async fn insert_event(&mut self, e: &EventRecord) -> StoreResult<i64>;
    async fn last_event_id(&mut self) -> StoreResult<i64>;
    async fn webhook(&mut self, id: i64) -> StoreResult<Option<WebhookRecord>>;
    async fn count_webhooks(&mut self) -> StoreResult<i64>;
    /// Inserts a hook (id 0; its secret as given, its cursor as given) or updates the
    /// settings of the one with its id (name, url, kinds, orgs, enabled, paused); answers its id.
    async fn save_webhook(&mut self, w: &WebhookRecord) -> StoreResult<i64>;
    async fn set_webhook_secret(&mut self, id: i64, sealed: &[u8], now: i64) -> StoreResult<()>;
    async fn delete_webhook(&mut self, id: i64) -> StoreResult<()>;
    /// Takes the hook for `owner` until `until` unless another owner holds it past `now`;
    /// answers whether it is ours.
    async fn lease_webhook(&mut self, id: i64, owner: &str, now: i64, until: i64) -> StoreResult<bool>;
    async fn set_webhook_progress(&mut self, id: i64, p: &HookProgress) -> StoreResult<()>;
    /// Logs an attempt and keeps only the newest `keep` of the hook's log.
    async fn insert_delivery(&mut self, d: &DeliveryRecord, keep: i64) -> StoreResult<()>;
    /// Deletes events older than `before` (ms); answers how many.
    async fn purge_events(&mut self, before: i64) -> StoreResult<u64>;
}

pub(crate) fn join_ids(ids: &[OrgId]) -> String {
    ids.iter().map(|o| o.0.to_string()).collect::<Vec<_>>().join(",")
}

pub(crate) fn split_ids(stored: &str) -> Vec<OrgId> {
    stored.split(',').filter_map(|s| s.trim().parse().ok()).map(OrgId).collect()
}

pub(crate) const EVENT_COLS: &str = "id, at, kind, subject_id, name, orgs, version";
pub(crate) const HOOK_COLS: &str =
    "id, name, url, kinds, orgs, secret, enabled, paused, cursor, attempts, next_attempt_at, created_at, updated_at";
pub(crate) const DELIVERY_COLS: &str = "id, webhook_id, event_id, attempt, at, status, error, response, duration_ms";

pub(crate) fn event_row<R: sqlx::Row>(r: &R) -> Result<EventRecord, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(EventRecord {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        kind: r.try_get("kind")?,
        subject_id: r.try_get("subject_id")?,
        name: r.try_get("name")?,
        orgs: split_ids(&r.try_get::<String, _>("orgs")?),
        version: r.try_get("version")?,
    })
}

pub(crate) fn hook_row<R: sqlx::Row>(r: &R) -> Result<WebhookRecord, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Vec<u8>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(WebhookRecord {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        url: r.try_get("url")?,
        kinds: r.try_get::<String, _>("kinds")?.split_whitespace().map(str::to_string).collect(),
        orgs: split_ids(&r.try_get::<String, _>("orgs")?),
        secret: r.try_get("secret")?,
        enabled: r.try_get("enabled")?,
        paused: r.try_get("paused")?,
        cursor: r.try_get("cursor")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub(crate) fn delivery_row<R: sqlx::Row>(r: &R) -> Result<DeliveryRecord, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(DeliveryRecord {
        id: r.try_get("id")?,
        webhook_id: r.try_get("webhook_id")?,
        event_id: r.try_get("event_id")?,
        attempt: r.try_get("attempt")?,
        at: r.try_get("at")?,
        status: r.try_get("status")?,
        error: r.try_get("error")?,
        response: r.try_get("response")?,
        duration_ms: r.try_get("duration_ms")?,
    })
}

/// The ports for one backend: `$store` reads from its pool field `$pool`, `$tx` writes on its
/// transaction field `tx`. Parameters are numbered (`$1`), which both backends accept, each
/// first used in order.
macro_rules! impl_webhook_store {
    ($store:ty, $pool:ident, $tx:ty) => {
        #[async_trait::async_trait]
        impl $crate::backend::store::webhooks::WebhookStore for $store {
            async fn events_after(
                &self,
                after: i64,
                limit: i64,
            ) -> $crate::backend::store::StoreResult<Vec<$crate::backend::store::webhooks::EventRecord>> {
                use $crate::backend::store::webhooks::*;
                let rows = sqlx::query(&format!("SELECT {EVENT_COLS} FROM events WHERE id > $1 ORDER BY id LIMIT $2"))
                    .bind(after)
                    .bind(limit)
                    .fetch_all(&self.$pool)
                    .await?;
                Ok(rows.iter().map(event_row).collect::<Result<_, _>>()?)
            }

            async fn last_event_id(&self) -> $crate::backend::store::StoreResult<i64> {
                let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events").fetch_one(&self.$pool).await?;
                Ok(id.unwrap_or(0))
            }

            async fn first_event_id(&self) -> $crate::backend::store::StoreResult<Option<i64>> {
                Ok(sqlx::query_scalar("SELECT MIN(id) FROM events").fetch_one(&self.$pool).await?)
            }

            async fn webhooks(
                &self,
                limit: i64,
            ) -> $crate::backend::store::StoreResult<Vec<$crate::backend::store::webhooks::WebhookRecord>> {
                use $crate::backend::store::webhooks::*;
                let rows = sqlx::query(&format!("SELECT {HOOK_COLS} FROM webhooks ORDER BY id LIMIT $1"))
                    .bind(limit)
                    .fetch_all(&self.$pool)
                    .await?;
                Ok(rows.iter().map(hook_row).collect::<Result<_, _>>()?)
            }

            async fn webhook(
                &self,
                id: i64,
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::webhooks::WebhookRecord>> {
                use $crate::backend::store::webhooks::*;
                let row = sqlx::query(&format!("SELECT {HOOK_COLS} FROM webhooks WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.$pool)
                    .await?;
                Ok(row.as_ref().map(hook_row).transpose()?)
            }

            async fn deliveries(
                &self,
                webhook: i64,
                limit: i64,
            ) -> $crate::backend::store::StoreResult<Vec<$crate::backend::store::webhooks::DeliveryRecord>> {
                use $crate::backend::store::webhooks::*;
                let rows = sqlx::query(&format!(
                    "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2"
                ))
                .bind(webhook)
                .bind(limit)
                .fetch_all(&self.$pool)
                .await?;
                Ok(rows.iter().map(delivery_row).collect::<Result<_, _>>()?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::backend::store::webhooks::WebhookTx for $tx {
            async fn insert_event(
                &mut self,
                e: &$crate::backend::store::webhooks::EventRecord,
            ) -> $crate::backend::store::StoreResult<i64> {
                use $crate::backend::store::webhooks::*;
                Ok(sqlx::query_scalar(
                    "INSERT INTO events (at, kind, subject_id, name, orgs, version) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(e.at)
                .bind(&e.kind)
                .bind(e.subject_id)
                .bind(&e.name)
                .bind(join_ids(&e.orgs))
                .bind(e.version)
                .fetch_one(&mut *self.tx)
                .await?)
            }

            async fn last_event_id(&mut self) -> $crate::backend::store::StoreResult<i64> {
                let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events").fetch_one(&mut *self.tx).await?;
                Ok(id.unwrap_or(0))
            }

            async fn webhook(
                &mut self,
                id: i64,
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::webhooks::WebhookRecord>> {
                use $crate::backend::store::webhooks::*;
                let row = sqlx::query(&format!("SELECT {HOOK_COLS} FROM webhooks WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                Ok(row.as_ref().map(hook_row).transpose()?)
            }

            async fn count_webhooks(&mut self) -> $crate::backend::store::StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM webhooks").fetch_one(&mut *self.tx).await?)
            }

            async fn save_webhook(
                &mut self,
                w: &$crate::backend::store::webhooks::WebhookRecord,
            ) -> $crate::backend::store::StoreResult<i64> {
                use $crate::backend::store::webhooks::*;
                if w.id == 0 {
                    return Ok(sqlx::query_scalar(
                        "INSERT INTO webhooks (name, url, kinds, orgs, secret, enabled, paused, cursor, \
                         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                    )
                    .bind(&w.name)
                    .bind(&w.url)
                    .bind(w.kinds.join(" "))
                    .bind(join_ids(&w.orgs))
                    .bind(&w.secret)
                    .bind(w.enabled)
                    .bind(&w.paused)
                    .bind(w.cursor)
                    .bind(w.created_at)
                    .bind(w.updated_at)
                    .fetch_one(&mut *self.tx)
                    .await?);
                }
                sqlx::query(
                    "UPDATE webhooks SET name = $1, url = $2, kinds = $3, orgs = $4, enabled = $5, paused = $6, \
                     attempts = $7, next_attempt_at = $8, updated_at = $9 WHERE id = $10",
                )
                .bind(&w.name)
                .bind(&w.url)
                .bind(w.kinds.join(" "))
                .bind(join_ids(&w.orgs))
                .bind(w.enabled)
                .bind(&w.paused)
                .bind(w.attempts)
                .bind(w.next_attempt_at)
                .bind(w.updated_at)
                .bind(w.id)
                .execute(&mut *self.tx)
                .await?;
                Ok(w.id)
            }

            async fn set_webhook_secret(
                &mut self,
                id: i64,
                sealed: &[u8],
                now: i64,
            ) -> $crate::backend::store::StoreResult<()> {
                sqlx::query("UPDATE webhooks SET secret = $1, updated_at = $2 WHERE id = $3")
                    .bind(sealed)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn delete_webhook(&mut self, id: i64) -> $crate::backend::store::StoreResult<()> {
                sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(id).execute(&mut *self.tx).await?;
                Ok(())
            }

            async fn lease_webhook(
                &mut self,
                id: i64,
                owner: &str,
                now: i64,
                until: i64,
            ) -> $crate::backend::store::StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE webhooks SET lease_owner = $1, lease_until = $2 \
                     WHERE id = $3 AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $4)",
                )
                .bind(owner)
                .bind(until)
                .bind(id)
                .bind(now)
                .execute(&mut *self.tx)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_webhook_progress(
                &mut self,
                id: i64,
                p: &$crate::backend::store::webhooks::HookProgress,
            ) -> $crate::backend::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE webhooks SET cursor = $1, attempts = $2, next_attempt_at = $3, paused = $4 WHERE id = $5",
                )
                .bind(p.cursor)
                .bind(p.attempts)
                .bind(p.next_attempt_at)
                .bind(&p.paused)
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn insert_delivery(
                &mut self,
                d: &$crate::backend::store::webhooks::DeliveryRecord,
                keep: i64,
            ) -> $crate::backend::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (webhook_id, event_id, attempt, at, status, error, response, \
                     duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(d.webhook_id)
                .bind(d.event_id)
                .bind(d.attempt)
                .bind(d.at)
                .bind(d.status)
                .bind(&d.error)
                .bind(&d.response)
                .bind(d.duration_ms)
                .execute(&mut *self.tx)
                .await?;
                // Everything older than the hook's `keep`-th newest goes (nothing while fewer).
                sqlx::query(
                    "DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND id < (SELECT id FROM \
                     webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
                )
                .bind(d.webhook_id)
                .bind(keep.max(1) - 1)
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn purge_events(&mut self, before: i64) -> $crate::backend::store::StoreResult<u64> {
                Ok(sqlx::query("DELETE FROM events WHERE at < $1").bind(before).execute(&mut *self.tx).await?.rows_affected())
            }
        }
    };
}
pub(crate) use impl_webhook_store;
