//! SQL for the audit trail: appending events and the cursor-paged, index-backed list.
use async_trait::async_trait;
use sqlx::Row;

use super::{SqliteStore, SqliteTx};
use crate::backend::store::rows::BATCH_ROWS;
use crate::backend::store::{AuditRecord, AuditStore, AuditTx, StoreResult};
use crate::domain::audit::{AuditEntry, AuditFilter, AuditSeek, EventMatch};

/// A bound parameter of the audit list query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditArg {
    Int(i64),
    Text(String),
}

/// The audit list query for a filter and cursor, with its parameters in order. Every
/// predicate is written exactly as an index of migration 0005 is defined (`COLLATE NOCASE`
/// for actor and target, the category expression for event prefixes), and the order is
/// (at, id) — the tail of each of those indexes — so SQLite walks one index from the cursor
/// and stops after `limit` rows. The cursor is an event id; its time is looked up in the same
/// statement (a primary-key probe, evaluated once).
pub fn audit_query(f: &AuditFilter, seek: AuditSeek, limit: u32) -> (String, Vec<AuditArg>) {
    let mut sql = String::from(
        "SELECT id, at, actor, target, org_id, event, outcome, ip, user_agent, before, after \
         FROM audit_events WHERE 1=1",
    );
    let mut args = Vec::new();
    if let Some(a) = &f.actor {
        sql.push_str(" AND actor = ? COLLATE NOCASE");
        args.push(AuditArg::Text(a.clone()));
    }
    if let Some(t) = &f.target {
        sql.push_str(" AND target = ? COLLATE NOCASE");
        args.push(AuditArg::Text(t.clone()));
    }
    if let Some(o) = f.org {
        sql.push_str(" AND org_id = ?");
        args.push(AuditArg::Int(o));
    }
    match &f.event {
        Some(EventMatch::Exact(e)) => {
            sql.push_str(" AND event = ?");
            args.push(AuditArg::Text(e.clone()));
        }
        Some(EventMatch::Category(c)) => {
            sql.push_str(" AND substr(event, 1, instr(event, '.')) = ?");
            args.push(AuditArg::Text(c.clone()));
        }
        None => {}
    }
    if let Some(o) = f.outcome {
        sql.push_str(" AND outcome = ?");
        args.push(AuditArg::Text(o.as_str().to_string()));
    }
    if let Some(from) = f.from {
        sql.push_str(" AND at >= ?");
        args.push(AuditArg::Int(from));
    }
    if let Some(to) = f.to {
        sql.push_str(" AND at <= ?");
        args.push(AuditArg::Int(to));
    }
    let (cmp, ord, cursor) = match seek {
        AuditSeek::Newest => ("", "DESC", None),
        AuditSeek::Before(id) => ("<", "DESC", Some(id)),
        AuditSeek::After(id) => (">", "ASC", Some(id)),
    };
    if let Some(id) = cursor {
        // An unknown id gives NULL, so no rows rather than the wrong ones.
        sql.push_str(&format!(" AND (at, id) {cmp} ((SELECT at FROM audit_events WHERE id = ?), ?)"));
        args.push(AuditArg::Int(id));
        args.push(AuditArg::Int(id));
    }
    sql.push_str(&format!(" ORDER BY at {ord}, id {ord} LIMIT ?"));
    args.push(AuditArg::Int(limit as i64));
    (sql, args)
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn list_audit(&self, filter: &AuditFilter, seek: AuditSeek, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let (sql, args) = audit_query(filter, seek, limit);
        let mut query = sqlx::query(&sql);
        for a in args {
            query = match a {
                AuditArg::Int(i) => query.bind(i),
                AuditArg::Text(t) => query.bind(t),
            };
        }
        let rows = query.fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    target: r.try_get("target")?,
                    org_id: r.try_get("org_id")?,
                    event: r.try_get("event")?,
                    outcome: r.try_get("outcome")?,
                    ip: r.try_get("ip")?,
                    user_agent: r.try_get("user_agent")?,
                    before: r.try_get("before")?,
                    after: r.try_get("after")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }
}

#[async_trait]
impl AuditTx for SqliteTx {
    async fn insert_audit(&mut self, e: &AuditRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (at, actor_id, actor, target, org_id, event, outcome, ip, user_agent, before, after) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(e.at)
        .bind(e.actor_id.map(|u| u.0))
        .bind(&e.actor)
        .bind(&e.target)
        .bind(e.org_id.map(|o| o.0))
        .bind(e.event)
        .bind(if e.success { "success" } else { "failure" })
        .bind(&e.ip)
        .bind(&e.user_agent)
        .bind(e.before.as_ref().map(|v| v.to_string()))
        .bind(e.after.as_ref().map(|v| v.to_string()))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn insert_audits(&mut self, events: &[AuditRecord]) -> StoreResult<()> {
        for chunk in events.chunks(BATCH_ROWS) {
            let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO audit_events (at, actor_id, actor, target, org_id, event, outcome, ip, user_agent, before, after) ",
            );
            qb.push_values(chunk, |mut row, e| {
                row.push_bind(e.at)
                    .push_bind(e.actor_id.map(|u| u.0))
                    .push_bind(&e.actor)
                    .push_bind(&e.target)
                    .push_bind(e.org_id.map(|o| o.0))
                    .push_bind(e.event)
                    .push_bind(if e.success { "success" } else { "failure" })
                    .push_bind(&e.ip)
                    .push_bind(&e.user_agent)
                    .push_bind(e.before.as_ref().map(|v| v.to_string()))
                    .push_bind(e.after.as_ref().map(|v| v.to_string()));
            });
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }
}
