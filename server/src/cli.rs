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
use app::backend::services::{access as access_svc, orgs as org_svc, roles as role_svc};
use app::backend::store::Store;
use app::backend::{Backend, Config, Ctx, SystemClock};
use app::domain::abilities::AbilitySet;
use app::domain::users::{format_time, NewUser, UserChanges, UserQuery, UserStatus};
use app::domain::validate::PasswordPolicy;
use app::domain::Error;
use clap::{Args, Parser, Subcommand};

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
    /// Database URL: `sqlite:PATH` (created if missing) or `postgres://USER:PASSWORD@HOST/DB`
    /// (an existing database; `?sslmode=require` for TLS).
    #[arg(long, env = "ROSTER_DATABASE_URL", default_value = "sqlite:data/roster.db", global = true)]
    pub database_url: String,
    /// Minimum password length (characters).
    #[arg(long, env = "ROSTER_PASSWORD_MIN_LENGTH", default_value_t = 15, global = true)]
    pub password_min_length: usize,
    /// Require an upper-case letter, a lower-case letter, a digit and a symbol in passwords.
    #[arg(long, env = "ROSTER_PASSWORD_COMPLEXITY", default_value_t = false, global = true)]
    pub password_complexity: bool,
    /// File holding the instance key that encrypts secrets at rest (32 bytes, base64),
    /// created on first use. Default: `roster.key` beside a SQLite database file; required
    /// with PostgreSQL (every instance must share one key). Keep it out of database backups.
    /// `ROSTER_SECRET_KEY` (the base64 key itself) takes precedence.
    #[arg(long, env = "ROSTER_KEY_FILE", global = true)]
    pub key_file: Option<String>,

    /// Log lines as readable text, or as one JSON object per line (for log collectors).
    #[arg(long, env = "ROSTER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Test Connection: the folder SQLite database files must be in (paths in definitions are
    /// relative to it). Without it, SQLite definitions cannot be tested.
    #[arg(long, env = "ROSTER_SQLITE_DATABASES_DIR", global = true)]
    pub sqlite_databases_dir: Option<std::path::PathBuf>,
    /// Test Connection: the only database hosts the server may connect to, comma-separated
    /// names and address ranges (e.g. `db.internal,10.0.0.0/8`). Default: any host.
    #[arg(long, env = "ROSTER_DATABASE_HOSTS", value_delimiter = ',', value_parser = parse_host_rule, global = true)]
    pub database_hosts: Vec<app::backend::config::HostRule>,
    /// Test Connection: also connect to link-local addresses (169.254.0.0/16, fe80::/10), where
    /// cloud metadata services live. Off by default.
    #[arg(long, env = "ROSTER_ALLOW_LINK_LOCAL_DATABASES", default_value_t = false, global = true)]
    pub allow_link_local_databases: bool,
    /// Test Connection: how long to wait for a database server, in seconds.
    #[arg(long, env = "ROSTER_DATABASE_TEST_TIMEOUT_SECONDS", default_value_t = 5.0, global = true)]
    pub database_test_timeout_seconds: f64,
}

