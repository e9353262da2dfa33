//! PostgreSQL store: one pool, and write transactions serialised across every Roster
//! instance on the database by one transaction-scoped advisory lock, the equivalent of
//! SQLite's `BEGIN IMMEDIATE` (see `begin`). Every resource's SQL lives in the file of the
//! same name as its SQLite twin (`users.rs`, `access.rs`, ...), and must behave the same:
//! same rows, same order, same cursors (the contract suite in `server/tests/store.rs` runs
//! on both).
mod access;
mod audit;
mod clients;
mod database_access;
mod databases;
pub(crate) mod feed;
mod grants;
mod pictures;
mod sealed;
mod search_stats;
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
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Row, Transaction};

pub use audit::audit_query;

use super::rows::{abilities_from, group_abilities, like_pattern};
use super::{conflict_field, ChangeFeed, PoolUse, Store, StoreError, StoreResult, Tx, UserRecord, WriteGeneration};
use crate::domain::ids::UserId;
use crate::domain::users::UserStatus;

/// The key of the advisory lock every write transaction takes first: one fixed number for
/// Roster ("ROSTER" in ASCII), so any other application using advisory locks on the same
/// database is unlikely to collide with it.
pub const WRITE_LOCK_KEY: i64 = 0x524F_5354_4552;

