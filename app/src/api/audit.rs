use leptos::prelude::*;

use crate::domain::users::AuditPage;
use crate::domain::Error;

#[server(prefix = "/rpc", endpoint = "list_audit")]
pub async fn list_audit(before: Option<i64>) -> Result<AuditPage, Error> {
    let (b, ctx) = super::reply(super::ctx())?;
    super::reply(crate::backend::services::audit::list(&b, &ctx, before, None).await)
}
