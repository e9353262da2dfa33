//! Moving an instance from its embedded SQLite file to PostgreSQL (`roster copy-database`):
//! the checks that make the copy safe to start, around `store::copy`, which copies.
//!
//! Refused before anything is written: a source this binary has not fully migrated, or one a
//! newer Roster migrated (its tables may hold columns the target lacks); a key that cannot
//! open the source's sealed secrets (the copy would start but every TOTP code and single
//! sign-on provider would fail); a target that already holds data (`store::copy`).
use std::path::Path;

use crate::backend::crypto::SecretBox;
use crate::backend::services::instance_key;
use crate::backend::store::copy::{self, CopyError, TableCopied};
use crate::backend::store::postgres::PgStore;
use crate::backend::store::sqlite::SqliteStore;
use crate::backend::store::{backend_of, Backend, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CopyDatabaseError {
    /// The URLs do not name a SQLite source and a PostgreSQL target.
    #[error("{0}")]
    Usage(String),
    #[error("cannot open the source database: {0}")]
    OpenSource(String),
    #[error("cannot open the target database: {0}")]
    OpenTarget(StoreError),
    #[error("cannot migrate the target database: {0}")]
    MigrateTarget(StoreError),
    /// A rule refuses the copy; nothing was written. The message says what to do.
    #[error("{0}")]
    Refused(String),
    #[error(
        "the instance key cannot open the secrets of the source database (they were sealed with another key): \
         give the key the source instance runs with (ROSTER_SECRET_KEY or --key-file)"
    )]
    WrongKey,
    /// The copy failed part way; its transaction was rolled back.
    #[error("copy failed, nothing was committed: {0}")]
    Copy(CopyError),
}

/// What was copied.
#[derive(Debug)]
pub struct Copied {
    pub tables: Vec<TableCopied>,
    /// Whether the source held the instance key check value the key was verified against
    /// (a database no Roster with the check has started holds none).
    pub key_checked: bool,
}

impl Copied {
    pub fn rows(&self) -> i64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// Copies the SQLite database at `from` into the PostgreSQL database at `to`, checking first
/// that `secrets` (the instance key) opens the source's secrets. `progress` hears of each table.
pub async fn copy_database(
    from: &str,
    to: &str,
    secrets: &SecretBox,
    progress: &mut (dyn FnMut(&TableCopied) + Send),
) -> Result<Copied, CopyDatabaseError> {
    let usage = |e: StoreError| CopyDatabaseError::Usage(e.to_string());
    if backend_of(from).map_err(usage)? != Backend::Sqlite {
        return Err(CopyDatabaseError::Usage("--from must be a sqlite: URL (the database to copy)".into()));
    }
    if backend_of(to).map_err(usage)? != Backend::Postgres {
        return Err(CopyDatabaseError::Usage("--to must be a postgres:// URL (the database to copy into)".into()));
    }
    // (opening would create a missing file: a typo must not copy an empty database)
    let path = crate::backend::store::sqlite::file_of(from);
    if !Path::new(path).is_file() {
        return Err(CopyDatabaseError::OpenSource(format!("no SQLite database at {path}")));
    }
    let source = SqliteStore::open(from).await.map_err(|e| CopyDatabaseError::OpenSource(e.to_string()))?;
    let pending = source.pending_migrations().await.map_err(|e| CopyDatabaseError::OpenSource(e.to_string()))?;
    if !pending.is_empty() {
        return Err(CopyDatabaseError::Refused(format!(
            "the source database is not up to date ({} migration(s) pending): run `roster migrate` on it \
             with this version first",
            pending.len()
        )));
    }
    let unknown = source.unknown_migrations().await.map_err(|e| CopyDatabaseError::OpenSource(e.to_string()))?;
    if !unknown.is_empty() {
        let versions: Vec<String> = unknown.iter().map(i64::to_string).collect();
        return Err(CopyDatabaseError::Refused(format!(
            "the source database has migrations this Roster does not know ({}): a newer Roster ran on it; \
             copy with that version",
            versions.join(", ")
        )));
    }
    let key_checked = check_key(&source, secrets).await?;

    let target = PgStore::open(to).await.map_err(CopyDatabaseError::OpenTarget)?;
    // (to the source's versions: both are this binary's)
    target.migrate().await.map_err(CopyDatabaseError::MigrateTarget)?;

    let tables = copy::copy(&source, &target, progress).await.map_err(|e| match e {
        CopyError::Refused(m) => CopyDatabaseError::Refused(m),
        other => CopyDatabaseError::Copy(other),
    })?;
    target.close().await;
    source.write_pool().close().await;
    Ok(Copied { tables, key_checked })
}

/// Whether the key opens the source's check value: `Ok(true)` it does, `Ok(false)` the source
/// holds none (nothing to check against), `WrongKey` it does not.
async fn check_key(source: &SqliteStore, secrets: &SecretBox) -> Result<bool, CopyDatabaseError> {
    let read = |e: StoreError| CopyDatabaseError::OpenSource(e.to_string());
    // (a transaction only for its read; dropped unwritten, so rolled back)
    let mut tx = source.begin().await.map_err(read)?;
    let stored = tx.setting(instance_key::SETTING).await.map_err(read)?;
    drop(tx);
    match stored {
        Some(stored) if instance_key::opens(secrets, &stored) => Ok(true),
        Some(_) => Err(CopyDatabaseError::WrongKey),
        None => Ok(false),
    }
}
