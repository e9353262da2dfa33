#![forbid(unsafe_code)]
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::process::ExitCode;

use app::backend::Config;
use clap::Parser;
use server::cli::{self, Cli, Command};

// glibc's malloc was a quarter of a large import's time (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROSTER_LOG").unwrap_or_else(|_| "info,sqlx=warn".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.settings.log_format {
        cli::LogFormat::Text => logs.init(),
        cli::LogFormat::Json => logs.json().init(),
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(cli::EXIT_UNEXPECTED);
        }
    };
    ExitCode::from(rt.block_on(run(cli)))
}

async fn run(cli: Cli) -> u8 {
    // (two databases of its own, neither of them --database-url)
    if let Command::CopyDatabase(args) = &cli.command {
        return cli::run_copy_database(&cli.settings, args).await;
    }
    // (needs no database)
    if let Command::Secrets(cli::SecretsCommand::NewKey) = &cli.command {
        println!("{}", app::backend::crypto::key_to_base64(&app::backend::crypto::new_key()));
        return 0;
    }
    let store = match cli::open_store(&cli.settings).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return cli::EXIT_DATABASE;
        }
    };
    // Migrating needs no key (a PostgreSQL deployment may migrate from a job without one).
    if matches!(cli.command, Command::Migrate) {
        println!("Database is up to date.");
        return 0;
    }
    let secret_key = match cli.settings.secret_key() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return cli::EXIT_UNEXPECTED;
        }
    };
    let secret_key_previous = match cli.settings.previous_key() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return cli::EXIT_USAGE;
        }
    };
    let mut config = Config {
        password_policy: cli.settings.password_policy(),
        secret_key: Some(secret_key),
        secret_key_previous,
        database_probes: cli.settings.probe_rules(),
        ..Config::default()
    };
    match cli.command {
        Command::Migrate => {
            println!("Database is up to date.");
            0
        }
        Command::User(c) => cli::run_admin(store, config, cli::Admin::User(c)).await,
        Command::Org(c) => cli::run_admin(store, config, cli::Admin::Org(c)).await,
        Command::Role(c) => cli::run_admin(store, config, cli::Admin::Role(c)).await,
        Command::Database(c) => cli::run_admin(store, config, cli::Admin::Database(c)).await,
        Command::Access(c) => cli::run_admin(store, config, cli::Admin::Access(c)).await,
        Command::Token(c) => cli::run_admin(store, config, cli::Admin::Token(c)).await,
        Command::Client(c) => cli::run_admin(store, config, cli::Admin::Client(c)).await,
        Command::Webhook(c) => {
            config.allow_internal_urls = c.allows_internal_urls();
            cli::run_admin(store, config, cli::Admin::Webhook(c)).await
        }
        Command::Scim(c) => cli::run_admin(store, config, cli::Admin::Scim(c)).await,
        Command::Invite(c) => cli::run_admin(store, config, cli::Admin::Invite(c)).await,
        Command::Bulk(c) => cli::run_admin(store, config, cli::Admin::Bulk(c)).await,
        Command::Oidc(c) => cli::run_admin(store, config, cli::Admin::Oidc(c)).await,
        Command::Secrets(c) => cli::run_admin(store, config, cli::Admin::Secrets(c)).await,
        Command::Import(c) => cli::run_admin(store, config, cli::Admin::Import(c)).await,
        Command::Export(c) => cli::run_admin(store, config, cli::Admin::Export(c)).await,
        Command::CopyDatabase(_) => cli::EXIT_USAGE,
        Command::Serve(args) => {
            config.public_origin = args.public_url.as_ref().map(|u| origin_of(u));
            config.secure_cookies = args
                .secure_cookies
                .unwrap_or_else(|| args.public_url.as_deref().is_some_and(|u| u.starts_with("https://")));
            config.session_idle_ms = args.session_idle_minutes.max(1) * 60_000;
            config.session_absolute_ms = args.session_max_hours.max(1) * 3_600_000;
            config.sudo_ms = args.sudo_minutes.max(1) * 60_000;
            config.allow_internal_urls = args.allow_internal_urls;
            config.trusted_proxies = args.trusted_proxies.clone();
            config.proxy_header = args.proxy_header;
            config.forward_auth_hosts = args.forward_auth_hosts.clone();
            config.cookie_domain = args.cookie_domain.clone();
            config.smtp_url = args.smtp_url.clone().filter(|u| !u.trim().is_empty());
            config.smtp_from = args.smtp_from.clone();
            if let Err(e) = app::backend::mail::check(&config) {
                eprintln!("error: {e}");
                return cli::EXIT_USAGE;
            }
            let backend = match cli::loaded(store, config).await {
                Ok(b) => b,
                Err(code) => return code,
            };
            if let Err(e) = backend.hasher.warm_up().await {
                eprintln!("error: {e}");
                return cli::EXIT_UNEXPECTED;
            }
            serve(backend, args).await
        }
    }
}

