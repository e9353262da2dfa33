//! The JSON API under `/api/v1`: the same services as the UI, authenticated by the session
//! cookie or by an API key / personal access token (`Authorization: Bearer`, `X-API-Key`,
//! or `?apikey=`). Errors are JSON with stable codes:
//! `{"error": {"code": "...", "message": "...", "fields": [{"field", "message"}]}}`.
//! The router and the OpenAPI document are built from the same `#[utoipa::path]` attributes
//! on the handlers; a test checks every answer the test suites get against the document.
pub mod access;
pub mod audit;
pub mod avatar;
pub mod bulk;
pub mod clients;
pub mod database_access;
pub mod databases;
pub mod import;
pub mod invitations;
pub mod orgs;
pub mod roles;
pub mod scim;
pub mod sso;
pub mod tokens;
pub mod users;
pub mod webhooks;

use app::backend::Ctx;
use app::domain::Error;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use serde_json::json;
use std::sync::Arc;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The API description, built once from the handlers' `#[utoipa::path]` attributes and the
/// domain types (so it cannot drift from the code), with the answers every route can give
/// added by [`EdgeAnswers`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roster API",
        version = "1",
        description = "Users and access management. Authenticate with the session cookie from signing in, or with a personal access token (`Authorization: Bearer rst_pat_...`) or an API key (`X-API-Key: rst_key_...`, or `?apikey=`). Errors are JSON: `{\"error\": {\"code\", \"message\", \"fields\": [{\"field\", \"message\"}]}}`, also for what the framework refuses (400, 405, 413, 414). Mutating requests from browsers must come from Roster's own origin (403 `cross_site_request` otherwise). A client whose token look-ups keep failing gets 429 with `Retry-After`. Accounts and organizations the caller may not see answer 404, like ones that do not exist. Every answer carries `Cache-Control: no-store`."
    ),
    servers((url = "/api/v1")),
    security(("session" = []), ("bearer" = []), ("apiKeyHeader" = []), ("apiKeyQuery" = [])),
    components(schemas(ErrorBody), responses(Refusal)),
    modifiers(&Credentials),
    tags(
        (name = "users", description = "Accounts"),
        (name = "orgs", description = "Organizations and their members"),
        (name = "databases", description = "An organization's database definitions"),
        (name = "roles", description = "Roles and the abilities they grant"),
        (name = "access", description = "Decisions: may this user do that here"),
        (name = "me", description = "The caller, its tokens and picture"),
        (name = "audit", description = "The audit trail"),
        (name = "sso", description = "Single sign-on providers"),
        (name = "clients", description = "Applications that sign people in through Roster (OAuth clients)"),
        (name = "webhooks", description = "Where Roster POSTs each change, signed (super admins)"),
        (name = "provisioning", description = "SCIM connections of identity providers (super admins); the protocol itself is under /scim/v2"),
        (name = "meta", description = "This description and the live-update stream"),
    )
)]
struct ApiDoc;

/// The ways to authenticate (named in `security` above).
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                app::backend::sessions::cookie_name(false),
                "The session cookie a browser gets by signing in (`__Host-roster_session` over https)",
            ))),
        );
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal access token (rst_pat_...) or an API key"))
                    .build(),
            ),
        );
        c.add_security_scheme(
            "apiKeyHeader",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description("X-API-Key", "An API key"))),
        );
        c.add_security_scheme(
            "apiKeyQuery",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description("apikey", "An API key"))),
        );
    }
}

/// Answers that do not depend on the handler, added to every operation: they come from the
/// layers in front of it (request parsing, the token throttle, the cross-site check on
/// mutations, the body and address limits) and from failures of the store.
struct EdgeAnswers;

impl EdgeAnswers {
    fn for_method(method: &str) -> &'static [u16] {
        match method {
            "get" | "head" => &[400, 414, 429, 500],
            _ => &[400, 403, 413, 414, 429, 500],
        }
    }
}

