//! The SCIM 2.0 service provider at `/scim/v2/{connection}` (RFC 7644): discovery
//! (`ServiceProviderConfig`, `ResourceTypes`, `Schemas`) and `Users`. Every request carries
//! a bearer token of the connection in its URL (`services::scim::authenticate`); every
//! answer is `application/scim+json`, errors in SCIM's shape with `scimType`, unknown
//! addresses under `/scim/v2` included. The use cases are `services::scim`.
use app::backend::services::scim::{self as svc, ScimCaller};
use app::backend::{Backend, Ctx};
use app::domain::scim::{self as d, ScimError};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::Value;
use std::collections::HashMap;

/// Every SCIM route with its methods: `router` registers exactly these and the authorization
/// test calls each one.
pub const ROUTES: &[(&str, &[&str])] = &[
    ("/scim/v2/{connection}/ServiceProviderConfig", &["GET"]),
    ("/scim/v2/{connection}/ResourceTypes", &["GET"]),
    ("/scim/v2/{connection}/ResourceTypes/{id}", &["GET"]),
    ("/scim/v2/{connection}/Schemas", &["GET"]),
    ("/scim/v2/{connection}/Schemas/{id}", &["GET"]),
    ("/scim/v2/{connection}/Users", &["GET", "POST"]),
    ("/scim/v2/{connection}/Users/.search", &["POST"]),
    ("/scim/v2/{connection}/Users/{id}", &["GET", "PUT", "PATCH", "DELETE"]),
    ("/scim/v2/{connection}/Groups", &["GET", "POST"]),
    ("/scim/v2/{connection}/Groups/.search", &["POST"]),
    ("/scim/v2/{connection}/Groups/{id}", &["GET", "PUT", "PATCH", "DELETE"]),
    ("/scim/v2/{connection}/.search", &["POST"]),
];

pub fn router(b: &Backend) -> axum::Router<crate::ServerState> {
    use axum::routing::{any, delete, get, patch, post, put, MethodRouter};
    let route = |path: &str| -> MethodRouter<crate::ServerState> {
        let b = b.clone();
        let m: MethodRouter<Backend> = match path {
            "/scim/v2/{connection}/ServiceProviderConfig" => get(sp_config),
            "/scim/v2/{connection}/ResourceTypes" => get(resource_types),
            "/scim/v2/{connection}/ResourceTypes/{id}" => get(resource_type),
            "/scim/v2/{connection}/Schemas" => get(schemas),
            "/scim/v2/{connection}/Schemas/{id}" => get(schema),
            "/scim/v2/{connection}/Users" => get(list_users).post(create_user),
            "/scim/v2/{connection}/Users/.search" => post(search_users),
            "/scim/v2/{connection}/.search" => post(search_everything),
            "/scim/v2/{connection}/Groups" => get(list_groups).post(create_group),
            "/scim/v2/{connection}/Groups/.search" => post(search_groups),
            "/scim/v2/{connection}/Groups/{id}" => {
                get(get_group).merge(put(replace_group)).merge(patch(patch_group)).merge(delete(delete_group))
            }
            "/scim/v2/{connection}/Users/{id}" => {
                get(get_user).merge(put(replace_user)).merge(patch(patch_user)).merge(delete(delete_user))
            }
            _ => MethodRouter::new(),
        };
        m.fallback(method_not_allowed).with_state(b)
    };
    let inner = ROUTES
        .iter()
        .fold(axum::Router::new(), |r, (path, _)| r.route(path.strip_prefix("/scim/v2").unwrap_or(path), route(path)));
    // Anything else under /scim/v2 is a SCIM 404 (clients and scim2-tester expect the shape).
    axum::Router::new().nest("/scim/v2", inner.fallback(not_found)).route("/scim/v2", any(not_found))
}

/// A SCIM answer: the media type, never cached.
fn answer(status: StatusCode, body: Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(d::CONTENT_TYPE));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn error(e: ScimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = answer(status, e.body());
    if e.status == 401 {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"scim\""));
    }
    r
}

async fn not_found() -> Response {
    error(ScimError::not_found("There is no SCIM resource at this address."))
}

async fn method_not_allowed() -> Response {
    error(ScimError::new(405, None, "This SCIM address does not take that method."))
}