fn parse_host_rule(raw: &str) -> Result<app::backend::config::HostRule, String> {
    app::backend::config::HostRule::parse(raw)
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl Settings {
    /// Where Test Connection may connect.
    pub fn probe_rules(&self) -> app::backend::config::ProbeRules {
        app::backend::config::ProbeRules {
            sqlite_dir: self.sqlite_databases_dir.clone(),
            allowed_hosts: self.database_hosts.clone(),
            allow_link_local: self.allow_link_local_databases,
            timeout_ms: (self.database_test_timeout_seconds.clamp(0.1, 600.0) * 1000.0) as u64,
        }
    }

    /// During a key rotation, the previous instance key (`ROSTER_SECRET_KEY_PREVIOUS`, base64;
    /// never an argument, which other users of the machine can see): it still opens the
    /// secrets it sealed until `roster secrets rotate` has sealed them all under the key.
    pub fn previous_key(&self) -> Result<Option<[u8; 32]>, String> {
        use base64::Engine;
        let raw = std::env::var("ROSTER_SECRET_KEY_PREVIOUS").unwrap_or_default();
        match Some(raw.trim()).filter(|k| !k.is_empty()) {
            None => Ok(None),
            Some(k) => base64::engine::general_purpose::STANDARD
                .decode(k)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .map(Some)
                .ok_or_else(|| "ROSTER_SECRET_KEY_PREVIOUS must hold a 32-byte key, base64-encoded".to_string()),
        }
    }

    /// The instance key: `ROSTER_SECRET_KEY`, else the key file (created with mode 0600 if
    /// missing).
    pub fn secret_key(&self) -> Result<[u8; 32], String> {
        self.secret_key_or_new(true)
    }

    /// The instance key as `secret_key` finds it; a missing key file is created only with
    /// `create` (a command that needs an existing instance's key must not invent one).
    pub fn secret_key_or_new(&self, create: bool) -> Result<[u8; 32], String> {
        use base64::Engine;
        let decode = |text: &str, from: &str| -> Result<[u8; 32], String> {
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| format!("{from} must hold a 32-byte key, base64-encoded"))
        };
        if let Ok(k) = std::env::var("ROSTER_SECRET_KEY") {
            if !k.trim().is_empty() {
                return decode(&k, "ROSTER_SECRET_KEY");
            }
        }
        let path = match &self.key_file {
            Some(p) => std::path::PathBuf::from(p),
            None if !self.database_url.starts_with("sqlite:") => {
                // No file beside a server database: each instance would make its own key and
                // could not open the secrets the others sealed.
                return Err("with a PostgreSQL database, set ROSTER_SECRET_KEY or --key-file \
                            (the same key on every instance)"
                    .to_string());
            }
            None => std::path::Path::new(app::backend::store::sqlite::file_of(&self.database_url))
                .with_file_name("roster.key"),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => decode(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => Err(format!(
                "no instance key at {}: give the key the database's secrets were sealed with \
                 (ROSTER_SECRET_KEY or --key-file)",
                path.display()
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = app::backend::crypto::new_key();
                write_private(&path, &app::backend::crypto::key_to_base64(&key))
                    .map_err(|e| format!("cannot create key file {}: {e}", path.display()))?;
                Ok(key)
            }
            Err(e) => Err(format!("cannot read key file {}: {e}", path.display())),
        }
    }

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
    /// Manage organizations and their members.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage roles and the abilities they grant.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Manage an organization's database definitions.
    #[command(subcommand)]
    Database(DatabaseCommand),
    /// The instance key that seals secrets at rest: make a new one, rotate to it.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Inspect access decisions.
    #[command(subcommand)]
    Access(AccessCommand),
    /// API keys and personal access tokens (e.g. for service accounts).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Applications that sign people in through Roster (OAuth clients of its OpenID provider).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Roster as an OpenID provider: its signing keys.
    #[command(subcommand)]
    Oidc(OidcCommand),
    /// Webhooks: where a running server POSTs each change (roles, organizations, accounts),
    /// signed with the hook's secret.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// SCIM connections: identity providers (Okta, Entra ID...) that create, update and
    /// deactivate accounts at /scim/v2/{id}.
    #[command(subcommand)]
    Scim(ScimCommand),
    /// Invitation links: invite an email address into an organization with a role (the link is
    /// printed to pass on), list and withdraw invitations.
    #[command(subcommand)]
    Invite(InviteCommand),
    /// Bulk actions on accounts with a dry run: `plan` says per account what would happen (and
    /// writes the plan to a file), `apply` does it if nothing has changed since.
    #[command(subcommand)]
    Bulk(BulkCommand),
    /// Import accounts: SlashDB's users.cfg, CSV or JSON Lines (one transaction, a report per
    /// account; try --dry-run first).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export accounts: SlashDB's users.cfg, CSV or JSON Lines (with password hashes: keep the
    /// file safe).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Copy an instance's SQLite database into a new PostgreSQL database (the upgrade path
    /// from the embedded default).
    ///
    /// Stop the instance first. Every table is copied (accounts, organizations, roles, tokens,
    /// sessions, sealed secrets, the audit trail) in one transaction on the target, which must
    /// be empty (it is migrated first); row counts are compared before it commits, so a failed
    /// copy leaves the target as it was. Secrets are copied sealed: the key (ROSTER_SECRET_KEY,
    /// --key-file, or `roster.key` beside the SQLite file) must be the source's, it is checked
    /// against the source, and the PostgreSQL instances must be started with that same key.
    /// --database-url is not used.
    CopyDatabase(CopyDatabaseArgs),
}

#[derive(Args, Debug, Clone)]
pub struct CopyDatabaseArgs {
    /// The database to copy: `sqlite:PATH` (read only).
    #[arg(long)]
    pub from: String,
    /// The database to copy into: `postgres://USER:PASSWORD@HOST/DB`, an existing, empty database.
    #[arg(long)]
    pub to: String,
}

/// What every import takes.
#[derive(Args, Debug, Clone)]
pub struct ImportFlags {
    /// Report what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Leave accounts that exist and differ from the file as they are.
    #[arg(long, conflicts_with = "update_existing")]
    pub skip_existing: bool,
    /// Change accounts that exist and differ to what the file says (memberships, mappings and
    /// list entries the file does not name are kept).
    #[arg(long)]
    pub update_existing: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// SlashDB's users.cfg: ids, names, emails, password hashes (re-hashed to argon2id at the
    /// first sign-in), API keys (kept as hashes, to rotate), view/edit lists, dbdef/querydef/
    /// userdef as abilities in the organization, database logins. `admin` becomes a super
    /// admin; `public` is Roster's built-in public account.
    ///
    /// With --databases, SlashDB's databases.cfg is imported first, in the same transaction:
    /// each database becomes a definition of the organization (engine, server, database name
    /// or SQLite path, description, autoload_user as the default login), so the accounts'
    /// logins find them.
    Slashdb {
        /// The users.cfg file.
        #[arg(long, required_unless_present = "databases")]
        users: Option<std::path::PathBuf>,
        /// SlashDB's databases.cfg.
        #[arg(long)]
        databases: Option<std::path::PathBuf>,
        /// The organization the accounts join and the databases belong to (default: the
        /// default organization).
        #[arg(long)]
        org: Option<String>,
        /// `encrypted` (SlashDB's dbpass values are ciphertext under SlashDB's secret: logins
        /// are imported, passwords left to set) or `plaintext` (after `slashdb-secret decrypt`).
        #[arg(long, default_value = "encrypted", value_parser = ["encrypted", "plaintext"])]
        passwords: String,
        #[command(flatten)]
        flags: ImportFlags,
    },
    /// Accounts from CSV (one row per membership) or JSON Lines (one account per line, as
    /// `roster export users --format jsonl` writes), with memberships, roles and password
    /// hashes from other systems.
    Users {
        /// The file (`.csv`, `.jsonl`).
        file: std::path::PathBuf,
        /// csv or jsonl (default: from the file's name).
        #[arg(long)]
        format: Option<String>,
        #[command(flatten)]
        flags: ImportFlags,
    },
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// users.cfg for SlashDB, with the abilities each account holds in the organization as
    /// dbdef/querydef/userdef; the accounts SlashDB cannot use as they are are listed.
    Slashdb {
        /// The organization whose abilities, database logins and databases are written
        /// (default: the default organization).
        #[arg(long)]
        org: Option<String>,
        /// Write users.cfg here instead of to standard output.
        #[arg(long, short = 'o', alias = "users")]
        output: Option<std::path::PathBuf>,
        /// Also write the organization's database definitions as SlashDB's databases.cfg here
        /// (without -o: only the databases.cfg).
        #[arg(long)]
        databases: Option<std::path::PathBuf>,
    },
    /// Every account with its memberships, lists and database logins (never a database
    /// password), to import into another Roster.
    Users {
        /// csv or jsonl (JSON Lines carries database logins; CSV does not).
        #[arg(long, default_value = "jsonl")]
        format: String,
        /// Write here instead of to standard output.
        #[arg(long, short = 'o')]
        output: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token for an account and print it (only the token, on standard output).
    Create {
        #[arg(short = 'u', long)]
        username: String,
        #[arg(short = 'n', long, default_value = "cli")]
        name: String,
        /// `pat` (personal access token, sent as a Bearer token) or `api-key` (sent as the
        /// X-API-Key header or the apikey query parameter).
        #[arg(short = 'k', long, default_value = "pat")]
        kind: String,
        /// Days until it expires (none by default).
        #[arg(long)]
        expires_days: Option<i64>,
        /// Comma-separated ability codes the token is limited to (default: the owner's).
        #[arg(short = 'a', long, value_delimiter = ',')]
        abilities: Vec<String>,
    },
    /// List an account's tokens (never their secrets).
    List {
        #[arg(short = 'u', long)]
        username: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum OidcCommand {
    /// A new key signs ID tokens from now on; the previous one stays published at /oauth/jwks
    /// until every token it signed has expired (a day at most), then goes at a later rotation.
    RotateKey,
    /// The published signing keys (never their private halves).
    Keys {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Register an application. A confidential one's secret is printed once, alone on
    /// standard output (what the tool's settings need, with the client ID).
    Create(ClientCreateArgs),
    /// List applications (never their secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change an application's settings: what is given replaces what is set, the rest stays.
    Update(ClientUpdateArgs),
    /// Remove an application: it can no longer sign anyone in.
    Delete { client_id: String },
    /// Give a confidential application a new secret, printed once; the old one stops working
    /// at once.
    RotateSecret { client_id: String },
}

#[derive(Subcommand, Debug)]
pub enum ScimCommand {
    /// Add a connection; its first bearer token is printed once, alone on standard output.
    Create(ScimArgs),
    /// List connections (never their tokens).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Print a new bearer token for a connection (once); its other tokens keep working.
    Token { id: String },
    /// Remove a connection, its tokens and its service account; the accounts it provisioned
    /// stay, as ordinary accounts.
    Delete { id: String },
    /// Map one of a connection's directory groups to an organization and role: its members
    /// get that role there now (their highest-priority mapping wins; memberships made by hand
    /// are never changed).
    Map(ScimMapArgs),
    /// List a connection's group mappings.
    Mappings {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a mapping (by its number in `roster scim mappings`): its group's members lose
    /// what it gave them.
    Unmap { id: String, mapping: i64 },
}

#[derive(Subcommand, Debug)]
pub enum InviteCommand {
    /// Invite an email address; the link is printed once, alone on standard output.
    Create {
        /// The organization (id or name).
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        /// The role (id or name).
        #[arg(long)]
        role: String,
        /// Extra abilities on top of the role (repeat or comma-separate).
        #[arg(long = "ability", value_delimiter = ',')]
        abilities: Vec<String>,
        /// Days the link lives (1 to 30).
        #[arg(long, default_value_t = 7)]
        days: i64,
    },
    /// An organization's most recent invitations with their status (never their links).
    List {
        #[arg(long)]
        org: String,
        #[arg(long)]
        json: bool,
    },
    /// Withdraw a pending invitation (its number in `roster invite list`).
    Revoke {
        #[arg(long)]
        org: String,
        id: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum BulkCommand {
    /// The dry run: runs the action on every selected account and rolls it back; prints each
    /// refused account and the counts (to standard error) and the plan (JSON, to standard
    /// output or --out). Exit code 5 when every account is refused.
    Plan {
        /// disable, enable, delete, add-to-org, set-role, remove-from-org, reset-two-factor
        #[arg(long)]
        action: String,
        /// The organization (add-to-org, set-role, remove-from-org).
        #[arg(long)]
        org: Option<String>,
        /// The role (add-to-org, set-role).
        #[arg(long)]
        role: Option<String>,
        /// Why (reset-two-factor; kept in the audit log).
        #[arg(long)]
        reason: Option<String>,
        /// These accounts (repeat or comma-separate)...
        #[arg(long = "user", value_delimiter = ',')]
        users: Vec<String>,
        /// ...or every account matching this search of the users list ("" for all).
        #[arg(long, conflicts_with = "users")]
        matching: Option<String>,
        /// Only accounts whose password hash is not argon2 yet (with --matching).
        #[arg(long, requires = "matching")]
        legacy_hash: bool,
        /// Write the plan here instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Apply a plan file made by `roster bulk plan` (within 30 minutes), if every account's
    /// outcome is still the planned one; otherwise nothing changes (exit code 3).
    Apply {
        /// The plan file.
        plan: std::path::PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct ScimMapArgs {
    /// The connection's id.
    pub id: String,
    /// The group's display name, as the identity provider sent it.
    #[arg(long)]
    pub group: String,
    /// One of the connection's organizations.
    #[arg(long)]
    pub org: String,
    #[arg(long)]
    pub role: String,
    /// Extra abilities on top of the role (repeat or comma-separate).
    #[arg(long = "ability", value_delimiter = ',')]
    pub abilities: Vec<String>,
    /// Higher wins where a person's groups map to the same organization (-1000 to 1000).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub priority: i64,
}

#[derive(Args, Debug)]
pub struct ScimArgs {
    /// The connection's id, part of its URL (/scim/v2/ID): lower-case letters, digits, '-'.
    pub id: String,
    /// A name for people (e.g. "Okta").
    #[arg(long)]
    pub name: String,
    /// An organization it may provision into (repeat or comma-separate; at least one).
    #[arg(long = "org", value_delimiter = ',', required = true)]
    pub orgs: Vec<String>,
    /// Where new people land (default: the first --org).
    #[arg(long)]
    pub default_org: Option<String>,
    /// Their role there (default: Viewer).
    #[arg(long)]
    pub default_role: Option<String>,
    /// What a SCIM DELETE does: disable (default) or delete.
    #[arg(long)]
    pub delete_mode: Option<String>,
    /// Let a create take over a local account with the same username (never a super admin).
    #[arg(long)]
    pub adopt_existing: bool,
    /// Print the connection and its token as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum WebhookCommand {
    /// Add a webhook; its signing secret is printed once, alone on standard output. It hears
    /// of changes committed from now on.
    Create(WebhookArgs),
    /// List webhooks (never their secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change a webhook: what is given replaces what is set, the rest stays.
    Update {
        id: i64,
        #[command(flatten)]
        settings: WebhookUpdateArgs,
    },
    /// Remove a webhook: nothing more is sent to it.
    Delete { id: i64 },
    /// Give a webhook a new signing secret, printed once; deliveries from now on use it.
    RotateSecret { id: i64 },
    /// Resume a paused webhook at the event it stopped on.
    Resume { id: i64 },
    /// A webhook's latest delivery attempts, newest first.
    Deliveries {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

impl WebhookCommand {
    /// Whether this run may name a loopback or private URL (the operator says so).
    pub fn allows_internal_urls(&self) -> bool {
        match self {
            WebhookCommand::Create(a) => a.allow_internal_url,
            // (an address kept as it is was allowed when it was set)
            WebhookCommand::Update { settings, .. } => settings.allow_internal_url || settings.url.is_none(),
            _ => false,
        }
    }
}

#[derive(Args, Debug)]
pub struct WebhookArgs {
    /// The tool that receives the events.
    #[arg(long)]
    pub name: String,
    /// Where events are POSTed (https; http only on loopback, with --allow-internal-url).
    #[arg(long)]
    pub url: String,
    /// Kinds of change, comma-separated: user, role, org.
    #[arg(long = "kinds", value_delimiter = ',', required = true)]
    pub kinds: Vec<String>,
    /// Only changes concerning this organization (repeatable; none: every organization).
    #[arg(long = "org")]
    pub orgs: Vec<String>,
    /// Add it switched off.
    #[arg(long)]
    pub disabled: bool,
    /// Allow a loopback or private address (the server must run with --allow-internal-urls
    /// to deliver there).
    #[arg(long)]
    pub allow_internal_url: bool,
    /// Print the answer (with the secret) as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct WebhookUpdateArgs {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub url: Option<String>,
    /// Replaces the kinds, comma-separated: user, role, org.
    #[arg(long = "kinds", value_delimiter = ',')]
    pub kinds: Vec<String>,
    /// Replaces the organizations (repeatable).
    #[arg(long = "org")]
    pub orgs: Vec<String>,
    /// Every organization again.
    #[arg(long, conflicts_with = "orgs")]
    pub all_orgs: bool,
    /// true or false.
    #[arg(long)]
    pub enabled: Option<bool>,
    #[arg(long)]
    pub allow_internal_url: bool,
}

#[derive(Args, Debug)]
pub struct ClientCreateArgs {
    /// What the tool sends as client_id (3-64 of a-z, 0-9, -, _ and .; never changes).
    pub client_id: String,
    /// Shown to people when they sign in.
    #[arg(long)]
    pub name: String,
    /// A browser or desktop tool that cannot keep a secret (PKCE only, no secret).
    #[arg(long)]
    pub public: bool,
    /// Where the tool receives people back, exactly (repeatable).
    #[arg(long = "redirect-uri", required = true)]
    pub redirect_uris: Vec<String>,
    /// Where the tool may send people after they sign out (repeatable).
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// An organization whose role and abilities it receives with scope `roster` (repeatable).
    #[arg(long = "org")]
    pub orgs: Vec<String>,
    /// Scopes it may ask for, comma-separated (openid always): profile, email, roster,
    /// offline_access. Default: profile,email.
    #[arg(long = "scope", value_delimiter = ',')]
    pub scopes: Vec<String>,
    /// Sign people in without asking them first (a first-party tool).
    #[arg(long)]
    pub no_consent: bool,
    /// Only people who signed in with a second factor or a passkey get in.
    #[arg(long = "require-2fa")]
    pub require_two_factor: bool,
    /// How long access and ID tokens last (60-86400; default 600).
    #[arg(long)]
    pub access_token_seconds: Option<u32>,
    /// How long refresh tokens last (0: none, else 3600 up to a year; default 30 days).
    #[arg(long)]
    pub refresh_token_seconds: Option<u32>,
    /// Register it switched off.
    #[arg(long)]
    pub disabled: bool,
    /// Print the answer (with the secret) as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ClientUpdateArgs {
    pub client_id: String,
    #[arg(long)]
    pub name: Option<String>,
    /// `confidential` or `public` (turned confidential, it gets a secret, printed once).
    #[arg(long)]
    pub kind: Option<String>,
    /// Replaces every redirect URI (repeatable).
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Replaces every post-logout redirect URI (repeatable).
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Replaces the organizations (repeatable).
    #[arg(long = "org")]
    pub orgs: Vec<String>,
    /// Receives no organization's claims any more.
    #[arg(long, conflicts_with = "orgs")]
    pub no_orgs: bool,
    /// Replaces the scopes, comma-separated.
    #[arg(long = "scope", value_delimiter = ',')]
    pub scopes: Vec<String>,
    #[arg(long)]
    pub consent: Option<bool>,
    #[arg(long = "require-2fa")]
    pub require_two_factor: Option<bool>,
    #[arg(long)]
    pub access_token_seconds: Option<u32>,
    #[arg(long)]
    pub refresh_token_seconds: Option<u32>,
    #[arg(long)]
    pub enabled: Option<bool>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an organization.
    Create { name: String },
    /// List organizations.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Rename an organization (by id or name).
    Rename { org: String, name: String },
    /// Delete an organization (its memberships go; the accounts stay).
    Delete { org: String },
    /// Add an existing account to an organization with a role.
    AddMember(MemberArgs),
    /// Change a member's role (and extra abilities, which replace the current ones).
    SetMember(MemberArgs),
    /// Remove an account from an organization.
    RemoveMember {
        #[arg(long)]
        org: String,
        #[arg(short = 'u', long)]
        username: String,
    },
}

#[derive(Args, Debug)]
pub struct MemberArgs {
    #[arg(long)]
    pub org: String,
    #[arg(short = 'u', long)]
    pub username: String,
    #[arg(short = 'r', long)]
    pub role: String,
    /// Extra ability on top of the role (repeatable).
    #[arg(long = "grant")]
    pub grants: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum SecretsCommand {
    /// Print a new random instance key (base64), for ROSTER_SECRET_KEY or a key file.
    NewKey,
    /// Seal every stored secret (TOTP seeds, single sign-on client secrets, database
    /// passwords, the OpenID provider's signing keys) again under the instance key, in one
    /// transaction.
    ///
    /// To rotate: start every instance with the new key (ROSTER_SECRET_KEY or --key-file) and
    /// the old one as ROSTER_SECRET_KEY_PREVIOUS; run this once with the same settings; then
    /// drop ROSTER_SECRET_KEY_PREVIOUS and restart. A secret neither key opens stops it with
    /// nothing changed (exit code 5).
    Rotate,
}

#[derive(Subcommand, Debug)]
pub enum DatabaseCommand {
    /// List an organization's database definitions (never their passwords).
    List {
        #[arg(long)]
        org: String,
        #[arg(long)]
        json: bool,
    },
    /// Define a database.
    Create {
        #[arg(long)]
        org: String,
        #[command(flatten)]
        fields: DatabaseFields,
    },
    /// Change a definition: the options given replace the stored values, the rest stay.
    Update {
        #[arg(long)]
        org: String,
        /// The database id to change.
        db: String,
        #[command(flatten)]
        fields: DatabaseFields,
    },
    /// Delete a definition.
    Delete {
        #[arg(long)]
        org: String,
        db: String,
    },
    /// Test Connection: connect as the default login and run SELECT 1. Exit code 0 when it
    /// connected, 9 when it did not (the outcome and the driver's message are printed).
    Test {
        #[arg(long)]
        org: String,
        db: String,
        #[arg(long)]
        json: bool,
    },
    /// List a database's shared credentials (never their passwords).
    Credentials {
        #[arg(long)]
        org: String,
        db: String,
        #[arg(long)]
        json: bool,
    },
    /// Create a shared credential: a named login and password accounts can be mapped to.
    AddCredential {
        #[arg(long)]
        org: String,
        db: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        login: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a shared credential: the options given replace the stored values.
    UpdateCredential {
        #[arg(long)]
        org: String,
        db: String,
        /// The credential's current name.
        credential: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        login: Option<String>,
        /// Read a new password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete a shared credential and the accounts' mappings through it.
    DeleteCredential {
        #[arg(long)]
        org: String,
        db: String,
        credential: String,
    },
    /// Test Connection as a shared credential (exit code 9 when it did not connect).
    TestCredential {
        #[arg(long)]
        org: String,
        db: String,
        credential: String,
        #[arg(long)]
        json: bool,
    },
    /// An account's mappings to the organization's databases.
    Mappings {
        #[arg(long)]
        org: String,
        username: String,
        #[arg(long)]
        json: bool,
    },
    /// Map an account to a database: a login of its own (--login, --password-stdin), a
    /// shared credential (--credential), or no login (--no-login).
    Map {
        #[arg(long)]
        org: String,
        username: String,
        db: String,
        #[arg(long, conflicts_with_all = ["credential", "no_login"])]
        login: Option<String>,
        #[arg(long, requires = "login")]
        password_stdin: bool,
        #[arg(long, conflicts_with = "no_login")]
        credential: Option<String>,
        #[arg(long)]
        no_login: bool,
    },
    /// Remove an account's mapping to a database.
    Unmap {
        #[arg(long)]
        org: String,
        username: String,
        db: String,
    },
    /// Test Connection as an account's mapping (exit code 9 when it did not connect).
    TestMapping {
        #[arg(long)]
        org: String,
        username: String,
        db: String,
        #[arg(long)]
        json: bool,
    },
    /// The login and password a data tool must use for an account on a database, as JSON
    /// (the password in the clear; the read is audited).
    Login {
        username: String,
        db: String,
        /// The organization, when several define the database id.
        #[arg(long)]
        org: Option<String>,
    },
}

/// The first line of standard input (passwords never come from arguments, which other users
/// of the machine can see).
fn stdin_line(field: &str) -> Result<String, Error> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::invalid(field, format!("cannot read standard input: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// `database test`: the test ran, and the database could not be reached or refused.
pub const EXIT_NOT_CONNECTED: u8 = 9;

/// A definition's fields, as options (all optional: `update` changes only those given).
#[derive(Args, Debug, Default)]
pub struct DatabaseFields {
    /// The database id (letters, digits, `@ _ - ~`; starts with a letter or `_`).
    #[arg(long = "id")]
    pub db_id: Option<String>,
    /// postgres, mysql, mariadb, sqlite or mssql.
    #[arg(long)]
    pub engine: Option<String>,
    #[arg(long)]
    pub host: Option<String>,
    /// Empty: the engine's default.
    #[arg(long)]
    pub port: Option<String>,
    /// The database's name on its server, or the SQLite file's path inside the SQLite folder.
    #[arg(long)]
    pub name: Option<String>,
    /// disable, prefer, require, verify-ca or verify-full.
    #[arg(long)]
    pub tls: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// The login super admins without a mapping use (empty: none).
    #[arg(long)]
    pub default_login: Option<String>,
    /// Read the default login's password from the first line of standard input (never from
    /// an argument, which other users of the machine can see).
    #[arg(long)]
    pub default_password_stdin: bool,
}

impl DatabaseFields {
    fn into_patch(self) -> Result<app::domain::databases::DatabasePatch, Error> {
        let default_password = if self.default_password_stdin { Some(stdin_line("default_password")?) } else { None };
        Ok(app::domain::databases::DatabasePatch {
            db_id: self.db_id,
            engine: self.engine,
            host: self.host,
            port: self.port,
            name: self.name,
            tls: self.tls,
            description: self.description,
            default_login: self.default_login,
            default_password,
        })
    }
}

#[derive(Subcommand, Debug)]
pub enum RoleCommand {
    /// List roles with their abilities.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Create a role (optionally with abilities).
    Create { name: String, abilities: Vec<String> },
    /// Grant abilities to a role (by id or name).
    Grant {
        role: String,
        #[arg(required = true)]
        abilities: Vec<String>,
    },
    /// Revoke abilities from a role.
    Revoke {
        role: String,
        #[arg(required = true)]
        abilities: Vec<String>,
    },
    /// Delete a role; members holding it move to --replacement.
    Delete {
        role: String,
        #[arg(long)]
        replacement: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum AccessCommand {
    /// Explain whether a user (or, without -u, an anonymous visitor) may use an ability in an
    /// organization, and why. Exit code 0 when allowed, 5 when not.
    Explain {
        #[arg(short = 'u', long)]
        username: Option<String>,
        #[arg(long)]
        org: String,
        #[arg(short = 'a', long)]
        ability: String,
        #[arg(long)]
        json: bool,
    },
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
    /// Where invitation mails go out: smtp://host:25, smtp://host:587?tls=required,
    /// smtps://user:password@host. Without it, admins copy invitation links themselves.
    #[arg(long, env = "ROSTER_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of Roster's mails.
    #[arg(long, env = "ROSTER_SMTP_FROM", default_value = "Roster <roster@localhost>")]
    pub smtp_from: String,
    /// Force Secure cookies on or off (default: on when --public-url is https).
    #[arg(long, env = "ROSTER_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// Sessions end after this many minutes without a request.
    #[arg(long, env = "ROSTER_SESSION_IDLE_MINUTES", default_value_t = 720)]
    pub session_idle_minutes: i64,
    /// Sessions end this many hours after sign-in, whatever the activity.
    #[arg(long, env = "ROSTER_SESSION_MAX_HOURS", default_value_t = 168)]
    pub session_max_hours: i64,
    /// Sudo mode: minutes after a sign-in during which passwords, second factors and tokens
    /// may be changed and roles granted without entering the password again.
    #[arg(long, env = "ROSTER_SUDO_MINUTES", default_value_t = 10)]
    pub sudo_minutes: i64,
    /// Let the server fetch URLs on loopback, private and link-local addresses (single
    /// sign-on providers on the local network). Off by default: a provider URL, or an
    /// endpoint its discovery document names, must be a public https address.
    #[arg(long, env = "ROSTER_ALLOW_INTERNAL_URLS", default_value_t = false)]
    pub allow_internal_urls: bool,
    /// Reverse proxies whose `--proxy-header` names the client (for audit rows, sessions and
    /// throttles): comma-separated CIDRs or addresses, e.g.
    /// `127.0.0.1,10.0.0.0/8`. Without it the direct peer is the client, whatever headers say.
    #[arg(long, env = "ROSTER_TRUSTED_PROXIES", value_delimiter = ',', value_parser = crate::client_addr::parse_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The header the trusted proxies write the client's address into: `x-forwarded-for`
    /// (nginx, HAProxy, Traefik, Caddy, most load balancers) or `forwarded` (RFC 7239). Only
    /// that one is read: a proxy passes the other through as the client wrote it.
    #[arg(long, env = "ROSTER_PROXY_HEADER", default_value = "x-forwarded-for", value_parser = crate::client_addr::parse_proxy_header)]
    pub proxy_header: app::backend::config::ProxyHeader,
    /// Forward authentication: the hosts of tools behind a proxy that a sign-in may send
    /// people back to (comma-separated: `adminer.example.com`, `localhost:8080`, or
    /// `*.tools.example.com` for its subdomains). Any other return address is refused.
    #[arg(long, env = "ROSTER_FORWARD_AUTH_HOSTS", value_delimiter = ',', value_parser = parse_return_host)]
    pub forward_auth_hosts: Vec<app::domain::forward::ReturnHost>,
    /// The domain the session cookie is set for, e.g. `example.com`, so tools on its
    /// subdomains behind a forward-authenticating proxy see the session (those tools' servers
    /// then receive the cookie: put only trusted tools there). Default: Roster's host only.
    #[arg(long, env = "ROSTER_COOKIE_DOMAIN", value_parser = parse_cookie_domain)]
    pub cookie_domain: Option<String>,
    /// On SIGTERM or Ctrl-C: stop accepting, end event streams, and give requests in flight
    /// this many seconds to finish before exiting.
    #[arg(long, env = "ROSTER_SHUTDOWN_GRACE_SECONDS", default_value_t = 30)]
    pub shutdown_grace_seconds: u64,
    /// Serve Prometheus metrics at `/metrics` on this separate (management) address, e.g.
    /// `127.0.0.1:9090`. Off by default; never served on the public address.
    #[arg(long, env = "ROSTER_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
}

fn parse_return_host(raw: &str) -> Result<app::domain::forward::ReturnHost, String> {
    app::domain::forward::ReturnHost::parse(raw)
}

fn parse_cookie_domain(raw: &str) -> Result<String, String> {
    let d = raw.trim().trim_start_matches('.').to_ascii_lowercase();
    if d.contains('.') && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') && !d.ends_with('.') {
        Ok(d)
    } else {
        Err(format!("{raw}: enter a domain such as example.com"))
    }
}

/// What `user create -r ROLE` means. Without `--org`, Databand's two values keep their
/// meaning: `Admin` is a super admin (holding the Admin role in the default organization),
/// `DefaultUser` a Member there. With `--org`, ROLE names a role in that organization.
pub fn placement(role: &str, org: Option<&str>) -> (bool, String) {
    let r = role.trim();
    match org {
        None if r.eq_ignore_ascii_case("admin") => (true, "Admin".into()),
        None if r.eq_ignore_ascii_case("defaultuser") || r.eq_ignore_ascii_case("default-user") => {
            (false, "Member".into())
        }
        _ => (false, r.to_string()),
    }
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
        /// Only accounts whose password hash came from another system (not argon2 yet).
        #[arg(long)]
        legacy_hash: bool,
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
    /// A role name; without --org also Databand's `Admin` (super admin) or `DefaultUser`.
    #[arg(short = 'r', long)]
    pub role: String,
    /// Organization to place the account in (default: the default organization).
    #[arg(long)]
    pub org: Option<String>,
    #[arg(short = 'u', long)]
    pub username: String,
    /// Optional (empty: none); unique when given.
    #[arg(short = 'e', long, default_value = "")]
    pub email: String,
    #[arg(short = 'f', long)]
    pub firstname: String,
    #[arg(short = 'l', long)]
    pub lastname: String,
    #[arg(
        short = 'p',
        long,
        required_unless_present_any = ["use_random_password", "password_hash"],
        conflicts_with_all = ["use_random_password", "password_hash"]
    )]
    pub password: Option<String>,
    /// Create the account with an unknown password (service users; use tokens to act as it).
    #[arg(long, conflicts_with = "password_hash")]
    pub use_random_password: bool,
    /// A password hash from another system instead of a password: sha512-crypt (`$6$`,
    /// `mkpasswd -m sha-512`), bcrypt (`$2b$`, `htpasswd -B`), werkzeug `pbkdf2:sha256` or
    /// `scrypt`, Django `pbkdf2_sha256`, or argon2. Replaced by argon2id at the first sign-in.
    #[arg(long)]
    pub password_hash: Option<String>,
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
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_REFUSED: u8 = 5;
pub const EXIT_DATABASE: u8 = 7;

pub fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Conflict { .. } => 3,
        Error::NotFound { .. } | Error::Gone { .. } => 4,
        Error::Forbidden(_) | Error::Unauthenticated | Error::SignInFailed => 5,
        Error::Invalid { .. } => 6,
        Error::TooManyRequests { .. } => 8,
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

/// Opens the database and applies migrations (fail fast on either). The backend is chosen
/// by the URL's scheme (`store::open`); for SQLite the database's folder is created first.
pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, String> {
    let url = &settings.database_url;
    let backend = app::backend::store::backend_of(url).map_err(|e| e.to_string())?;
    if backend == app::backend::store::Backend::Sqlite {
        if let Some(dir) = std::path::Path::new(app::backend::store::sqlite::file_of(url)).parent() {
            if !dir.as_os_str().is_empty() && !dir.exists() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create database folder {}: {e}", dir.display()))?;
            }
        }
    }
    // A PostgreSQL URL may carry a password: errors name the database without it.
    let shown = redacted(url);
    let store = app::backend::store::open(url).await.map_err(|e| format!("cannot open database {shown}: {e}"))?;
    store.migrate().await.map_err(|e| format!("cannot migrate database {shown}: {e}"))?;
    Ok(store)
}

/// `url` without the password of its user-info part (`postgres://user:***@host/db`).
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(parts) => parts,
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// `copy-database` needs the PostgreSQL store, which this build left out.
#[cfg(not(feature = "postgres"))]
pub async fn run_copy_database(_: &Settings, _: &CopyDatabaseArgs) -> u8 {
    eprintln!(
        "error: this build of Roster supports SQLite only (built without the `postgres` feature): \
         copy-database needs a build with PostgreSQL support"
    );
    EXIT_USAGE
}

/// Runs `copy-database`: prints each table as it is copied, then a summary; returns the exit
/// code (2 bad URLs or key, 5 refused: source not up to date, wrong key or target not empty, 7 a
/// database cannot be opened, 1 the copy failed and was rolled back).
#[cfg(feature = "postgres")]
pub async fn run_copy_database(settings: &Settings, args: &CopyDatabaseArgs) -> u8 {
    use app::backend::services::copy_database::{copy_database, CopyDatabaseError};
    // The key file's default place is beside the source (the instance being moved).
    let at_source = Settings { database_url: args.from.clone(), ..settings.clone() };
    let key = match at_source.secret_key_or_new(false) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let secrets = app::backend::crypto::SecretBox::new(&key);
    let started = std::time::Instant::now();
    let mut progress = |t: &app::backend::store::copy::TableCopied| {
        println!("{}: {} {}", t.table, thousands(t.rows), if t.rows == 1 { "row" } else { "rows" });
    };
    match copy_database(&args.from, &args.to, &secrets, &mut progress).await {
        Ok(copied) => {
            if !copied.key_checked {
                println!(
                    "Note: the source held no instance key check value; the key could not be verified \
                     against it."
                );
            }
            println!(
                "Copied {} rows in {} tables from {} to {} in {:.1} s. Start Roster with \
                 ROSTER_DATABASE_URL set to the new database and the same instance key.",
                thousands(copied.rows()),
                copied.tables.len(),
                args.from,
                redacted(&args.to),
                started.elapsed().as_secs_f64()
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                CopyDatabaseError::Usage(_) => EXIT_USAGE,
                CopyDatabaseError::OpenSource(_)
                | CopyDatabaseError::OpenTarget(_)
                | CopyDatabaseError::MigrateTarget(_) => EXIT_DATABASE,
                CopyDatabaseError::Refused(_) | CopyDatabaseError::WrongKey => EXIT_REFUSED,
                CopyDatabaseError::Copy(_) => EXIT_UNEXPECTED,
            }
        }
    }
}

/// `1234567` -> `1,234,567`
#[cfg(feature = "postgres")]
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Writes a new file readable by its owner only (refuses to overwrite one).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(format!("{text}\n").as_bytes())?;
    f.sync_all()
}

pub fn backend(store: Arc<dyn Store>, config: Config) -> Backend {
    Backend::new(store, config, Arc::new(SystemClock))
}

/// A backend with the access model loaded (exit code 7 if the database cannot be read).
pub async fn loaded(store: Arc<dyn Store>, config: Config) -> Result<Backend, u8> {
    let b = backend(store, config);
    if let Err(e) = b.load_access().await {
        eprintln!("error: cannot read the access model: {e}");
        return Err(EXIT_DATABASE);
    }
    // (the key every secret in the database was sealed with, or nothing runs)
    match app::backend::services::instance_key::verify(&b).await {
        Ok(()) => Ok(b),
        Err(e @ app::backend::services::instance_key::KeyCheck::WrongKey) => {
            eprintln!("error: {e}");
            Err(EXIT_UNEXPECTED)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(EXIT_DATABASE)
        }
    }
}

/// Runs a `secrets` subcommand that needs the database; returns the exit code.
pub async fn run_secrets(b: &Backend, cmd: SecretsCommand) -> u8 {
    match cmd {
        SecretsCommand::NewKey => {
            println!("{}", app::backend::crypto::key_to_base64(&app::backend::crypto::new_key()));
            0
        }
        SecretsCommand::Rotate => {
            if !b.secrets.has_previous() {
                eprintln!(
                    "note: no ROSTER_SECRET_KEY_PREVIOUS given: every secret already opens with the key; \
                     they are sealed again under it all the same"
                );
            }
            match app::backend::services::secrets::rotate(b, &Ctx::cli()).await {
                Ok(r) => {
                    for (column, n) in &r.columns {
                        println!("{}: {n}", column.name());
                    }
                    println!(
                        "Sealed {} secrets again under the instance key. Drop ROSTER_SECRET_KEY_PREVIOUS and \
                         restart every instance.",
                        r.total()
                    );
                    0
                }
                Err(e @ Error::Conflict { .. }) => {
                    eprintln!("error: {e}");
                    EXIT_REFUSED
                }
                Err(e) => finish(Err(e)),
            }
        }
    }
}

/// The commands that work on the database: `user`, `org`, `role`, `access`.
pub enum Admin {
    Token(TokenCommand),
    Client(ClientCommand),
    Webhook(WebhookCommand),
    Scim(ScimCommand),
    Invite(InviteCommand),
    Bulk(BulkCommand),
    Oidc(OidcCommand),
    User(UserCommand),
    Org(OrgCommand),
    Role(RoleCommand),
    Database(DatabaseCommand),
    Access(AccessCommand),
    Secrets(SecretsCommand),
    Import(ImportCommand),
    Export(ExportCommand),
}

/// Loads the access model, then runs an admin command; returns the exit code.
pub async fn run_admin(store: Arc<dyn Store>, config: Config, cmd: Admin) -> u8 {
    let b = match loaded(store, config).await {
        Ok(b) => b,
        Err(code) => return code,
    };
    match cmd {
        Admin::User(c) => run_user(&b, c).await,
        Admin::Org(c) => run_org(&b, c).await,
        Admin::Role(c) => run_role(&b, c).await,
        Admin::Database(c) => run_database(&b, c).await,
        Admin::Access(c) => run_access(&b, c).await,
        Admin::Token(c) => run_token(&b, c).await,
        Admin::Client(c) => run_client(&b, c).await,
        Admin::Webhook(c) => run_webhook(&b, c).await,
        Admin::Scim(c) => run_scim(&b, c).await,
        Admin::Invite(c) => run_invite(&b, c).await,
        Admin::Bulk(c) => run_bulk(&b, c).await,
        Admin::Oidc(c) => run_oidc(&b, c).await,
        Admin::Secrets(c) => run_secrets(&b, c).await,
        Admin::Import(c) => run_import(&b, c).await,
        Admin::Export(c) => run_export(&b, c).await,
    }
}

/// Reads an import file: bounded, UTF-8.
fn read_import_file(path: &std::path::Path) -> Result<String, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if meta.len() > app::domain::import::MAX_IMPORT_BYTES as u64 {
        return Err(format!("{shown} is larger than {} MB", app::domain::import::MAX_IMPORT_BYTES / (1024 * 1024)));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    String::from_utf8(bytes).map_err(|_| format!("{shown} is not UTF-8 text"))
}

/// The report as people read it: one line per account, notes under it, the counts last.
pub fn report_text(r: &app::domain::import::ImportReport) -> String {
    let mut out = String::new();
    for row in &r.rows {
        let at = if row.line > 0 { format!(" (line {})", row.line) } else { String::new() };
        let msg = if row.message.is_empty() { String::new() } else { format!(": {}", row.message) };
        let what = match row.kind {
            app::domain::import::RowKind::Database => "database ",
            app::domain::import::RowKind::Account => "",
        };
        out.push_str(&format!("{:<9} {what}{}{at}{msg}\n", row.outcome.as_str(), row.key));
        for n in &row.notes {
            out.push_str(&format!("          note: {n}\n"));
        }
    }
    out.push_str(&format!("{}\n", r.summary()));
    out
}

/// Runs an `import` subcommand; returns the exit code (6 when some accounts were refused:
/// the others are imported, as the report says).
pub async fn run_import(b: &Backend, cmd: ImportCommand) -> u8 {
    use app::domain::import::{ImportOptions, OnExisting};
    let (path, databases, mut opts, flags) = match cmd {
        ImportCommand::Slashdb { users, databases, org, passwords, flags } => {
            use app::domain::import::ImportFormat;
            let format = if users.is_some() { ImportFormat::Slashdb } else { ImportFormat::SlashdbDatabases };
            let mut o = ImportOptions::new(format);
            o.org = org;
            o.plaintext_passwords = passwords == "plaintext";
            match users {
                Some(users) => (users, databases, o, flags),
                // (clap asks for one of the two)
                None => match databases {
                    Some(d) => (d, None, o, flags),
                    None => return EXIT_USAGE,
                },
            }
        }
        ImportCommand::Users { file, format, flags } => {
            let name = file.to_string_lossy().to_string();
            match app::backend::services::import::format_for(format.as_deref(), &name) {
                Ok(
                    app::domain::import::ImportFormat::Slashdb | app::domain::import::ImportFormat::SlashdbDatabases,
                ) => {
                    eprintln!("error: `import users` reads CSV or JSON Lines; for SlashDB's files use `roster import slashdb --users FILE [--databases FILE]`");
                    return EXIT_USAGE;
                }
                Ok(f) => (file, None, ImportOptions::new(f), flags),
                Err(e) => {
                    eprintln!("error: {}", describe(&e));
                    return EXIT_USAGE;
                }
            }
        }
    };
    opts.dry_run = flags.dry_run;
    opts.on_existing = if flags.update_existing {
        OnExisting::Update
    } else if flags.skip_existing {
        OnExisting::Skip
    } else {
        OnExisting::Fail
    };
    let text = match read_import_file(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let databases = match databases.as_deref().map(read_import_file).transpose() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    match app::backend::services::import::import(b, &Ctx::cli(), opts, &text, databases.as_deref()).await {
        Ok(report) => {
            if flags.json {
                println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            } else {
                print!("{}", report_text(&report));
            }
            if report.errors > 0 {
                6
            } else {
                0
            }
        }
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            exit_code(&e)
        }
    }
}

/// Runs an `export` subcommand; returns the exit code.
pub async fn run_export(b: &Backend, cmd: ExportCommand) -> u8 {
    use app::domain::import::ExportFormat;
    let mut files = Vec::new();
    let org = match cmd {
        ExportCommand::Slashdb { org, output, databases } => {
            if output.is_some() || databases.is_none() {
                files.push((ExportFormat::Slashdb, output));
            }
            if let Some(path) = databases {
                files.push((ExportFormat::SlashdbDatabases, Some(path)));
            }
            org
        }
        ExportCommand::Users { format, output } => match ExportFormat::parse(&format) {
            Some(f @ (ExportFormat::Csv | ExportFormat::Jsonl)) => {
                files.push((f, output));
                None
            }
            _ => {
                eprintln!("error: unknown format '{format}': choose csv or jsonl");
                return EXIT_USAGE;
            }
        },
    };
    for (format, output) in files {
        let done = match app::backend::services::export::export(b, &Ctx::cli(), format, org.as_deref()).await {
            Ok(done) => done,
            Err(e) => {
                eprintln!("error: {}", describe(&e));
                return exit_code(&e);
            }
        };
        for line in &done.cannot_use {
            eprintln!("note: SlashDB cannot use {line}");
        }
        match output {
            Some(path) => {
                if let Err(e) = write_private(&path, done.body.trim_end()) {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    return EXIT_UNEXPECTED;
                }
            }
            None => print!("{}", done.body),
        }
    }
    0
}

/// Runs a `user` subcommand; returns the exit code.
pub async fn run_user(b: &Backend, cmd: UserCommand) -> u8 {
    let ctx = Ctx::cli();
    let result: Result<String, Error> = async {
        match cmd {
            UserCommand::Create(a) => {
                let full_name = format!("{} {}", a.firstname.trim(), a.lastname.trim()).trim().to_string();
                let (super_admin, role_name) = placement(&a.role, a.org.as_deref());
                let n = NewUser {
                    username: a.username.clone(),
                    full_name,
                    email: a.email,
                    password: if a.use_random_password { None } else { a.password },
                    password_hash: a.password_hash,
                    super_admin,
                    status: UserStatus::Active,
                    org: a.org.clone(),
                    role: Some(role_name),
                };
                let on_existing = if a.skip_existing {
                    OnExisting::Skip
                } else if a.update_existing {
                    OnExisting::Update
                } else {
                    OnExisting::Fail
                };
                let role = a.role.trim().to_string();
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
            UserCommand::List { search, legacy_hash, limit, json } => {
                let mut out = Vec::new();
                let mut after = None;
                let mut left = limit;
                while left > 0 {
                    let q = UserQuery {
                        search: search.clone(),
                        legacy_hash,
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
    finish(result)
}

/// Prints a command's outcome and gives its exit code.
fn finish(result: Result<String, Error>) -> u8 {
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

fn abilities(codes: &[String]) -> Result<AbilitySet, Error> {
    codes.iter().map(|c| access_svc::parse_ability(c)).collect()
}

pub async fn run_org(b: &Backend, cmd: OrgCommand) -> u8 {
    let ctx = Ctx::cli();
    let result: Result<String, Error> = async {
        match cmd {
            OrgCommand::Create { name } => {
                let o = org_svc::create(b, &ctx, &name).await?;
                Ok(format!("Organization '{}' created (id {}).", o.name, o.id))
            }
            OrgCommand::List { json } => {
                let orgs = org_svc::list(b, &ctx).await?;
                Ok(orgs
                    .iter()
                    .map(|o| {
                        if json {
                            serde_json::to_string(o).unwrap_or_default()
                        } else {
                            format!("{:<6} {:<40} {} members", o.id, o.name, o.members)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
            OrgCommand::Rename { org, name } => {
                let o = org_svc::rename(b, &ctx, org_svc::resolve(b, &org)?, &name).await?;
                Ok(format!("Organization {} renamed to '{}'.", o.id, o.name))
            }
            OrgCommand::Delete { org } => {
                org_svc::delete(b, &ctx, org_svc::resolve(b, &org)?).await?;
                Ok(format!("Organization '{org}' deleted."))
            }
            OrgCommand::AddMember(m) => set_member(b, &ctx, &m, true).await,
            OrgCommand::SetMember(m) => set_member(b, &ctx, &m, false).await,
            OrgCommand::RemoveMember { org, username } => {
                org_svc::remove_member(b, &ctx, org_svc::resolve(b, &org)?, &username).await?;
                Ok(format!("'{username}' removed from '{org}'."))
            }
        }
    }
    .await;
    finish(result)
}

/// A Test Connection's outcome, as a line or as JSON.
fn test_line(t: &app::domain::databases::ConnectionTest, json: bool) -> String {
    if json {
        serde_json::to_string(t).unwrap_or_default()
    } else {
        format!("{}: {} ({} ms)", t.outcome.label(), t.message, t.millis)
    }
}

pub async fn run_database(b: &Backend, cmd: DatabaseCommand) -> u8 {
    use app::backend::services::database_access as access_svc;
    use app::backend::services::databases as db_svc;
    use app::domain::database_access::{CredentialInput, CredentialPatch, MappingInput, MappingKind};
    let ctx = Ctx::cli();
    // (false only after a Test Connection that did not connect)
    let mut connected = true;
    let result: Result<String, Error> = async {
        match cmd {
            DatabaseCommand::List { org, json } => {
                let org = org_svc::resolve(b, &org)?;
                let mut out = Vec::new();
                let mut after = None;
                loop {
                    let page = db_svc::list(b, &ctx, org, after).await?;
                    for d in &page.databases {
                        out.push(if json {
                            serde_json::to_string(d).unwrap_or_default()
                        } else {
                            format!(
                                "{:<24} {:<12} {:<48} {:<12} {}",
                                d.db_id,
                                d.engine.label(),
                                d.place(),
                                d.tls.as_str(),
                                d.default_login.as_deref().unwrap_or("")
                            )
                        });
                    }
                    match page.next {
                        Some(n) => after = Some(n),
                        None => break,
                    }
                }
                Ok(out.join("\n"))
            }
            DatabaseCommand::Create { org, fields } => {
                let org = org_svc::resolve(b, &org)?;
                let input = fields.into_patch()?.into_input();
                let d = db_svc::create(b, &ctx, org, input).await?;
                Ok(format!("Database '{}' defined.", d.db_id))
            }
            DatabaseCommand::Update { org, db, fields } => {
                let org = org_svc::resolve(b, &org)?;
                let d = db_svc::update(b, &ctx, org, &db, fields.into_patch()?).await?;
                Ok(format!("Database '{}' updated.", d.db_id))
            }
            DatabaseCommand::Delete { org, db } => {
                db_svc::delete(b, &ctx, org_svc::resolve(b, &org)?, &db).await?;
                Ok(format!("Database '{db}' deleted."))
            }
            DatabaseCommand::Test { org, db, json } => {
                let t = db_svc::test(b, &ctx, org_svc::resolve(b, &org)?, &db).await?;
                connected = t.outcome.ok();
                Ok(test_line(&t, json))
            }
            DatabaseCommand::Credentials { org, db, json } => {
                let org = org_svc::resolve(b, &org)?;
                let mut out = Vec::new();
                let mut after = None;
                loop {
                    let page = access_svc::list_credentials(b, &ctx, org, &db, after).await?;
                    for c in &page.credentials {
                        out.push(if json {
                            serde_json::to_string(c).unwrap_or_default()
                        } else {
                            let test = c.last_test.as_ref().map(|t| t.outcome.label()).unwrap_or("not tested");
                            format!("{:<32} {:<32} {test}", c.name, c.login)
                        });
                    }
                    match page.next {
                        Some(n) => after = Some(n),
                        None => break,
                    }
                }
                Ok(out.join("\n"))
            }
            DatabaseCommand::AddCredential { org, db, name, login, password_stdin } => {
                let password = if password_stdin { stdin_line("password")? } else { String::new() };
                let input = CredentialInput { name, login, password };
                let c = access_svc::create_credential(b, &ctx, org_svc::resolve(b, &org)?, &db, input).await?;
                Ok(format!("Credential '{}' created for database '{}'.", c.name, c.db_id))
            }
            DatabaseCommand::UpdateCredential { org, db, credential, name, login, password_stdin } => {
                let password = if password_stdin { Some(stdin_line("password")?) } else { None };
                let patch = CredentialPatch { name, login, password };
                let c =
                    access_svc::update_credential(b, &ctx, org_svc::resolve(b, &org)?, &db, &credential, patch).await?;
                Ok(format!("Credential '{}' updated.", c.name))
            }
            DatabaseCommand::DeleteCredential { org, db, credential } => {
                let n = access_svc::delete_credential(b, &ctx, org_svc::resolve(b, &org)?, &db, &credential).await?;
                Ok(format!("Credential '{credential}' deleted ({n} account mapping(s) through it removed)."))
            }
            DatabaseCommand::TestCredential { org, db, credential, json } => {
                let t = access_svc::test_credential(b, &ctx, org_svc::resolve(b, &org)?, &db, &credential).await?;
                connected = t.outcome.ok();
                Ok(test_line(&t, json))
            }
            DatabaseCommand::Mappings { org, username, json } => {
                let org = org_svc::resolve(b, &org)?;
                let mut out = Vec::new();
                let mut after = None;
                loop {
                    let page = access_svc::list_mappings(b, &ctx, org, &username, after).await?;
                    for m in &page.mappings {
                        out.push(if json {
                            serde_json::to_string(m).unwrap_or_default()
                        } else {
                            let how = match m.kind {
                                MappingKind::Own => format!("login {}", m.login.as_deref().unwrap_or("")),
                                MappingKind::Credential => {
                                    format!("credential {}", m.credential.as_deref().unwrap_or(""))
                                }
                                MappingKind::None => "no login".to_string(),
                            };
                            format!("{:<24} {how}", m.db_id)
                        });
                    }
                    match page.next {
                        Some(n) => after = Some(n),
                        None => break,
                    }
                }
                Ok(out.join("\n"))
            }
            DatabaseCommand::Map { org, username, db, login, password_stdin, credential, no_login } => {
                let input = match (login, credential, no_login) {
                    (Some(login), None, false) => MappingInput {
                        db_id: db,
                        kind: "own".into(),
                        login,
                        password: if password_stdin { stdin_line("password")? } else { String::new() },
                        credential: String::new(),
                    },
                    (None, Some(credential), false) => {
                        MappingInput { db_id: db, kind: "credential".into(), credential, ..Default::default() }
                    }
                    (None, None, true) => MappingInput { db_id: db, kind: "none".into(), ..Default::default() },
                    _ => {
                        return Err(Error::invalid(
                            "kind",
                            "Give one of --login (with --password-stdin), --credential or --no-login.",
                        ))
                    }
                };
                let m = access_svc::set_mapping(b, &ctx, org_svc::resolve(b, &org)?, &username, input).await?;
                Ok(format!("'{username}' mapped to database '{}' ({}).", m.db_id, m.kind.label().to_lowercase()))
            }
            DatabaseCommand::Unmap { org, username, db } => {
                access_svc::delete_mapping(b, &ctx, org_svc::resolve(b, &org)?, &username, &db).await?;
                Ok(format!("'{username}' no longer mapped to database '{db}'."))
            }
            DatabaseCommand::TestMapping { org, username, db, json } => {
                let t = access_svc::test_mapping(b, &ctx, org_svc::resolve(b, &org)?, &username, &db).await?;
                connected = t.outcome.ok();
                Ok(test_line(&t, json))
            }
            DatabaseCommand::Login { username, db, org } => {
                let l = access_svc::database_login(b, &ctx, &username, &db, org.as_deref()).await?;
                Ok(serde_json::to_string_pretty(&l).unwrap_or_default())
            }
        }
    }
    .await;
    match finish(result) {
        0 if !connected => EXIT_NOT_CONNECTED,
        code => code,
    }
}

pub async fn run_role(b: &Backend, cmd: RoleCommand) -> u8 {
    let ctx = Ctx::cli();
    let result: Result<String, Error> = async {
        match cmd {
            RoleCommand::List { json } => {
                let roles = role_svc::list(b, &ctx).await?;
                Ok(roles
                    .iter()
                    .map(|r| {
                        if json {
                            serde_json::to_string(r).unwrap_or_default()
                        } else {
                            format!("{:<4} {:<20} {}", r.id, r.name, r.abilities.codes().join(" "))
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
            RoleCommand::Create { name, abilities: codes } => {
                let r = role_svc::create(b, &ctx, &name, abilities(&codes)?).await?;
                Ok(format!("Role '{}' created (id {}).", r.name, r.id))
            }
            RoleCommand::Grant { role, abilities: codes } => set_role(b, &ctx, &role, &codes, true).await,
            RoleCommand::Revoke { role, abilities: codes } => set_role(b, &ctx, &role, &codes, false).await,
            RoleCommand::Delete { role, replacement } => {
                let id = role_svc::resolve(b, &role)?;
                let to = match replacement {
                    Some(x) => Some(role_svc::resolve(b, &x)?),
                    None => None,
                };
                role_svc::delete(b, &ctx, id, to).await?;
                Ok(format!("Role '{role}' deleted."))
            }
        }
    }
    .await;
    finish(result)
}

async fn set_member(b: &Backend, ctx: &Ctx, m: &MemberArgs, add: bool) -> Result<String, Error> {
    let org_id = org_svc::resolve(b, &m.org)?;
    let role = role_svc::resolve(b, &m.role)?;
    let extras = abilities(&m.grants)?;
    let member = org_svc::set_member(b, ctx, org_id, &m.username, role, extras, add).await?;
    let with = if extras.is_empty() { String::new() } else { format!(" with {}", extras.codes().join(", ")) };
    Ok(format!("'{}' is {} in '{}'{with}.", member.username, member.role, m.org))
}

async fn set_role(b: &Backend, ctx: &Ctx, role: &str, codes: &[String], on: bool) -> Result<String, Error> {
    let id = role_svc::resolve(b, role)?;
    let r = role_svc::set_abilities(b, ctx, id, abilities(codes)?, on).await?;
    let now = r.abilities;
    Ok(format!(
        "Role '{}' now grants: {}.",
        r.name,
        if now.is_empty() { "nothing".into() } else { now.codes().join(", ") }
    ))
}

pub async fn run_access(b: &Backend, cmd: AccessCommand) -> u8 {
    let ctx = Ctx::cli();
    let AccessCommand::Explain { username, org, ability, json } = cmd;
    let result = async {
        let org = org_svc::resolve(b, &org)?;
        let ability = access_svc::parse_ability(&ability)?;
        access_svc::explain(b, &ctx, username.as_deref(), org, ability)
    }
    .await;
    match result {
        Ok(e) => {
            if json {
                println!("{}", serde_json::to_string(&e).unwrap_or_default());
            } else {
                println!("{}", e.summary);
                for s in &e.steps {
                    println!("  [{}] {}", if s.grants { "x" } else { " " }, s.detail);
                }
            }
            if e.allowed {
                0
            } else {
                5
            }
        }
        Err(e) => finish(Err(e)),
    }
}

/// An application as one line of `roster client list`.
fn client_line(c: &app::domain::clients::OAuthClient) -> String {
    format!(
        "{:<24} {:<12} {:<8} {}  {}",
        c.client_id,
        c.kind.as_str(),
        if c.enabled { "enabled" } else { "disabled" },
        c.name,
        c.redirect_uris.join(" ")
    )
}

/// Prints a saved application; a new secret alone on standard output (or all as JSON).
fn print_client(done: &str, c: &app::domain::clients::ClientSecret, json: bool) -> u8 {
    if json {
        println!("{}", serde_json::to_string_pretty(c).unwrap_or_default());
        return 0;
    }
    match &c.client_secret {
        Some(secret) => {
            eprintln!(
                "Application '{}' {done}. Client ID: {}. Its secret is shown only this once:",
                c.client.name, c.client.client_id
            );
            println!("{secret}");
        }
        None => eprintln!("Application '{}' {done}. Client ID: {}.", c.client.name, c.client.client_id),
    }
    0
}

/// Runs a `client` subcommand; returns the exit code.
pub async fn run_client(b: &Backend, cmd: ClientCommand) -> u8 {
    use app::backend::services::clients as svc;
    use app::domain::clients::{ClientKind, OAuthClient};
    let ctx = Ctx::cli();
    match cmd {
        ClientCommand::Create(a) => {
            let defaults = OAuthClient::default();
            let input = OAuthClient {
                client_id: a.client_id,
                name: a.name,
                kind: if a.public { ClientKind::Public } else { ClientKind::Confidential },
                redirect_uris: a.redirect_uris,
                post_logout_redirect_uris: a.post_logout_redirect_uris,
                orgs: a.orgs,
                scopes: if a.scopes.is_empty() { defaults.scopes.clone() } else { a.scopes },
                consent: !a.no_consent,
                require_two_factor: a.require_two_factor,
                access_token_seconds: a.access_token_seconds.unwrap_or(defaults.access_token_seconds),
                refresh_token_seconds: a.refresh_token_seconds.unwrap_or(defaults.refresh_token_seconds),
                enabled: !a.disabled,
                ..defaults
            };
            match svc::save(b, &ctx, input, true).await {
                Ok(c) => print_client("registered", &c, a.json),
                Err(e) => finish(Err(e)),
            }
        }
        ClientCommand::List { json } => finish(svc::list(b, &ctx).await.map(|list| {
            list.iter()
                .map(|c| if json { serde_json::to_string(c).unwrap_or_default() } else { client_line(c) })
                .collect::<Vec<_>>()
                .join("\n")
        })),
        ClientCommand::Update(a) => {
            let mut c = match svc::get(b, &ctx, &a.client_id).await {
                Ok(c) => c,
                Err(e) => return finish(Err(e)),
            };
            if let Some(n) = a.name {
                c.name = n;
            }
            if let Some(k) = a.kind {
                match ClientKind::parse(&k) {
                    Ok(k) => c.kind = k,
                    Err(e) => return finish(Err(Error::Invalid { errors: vec![e] })),
                }
            }
            if !a.redirect_uris.is_empty() {
                c.redirect_uris = a.redirect_uris;
            }
            if !a.post_logout_redirect_uris.is_empty() {
                c.post_logout_redirect_uris = a.post_logout_redirect_uris;
            }
            if a.no_orgs {
                c.orgs.clear();
            } else if !a.orgs.is_empty() {
                c.orgs = a.orgs;
            }
            if !a.scopes.is_empty() {
                c.scopes = a.scopes;
            }
            c.consent = a.consent.unwrap_or(c.consent);
            c.require_two_factor = a.require_two_factor.unwrap_or(c.require_two_factor);
            c.access_token_seconds = a.access_token_seconds.unwrap_or(c.access_token_seconds);
            c.refresh_token_seconds = a.refresh_token_seconds.unwrap_or(c.refresh_token_seconds);
            c.enabled = a.enabled.unwrap_or(c.enabled);
            match svc::save(b, &ctx, c, false).await {
                Ok(c) => print_client("saved", &c, a.json),
                Err(e) => finish(Err(e)),
            }
        }
        ClientCommand::Delete { client_id } => {
            finish(svc::delete(b, &ctx, &client_id).await.map(|()| format!("Application '{client_id}' deleted.")))
        }
        ClientCommand::RotateSecret { client_id } => match svc::rotate_secret(b, &ctx, &client_id).await {
            Ok(c) => print_client("has a new secret", &c, false),
            Err(e) => finish(Err(e)),
        },
    }
}

/// A webhook as one line of `roster webhook list`.
/// Runs a `scim` subcommand; returns the exit code.
pub async fn run_scim(b: &Backend, cmd: ScimCommand) -> u8 {
    use app::backend::services::scim as svc;
    use app::backend::services::scim_mappings as mappings;
    let ctx = Ctx::cli();
    match cmd {
        ScimCommand::Create(a) => {
            let input = svc::ConnectionInput {
                id: a.id,
                name: a.name,
                orgs: a.orgs,
                default_org: a.default_org,
                default_role: a.default_role,
                delete_mode: a.delete_mode,
                adopt_existing: a.adopt_existing,
            };
            match svc::create_connection(b, &ctx, input).await {
                Ok(made) if a.json => {
                    println!("{}", serde_json::to_string_pretty(&made).unwrap_or_default());
                    0
                }
                Ok(made) => {
                    let c = made.connection;
                    eprintln!(
                        "SCIM connection {} added at {} (acting as {}). Its bearer token is shown only this once:",
                        c.id, c.base_url, c.service_account
                    );
                    println!("{}", made.token);
                    0
                }
                Err(e) => finish(Err(e)),
            }
        }
        ScimCommand::List { json } => finish(svc::list_connections(b, &ctx).await.map(|list| {
            list.iter()
                .map(|c| {
                    if json {
                        serde_json::to_string(c).unwrap_or_default()
                    } else {
                        format!(
                            "{:<20} {:<24} {} -> {} as {} (delete: {}{}; {} token(s))",
                            c.id,
                            c.name,
                            c.orgs.join(","),
                            c.default_org.as_deref().unwrap_or("(none)"),
                            c.default_role.as_deref().unwrap_or("(none)"),
                            c.delete_mode,
                            if c.adopt_existing { ", adopts existing accounts" } else { "" },
                            c.tokens
                        )
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        })),
        ScimCommand::Token { id } => match svc::add_token(b, &ctx, &id).await {
            Ok(made) => {
                eprintln!("A new bearer token for SCIM connection {id}, shown only this once:");
                println!("{}", made.token);
                0
            }
            Err(e) => finish(Err(e)),
        },
        ScimCommand::Delete { id } => {
            finish(svc::delete_connection(b, &ctx, &id).await.map(|()| format!("SCIM connection {id} deleted.")))
        }
        ScimCommand::Map(a) => {
            let input = app::domain::scim_mapping::ScimMappingInput {
                group: a.group,
                org: a.org,
                role: a.role,
                abilities: a.abilities,
                priority: a.priority,
            };
            finish(mappings::create_mapping(b, &ctx, &a.id, input).await.map(|m| {
                format!(
                    "Mapping {}: {} -> {} in {} (priority {}; {} member(s)).",
                    m.id, m.group, m.role, m.org, m.priority, m.members
                )
            }))
        }
        ScimCommand::Mappings { id, json } => finish(mappings::list_mappings(b, &ctx, &id).await.map(|list| {
            list.iter()
                .map(|m| {
                    if json {
                        serde_json::to_string(m).unwrap_or_default()
                    } else {
                        let extras = m.abilities.codes().join(",");
                        format!(
                            "{:<5} {:<24} -> {} in {}{} (priority {}, {} member(s))",
                            m.id,
                            m.group,
                            m.role,
                            m.org,
                            if extras.is_empty() { String::new() } else { format!(" +{extras}") },
                            m.priority,
                            m.members
                        )
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        })),
        ScimCommand::Unmap { id, mapping } => finish(
            mappings::delete_mapping(b, &ctx, &id, mapping).await.map(|()| format!("Mapping {mapping} removed.")),
        ),
    }
}

/// The action of `roster bulk plan`'s flags.
fn bulk_action(
    action: &str,
    org: Option<String>,
    role: Option<String>,
    reason: Option<String>,
) -> Result<app::domain::bulk::BulkAction, Error> {
    use app::domain::bulk::BulkAction as A;
    let need = |v: Option<String>, flag: &str| {
        v.filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Error::invalid(flag, format!("--action {action} needs --{flag}.")))
    };
    Ok(match action.trim().replace('_', "-").as_str() {
        "disable" => A::Disable,
        "enable" => A::Enable,
        "delete" => A::Delete,
        "add-to-org" => A::AddToOrg { org: need(org, "org")?, role: need(role, "role")? },
        "set-role" => A::SetRole { org: need(org, "org")?, role: need(role, "role")? },
        "remove-from-org" => A::RemoveFromOrg { org: need(org, "org")? },
        "reset-two-factor" => A::ResetTwoFactor { reason: need(reason, "reason")? },
        other => {
            return Err(Error::invalid(
                "action",
                format!(
                    "Unknown action {other}: disable, enable, delete, add-to-org, set-role, remove-from-org or reset-two-factor."
                ),
            ))
        }
    })
}

/// What a plan file holds: the plan's id (what applies it) and what the dry run found.
#[derive(serde::Serialize, serde::Deserialize)]
struct PlanFile {
    plan: String,
    action: String,
    counts: app::domain::bulk::BulkCounts,
    expires_at: i64,
    items: Vec<app::domain::bulk::BulkItem>,
}

/// Runs a `bulk` subcommand; returns the exit code.
pub async fn run_bulk(b: &Backend, cmd: BulkCommand) -> u8 {
    use app::backend::services::bulk as svc;
    use app::domain::bulk::{BulkOutcome, BulkRequest, Selection};
    let ctx = Ctx::cli();
    let report = |items: &[app::domain::bulk::BulkItem]| {
        for i in items.iter().filter(|i| i.outcome == BulkOutcome::Refused) {
            eprintln!("refused {}: {}", i.username, i.reason.as_deref().unwrap_or(""));
        }
    };
    match cmd {
        BulkCommand::Plan { action, org, role, reason, users, matching, legacy_hash, out } => {
            let made = async {
                let action = bulk_action(&action, org, role, reason)?;
                let selection = match matching {
                    Some(search) => Selection::Matching { search: Some(search), legacy_hash },
                    None if !users.is_empty() => Selection::Usernames { usernames: users },
                    None => return Err(Error::invalid("user", "Name the accounts (--user) or a search (--matching).")),
                };
                svc::plan(b, &ctx, BulkRequest { action, selection }).await
            }
            .await;
            let p = match made {
                Ok(p) => p,
                Err(e) => return finish(Err(e)),
            };
            report(&p.items);
            let c = p.counts;
            eprintln!(
                "Plan to {}: {} would change, {} unchanged, {} refused (of {}). Nothing was changed; apply within 30 minutes with `roster bulk apply FILE`.",
                p.action, c.change, c.unchanged, c.refused, c.total()
            );
            let file = PlanFile { plan: p.id, action: p.action, counts: c, expires_at: p.expires_at, items: p.items };
            let json = match serde_json::to_string_pretty(&file) {
                Ok(j) => j,
                Err(e) => return finish(Err(Error::invalid("out", e.to_string()))),
            };
            match out {
                Some(path) => {
                    if let Err(e) = std::fs::write(&path, json + "\n") {
                        eprintln!("error: cannot write {}: {e}", path.display());
                        return 1;
                    }
                }
                None => println!("{json}"),
            }
            if c.total() > 0 && c.refused == c.total() {
                5
            } else {
                0
            }
        }
        BulkCommand::Apply { plan } => {
            let text = match std::fs::read_to_string(&plan) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", plan.display());
                    return 1;
                }
            };
            let file: PlanFile = match serde_json::from_str(&text) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("error: {} is not a plan file of `roster bulk plan`: {e}", plan.display());
                    return 1;
                }
            };
            match svc::apply(b, &ctx, &file.plan).await {
                Ok(done) => {
                    report(&done.items);
                    let c = done.counts;
                    println!(
                        "Applied {}: {} changed, {} unchanged, {} refused.",
                        done.action, c.change, c.unchanged, c.refused
                    );
                    0
                }
                Err(e) => finish(Err(e)),
            }
        }
    }
}

/// Runs an `invite` subcommand; returns the exit code.
pub async fn run_invite(b: &Backend, cmd: InviteCommand) -> u8 {
    use app::backend::services::{invitations as svc, orgs, roles};
    let ctx = Ctx::cli();
    match cmd {
        InviteCommand::Create { org, email, role, abilities: codes, days } => {
            let made = async {
                let org = orgs::resolve(b, &org)?;
                let role = roles::resolve(b, &role)?;
                svc::create(b, &ctx, org, &email, role, abilities(&codes)?, Some(days)).await
            }
            .await;
            match made {
                Ok(m) => {
                    let i = &m.invitation;
                    eprintln!(
                        "Invited {} to {} as {} until {}. The link works once; pass it on:",
                        i.email,
                        i.org,
                        i.role,
                        app::domain::users::format_time(i.expires_at)
                    );
                    println!("{}", m.link.unwrap_or_default());
                    0
                }
                Err(e) => finish(Err(e)),
            }
        }
        InviteCommand::List { org, json } => finish(
            async {
                let org = orgs::resolve(b, &org)?;
                svc::list(b, &ctx, org).await
            }
            .await
            .map(|list| {
                list.iter()
                    .map(|i| {
                        if json {
                            serde_json::to_string(i).unwrap_or_default()
                        } else {
                            format!(
                                "{:<5} {:<9} {:<32} {} (by {}, until {})",
                                i.id,
                                i.status.as_str(),
                                i.email,
                                i.role,
                                i.invited_by,
                                app::domain::users::format_time(i.expires_at)
                            )
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }),
        ),
        InviteCommand::Revoke { org, id } => finish(
            async {
                let org = orgs::resolve(b, &org)?;
                svc::revoke(b, &ctx, org, id).await
            }
            .await
            .map(|i| format!("The invitation of {} is withdrawn.", i.email)),
        ),
    }
}

fn webhook_line(w: &app::domain::webhooks::Webhook) -> String {
    let state = match (&w.paused, w.enabled) {
        (Some(_), _) => "paused",
        (None, true) => "enabled",
        (None, false) => "disabled",
    };
    let orgs = if w.orgs.is_empty() { "all organizations".to_string() } else { w.orgs.join(",") };
    format!("{:<5} {:<9} {:<15} {:<24} {}  ({orgs})", w.id, state, w.kinds.join(","), w.name, w.url)
}

/// Runs a `webhook` subcommand; returns the exit code.
pub async fn run_webhook(b: &Backend, cmd: WebhookCommand) -> u8 {
    use app::backend::services::webhooks as svc;
    use app::domain::webhooks::WebhookInput;
    let ctx = Ctx::cli();
    match cmd {
        WebhookCommand::Create(a) => {
            let input = WebhookInput { name: a.name, url: a.url, kinds: a.kinds, orgs: a.orgs, enabled: !a.disabled };
            match svc::save(b, &ctx, None, input).await {
                Ok(w) if a.json => {
                    println!("{}", serde_json::to_string_pretty(&w).unwrap_or_default());
                    0
                }
                Ok(w) => {
                    eprintln!(
                        "Webhook {} '{}' added. Its signing secret is shown only this once:",
                        w.webhook.id, w.webhook.name
                    );
                    println!("{}", w.secret);
                    0
                }
                Err(e) => finish(Err(e)),
            }
        }
        WebhookCommand::List { json } => finish(svc::list(b, &ctx).await.map(|list| {
            list.iter()
                .map(|w| if json { serde_json::to_string(w).unwrap_or_default() } else { webhook_line(w) })
                .collect::<Vec<_>>()
                .join("\n")
        })),
        WebhookCommand::Update { id, settings: a } => {
            let w = match svc::get(b, &ctx, id).await {
                Ok(w) => w,
                Err(e) => return finish(Err(e)),
            };
            let input = WebhookInput {
                name: a.name.unwrap_or(w.name),
                url: a.url.unwrap_or(w.url),
                kinds: if a.kinds.is_empty() { w.kinds } else { a.kinds },
                orgs: if a.all_orgs {
                    Vec::new()
                } else if a.orgs.is_empty() {
                    w.orgs
                } else {
                    a.orgs
                },
                enabled: a.enabled.unwrap_or(w.enabled),
            };
            finish(
                svc::save(b, &ctx, Some(id), input).await.map(|w| format!("Webhook {id} '{}' saved.", w.webhook.name)),
            )
        }
        WebhookCommand::Delete { id } => {
            finish(svc::delete(b, &ctx, id).await.map(|()| format!("Webhook {id} deleted.")))
        }
        WebhookCommand::RotateSecret { id } => match svc::rotate_secret(b, &ctx, id).await {
            Ok(w) => {
                eprintln!("Webhook {id} '{}' has a new signing secret, shown only this once:", w.webhook.name);
                println!("{}", w.secret);
                0
            }
            Err(e) => finish(Err(e)),
        },
        WebhookCommand::Resume { id } => finish(
            svc::resume(b, &ctx, id)
                .await
                .map(|w| format!("Webhook {id} '{}' resumes after event {}.", w.name, w.delivered_through)),
        ),
        WebhookCommand::Deliveries { id, json } => finish(svc::deliveries(b, &ctx, id).await.map(|list| {
            list.iter()
                .map(|d| {
                    if json {
                        return serde_json::to_string(d).unwrap_or_default();
                    }
                    let outcome = match (&d.status, &d.error) {
                        (Some(s), _) => format!("HTTP {s}"),
                        (None, Some(e)) => e.clone(),
                        (None, None) => "no answer".into(),
                    };
                    format!("event {:<8} attempt {:<3} {:>6} ms  {outcome}", d.event_id, d.attempt, d.duration_ms)
                })
                .collect::<Vec<_>>()
                .join("\n")
        })),
    }
}

/// Runs an `oidc` subcommand; returns the exit code.
pub async fn run_oidc(b: &Backend, cmd: OidcCommand) -> u8 {
    use app::backend::services::signing_keys as svc;
    let ctx = Ctx::cli();
    match cmd {
        OidcCommand::RotateKey => finish(svc::rotate(b, &ctx).await.map(|r| {
            format!(
                "Key {} signs from now on ({} retired, still published for a day; {} removed).",
                r.kid, r.retired, r.removed
            )
        })),
        OidcCommand::Keys { json } => finish(svc::list(b, &ctx).await.map(|keys| {
            keys.iter()
                .map(|k| {
                    if json {
                        serde_json::to_string(k).unwrap_or_default()
                    } else {
                        let state = match k.retired_at {
                            None => "signing".to_string(),
                            Some(at) => format!("retired {}", app::domain::users::format_time(at)),
                        };
                        format!("{}  {}  made {}  {state}", k.kid, k.alg, app::domain::users::format_time(k.created_at))
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        })),
    }
}

/// Runs a `token` subcommand; returns the exit code.
pub async fn run_token(b: &Backend, cmd: TokenCommand) -> u8 {
    use app::backend::services::tokens as token_svc;
    let ctx = Ctx::cli();
    match cmd {
        TokenCommand::Create { username, name, kind, expires_days, abilities } => {
            let n = app::domain::tokens::NewToken { name, kind, expires_in_days: expires_days, abilities };
            match token_svc::create(b, &ctx, Some(&username), n).await {
                Ok(t) => {
                    eprintln!(
                        "Created {} '{}' ({}) for {username}. It is shown only this once.",
                        t.info.kind.label(),
                        t.info.name,
                        t.info.prefix
                    );
                    println!("{}", t.token);
                    0
                }
                Err(e) => finish(Err(e)),
            }
        }
        TokenCommand::List { username } => match token_svc::list(b, &ctx, Some(&username)).await {
            Ok(list) => {
                let now = b.now();
                for t in list {
                    let scope = t.abilities.map(|a| a.codes().join(",")).unwrap_or_else(|| "(owner's)".into());
                    println!("{}\t{}\t{}\t{}\t{}", t.id, t.prefix, t.name, t.state(now), scope);
                }
                0
            }
            Err(e) => finish(Err(e)),
        },
    }
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::thousands;

    #[test]
    fn row_counts_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234), "1,234");
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