impl Modify for EdgeAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Ref, RefOr};
        for item in doc.paths.paths.values_mut() {
            let ops = [
                ("get", item.get.as_mut()),
                ("put", item.put.as_mut()),
                ("post", item.post.as_mut()),
                ("patch", item.patch.as_mut()),
                ("delete", item.delete.as_mut()),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                for status in Self::for_method(method) {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Refusal")));
                }
            }
        }
    }
}

/// The body of every error answer.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ErrorDetail {
    /// Stable and machine-readable: `unauthenticated`, `sign_in_failed`, `not_found`,
    /// `conflict`, `invalid`, `too_many_requests`, `internal`, `transport`, the refusal's own
    /// code for 403 (`forbidden`, `cross_site_request`, `sudo_required`, `last_super_admin`,
    /// ...), and for the framework's refusals `bad_request`, `method_not_allowed`,
    /// `payload_too_large`, `uri_too_long`, `unsupported_media_type`.
    code: String,
    /// A sentence for people.
    message: String,
    /// The fields at fault (422, and 409 when one field clashes).
    fields: Vec<FieldError>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct FieldError {
    field: String,
    message: String,
}

/// The shared error answer (components/responses/Refusal).
struct Refusal;

impl<'s> utoipa::ToResponse<'s> for Refusal {
    fn response() -> (&'s str, utoipa::openapi::RefOr<utoipa::openapi::response::Response>) {
        use utoipa::openapi::{content::ContentBuilder, response::ResponseBuilder, Ref};
        let body = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
        let r = ResponseBuilder::new()
            .description(
                "Refused: 400 malformed request, 401 not signed in (or a bad token), 403 not allowed \
                 (or a cross-site browser request, or sudo mode needed), 404 not found or not \
                 visible to the caller, 409 conflicts with what is stored, 413 body too large, \
                 414 address too long, 422 invalid input (see `fields`), 429 too many failed \
                 attempts (see `Retry-After`), 500 a failure on our side (logged with a \
                 reference), 502 a provider could not be reached",
            )
            .content("application/json", body)
            .build();
        ("Refusal", r.into())
    }
}

/// The OpenID provider's, forward authentication's and SCIM's routes: at the site's root, not
/// under `/api/v1` (each path names its server), and in their own authorization tables
/// (`openid::the_providers_routes_answer_callers_without_credentials`,
/// `scim::every_scim_route_refuses_callers_without_the_connections_token`).
#[derive(OpenApi)]
#[openapi(
    paths(
        crate::oauth::discovery,
        crate::oauth::jwks,
        crate::oauth::authorize,
        crate::oauth::authorize_post,
        crate::oauth::token,
        crate::oauth::userinfo,
        crate::oauth::introspect,
        crate::oauth::revoke,
        crate::oauth::logout,
        crate::oauth::logout_post,
        crate::oauth::signed_in,
        crate::forward::check,
        crate::forward::start,
        crate::oauth::picture,
        crate::scim::sp_config,
        crate::scim::resource_types,
        crate::scim::resource_type,
        crate::scim::schemas,
        crate::scim::schema,
        crate::scim::list_users,
        crate::scim::search_users,
        crate::scim::search_everything,
        crate::scim::create_user,
        crate::scim::get_user,
        crate::scim::replace_user,
        crate::scim::patch_user,
        crate::scim::delete_user,
        crate::scim::list_groups,
        crate::scim::search_groups,
        crate::scim::create_group,
        crate::scim::get_group,
        crate::scim::replace_group,
        crate::scim::patch_group,
        crate::scim::delete_group,
    ),
    tags(
        (name = "openid", description = "Roster as the OpenID provider of the tools, and forward authentication for proxies (at the site's root)"),
        (name = "scim", description = "SCIM 2.0 provisioning for identity providers (Okta, Entra ID): one base URL per connection, its own bearer tokens (at the site's root)"),
    )
)]
struct ProviderDoc;