/// The caller, or the refusal to answer with.
async fn caller(b: &Backend, ctx: &Ctx, slug: &str, headers: &HeaderMap) -> Result<ScimCaller, Response> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    svc::authenticate(b, slug, auth, ctx.ip.clone(), ctx.user_agent.clone()).await.map_err(error)
}

/// A request body as JSON (any JSON media type, or none, is accepted).
fn json_body(body: &Bytes) -> Result<Value, ScimError> {
    if body.len() > d::MAX_BODY {
        return Err(ScimError::new(413, Some("tooLarge"), "The request body is too large."));
    }
    serde_json::from_slice(body).map_err(|e| ScimError::invalid_syntax(format!("The body is not valid JSON: {e}.")))
}

type Params = Query<HashMap<String, String>>;

/// A SearchRequest body as the list's query parameters (lists joined with commas).
fn search_params(v: &Value) -> HashMap<String, String> {
    let mut q = HashMap::new();
    if let Value::Object(m) = v {
        for (k, val) in m {
            let text = match val {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
                _ => continue,
            };
            q.insert(k.clone(), text);
        }
    }
    q
}

fn param<'a>(q: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// `attributes` / `excludedAttributes` applied to one resource or a list's resources.
fn projected(v: Value, q: &HashMap<String, String>) -> Value {
    let attrs = d::attribute_list(param(q, "attributes"));
    let excluded = d::attribute_list(param(q, "excludedAttributes"));
    if attrs.is_empty() && excluded.is_empty() {
        return v;
    }
    match v {
        Value::Object(mut m) if m.contains_key("Resources") => {
            if let Some(Value::Array(items)) = m.remove("Resources") {
                let items = items.into_iter().map(|r| d::project(r, &attrs, &excluded)).collect();
                m.insert("Resources".into(), Value::Array(items));
            }
            Value::Object(m)
        }
        other => d::project(other, &attrs, &excluded),
    }
}

macro_rules! authed {
    ($b:expr, $ctx:expr, $slug:expr, $headers:expr) => {
        match caller(&$b, &$ctx, &$slug, &$headers).await {
            Ok(c) => c,
            Err(r) => return r,
        }
    };
}

#[utoipa::path(get, path = "/scim/v2/{connection}/ServiceProviderConfig", tag = "scim", operation_id = "scimServiceProviderConfig",
    summary = "What this SCIM service provider supports", params(("connection" = String, Path, description = "The SCIM connection's id")),
    responses((status = 200, description = "ServiceProviderConfig", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object)))]
pub async fn sp_config(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    answer(StatusCode::OK, d::service_provider_config(&c.base))
}

#[utoipa::path(get, path = "/scim/v2/{connection}/ResourceTypes", tag = "scim", operation_id = "scimResourceTypes",
    summary = "The resource types (User)", params(("connection" = String, Path, description = "The SCIM connection's id")),
    responses((status = 200, description = "ListResponse of ResourceType", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object)))]
pub async fn resource_types(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    let all = d::resource_types(&c.base);
    let n = all.len() as i64;
    answer(StatusCode::OK, d::list_response(all, n, 1))
}

#[utoipa::path(get, path = "/scim/v2/{connection}/ResourceTypes/{id}", tag = "scim", operation_id = "scimResourceType",
    summary = "One resource type", params(("connection" = String, Path, description = "The SCIM connection's id"), ("id" = String, Path, description = "The resource's id")),
    responses((status = 200, description = "ResourceType", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object), (status = 404, description = "Not found (or not this connection's)", content_type = "application/scim+json", body = Object)))]
pub async fn resource_type(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    match d::resource_types(&c.base).into_iter().find(|r| r["id"] == id.as_str()) {
        Some(r) => answer(StatusCode::OK, r),
        None => error(ScimError::not_found(format!("There is no resource type {id}."))),
    }
}

#[utoipa::path(get, path = "/scim/v2/{connection}/Schemas", tag = "scim", operation_id = "scimSchemas",
    summary = "The schemas: only the attributes Roster stores", params(("connection" = String, Path, description = "The SCIM connection's id")),
    responses((status = 200, description = "ListResponse of Schema", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object)))]
pub async fn schemas(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    let all = d::schemas(&c.base);
    let n = all.len() as i64;
    answer(StatusCode::OK, d::list_response(all, n, 1))
}

