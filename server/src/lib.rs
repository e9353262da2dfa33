#![forbid(unsafe_code)]
//! Roster's HTTP server: the Leptos pages and server functions, the JSON API, and the two
//! middlewares every request passes: session resolution (who is asking) and the cross-site
//! request check (mutations only from our own pages). `router` is what tests call.
pub mod assets;
pub mod cli;
pub mod client_addr;
pub mod edge;
pub mod forward;
pub mod http_guard;
pub mod metrics;
pub mod oauth;
pub mod rest;
pub mod rpc;
pub mod scim;
pub mod sso;

use std::net::SocketAddr;

use app::backend::Backend;
use axum::extract::FromRef;
use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::set_header::SetResponseHeaderLayer;

#[derive(Clone)]
pub struct ServerState {
    pub backend: Backend,
    pub leptos: LeptosOptions,
}

impl FromRef<ServerState> for LeptosOptions {
    fn from_ref(s: &ServerState) -> Self {
        s.leptos.clone()
    }
}

pub fn leptos_options(site_root: &str, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("roster")
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .hash_files(assets::hashed_names())
        .build()
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let err = app::backend::internal("handler panicked");
    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, axum::Json(rest::error_body(&err))).into_response()
}

/// The app's pages, worked out once per process. Working them out renders the app with
/// resource loads suppressed by a process-wide flag (leptos_server's `SuppressResourceLoad`),
/// and a page whose resource is first polled meanwhile, anywhere in the process, waits forever
/// (leptos-rs/leptos#4773). One process builds several routers: the tests, and several
/// instances in one process.
fn app_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// How long `/readyz` waits for the database.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Readiness for a load balancer: 200 when this instance can serve (its database answers, has
/// every migration this binary expects, and on PostgreSQL the change feed from the other
/// instances listens), else 503 with the reason. `/healthz` only says
/// the process is alive.
async fn readyz(axum::extract::State(b): axum::extract::State<Backend>) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let not_ready = |reason: String| {
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({"status": "not_ready", "reason": reason})))
            .into_response()
    };
    if b.store.has_change_feed() && !b.feed.connected() {
        // (it would miss other instances' changes: revoked tokens, removed roles)
        return not_ready("not listening to the other instances' changes yet (change feed)".to_string());
    }
    // (a database that has gone away would keep this answer waiting for the pool's acquire
    // timeout; a load balancer wants "no" now)
    match tokio::time::timeout(READY_WITHIN, b.store.pending_migrations()).await {
        Ok(Ok(pending)) if pending.is_empty() => axum::Json(serde_json::json!({"status": "ready"})).into_response(),
        Ok(Ok(pending)) => not_ready(format!("database migrations pending: {pending:?} (run `roster migrate`)")),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            not_ready("the database does not answer".to_string())
        }
        Err(_) => not_ready(format!("the database does not answer within {} s", READY_WITHIN.as_secs())),
    }
}

/// The header that names a request in answers and log lines.
pub const REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// New request ids: 96 random bits in hex.
#[derive(Clone, Copy)]
struct RequestIds;

impl tower_http::request_id::MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<tower_http::request_id::RequestId> {
        let bytes: [u8; 12] = rand::random();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        HeaderValue::from_str(&hex).ok().map(tower_http::request_id::RequestId::new)
    }
}

/// Keeps an incoming request id only when it is short and plain (a proxy's `$request_id`, a
/// UUID): it is written into every log line of the request.
async fn sane_request_id(mut req: axum::extract::Request) -> axum::extract::Request {
    let sane = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).is_some_and(|s| {
        !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    });
    if !sane {
        req.headers_mut().remove(&REQUEST_ID);
    }
    req
}

pub fn router(backend: Backend, leptos: LeptosOptions) -> Router {
    let state = ServerState { backend: backend.clone(), leptos: leptos.clone() };
    let routes = app_routes();
    let b1 = backend.clone();
    let b2 = backend.clone();
    let b3 = backend.clone();
    // Every page and server function can read the API description (the API page renders it).
    let api = app::api::meta::ApiDocument(rest::description_json());
    let (api1, api2, api3) = (api.clone(), api.clone(), api);
    Router::new()
        // (each server function has its own route, added with the pages below; this one
        // answers names that are none)
        .route(
            "/rpc/{*fn_name}",
            post(move |req| {
                let (b, api) = (b1.clone(), api1.clone());
                leptos_axum::handle_server_fns_with_context(
                    move || {
                        provide_context(b.clone());
                        provide_context(api.clone());
                    },
                    req,
                )
            }),
        )
        .nest("/api/v1", rest::router())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz).with_state(backend.clone()))
        // The built front end, precompressed (see `assets`).
        .nest_service(
            "/pkg",
            tower_http::services::ServeDir::new(std::path::Path::new(leptos.site_root.as_ref()).join("pkg"))
                .precompressed_br()
                .precompressed_gzip(),
        )
        .route("/auth/oidc/{slug}/start", post(sso::start).with_state(backend.clone()))
        .route("/auth/oidc/{slug}/callback", get(sso::callback).with_state(backend.clone()))
        .merge(oauth::router(&backend))
        .merge(scim::router(&backend))
        .route("/profile/avatar", post(rest::avatar::upload_form).with_state(backend.clone()))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(b2.clone());
                provide_context(api2.clone());
            },
            {
                let leptos = leptos.clone();
                move || app::shell(leptos.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<ServerState, _>(
            move || {
                provide_context(b3.clone());
                provide_context(api3.clone());
            },
            app::shell,
        ))
        // Statuses and native form posts of server functions (inside the guards: a refused
        // cross-site post is refused before any of this).
        .layer(axum::middleware::from_fn_with_state(backend.clone(), rpc::layer))
        .layer(axum::middleware::from_fn_with_state(backend.clone(), http_guard::cross_site_check))
        .layer(axum::middleware::from_fn_with_state(backend.clone(), http_guard::session))
        .layer(axum::middleware::from_fn(http_guard::body_limit))
        // (inside the router's layers: it sees the matched route template)
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::from_fn(edge::json_errors))
        .layer(axum::middleware::from_fn(rest::avatar::too_big_to_profile))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        // Pages and JSON compressed on the fly (the event stream is left alone: it would be
        // held back in the compressor's buffer).
        .layer(tower_http::compression::CompressionLayer::new())
        // Caching, HSTS, the content security policy of non-page answers, long URIs.
        .layer(axum::middleware::from_fn_with_state(
            edge::Edge {
                hsts: backend.config.public_origin.as_deref().is_some_and(|o| o.starts_with("https://")),
                immutable_assets: leptos.hash_files,
            },
            edge::headers,
        ))
        // The access log: one line per answer at `info` (status, latency), in a span with the
        // request id. Spans name the path only (a query string may carry an API key,
        // `?apikey=`), without an invitation's token.
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<axum::body::Body>| {
                    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
                    tracing::info_span!("request", id = %id, method = %req.method(), path = %edge::logged_path(req.uri().path()))
                })
                .on_response(
                    tower_http::trace::DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Micros),
                ),
        )
        // A bug must never show a stack trace: answer a plain JSON 500 and log it.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        // Every answer names its request (`X-Request-Id`), as the log lines do: the proxy's
        // id when it sent a sane one, else a new one.
        .layer(tower_http::request_id::PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(tower_http::request_id::SetRequestIdLayer::new(REQUEST_ID, RequestIds))
        .layer(axum::middleware::map_request(sane_request_id))
        .with_state(state)
}