pub struct PgStore {
    pool: PgPool,
    /// How the change feed connects (the pool's settings, under its own application name).
    listen: PgConnectOptions,
    /// Names this store's commits on the change feed, so its own are not heard back as news.
    instance: String,
    /// Handed to every transaction (see `Store::write_generation`).
    generation: WriteGeneration,
    /// The common trigrams of the accounts' key columns (see `search_stats`).
    search_stats: search_stats::SearchStats,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:pass@host/db?sslmode=require`).
    /// The database must exist; migrations are not applied here (see `migrate`).
    pub async fn open(url: &str) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url)?.application_name("roster").options([
            // A connection left inside a transaction (a bug, a stuck task) would hold the
            // write lock for every instance; the server ends such a session.
            ("idle_in_transaction_session_timeout", "60s"),
        ]);
        let listen = opts.clone().application_name(feed::APPLICATION_NAME);
        // One plain connection first: a database that cannot be reached at all (a wrong host
        // or port, refused) is reported at once, where the pool would retry until its acquire
        // timeout. (A database that goes away later is retried: see the change feed.)
        sqlx::Connection::close(<sqlx::PgConnection as sqlx::Connection>::connect_with(&opts).await?).await?;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts)
            .await?;
        let instance = format!("{:016x}", rand::random::<u64>());
        Ok(Self { pool, listen, instance, generation: Default::default(), search_stats: Default::default() })
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        super::migrations::migrator(super::migrations::POSTGRES).await?.run(&self.pool).await?;
        Ok(())
    }

    /// Migrations known to this binary that the database has not applied yet.
    pub async fn pending_migrations(&self) -> StoreResult<Vec<i64>> {
        // (a database that cannot be reached is an error, not "everything pending")
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        // Before the first migration the bookkeeping table does not exist: everything is pending.
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&self.pool)
            .await
            .unwrap_or_default();
        Ok(super::migrations::POSTGRES.iter().map(|m| m.0).filter(|v| !applied.contains(v)).collect())
    }

    /// A write transaction holding the write lock (what `Store::begin` wraps; `copy-database`
    /// writes through it directly).
    pub async fn begin_locked(&self) -> StoreResult<Transaction<'static, Postgres>> {
        // READ COMMITTED on purpose: every statement takes a fresh snapshot, so whatever is
        // read after the lock below is granted sees every transaction committed before it.
        // (REPEATABLE READ or SERIALIZABLE could keep a snapshot older than the lock wait.)
        let mut tx = self.pool.begin_with("BEGIN ISOLATION LEVEL READ COMMITTED").await?;
        // Mirrors SQLite's 10 s busy timeout: a writer waits that long for the lock, then fails.
        sqlx::query("SET LOCAL lock_timeout = '10s'").execute(&mut *tx).await?;
        // One global write lock, held until COMMIT or ROLLBACK: write transactions run one at
        // a time across every instance on this database, as SQLite's BEGIN IMMEDIATE makes
        // them within one file. Every read-then-write rule (first sign-up becomes super
        // admin, the last super admin is kept, the sign-in throttle, unique names checked
        // before insert) stays correct without per-rule locking. Transaction-scoped, so it
        // also works behind a pooler in transaction mode and cannot leak past the transaction.
        //
        // The same statement queues this transaction's write notice for the change feed: every
        // other instance hears it at commit and stops trusting what it cached (sessions,
        // tokens). Nothing is sent if the transaction rolls back.
        sqlx::query("SELECT pg_advisory_xact_lock($1), pg_notify($2, $3)")
            .bind(WRITE_LOCK_KEY)
            .bind(feed::WRITE_CHANNEL)
            .bind(&self.instance)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// For benchmarks, bulk seeding and tests: direct access to the pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool's connections (a database can only be dropped or copied as a template
    /// once nothing is connected to it).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub struct PgTx {
    tx: Transaction<'static, Postgres>,
    /// The store's name on the change feed.
    instance: String,
    generation: WriteGeneration,
    /// Accounts this transaction added with `insert_users` (see there).
    bulk_rows: u64,
}

/// Rows of the sort order a search looks through before it turns to the trigram index.
const SEARCH_WINDOW: i64 = 2000;

const USER_COLS: &str = "u.id, u.username, u.full_name, u.email, u.password_hash, u.status, u.super_admin, \
     u.two_factor, u.created_at, u.last_sign_in_at, u.kind";

fn user_from_row(r: &PgRow) -> Result<UserRecord, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(UserRecord {
        id: UserId(r.try_get("id")?),
        username: r.try_get("username")?,
        full_name: r.try_get("full_name")?,
        email: r.try_get("email")?,
        password_hash: r.try_get("password_hash")?,
        status: UserStatus::parse(&status).unwrap_or(UserStatus::Disabled),
        super_admin: r.try_get("super_admin")?,
        two_factor: r.try_get("two_factor")?,
        created_at: r.try_get("created_at")?,
        last_sign_in_at: r.try_get("last_sign_in_at")?,
        public: r.try_get::<String, _>("kind")? == "public",
    })
}

/// The three key columns a search compares, each with `LIKE $n`: the trigram index of
/// migration 0002 answers exactly this when the pattern has three characters or more.
fn like_keys(n: usize) -> String {
    format!(
        "(u.username_key LIKE ${n} ESCAPE '\\' OR u.full_name_key LIKE ${n} ESCAPE '\\' \
         OR u.email_key LIKE ${n} ESCAPE '\\')"
    )
}

/// A unique violation as `Conflict` naming the input (see `store::UNIQUE_FIELDS`); any
/// other error, and a violated rule no input maps to, as a database error. PostgreSQL
/// reports the violated constraint's (or unique index's) name; the schema names them all.
fn map_unique(e: sqlx::Error) -> StoreError {
    if let Some(db) = e.as_database_error() {
        if db.is_unique_violation() {
            if let Some(field) = db.constraint().and_then(conflict_field) {
                return StoreError::Conflict { field };
            }
        }
    }
    StoreError::Db(e)
}

/// Starts a savepoint before a statement that may break a unique rule. On SQLite a failed
/// statement leaves its transaction usable; on PostgreSQL it aborts the whole transaction
/// (and COMMIT then silently rolls back). Services go on after a `Conflict` (report it, try
/// another name), so the failed statement is undone alone, as on SQLite (`settle`).
async fn savepoint(conn: &mut sqlx::PgConnection) -> StoreResult<()> {
    sqlx::query("SAVEPOINT roster_unique").execute(conn).await?;
    Ok(())
}

/// Ends the savepoint of `savepoint`: kept when the statement succeeded, rolled back to when it
/// failed, whose error is mapped by `map_unique`.
async fn settle<T>(conn: &mut sqlx::PgConnection, result: Result<T, sqlx::Error>) -> StoreResult<T> {
    match result {
        Ok(v) => {
            sqlx::query("RELEASE SAVEPOINT roster_unique").execute(conn).await?;
            Ok(v)
        }
        Err(e) => {
            sqlx::query("ROLLBACK TO SAVEPOINT roster_unique").execute(&mut *conn).await?;
            sqlx::query("RELEASE SAVEPOINT roster_unique").execute(conn).await?;
            Err(map_unique(e))
        }
    }
}

#[async_trait]
impl Store for PgStore {
    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.begin_locked().await?;
        Ok(Box::new(PgTx { tx, instance: self.instance.clone(), generation: self.generation.clone(), bulk_rows: 0 }))
    }

    async fn migrate(&self) -> StoreResult<()> {
        PgStore::migrate(self).await
    }

    async fn pending_migrations(&self) -> StoreResult<Vec<i64>> {
        PgStore::pending_migrations(self).await
    }

    async fn change_feed(&self) -> StoreResult<Option<Box<dyn ChangeFeed>>> {
        Ok(Some(Box::new(feed::PgFeed::listen(self.listen.clone(), self.instance.clone()).await?)))
    }

    fn has_change_feed(&self) -> bool {
        true
    }

    fn pool_use(&self) -> PoolUse {
        PoolUse { open: self.pool.size(), idle: self.pool.num_idle() as u32 }
    }

    fn generation(&self) -> &WriteGeneration {
        &self.generation
    }
}

#[async_trait]
impl Tx for PgTx {
    async fn commit_backend(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }

    fn generation(&self) -> &WriteGeneration {
        &self.generation
    }
}

// The outbox and the webhooks: one text of SQL for both backends.
crate::backend::store::webhooks::impl_webhook_store!(PgStore, pool, PgTx);
// SCIM connections and the accounts they provisioned: one text of SQL for both backends.
crate::backend::store::scim::impl_scim_store!(PgStore, pool, PgTx, crate::backend::store::scim::CONN_COLS);
crate::backend::store::scim_groups::impl_scim_group_store!(PgStore, pool, PgTx);
crate::backend::store::scim_mappings::impl_scim_mapping_store!(PgStore, pool, PgTx);
crate::backend::store::invitations::impl_invitation_store!(PgStore, pool, PgTx);
crate::backend::store::bulk_plans::impl_bulk_plan_store!(PgTx);

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_their_wildcards() {
        assert_eq!(like_pattern("a_b%c\\"), "%a\\_b\\%c\\\\%");
    }
}