#[utoipa::path(get, path = "/scim/v2/{connection}/Schemas/{id}", tag = "scim", operation_id = "scimSchema",
    summary = "One schema", params(("connection" = String, Path, description = "The SCIM connection's id"), ("id" = String, Path, description = "The resource's id")),
    responses((status = 200, description = "Schema", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object), (status = 404, description = "Not found (or not this connection's)", content_type = "application/scim+json", body = Object)))]
pub async fn schema(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    match d::schemas(&c.base).into_iter().find(|s| s["id"] == id.as_str()) {
        Some(s) => answer(StatusCode::OK, s),
        None => error(ScimError::not_found(format!("There is no schema {id}."))),
    }
}

#[utoipa::path(get, path = "/scim/v2/{connection}/Users", tag = "scim", operation_id = "scimListUsers",
    summary = "The connection's accounts, filtered and paged (in id order)", params(("connection" = String, Path, description = "The SCIM connection's id"), ("filter" = Option<String>, Query, description = "RFC 7644 filter on userName, externalId, id, active or emails"), ("startIndex" = Option<i64>, Query, description = "1-based"), ("count" = Option<i64>, Query, description = "At most 200 (default 100; 0 counts only)"), ("attributes" = Option<String>, Query, description = "Only these attributes (comma-separated)"), ("excludedAttributes" = Option<String>, Query, description = "All but these attributes (comma-separated)")),
    responses((status = 200, description = "ListResponse of User", content_type = "application/scim+json", body = Object), (status = 400, description = "invalidValue, invalidSyntax, invalidPath, invalidFilter or noTarget", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object)))]
pub async fn list_users(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path(slug): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    let (start, count) = match d::paging(param(&q, "startIndex"), param(&q, "count")) {
        Ok(p) => p,
        Err(e) => return error(e),
    };
    match svc::list_users(&b, &c, param(&q, "filter"), start, count).await {
        Ok(v) => answer(StatusCode::OK, projected(v, &q)),
        Err(e) => error(e),
    }
}

/// `POST /Users/.search`: the list's parameters in a body (RFC 7644 §3.4.3).
#[utoipa::path(post, path = "/scim/v2/{connection}/Users/.search", tag = "scim", operation_id = "scimSearchUsers",
    summary = "The same as listing, with the parameters in a body", params(("connection" = String, Path, description = "The SCIM connection's id")), request_body(content = Object, description = "A SearchRequest (filter, startIndex, count, attributes, excludedAttributes)", content_type = "application/scim+json"),
    responses((status = 200, description = "ListResponse of User", content_type = "application/scim+json", body = Object), (status = 400, description = "invalidValue, invalidSyntax, invalidPath, invalidFilter or noTarget", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object)))]
pub async fn search_users(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return error(e),
    };
    let q = search_params(&v);
    let (start, count) = match d::paging(param(&q, "startIndex"), param(&q, "count")) {
        Ok(p) => p,
        Err(e) => return error(e),
    };
    match svc::list_users(&b, &c, param(&q, "filter"), start, count).await {
        Ok(v) => answer(StatusCode::OK, projected(v, &q)),
        Err(e) => error(e),
    }
}

/// `POST /.search` over every resource type at once: not offered (RFC 7644 §3.12 answers 501);
/// each type is searched at its own `/.search`.
#[utoipa::path(post, path = "/scim/v2/{connection}/.search", tag = "scim", operation_id = "scimSearchAll",
    summary = "Searching every resource type at once: not offered", params(("connection" = String, Path, description = "The SCIM connection's id")),
    responses((status = 501, description = "Not implemented: use /Users/.search", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object)))]
pub async fn search_everything(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    let _ = authed!(b, ctx, slug, headers);
    error(ScimError::new(
        501,
        None,
        "Searching every resource type at once is not supported: use /Users/.search or /Groups/.search.",
    ))
}

#[utoipa::path(post, path = "/scim/v2/{connection}/Users", tag = "scim", operation_id = "scimCreateUser",
    summary = "Provision an account (placed in the connection's organization with its role)", params(("connection" = String, Path, description = "The SCIM connection's id"), ("attributes" = Option<String>, Query, description = "Only these attributes (comma-separated)"), ("excludedAttributes" = Option<String>, Query, description = "All but these attributes (comma-separated)")), request_body(content = Object, description = "A User resource", content_type = "application/scim+json"),
    responses((status = 201, description = "The User, as stored (values as sent)", content_type = "application/scim+json", body = Object), (status = 400, description = "invalidValue, invalidSyntax, invalidPath, invalidFilter or noTarget", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object), (status = 403, description = "A super admin, or beyond the connection's service account", content_type = "application/scim+json", body = Object), (status = 409, description = "uniqueness: the userName (or the account) exists", content_type = "application/scim+json", body = Object)))]
