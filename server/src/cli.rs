//! The `roster` command line: settings (flags or `ROSTER_*` variables) and the commands.
//! User commands call the same services as the web UI and the JSON API, as the operator
//! (`Caller::Cli`), so the same rules hold (for example, the last super admin stays).
//!
//! Exit codes a script can rely on:
//! 0 done (also "skipped" with --only-if-empty / --skip-existing), 1 unexpected error,
//! 2 bad usage, 3 conflict (user exists, email in use), 4 not found, 5 refused by a rule,
//! 6 invalid input, 7 database cannot be opened or migrated.
use std::net::SocketAddr;
use std::sync::Arc;

use app::backend::services::users::{self as svc, OnExisting, Provision, Provisioned};
use app::backend::store::sqlite::SqliteStore;
use app::backend::{Backend, Config, Ctx, SystemClock};
use app::domain::users::{format_time, NewUser, UserChanges, UserQuery, UserStatus};
use app::domain::validate::PasswordPolicy;
use app::domain::Error;
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(name = "roster", version, about = "Roster: users and access management for data tools")]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Settings {
    /// Database URL: `sqlite:PATH` (created if missing).
    #[arg(long, env = "ROSTER_DATABASE_URL", default_value = "sqlite:data/roster.db", global = true)]
    pub database_url: String,
    /// Minimum password length (characters).
    #[arg(long, env = "ROSTER_PASSWORD_MIN_LENGTH", default_value_t = 15, global = true)]
    pub password_min_length: usize,
    /// Require an upper-case letter, a lower-case letter, a digit and a symbol in passwords.
    #[arg(long, env = "ROSTER_PASSWORD_COMPLEXITY", default_value_t = false, global = true)]
    pub password_complexity: bool,
}

impl Settings {
    pub fn password_policy(&self) -> PasswordPolicy {
        let c = self.password_complexity;
        PasswordPolicy {
            min_length: self.password_min_length.max(1),
            require_upper: c,
            require_lower: c,
            require_digit: c,
            require_symbol: c,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web console and the JSON API.
    Serve(ServeArgs),
    /// Apply pending database migrations.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ROSTER_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Folder with the built front end (`pkg/`), as produced by cargo-leptos.
    #[arg(long, env = "ROSTER_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
    /// The URL browsers use to reach Roster, e.g. https://roster.example.com (behind a proxy).
    /// An https URL also turns on Secure cookies.
    #[arg(long, env = "ROSTER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Force Secure cookies on or off (default: on when --public-url is https).
    #[arg(long, env = "ROSTER_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// Sessions end after this many minutes without a request.
    #[arg(long, env = "ROSTER_SESSION_IDLE_MINUTES", default_value_t = 720)]
    pub session_idle_minutes: i64,
    /// Sessions end this many hours after sign-in, whatever the activity.
    #[arg(long, env = "ROSTER_SESSION_MAX_HOURS", default_value_t = 168)]
    pub session_max_hours: i64,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// Super admin.
    #[value(name = "Admin", alias = "admin")]
    Admin,
    /// Regular account.
    #[value(name = "DefaultUser", alias = "defaultuser", alias = "default-user")]
    DefaultUser,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user (Databand-compatible flags).
    Create(CreateArgs),
    /// List users.
    List {
        /// Substring of username, full name or email.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Set a new password (ends the user's sessions).
    ResetPassword {
        #[arg(short = 'u', long)]
        username: String,
        #[arg(
            short = 'p',
            long,
            required_unless_present = "use_random_password",
            conflicts_with = "use_random_password"
        )]
        password: Option<String>,
        /// Set a random password nobody knows (prints nothing).
        #[arg(long)]
        use_random_password: bool,
    },
    /// Disable a user and end their sessions.
    Disable {
        #[arg(short = 'u', long)]
        username: String,
    },
    /// Enable a disabled user.
    Enable {
        #[arg(short = 'u', long)]
        username: String,
    },
    /// Delete a user.
    Delete {
        #[arg(short = 'u', long)]
        username: String,
    },
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    #[arg(short = 'r', long, value_enum)]
    pub role: Role,
    #[arg(short = 'u', long)]
    pub username: String,
    #[arg(short = 'e', long)]
    pub email: String,
    #[arg(short = 'f', long)]
    pub firstname: String,
    #[arg(short = 'l', long)]
    pub lastname: String,
    #[arg(short = 'p', long, required_unless_present = "use_random_password", conflicts_with = "use_random_password")]
    pub password: Option<String>,
    /// Create the account with an unknown password (service users; use tokens to act as it).
    #[arg(long)]
    pub use_random_password: bool,
    /// Do nothing if the database already has any user (environment provisioning).
    #[arg(long)]
    pub only_if_empty: bool,
    /// Do nothing if the username exists.
    #[arg(long, conflicts_with = "update_existing")]
    pub skip_existing: bool,
    /// Update the existing user (name, email, role; password if given) if the username exists.
    #[arg(long)]
    pub update_existing: bool,
}

pub const EXIT_UNEXPECTED: u8 = 1;
pub const EXIT_DATABASE: u8 = 7;

pub fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Conflict { .. } => 3,
        Error::NotFound { .. } => 4,
        Error::Forbidden(_) | Error::Unauthenticated | Error::SignInFailed => 5,
        Error::Invalid { .. } => 6,
        Error::Internal { .. } | Error::Transport(_) => EXIT_UNEXPECTED,
    }
}

