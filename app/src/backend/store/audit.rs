//! The audit trail: append-only events, listed by cursor.
use async_trait::async_trait;

use super::StoreResult;
use crate::domain::audit::{AuditEntry, AuditFilter, AuditSeek};
use crate::domain::ids::{OrgId, UserId};

/// One audit event. `before`/`after` are JSON documents that never contain a secret.
#[derive(Debug, Clone, Default)]
pub struct AuditRecord {
    pub at: i64,
    pub actor_id: Option<UserId>,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub org_id: Option<OrgId>,
    pub event: &'static str,
    pub success: bool,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Reads outside a write transaction.
#[async_trait]
pub trait AuditStore {
    /// Up to `limit` events matching `filter`, in (time, id) order walking away from the
    /// cursor: newest first for `Newest`/`Before`, oldest first for `After` (the caller
    /// reverses). One query, answered from one index per filter (migration 0005).
    async fn list_audit(&self, filter: &AuditFilter, seek: AuditSeek, limit: u32) -> StoreResult<Vec<AuditEntry>>;
}

/// Inside a write transaction.
#[async_trait]
pub trait AuditTx: Send {
    async fn insert_audit(&mut self, e: &AuditRecord) -> StoreResult<()>;
    /// Many events in a few statements (imports), in the order given.
    async fn insert_audits(&mut self, events: &[AuditRecord]) -> StoreResult<()>;
}