pub async fn create_user(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path(slug): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return error(e),
    };
    match svc::create_user(&b, &c, &v).await {
        Ok(v) => {
            let location = v["meta"]["location"].as_str().map(str::to_string);
            let mut r = answer(StatusCode::CREATED, projected(v, &q));
            if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
                r.headers_mut().insert(header::LOCATION, l);
            }
            r
        }
        Err(e) => error(e),
    }
}

#[utoipa::path(get, path = "/scim/v2/{connection}/Users/{id}", tag = "scim", operation_id = "scimGetUser",
    summary = "One of the connection's accounts (deactivated ones too)", params(("connection" = String, Path, description = "The SCIM connection's id"), ("id" = String, Path, description = "The resource's id"), ("attributes" = Option<String>, Query, description = "Only these attributes (comma-separated)"), ("excludedAttributes" = Option<String>, Query, description = "All but these attributes (comma-separated)")),
    responses((status = 200, description = "User", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object), (status = 404, description = "Not found (or not this connection's)", content_type = "application/scim+json", body = Object)))]
pub async fn get_user(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    match svc::get_user(&b, &c, &id).await {
        Ok(v) => answer(StatusCode::OK, projected(v, &q)),
        Err(e) => error(e),
    }
}

#[utoipa::path(put, path = "/scim/v2/{connection}/Users/{id}", tag = "scim", operation_id = "scimReplaceUser",
    summary = "Replace an account's attributes", params(("connection" = String, Path, description = "The SCIM connection's id"), ("id" = String, Path, description = "The resource's id"), ("attributes" = Option<String>, Query, description = "Only these attributes (comma-separated)"), ("excludedAttributes" = Option<String>, Query, description = "All but these attributes (comma-separated)")), request_body(content = Object, description = "A User resource", content_type = "application/scim+json"),
    responses((status = 200, description = "User", content_type = "application/scim+json", body = Object), (status = 400, description = "invalidValue, invalidSyntax, invalidPath, invalidFilter or noTarget", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object), (status = 403, description = "A super admin, or beyond the connection's service account", content_type = "application/scim+json", body = Object), (status = 404, description = "Not found (or not this connection's)", content_type = "application/scim+json", body = Object), (status = 409, description = "uniqueness: the userName (or the account) exists", content_type = "application/scim+json", body = Object)))]
pub async fn replace_user(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return error(e),
    };
    match svc::replace_user(&b, &c, &id, &v).await {
        Ok(v) => answer(StatusCode::OK, projected(v, &q)),
        Err(e) => error(e),
    }
}

#[utoipa::path(patch, path = "/scim/v2/{connection}/Users/{id}", tag = "scim", operation_id = "scimPatchUser",
    summary = "Change an account (active: false disables it and ends its sessions)", params(("connection" = String, Path, description = "The SCIM connection's id"), ("id" = String, Path, description = "The resource's id"), ("attributes" = Option<String>, Query, description = "Only these attributes (comma-separated)"), ("excludedAttributes" = Option<String>, Query, description = "All but these attributes (comma-separated)")), request_body(content = Object, description = "A PatchOp message (Operations: add, remove, replace; op names in any case)", content_type = "application/scim+json"),
    responses((status = 200, description = "User", content_type = "application/scim+json", body = Object), (status = 400, description = "invalidValue, invalidSyntax, invalidPath, invalidFilter or noTarget", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object), (status = 403, description = "A super admin, or beyond the connection's service account", content_type = "application/scim+json", body = Object), (status = 404, description = "Not found (or not this connection's)", content_type = "application/scim+json", body = Object), (status = 409, description = "uniqueness: the userName (or the account) exists", content_type = "application/scim+json", body = Object)))]
pub async fn patch_user(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return error(e),
    };
    match svc::patch_user(&b, &c, &id, &v).await {
        Ok(v) => answer(StatusCode::OK, projected(v, &q)),
        Err(e) => error(e),
    }
}

