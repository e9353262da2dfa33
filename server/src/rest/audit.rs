//! `/api/v1/audit`: the audit trail, filtered and keyset-paged, and its export as CSV or JSON
//! Lines. Filters are query parameters (`actor`, `target`, `org`, `event`, `outcome`, `from`,
//! `to`), validated by the domain like the page's.
use std::collections::HashMap;

use app::backend::services::audit as svc;
use app::domain::audit::{AuditPage, AuditQuery, ExportFormat};
use app::domain::Error;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{ApiResult, CtxExt};
use crate::ServerState;

fn query_of(p: &HashMap<String, String>) -> AuditQuery {
    AuditQuery::from_pairs(p.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The filters both audit routes take, for the description (the handlers read the query
/// as a map and give it to `query_of`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct AuditFilters {
    /// Who acted (username, or `cli`); exact, case-insensitive
    actor: Option<String>,
    /// What was acted on (username, `role:NAME`, `org:NAME`); exact, case-insensitive
    target: Option<String>,
    /// Organization id the event happened in
    org: Option<i64>,
    /// An event name (`user.created`) or a category ending in a dot (`user.`, also `user.*`)
    event: Option<String>,
    /// `success` or `failure`
    outcome: Option<String>,
    /// Start of the time range, inclusive: unix milliseconds or UTC `YYYY-MM-DD[THH:MM[:SS]]`
    from: Option<String>,
    /// End of the time range, inclusive: unix milliseconds or UTC `YYYY-MM-DD[THH:MM[:SS]]` (a date or minute includes all of it)
    to: Option<String>,
}

#[utoipa::path(get, path = "/audit", tag = "audit", operation_id = "listAudit",
    summary = "List audit events, newest first (keyset paging; super admins only)",
    params(AuditFilters,
        ("before" = Option<i64>, Query, description = "The `older` cursor of a page: events older than this event id"),
        ("after" = Option<i64>, Query, description = "The `newer` cursor of a page: events newer than this event id"),
        ("limit" = Option<u32>, Query, description = "Events per page"),
    ),
    responses(
        (status = 200, description = "A page of audit events", body = AuditPage),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn list(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Query(p): Query<HashMap<String, String>>,
) -> ApiResult<Json<AuditPage>> {
    let limit = match p.get("limit").map(String::as_str) {
        None | Some("") => None,
        Some(v) => Some(v.parse::<u32>().map_err(|_| Error::invalid("limit", "Limit must be a positive number."))?),
    };
    Ok(Json(svc::list(&s.backend, &ctx.0, &query_of(&p), limit).await?))
}

/// Streams the whole filtered trail: one keyset batch at a time, so memory stays flat
/// whatever its size. Refusals and invalid filters are answered as JSON errors before the
/// first byte; a database failure mid-stream ends the body early (the download is then
/// incomplete, and the error is logged with its reference).
#[utoipa::path(get, path = "/audit/export", tag = "audit", operation_id = "exportAudit",
    summary = "Export every matching audit event, newest first, as CSV or JSON Lines (streamed; super admins only)",
    description = "CSV follows RFC 4180 (header row, CRLF, quoted fields; before/after as JSON text); text cells starting with = + - @ tab or CR are prefixed with ' so spreadsheets do not run them. JSON Lines: one object per event, before/after as JSON values.",
    params(("format" = Option<String>, Query, description = "`csv` (default) or `jsonl`"), AuditFilters,
        ("before" = Option<i64>, Query, description = "Only events older than this event id"),
    ),
    responses(
        (status = 200, description = "The export, as an attachment (Content-Disposition) named roster-audit-TIME.csv or .jsonl", content((String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn export(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Query(p): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let format = ExportFormat::parse(p.get("format").map(String::as_str).unwrap_or("csv"))?;
    let export = svc::export(&s.backend, &ctx.0, &query_of(&p), format).await?;
    let stream = futures_util::stream::unfold(Some(export), |state| async move {
        let mut export = state?;
        match export.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok::<_, std::io::Error>(chunk), Some(export))),
            Ok(None) => None,
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
        }
    });
    // (fused: the response compressor may ask again after the end)
    let stream = futures_util::StreamExt::fuse(stream);
    let stamp = app::domain::audit::iso_time(s.backend.now()).replace([':', '.'], "-");
    let filename = format!("roster-audit-{stamp}.{}", format.extension());
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
