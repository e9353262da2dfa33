// The page sends each filter as its own argument (form-encoded, like the URL it comes from);
// the server function macro generates more functions with the same arguments.
#![allow(clippy::too_many_arguments)]
use leptos::prelude::*;

use crate::domain::audit::AuditPage;
use crate::domain::Error;

/// One page of the audit trail for the filters in the page's URL (text, validated by the
/// service: a bad filter comes back as field errors).
#[server(prefix = "/rpc", endpoint = "list_audit")]
pub async fn list_audit(
    actor: Option<String>,
    target: Option<String>,
    org: Option<String>,
    event: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
    after: Option<String>,
) -> Result<AuditPage, Error> {
    let (b, ctx) = super::ctx()?;
    let q = crate::domain::audit::AuditQuery { actor, target, org, event, outcome, from, to, before, after };
    crate::backend::services::audit::list(&b, &ctx, &q, None).await
}