/// The message printed for an error: the sentence, plus each field's problem.
pub fn describe(e: &Error) -> String {
    match e {
        Error::Invalid { errors } if errors.len() > 1 => {
            let lines: Vec<String> = errors.iter().map(|f| format!("  {}: {}", f.field, f.message)).collect();
            format!("invalid input:\n{}", lines.join("\n"))
        }
        Error::Invalid { errors } if errors.len() == 1 => format!("invalid {}: {}", errors[0].field, errors[0].message),
        other => other.to_string(),
    }
}

/// Opens the database and applies migrations (fail fast on either).
pub async fn open_store(settings: &Settings) -> Result<Arc<SqliteStore>, String> {
    let url = &settings.database_url;
    if !url.starts_with("sqlite:") {
        return Err(format!("unsupported database URL '{url}': only sqlite: URLs are supported in this version"));
    }
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    if let Some(dir) = std::path::Path::new(path).parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create database folder {}: {e}", dir.display()))?;
        }
    }
    let store = SqliteStore::open(url).await.map_err(|e| format!("cannot open database {url}: {e}"))?;
    store.migrate().await.map_err(|e| format!("cannot migrate database {url}: {e}"))?;
    Ok(Arc::new(store))
}

pub fn backend(store: Arc<SqliteStore>, config: Config) -> Backend {
    Backend::new(store, config, Arc::new(SystemClock))
}

/// Runs a `user` subcommand; returns the exit code.
pub async fn run_user(b: &Backend, cmd: UserCommand) -> u8 {
    let ctx = Ctx::cli();
    let result: Result<String, Error> = async {
        match cmd {
            UserCommand::Create(a) => {
                let full_name = format!("{} {}", a.firstname.trim(), a.lastname.trim()).trim().to_string();
                let n = NewUser {
                    username: a.username.clone(),
                    full_name,
                    email: a.email,
                    password: if a.use_random_password { None } else { a.password },
                    super_admin: a.role == Role::Admin,
                    status: UserStatus::Active,
                };
                let on_existing = if a.skip_existing {
                    OnExisting::Skip
                } else if a.update_existing {
                    OnExisting::Update
                } else {
                    OnExisting::Fail
                };
                let role = match a.role {
                    Role::Admin => "Admin",
                    Role::DefaultUser => "DefaultUser",
                };
                let how = Provision { only_if_empty: a.only_if_empty, on_existing };
                Ok(match svc::provision(b, &ctx, n, how).await? {
                    Provisioned::Created(u) => format!("{role} user '{}' created.", u.username),
                    Provisioned::Updated(u) => format!("{role} user '{}' updated.", u.username),
                    Provisioned::SkippedNotEmpty => "Skipped: the database already has users (--only-if-empty).".into(),
                    Provisioned::SkippedExisting(u) => {
                        format!("Skipped: user '{}' already exists (--skip-existing).", u.username)
                    }
                })
            }
            UserCommand::List { search, limit, json } => {
                let mut out = Vec::new();
                let mut after = None;
                let mut left = limit;
                while left > 0 {
                    let q = UserQuery {
                        search: search.clone(),
                        after: after.clone(),
                        limit: Some(left.min(200)),
                        ..Default::default()
                    };
                    let page = svc::list(b, &ctx, q).await?;
                    left = left.saturating_sub(page.users.len() as u32);
                    for u in &page.users {
                        if json {
                            out.push(serde_json::to_string(u).unwrap_or_default());
                        } else {
                            out.push(format!(
                                "{:<24} {:<28} {:<32} {:<8} {:<5} {}",
                                u.username,
                                u.full_name,
                                u.email,
                                u.status.as_str(),
                                if u.super_admin { "admin" } else { "" },
                                u.last_sign_in_at.map(format_time).unwrap_or_else(|| "never".into())
                            ));
                        }
                    }
                    match page.next {
                        Some(n) if !page.users.is_empty() => after = Some(n),
                        _ => break,
                    }
                }
                Ok(out.join("\n"))
            }
            UserCommand::ResetPassword { username, password, use_random_password } => {
                let password = if use_random_password {
                    app::backend::password::random_password()
                } else {
                    password.unwrap_or_default()
                };
                let c = UserChanges { password: Some(password), ..Default::default() };
                let u = svc::update(b, &ctx, &username, c).await?;
                Ok(format!("Password of '{}' reset; their sessions were ended.", u.username))
            }
            UserCommand::Disable { username } => {
                let u = svc::update(
                    b,
                    &ctx,
                    &username,
                    UserChanges { status: Some(UserStatus::Disabled), ..Default::default() },
                )
                .await?;
                Ok(format!("User '{}' disabled.", u.username))
            }
            UserCommand::Enable { username } => {
                let u = svc::update(
                    b,
                    &ctx,
                    &username,
                    UserChanges { status: Some(UserStatus::Active), ..Default::default() },
                )
                .await?;
                Ok(format!("User '{}' enabled.", u.username))
            }
            UserCommand::Delete { username } => {
                svc::delete(b, &ctx, &username).await?;
                Ok(format!("User '{username}' deleted."))
            }
        }
    }
    .await;
    match result {
        Ok(msg) => {
            if !msg.is_empty() {
                println!("{msg}");
            }
            0
        }
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            exit_code(&e)
        }
    }
}
