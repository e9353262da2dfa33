//! Use cases, one module per resource. Every adapter (server functions, JSON API, CLI) calls
//! these; none of them checks permissions or writes on its own.
pub mod audit;
pub mod auth;
pub mod profile;
pub mod users;

use serde_json::json;

use super::store::{AuditRecord, UserRecord};
use super::{Backend, Ctx};
use crate::domain::ids::DEFAULT_ORG;

/// An audit event stamped with the caller and the request's origin.
pub(crate) fn audit(b: &Backend, ctx: &Ctx, event: &'static str, success: bool) -> AuditRecord {
    AuditRecord {
        at: b.now(),
        actor_id: ctx.actor_id(),
        actor: ctx.actor_name(),
        org_id: Some(DEFAULT_ORG),
        event,
        success,
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
        ..Default::default()
    }
}

/// What the audit trail records of an account: never the password hash.
pub(crate) fn user_snapshot(u: &UserRecord) -> serde_json::Value {
    json!({
        "username": u.username,
        "full_name": u.full_name,
        "email": u.email,
        "status": u.status.as_str(),
        "super_admin": u.super_admin,
    })
}

/// Collects field errors so a form shows all of them at once.
#[derive(Default)]
pub(crate) struct Fields(Vec<crate::domain::FieldError>);

impl Fields {
    pub fn take<T>(&mut self, r: Result<T, crate::domain::FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }
    pub fn finish(self) -> Result<(), crate::domain::Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(crate::domain::Error::Invalid { errors: self.0 })
        }
    }
}
