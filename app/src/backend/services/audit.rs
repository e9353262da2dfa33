//! Reading the audit trail (newest first, keyset by id).
use crate::backend::{Backend, Ctx};
use crate::domain::error::Error;
use crate::domain::policy;
use crate::domain::users::AuditPage;

pub async fn list(b: &Backend, ctx: &Ctx, before: Option<i64>, limit: Option<u32>) -> Result<AuditPage, Error> {
    policy::can_view_audit(ctx.actor()?).map_err(Error::Forbidden)?;
    let limit = limit.unwrap_or(50).clamp(1, 500);
    let mut events = b.store.list_audit(before, limit + 1).await?;
    let more = events.len() > limit as usize;
    events.truncate(limit as usize);
    let next = if more { events.last().map(|e| e.id) } else { None };
    Ok(AuditPage { events, next })
}