#[utoipa::path(delete, path = "/scim/v2/{connection}/Users/{id}", tag = "scim", operation_id = "scimDeleteUser",
    summary = "Disable the account and let it go (default), or delete it (the connection's delete mode)", params(("connection" = String, Path, description = "The SCIM connection's id"), ("id" = String, Path, description = "The resource's id")),
    responses((status = 204, description = "Done"), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object), (status = 403, description = "A super admin, or beyond the connection's service account", content_type = "application/scim+json", body = Object), (status = 404, description = "Not found (or not this connection's)", content_type = "application/scim+json", body = Object)))]
pub async fn delete_user(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    match svc::delete_user(&b, &c, &id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(e),
    }
}

/// Whether the member lists are wanted (`excludedAttributes=members`, or `attributes` without
/// members, leave them out: they are not even read).
fn wants_members(q: &HashMap<String, String>) -> bool {
    let attrs = d::attribute_list(param(q, "attributes"));
    let excluded = d::attribute_list(param(q, "excludedAttributes"));
    let named = |list: &[String]| {
        list.iter().any(|a| a.eq_ignore_ascii_case("members") || a.to_ascii_lowercase().ends_with(":members"))
    };
    !named(&excluded) && (attrs.is_empty() || named(&attrs))
}

#[utoipa::path(get, path = "/scim/v2/{connection}/Groups", tag = "scim", operation_id = "scimListGroups",
    summary = "The connection's groups, filtered and paged (in id order)", params(("connection" = String, Path, description = "The SCIM connection's id"), ("filter" = Option<String>, Query, description = "RFC 7644 filter on displayName, externalId, id or members"), ("startIndex" = Option<i64>, Query, description = "1-based"), ("count" = Option<i64>, Query, description = "At most 200 (default 100; 0 counts only)"), ("attributes" = Option<String>, Query, description = "Only these attributes (comma-separated)"), ("excludedAttributes" = Option<String>, Query, description = "All but these attributes (comma-separated; members leaves the member lists out)")),
    responses((status = 200, description = "ListResponse of Group", content_type = "application/scim+json", body = Object), (status = 400, description = "invalidValue (e.g. a member that is not this connection's User), invalidSyntax, invalidPath or invalidFilter", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object)))]
pub async fn list_groups(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path(slug): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    let (start, count) = match d::paging(param(&q, "startIndex"), param(&q, "count")) {
        Ok(p) => p,
        Err(e) => return error(e),
    };
    match svc::list_groups(&b, &c, param(&q, "filter"), start, count, wants_members(&q)).await {
        Ok(v) => answer(StatusCode::OK, projected(v, &q)),
        Err(e) => error(e),
    }
}

#[utoipa::path(post, path = "/scim/v2/{connection}/Groups/.search", tag = "scim", operation_id = "scimSearchGroups",
    summary = "The same as listing groups, with the parameters in a body", params(("connection" = String, Path, description = "The SCIM connection's id")), request_body(content = Object, description = "A SearchRequest", content_type = "application/scim+json"),
    responses((status = 200, description = "ListResponse of Group", content_type = "application/scim+json", body = Object), (status = 400, description = "invalidValue (e.g. a member that is not this connection's User), invalidSyntax, invalidPath or invalidFilter", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object)))]
pub async fn search_groups(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    let q = match json_body(&body) {
        Ok(v) => search_params(&v),
        Err(e) => return error(e),
    };
    let (start, count) = match d::paging(param(&q, "startIndex"), param(&q, "count")) {
        Ok(p) => p,
        Err(e) => return error(e),
    };
    match svc::list_groups(&b, &c, param(&q, "filter"), start, count, wants_members(&q)).await {
        Ok(v) => answer(StatusCode::OK, projected(v, &q)),
        Err(e) => error(e),
    }
}

#[utoipa::path(post, path = "/scim/v2/{connection}/Groups", tag = "scim", operation_id = "scimCreateGroup",
    summary = "Add a group (it grants nothing until mapped)", params(("connection" = String, Path, description = "The SCIM connection's id"), ("attributes" = Option<String>, Query, description = "Only these attributes (comma-separated)"), ("excludedAttributes" = Option<String>, Query, description = "All but these attributes (comma-separated; members leaves the member lists out)")), request_body(content = Object, description = "A Group resource", content_type = "application/scim+json"),
    responses((status = 201, description = "The Group", content_type = "application/scim+json", body = Object), (status = 400, description = "invalidValue (e.g. a member that is not this connection's User), invalidSyntax, invalidPath or invalidFilter", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object), (status = 409, description = "uniqueness: a group with that displayName exists", content_type = "application/scim+json", body = Object)))]
