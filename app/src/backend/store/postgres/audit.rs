//! SQL for the audit trail: appending events and the cursor-paged, index-backed list.
use async_trait::async_trait;
use sqlx::Row;

use super::{PgStore, PgTx};
use crate::backend::store::sqlite::AuditArg;
use crate::backend::store::{AuditRecord, AuditStore, AuditTx, StoreResult};
use crate::domain::audit::{AuditEntry, AuditFilter, AuditSeek, EventMatch};

/// The audit list query for a filter and cursor, with its parameters in order: the
/// PostgreSQL twin of `sqlite::audit_query`, matching the same rows in the same order. Each
/// predicate is written as an index of migration 0005 is defined: actor and target through
/// `lower()` of the "C"-collated column, which folds ASCII letters only like SQLite's
/// NOCASE (the parameter is folded under "C" too, not the database's linguistic collation);
/// event categories through the same `substr`/`strpos` expression. The order (at, id) is the
/// tail of each of those indexes.
pub fn audit_query(f: &AuditFilter, seek: AuditSeek, limit: u32) -> (String, Vec<AuditArg>) {
    let mut sql = String::from(
        "SELECT id, at, actor, target, org_id, event, outcome, ip, user_agent, before, after \
         FROM audit_events WHERE TRUE",
    );
    let mut args = Vec::new();
    // Appends a predicate whose `{}` is the next parameter.
    let mut push = |sql: &mut String, pred: &str, arg: AuditArg| {
        args.push(arg);
        sql.push_str(&pred.replace("{}", &format!("${}", args.len())));
    };
    if let Some(a) = &f.actor {
        push(&mut sql, " AND lower(actor) = lower({}::text COLLATE \"C\")", AuditArg::Text(a.clone()));
    }
    if let Some(t) = &f.target {
        push(&mut sql, " AND lower(target) = lower({}::text COLLATE \"C\")", AuditArg::Text(t.clone()));
    }
    if let Some(o) = f.org {
        push(&mut sql, " AND org_id = {}", AuditArg::Int(o));
    }
    match &f.event {
        Some(EventMatch::Exact(e)) => push(&mut sql, " AND event = {}", AuditArg::Text(e.clone())),
        Some(EventMatch::Category(c)) => {
            push(&mut sql, " AND substr(event, 1, strpos(event, '.')) = {}", AuditArg::Text(c.clone()))
        }
        None => {}
    }
    if let Some(o) = f.outcome {
        push(&mut sql, " AND outcome = {}", AuditArg::Text(o.as_str().to_string()));
    }
    if let Some(from) = f.from {
        push(&mut sql, " AND at >= {}", AuditArg::Int(from));
    }
    if let Some(to) = f.to {
        push(&mut sql, " AND at <= {}", AuditArg::Int(to));
    }
    let (cmp, ord, cursor) = match seek {
        AuditSeek::Newest => ("", "DESC", None),
        AuditSeek::Before(id) => ("<", "DESC", Some(id)),
        AuditSeek::After(id) => (">", "ASC", Some(id)),
    };
    if let Some(id) = cursor {
        // An unknown id gives NULL, so no rows rather than the wrong ones.
        push(
            &mut sql,
            &format!(" AND (at, id) {cmp} ((SELECT at FROM audit_events WHERE id = {{}}), {{}})"),
            AuditArg::Int(id),
        );
        // The same value again: the second `{}` above took the same number.
    }
    push(&mut sql, &format!(" ORDER BY at {ord}, id {ord} LIMIT {{}}"), AuditArg::Int(limit as i64));
    (sql, args)
}

#[async_trait]
impl AuditStore for PgStore {
    async fn list_audit(&self, filter: &AuditFilter, seek: AuditSeek, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let (sql, args) = audit_query(filter, seek, limit);
        let mut query = sqlx::query(&sql);
        for a in args {
            query = match a {
                AuditArg::Int(i) => query.bind(i),
                AuditArg::Text(t) => query.bind(t),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
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
impl AuditTx for PgTx {
    async fn insert_audit(&mut self, e: &AuditRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (at, actor_id, actor, target, org_id, event, outcome, ip, user_agent, before, after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
        // One statement over arrays, in the order given (WITH ORDINALITY keeps it).
        let text = |f: fn(&AuditRecord) -> Option<String>| events.iter().map(f).collect::<Vec<Option<String>>>();
        sqlx::query(
            "INSERT INTO audit_events (at, actor_id, actor, target, org_id, event, outcome, ip, user_agent, before, after) \
             SELECT at, actor_id, actor, target, org_id, event, outcome, ip, user_agent, before, after \
             FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], \
             $8::text[], $9::text[], $10::text[], $11::text[]) WITH ORDINALITY \
             AS e (at, actor_id, actor, target, org_id, event, outcome, ip, user_agent, before, after, n) ORDER BY n",
        )
        .bind(events.iter().map(|e| e.at).collect::<Vec<i64>>())
        .bind(events.iter().map(|e| e.actor_id.map(|u| u.0)).collect::<Vec<Option<i64>>>())
        .bind(text(|e| e.actor.clone()))
        .bind(text(|e| e.target.clone()))
        .bind(events.iter().map(|e| e.org_id.map(|o| o.0)).collect::<Vec<Option<i64>>>())
        .bind(events.iter().map(|e| e.event).collect::<Vec<&str>>())
        .bind(events.iter().map(|e| if e.success { "success" } else { "failure" }).collect::<Vec<&str>>())
        .bind(text(|e| e.ip.clone()))
        .bind(text(|e| e.user_agent.clone()))
        .bind(text(|e| e.before.as_ref().map(|v| v.to_string())))
        .bind(text(|e| e.after.as_ref().map(|v| v.to_string())))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
