//! SQLite store: WAL, foreign keys on, busy timeout, and a single writer connection so write
//! transactions queue in-process instead of failing with SQLITE_BUSY. Write transactions start
//! with BEGIN IMMEDIATE, so facts read inside them cannot be changed by another process (the
//! CLI) before the write lands.
//!
//! This file owns the pools, `begin`/`commit` and the row helpers several resources share;
//! each port's SQL lives in the file of the same name (`users.rs`, `access.rs`, ...).
mod access;
mod audit;
mod clients;
mod database_access;
mod databases;
mod grants;
mod pictures;
mod sealed;
mod second_factors;
mod sessions;
mod settings;
mod signing_keys;
mod sso;
mod throttles;
mod tokens;
mod users;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

pub use audit::{audit_query, AuditArg};

use super::rows::{abilities_from, group_abilities, like_pattern};
use super::{conflict_field, PoolUse, Store, StoreError, StoreResult, Tx, UserRecord, WriteGeneration};
use crate::domain::ids::UserId;
use crate::domain::users::UserStatus;

pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
    /// Handed to every transaction (see `Store::write_generation`).
    generation: WriteGeneration,
}

/// The file a `sqlite:` URL names (`sqlite:PATH`, `sqlite://PATH`, with `?options`).
pub fn file_of(url: &str) -> &str {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    path.split('?').next().unwrap_or(path)
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite:path` or `sqlite://path`).
    /// Migrations are not applied here; see `migrate`.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new().max_connections(1).connect_with(opts.clone()).await?;
        let read = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await?;
        Ok(Self { read, write, generation: Default::default() })
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        super::migrations::migrator(super::migrations::SQLITE).await?.run(&self.write).await?;
        Ok(())
    }

    /// Migrations known to this binary that the database has not applied yet.
    pub async fn pending_migrations(&self) -> StoreResult<Vec<i64>> {
        // (a database that cannot be read is an error, not "everything pending")
        sqlx::query("SELECT 1").execute(&self.read).await?;
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
            .fetch_all(&self.read)
            .await
            .unwrap_or_default();
        Ok(super::migrations::SQLITE.iter().map(|m| m.0).filter(|v| !applied.contains(v)).collect())
    }

    /// Migrations the database has applied that this binary does not know: a newer Roster
    /// ran on it, and its tables may hold what this one would not read (or copy).
    pub async fn unknown_migrations(&self) -> StoreResult<Vec<i64>> {
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
            .fetch_all(&self.read)
            .await
            .unwrap_or_default();
        Ok(applied.into_iter().filter(|v| super::migrations::SQLITE.iter().all(|m| m.0 != *v)).collect())
    }

    /// For benchmarks and bulk seeding: direct access to the writer pool.
    pub fn write_pool(&self) -> &SqlitePool {
        &self.write
    }
}

pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    generation: WriteGeneration,
}

/// Rows of the sort order a search looks through before it turns to the trigram index.
const SEARCH_WINDOW: i64 = 2000;

const USER_COLS: &str = "u.id, u.username, u.full_name, u.email, u.password_hash, u.status, u.super_admin, \
     u.two_factor, u.created_at, u.last_sign_in_at, u.kind";

fn user_from_row(r: &SqliteRow) -> Result<UserRecord, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(UserRecord {
        id: UserId(r.try_get("id")?),
        username: r.try_get("username")?,
        full_name: r.try_get("full_name")?,
        email: r.try_get("email")?,
        password_hash: r.try_get("password_hash")?,
        status: UserStatus::parse(&status).unwrap_or(UserStatus::Disabled),
        super_admin: r.try_get::<i64, _>("super_admin")? != 0,
        two_factor: r.try_get::<i64, _>("two_factor")? != 0,
        created_at: r.try_get("created_at")?,
        last_sign_in_at: r.try_get("last_sign_in_at")?,
        public: r.try_get::<String, _>("kind")? == "public",
    })
}

/// A trigram FTS5 phrase: matches the text as a substring, with no query syntax (quotes are
/// doubled, so `"`, `*`, `OR` and the like are searched for literally).
fn fts_phrase(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A unique violation as `Conflict` naming the input (see `store::UNIQUE_FIELDS`); any
/// other error, and a violated rule no input maps to, as a database error.
fn map_unique(e: sqlx::Error) -> StoreError {
    if let Some(db) = e.as_database_error() {
        if db.is_unique_violation() {
            if let Some(field) = violated_rule(db.message()).and_then(conflict_field) {
                return StoreError::Conflict { field };
            }
        }
    }
    StoreError::Db(e)
}

/// The rule in SQLite's "UNIQUE constraint failed: users.email_key" (the constrained
/// columns, as `store::UNIQUE_FIELDS` lists them).
fn violated_rule(message: &str) -> Option<&str> {
    message.strip_prefix("UNIQUE constraint failed: ").map(str::trim)
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteTx { tx, generation: self.generation.clone() }))
    }

    async fn migrate(&self) -> StoreResult<()> {
        SqliteStore::migrate(self).await
    }

    async fn pending_migrations(&self) -> StoreResult<Vec<i64>> {
        SqliteStore::pending_migrations(self).await
    }

    fn pool_use(&self) -> PoolUse {
        let (r, w) = (&self.read, &self.write);
        PoolUse { open: r.size() + w.size(), idle: (r.num_idle() + w.num_idle()) as u32 }
    }

    fn generation(&self) -> &WriteGeneration {
        &self.generation
    }
}

#[async_trait]
impl Tx for SqliteTx {
    async fn commit_backend(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }

    fn generation(&self) -> &WriteGeneration {
        &self.generation
    }
}

// The outbox and the webhooks: one text of SQL for both backends.
crate::backend::store::webhooks::impl_webhook_store!(SqliteStore, read, SqliteTx);
// SCIM connections and the accounts they provisioned: one text of SQL for both backends.
crate::backend::store::scim::impl_scim_store!(
    SqliteStore,
    read,
    SqliteTx,
    crate::backend::store::scim::SQLITE_CONN_COLS
);
crate::backend::store::scim_groups::impl_scim_group_store!(SqliteStore, read, SqliteTx);
crate::backend::store::scim_mappings::impl_scim_mapping_store!(SqliteStore, read, SqliteTx);
crate::backend::store::invitations::impl_invitation_store!(SqliteStore, read, SqliteTx);
crate::backend::store::bulk_plans::impl_bulk_plan_store!(SqliteTx);

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(super::file_of("sqlite:data/roster.db"), "data/roster.db");
        assert_eq!(super::file_of("sqlite:///var/lib/roster.db?mode=rwc"), "/var/lib/roster.db");
    }

    use super::violated_rule;

    #[test]
    fn the_rule_is_the_column_list() {
        assert_eq!(violated_rule("UNIQUE constraint failed: users.email_key"), Some("users.email_key"));
        assert_eq!(
            violated_rule("UNIQUE constraint failed: memberships.org_id, memberships.user_id"),
            Some("memberships.org_id, memberships.user_id")
        );
        assert_eq!(violated_rule("FOREIGN KEY constraint failed"), None);
    }
}