/// The provider's paths, each with the site's root as its server.
fn provider_paths(doc: &mut utoipa::openapi::OpenApi) {
    let mut provider = ProviderDoc::openapi();
    // (one handler answers both discovery addresses)
    if let Some(item) = provider.paths.paths.get("/.well-known/openid-configuration").cloned() {
        let mut item = item;
        if let Some(op) = item.get.as_mut() {
            op.operation_id = Some("oauthAuthorizationServer".into());
        }
        provider.paths.paths.insert("/.well-known/oauth-authorization-server".into(), item);
    }
    for item in provider.paths.paths.values_mut() {
        item.servers = Some(vec![utoipa::openapi::Server::new("/")]);
    }
    doc.merge(provider);
}

/// The generated description (also served at `/api/v1/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = router_and_doc().1;
    provider_paths(&mut doc);
    // (the derive runs its modifiers before the router adds the paths: the answers every
    // operation shares are added here, to the complete document)
    EdgeAnswers.modify(&mut doc);
    doc
}

/// (method, path as documented) of every route: the router is built from the same list.
pub fn routes() -> Vec<(String, String)> {
    let doc = openapi();
    let mut out = Vec::new();
    // (the provider's paths, with a server of their own, are not under /api/v1)
    for (path, item) in doc.paths.paths.iter().filter(|(_, item)| item.servers.is_none()) {
        let ops = [
            ("get", item.get.is_some()),
            ("put", item.put.is_some()),
            ("post", item.post.is_some()),
            ("patch", item.patch.is_some()),
            ("delete", item.delete.is_some()),
        ];
        out.extend(ops.iter().filter(|(_, has)| *has).map(|(m, _)| (m.to_string(), path.clone())));
    }
    out
}

fn router_and_doc() -> (Router<crate::ServerState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi_json))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::delete))
        .routes(routes!(orgs::memberships))
        .routes(routes!(users::holders))
        .routes(routes!(users::set_holder, users::remove_holder))
        .routes(routes!(roles::list, roles::create))
        .routes(routes!(roles::rename, roles::delete))
        .routes(routes!(roles::grant, roles::revoke))
        .routes(routes!(orgs::list, orgs::create))
        .routes(routes!(orgs::rename, orgs::delete))
        .routes(routes!(orgs::members, orgs::add_member))
        .routes(routes!(orgs::update_member, orgs::remove_member))
        .routes(routes!(databases::list, databases::create))
        .routes(routes!(databases::get, databases::update, databases::delete))
        .routes(routes!(databases::test))
        .routes(routes!(database_access::list_credentials, database_access::create_credential))
        .routes(routes!(database_access::update_credential, database_access::delete_credential))
        .routes(routes!(database_access::test_credential))
        .routes(routes!(database_access::list_mappings))
        .routes(routes!(database_access::set_mapping, database_access::delete_mapping))
        .routes(routes!(database_access::test_mapping))
        .routes(routes!(database_access::database_login))
        .routes(routes!(import::import))
        .routes(routes!(import::export))
        .routes(routes!(access::check))
        .routes(routes!(access::explain))
        .routes(routes!(events))
        .routes(routes!(tokens::me))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(tokens::reset_two_factor))
        .routes(routes!(audit::list))
        .routes(routes!(audit::export))
        .routes(routes!(avatar::get))
        .routes(routes!(avatar::put, avatar::delete))
        .routes(routes!(sso::list, sso::create))
        .routes(routes!(sso::update, sso::delete))
        .routes(routes!(clients::list, clients::create))
        .routes(routes!(clients::get, clients::update, clients::delete))
        .routes(routes!(clients::rotate_secret))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::resume))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(scim::list, scim::create))
        .routes(routes!(scim::delete))
        .routes(routes!(scim::add_token))
        .routes(routes!(scim::list_mappings, scim::create_mapping))
        .routes(routes!(invitations::list, invitations::create))
        .routes(routes!(invitations::resend))
        .routes(routes!(invitations::revoke))
        .routes(routes!(scim::delete_mapping))
        .routes(routes!(bulk::plan))
        .routes(routes!(bulk::apply))
        .split_for_parts()
}

