//! Importing accounts (`POST /import`, the file as the body) and exporting them
//! (`GET /export`). Super admins, in sudo mode, never with a token: both carry password
//! hashes.
use std::collections::HashMap;

use app::backend::services::export as export_svc;
use app::backend::services::import as svc;
use app::domain::import::{ExportFormat, ImportOptions, ImportReport};
use app::domain::Error;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{ApiError, ApiResult, CtxExt};
use crate::ServerState;

/// The options an import request names in its query string.
pub fn import_options(q: &HashMap<String, String>) -> Result<ImportOptions, ApiError> {
    let get = |name: &str| q.get(name).map(String::as_str).unwrap_or_default();
    Ok(ImportOptions::from_text(get("format"), get("dry_run"), get("on_existing"), get("passwords"), get("org"))?)
}

#[utoipa::path(post, path = "/import", tag = "users", operation_id = "importAccounts",
    summary = "Import accounts from SlashDB's users.cfg, CSV or JSON Lines, or database definitions from SlashDB's databases.cfg (super admins; sudo mode; no tokens)",
    description = "The file is the request body (UTF-8, at most 64 MB). One transaction: each account is checked whole and either written or reported with the reason; `dry_run=true` answers the same report and writes nothing. An account already as the file says is `unchanged`, so repeating an import is harmless. SlashDB: `admin` becomes a super admin, `public` Roster's public account, `dbdef`/`querydef`/`userdef` abilities in `org`, `api_key` an API key kept as a hash (flagged to rotate), database logins without their passwords unless `passwords=plaintext`. `slashdb-databases` reads SlashDB's databases.cfg into database definitions of `org` (import it before the users.cfg whose logins name them); its rows have `kind` `database`.",
    params(
        ("format" = String, Query, description = "`slashdb` (users.cfg), `slashdb-databases` (databases.cfg), `csv` or `jsonl`"),
        ("dry_run" = Option<bool>, Query, description = "Report only"),
        ("on_existing" = Option<String>, Query, description = "`fail` (default: report the row as an error), `skip` or `update`, for accounts that exist and differ"),
        ("passwords" = Option<String>, Query, description = "SlashDB: `encrypted` (default) or `plaintext` dbpass values"),
        ("org" = Option<String>, Query, description = "SlashDB: the organization the accounts join (default: the caller's current one)"),
    ),
    request_body(content = String, description = "The file", content_type = "text/plain"),
    responses(
        (status = 200, description = "The report, one row per account", body = ImportReport),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 413, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn import(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiResult<Json<ImportReport>> {
    let opts = import_options(&q)?;
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError(Error::invalid("body", "The file is not UTF-8 text.")))?;
    Ok(Json(svc::import(&s.backend, &ctx.0, opts, text, None).await?))
}

#[utoipa::path(get, path = "/export", tag = "users", operation_id = "exportAccounts",
    summary = "Export every account as SlashDB's users.cfg, CSV or JSON Lines, or an organization's database definitions as SlashDB's databases.cfg (super admins; sudo mode; no tokens)",
    description = "With password hashes, memberships, view/edit lists and database logins (never a database password). `slashdb` writes the abilities held in `org` as dbdef/querydef/userdef and heads the file with the accounts SlashDB cannot use as they are (argon2 hashes, ids with '.'). `slashdb-databases` writes `org`'s database definitions (default logins without their passwords; SQLite files by their path in `--sqlite-databases-dir`) and heads the file with what it cannot carry (stored passwords, TLS modes). JSON Lines imports back into Roster as the same state; CSV carries no database logins.",
    params(
        ("format" = String, Query, description = "`slashdb`, `slashdb-databases`, `csv` or `jsonl`"),
        ("org" = Option<String>, Query, description = "SlashDB: the organization whose abilities, logins and databases are written"),
    ),
    responses(
        (status = 200, description = "The file, as an attachment", content((String = "application/yaml"), (String = "text/csv"), (String = "application/jsonl"))),
        (status = 401, response = super::Refusal),
        (status = 403, response = super::Refusal),
        (status = 422, response = super::Refusal),
    ))]
pub async fn export(
    State(s): State<ServerState>,
    ctx: CtxExt,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let format = ExportFormat::parse(q.get("format").map(String::as_str).unwrap_or_default()).ok_or_else(|| {
        ApiError(Error::invalid("format", "Choose the format: slashdb, slashdb-databases, csv or jsonl."))
    })?;
    let done = export_svc::export(&s.backend, &ctx.0, format, q.get("org").map(String::as_str)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", format.file_name())),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        done.body,
    )
        .into_response())
}