pub async fn create_group(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path(slug): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return error(e),
    };
    match svc::create_group(&b, &c, &v).await {
        Ok(v) => {
            let location = v["meta"]["location"].as_str().map(str::to_string);
            let mut r = answer(StatusCode::CREATED, projected(v, &q));
            if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
                r.headers_mut().insert(header::LOCATION, l);
            }
            r
        }
        Err(e) => error(e),
    }
}

#[utoipa::path(get, path = "/scim/v2/{connection}/Groups/{id}", tag = "scim", operation_id = "scimGetGroup",
    summary = "One of the connection's groups", params(("connection" = String, Path, description = "The SCIM connection's id"), ("id" = String, Path, description = "The group's id"), ("attributes" = Option<String>, Query, description = "Only these attributes (comma-separated)"), ("excludedAttributes" = Option<String>, Query, description = "All but these attributes (comma-separated; members leaves the member lists out)")),
    responses((status = 200, description = "Group", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object), (status = 404, description = "Not found (or not this connection's)", content_type = "application/scim+json", body = Object)))]
pub async fn get_group(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    match svc::get_group(&b, &c, &id, wants_members(&q)).await {
        Ok(v) => answer(StatusCode::OK, projected(v, &q)),
        Err(e) => error(e),
    }
}

#[utoipa::path(put, path = "/scim/v2/{connection}/Groups/{id}", tag = "scim", operation_id = "scimReplaceGroup",
    summary = "Replace a group's name, externalId and members", params(("connection" = String, Path, description = "The SCIM connection's id"), ("id" = String, Path, description = "The group's id"), ("attributes" = Option<String>, Query, description = "Only these attributes (comma-separated)"), ("excludedAttributes" = Option<String>, Query, description = "All but these attributes (comma-separated; members leaves the member lists out)")), request_body(content = Object, description = "A Group resource", content_type = "application/scim+json"),
    responses((status = 200, description = "Group", content_type = "application/scim+json", body = Object), (status = 400, description = "invalidValue (e.g. a member that is not this connection's User), invalidSyntax, invalidPath or invalidFilter", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object), (status = 404, description = "Not found (or not this connection's)", content_type = "application/scim+json", body = Object), (status = 409, description = "uniqueness: a group with that displayName exists", content_type = "application/scim+json", body = Object)))]
pub async fn replace_group(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return error(e),
    };
    match svc::replace_group(&b, &c, &id, &v).await {
        Ok(v) => answer(StatusCode::OK, projected(v, &q)),
        Err(e) => error(e),
    }
}

#[utoipa::path(patch, path = "/scim/v2/{connection}/Groups/{id}", tag = "scim", operation_id = "scimPatchGroup",
    summary = "Rename a group, or add, remove and replace its members", params(("connection" = String, Path, description = "The SCIM connection's id"), ("id" = String, Path, description = "The group's id")), request_body(content = Object, description = "A PatchOp message: displayName, externalId, members (add, remove with a filter or a value list, replace)", content_type = "application/scim+json"),
    responses((status = 204, description = "Done"), (status = 400, description = "invalidValue (e.g. a member that is not this connection's User), invalidSyntax, invalidPath or invalidFilter", content_type = "application/scim+json", body = Object), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object), (status = 404, description = "Not found (or not this connection's)", content_type = "application/scim+json", body = Object), (status = 409, description = "uniqueness: a group with that displayName exists", content_type = "application/scim+json", body = Object)))]
pub async fn patch_group(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return error(e),
    };
    match svc::patch_group(&b, &c, &id, &v).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(e),
    }
}

#[utoipa::path(delete, path = "/scim/v2/{connection}/Groups/{id}", tag = "scim", operation_id = "scimDeleteGroup",
    summary = "Remove a group (its members' accounts stay)", params(("connection" = String, Path, description = "The SCIM connection's id"), ("id" = String, Path, description = "The group's id")),
    responses((status = 204, description = "Done"), (status = 401, description = "No valid bearer token of this connection", content_type = "application/scim+json", body = Object), (status = 404, description = "Not found (or not this connection's)", content_type = "application/scim+json", body = Object)))]
pub async fn delete_group(
    State(b): State<Backend>,
    Extension(ctx): Extension<Ctx>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let c = authed!(b, ctx, slug, headers);
    match svc::delete_group(&b, &c, &id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(e),
    }
}