/// The description as JSON, generated once per process (served here and rendered by the
/// console's API page).
pub fn description_json() -> Arc<str> {
    static DOC: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    DOC.get_or_init(|| openapi().to_json().unwrap_or_else(|_| "{}".to_string()).into()).clone()
}

pub fn router() -> Router<crate::ServerState> {
    let (router, _) = router_and_doc();
    router
        .layer(Extension(OpenApiJson(description_json())))
        .fallback(|method: Method| async move { ApiError(Error::NotFound { what: format!("API route ({method})") }) })
}

#[derive(Clone)]
struct OpenApiJson(Arc<str>);

/// This description.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", operation_id = "openapi", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
async fn openapi_json(Extension(doc): Extension<OpenApiJson>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], doc.0.to_string()).into_response()
}

/// Server-sent events: what changed in the access model (roles, organizations, accounts and
/// their memberships), for live pages and for integrators. Signed-in callers and tokens.
///
/// The stream opens with `event: access`, `data:` the current access version. Then each
/// change is `event: change` with `id:` the event's id and `data:` the event as JSON (kind,
/// subject id and name, organizations, the access version after it, when). A client that
/// reconnects with `Last-Event-ID` (browsers do by themselves) first gets the changes it
/// missed, in order; if they are no longer kept (seven days) or too many, `event: reset`
/// tells it to reload everything. Each caller hears only what they may see: super admins
/// everything, others their own account, accounts in organizations whose members they may
/// see, roles, and the organizations they belong to.
///
/// The stream ends, at the latest within `SESSION_RECHECK`, once its session or token is
/// gone (signed out, expired, revoked, account disabled), and when the server shuts down.
#[utoipa::path(get, path = "/events", tag = "meta", operation_id = "events",
    params(("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event id")),
    responses(
        (status = 200, description = "An event stream: `event: access` (the current version), then `event: change` lines with `id:` and an Event as `data:`; `event: reset` when the missed changes are gone", content_type = "text/event-stream", body = app::domain::webhooks::Event),
        (status = 401, response = Refusal),
    ))]