/// `https://host:port/path` -> `https://host:port`
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}")
}

async fn serve(backend: app::backend::Backend, args: cli::ServeArgs) -> u8 {
    let leptos = server::leptos_options(&args.site_root, args.addr);
    // Compressed copies of the front end, made in the background (served plain until ready).
    let pkg = std::path::Path::new(&args.site_root).join("pkg");
    tokio::task::spawn_blocking(move || server::assets::precompress(&pkg));
    let app = server::router(backend.clone(), leptos);
    // Other instances on the same database (the change feed, on PostgreSQL) and any other
    // process (the CLI: polled) may change access; changes made through this server apply
    // before it answers.
    app::backend::feed::spawn(&backend);
    // The event outbox, read once here for every stream, and the webhooks it feeds.
    app::backend::events::spawn(&backend);
    app::backend::services::webhooks::spawn_dispatcher(&backend);
    // Expired sessions are refused on use; this sweep only keeps the table small. (Every
    // instance runs it: deleting what has expired twice deletes nothing the second time.)
    let sweeper = backend.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(600)).await;
            let now = sweeper.now();
            let _ = sweeper
                .store
                .purge_sessions(now - sweeper.config.session_idle_ms, now - sweeper.config.session_absolute_ms)
                .await;
            // (the OpenID provider's expired codes and tokens, and the grants they leave empty)
            let _ = sweeper.store.purge_grants(now).await;
            // (events past their retention: streams that resume from before get `reset`)
            let _ = app::backend::services::webhooks::purge_events(&sweeper).await;
        }
    });
    let listener = match tokio::net::TcpListener::bind(args.addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.addr);
            return cli::EXIT_UNEXPECTED;
        }
    };
    if let Some(addr) = args.metrics_addr {
        let metrics = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {addr} (--metrics-addr): {e}");
                return cli::EXIT_UNEXPECTED;
            }
        };
        let bound = metrics.local_addr().unwrap_or(addr);
        tracing::info!("metrics on http://{bound}/metrics");
        let router = server::metrics::router(backend.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(metrics, router).await {
                tracing::error!(error = %e, "the metrics listener failed");
            }
        });
    }
    // (the bound address: with port 0 the system picks one, and scripts read it from here)
    let bound = listener.local_addr().unwrap_or(args.addr);
    tracing::info!("Roster listening on http://{bound}");
    // No Nagle delay on small writes (streamed page chunks, events): with delayed ACKs it
    // added tens of milliseconds to every page on a kept-alive connection.
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    // Shutting down (SIGTERM from an orchestrator, Ctrl-C): the listener closes, event streams
    // end, and requests in flight finish, within the grace period.
    let (signalled_tx, mut signalled) = tokio::sync::watch::channel(false);
    let stopper = backend.clone();
    let shutdown = async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new connections; finishing the requests in flight");
        stopper.stop_streams();
        let _ = signalled_tx.send(true);
    };
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .into_future();
    let grace = std::time::Duration::from_secs(args.shutdown_grace_seconds);
    let deadline = async move {
        let _ = signalled.wait_for(|s| *s).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = server => {
            if let Err(e) = served {
                eprintln!("error: server failed: {e}");
                return cli::EXIT_UNEXPECTED;
            }
            tracing::info!("stopped");
        }
        _ = deadline => {
            tracing::warn!("requests still in flight after {}s: stopping anyway", grace.as_secs());
        }
    }
    0
}

/// SIGTERM (orchestrators, systemd) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            // (no SIGTERM handler: Ctrl-C still works)
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