async fn events(
    State(s): State<crate::ServerState>,
    ctx: CtxExt,
    headers: axum::http::HeaderMap,
) -> Result<
    axum::response::sse::Sse<
        impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
    >,
    ApiError,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use tokio::sync::broadcast::error::RecvError;
    let user = ctx.0.user()?.clone();
    let alive = match (&user.token, &ctx.0.session) {
        (Some(t), _) => Alive::Token(user.id, t.id),
        (None, Some(session)) => Alive::Session(session.clone()),
        (None, None) => return Err(Error::Unauthenticated.into()),
    };
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v >= 0);
    let b = s.backend.clone();
    // Subscribed before the backlog is read: nothing falls between the two (repeats are
    // skipped by id).
    let mut rx = b.events.subscribe();
    let (out, out_rx) = tokio::sync::mpsc::channel::<Event>(64);
    tokio::spawn(async move {
        let mut stopping = b.stopping.subscribe();
        let change = |b: &app::backend::Backend, e: &app::backend::store::EventRecord| -> Option<Event> {
            let l = app::backend::events::listener(b, &user);
            if !app::domain::policy::hears_event(&l, &e.kind, e.subject_id, &e.orgs) {
                return None;
            }
            let json = serde_json::to_string(&app::backend::services::webhooks::to_event(b, e)).ok()?;
            Some(Event::default().id(e.id.to_string()).event("change").data(json))
        };
        let greeting = b.access.version();
        if out.send(Event::default().event("access").data(greeting.to_string())).await.is_err() {
            return;
        }
        let mut last = b.events.last();
        // A fresh listener starts from the version it was greeted with: an event the hub hands
        // out late for a change already in that version is not news.
        let mut known_version = greeting;
        if let Some(after) = resume {
            // (a resuming one gets every event after its id, up to the newest committed: the
            // hub may not have handed the newest out yet)
            known_version = i64::MIN;
            last = last.max(b.store.last_event_id().await.unwrap_or(last));
            match backlog(&b, after, last).await {
                Some(missed) => {
                    for e in &missed {
                        if let Some(ev) = change(&b, e) {
                            if out.send(ev).await.is_err() {
                                return;
                            }
                        }
                    }
                    last = last.max(missed.last().map(|e| e.id).unwrap_or(after));
                }
                None => {
                    if out.send(Event::default().event("reset").data("reload")).await.is_err() {
                        return;
                    }
                }
            }
        }
        loop {
            // (a server shutting down ends the stream: the client reconnects elsewhere)
            let next = tokio::select! {
                next = tokio::time::timeout(SESSION_RECHECK, rx.recv()) => next,
                _ = stopping.wait_for(|stop| *stop) => return,
                _ = out.closed() => return,
            };
            if !alive.check(&b).await {
                return;
            }
            match next {
                Ok(Ok(e)) if e.id > last && e.version > known_version => {
                    last = e.id;
                    if let Some(ev) = change(&b, &e) {
                        if out.send(ev).await.is_err() {
                            return;
                        }
                    }
                }
                Ok(Ok(_)) | Err(_) => continue,
                // A slow reader missed some: read them from the outbox.
                Ok(Err(RecvError::Lagged(_))) => match backlog(&b, last, b.events.last()).await {
                    Some(missed) => {
                        for e in &missed {
                            if let Some(ev) = change(&b, e) {
                                if out.send(ev).await.is_err() {
                                    return;
                                }
                            }
                            last = e.id;
                        }
                    }
                    None => return,
                },
                Ok(Err(RecvError::Closed)) => return,
            }
        }
    });
    let stream = futures_util::stream::unfold(out_rx, |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// At most this many missed changes are replayed to a stream that resumes; beyond, `reset`.
const BACKLOG_MAX: i64 = 1000;

/// The events after `after` up to `upto`, if they are all still kept and not too many.
async fn backlog(
    b: &app::backend::Backend,
    after: i64,
    upto: i64,
) -> Option<Vec<std::sync::Arc<app::backend::store::EventRecord>>> {
    if upto <= after {
        return Some(Vec::new());
    }
    if upto - after > BACKLOG_MAX {
        return None;
    }
    let first = b.store.first_event_id().await.ok()?;
    // (ids have no gaps but what the sweep removed: an older id than the first kept is lost)
    if first.is_none_or(|f| f > after + 1) {
        return None;
    }
    let rows = b.store.events_after(after, upto - after).await.ok()?;
    Some(rows.into_iter().filter(|e| e.id <= upto).map(std::sync::Arc::new).collect())
}

/// What keeps a stream open.
enum Alive {
    Session(Vec<u8>),
    Token(app::domain::ids::UserId, i64),
}

impl Alive {
    /// The same rules as every request (account active, session expiry, token revocation).
    async fn check(&self, b: &app::backend::Backend) -> bool {
        match self {
            Alive::Session(hash) => app::backend::sessions::resolve_hash(b, hash.clone()).await.is_some(),
            Alive::Token(user, id) => app::backend::tokens::still_valid(b, *user, *id).await,
        }
    }
}

/// How often an idle event stream checks that its session or token still exists.
const SESSION_RECHECK: std::time::Duration = std::time::Duration::from_secs(30);

pub fn error_body(e: &Error) -> serde_json::Value {
    let fields = match e {
        Error::Invalid { errors } => errors.iter().map(|f| json!({"field": f.field, "message": f.message})).collect(),
        Error::Conflict { field: Some(f), message } => vec![json!({"field": f, "message": message})],
        _ => vec![],
    };
    json!({ "error": { "code": e.code(), "message": e.to_string(), "fields": fields } })
}

pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, Json(error_body(&self.0))).into_response();
        if let Error::TooManyRequests { wait_secs } = &self.0 {
            if let Ok(v) = axum::http::HeaderValue::from_str(&wait_secs.max(&1).to_string()) {
                res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Parses a JSON body into `T`, answering a 422 with the parser's reason instead of axum's
/// plain-text rejection.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError(Error::invalid("body", format!("Invalid JSON body: {e}"))))
}

pub type CtxExt = Extension<Ctx>;
