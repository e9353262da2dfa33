//! Copies every table of a SQLite database into a PostgreSQL one (`roster copy-database`, the
//! way off the embedded default). What is copied comes from the target's catalog, not from a
//! list here: a table or column a later migration adds is copied with no change to this file
//! (`server/tests/copy_database.rs` fails if the two backends' schemas ever differ).
//!
//! Invariants:
//! - Nothing is half-copied: every write on the target happens in one transaction, holding the
//!   write lock every PostgreSQL instance takes, and commits only once each table's row count
//!   on the target equals the source's.
//! - Existing data is never overwritten: a target holding more than a freshly migrated
//!   database holds (the rows the migrations insert) is refused before anything is written.
//! - The source is only read, from one snapshot (a read transaction), so the rows copied are
//!   consistent with each other even if something writes to the file meanwhile.
//! - Values are copied unchanged (sealed secrets stay sealed, byte for byte): the copy must
//!   run with the instance key of the source.
use std::collections::{BTreeMap, BTreeSet};

use futures_util::TryStreamExt;
use sqlx::sqlite::SqliteRow;
use sqlx::{PgConnection, PgPool, Row, SqliteConnection};

use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use super::StoreError;

/// sqlx's migration bookkeeping: each database keeps its own (the target's was written when it
/// was migrated), so it is compared, never copied.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";
/// Rows sent in one INSERT (one array per column, so no parameter limit applies)...
const BATCH_ROWS: usize = 2_000;
/// ...or fewer, once their text and bytes reach this (profile pictures are large).
const BATCH_BYTES: usize = 8 << 20;

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The copy cannot start; nothing was written. The message says why and what to do.
    #[error("{0}")]
    Refused(String),
    /// Copied rows did not add up; the target transaction was rolled back.
    #[error("{0}")]
    Mismatch(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CopyError {
    fn from(e: sqlx::Error) -> Self {
        CopyError::Store(StoreError::Db(e))
    }
}

/// One table copied, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopied {
    pub table: String,
    pub rows: i64,
}

/// How a value of a target column is read from SQLite and sent to PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Bytes,
    /// SQLite stores 0/1.
    Bool,
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
    /// The PostgreSQL type name, for the array parameter's cast.
    pg_type: String,
    identity: bool,
}

/// A table of the target, with what copying it needs.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    columns: Vec<Column>,
    primary_key: Vec<String>,
    /// Tables its foreign keys point to.
    parents: BTreeSet<String>,
}

impl Table {
    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }
}

/// A quoted identifier (the schema's names are plain, but a name is never spliced in raw).
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn kind_of(table: &str, column: &str, pg_type: &str) -> Result<Kind, CopyError> {
    match pg_type {
        "bigint" | "integer" | "smallint" => Ok(Kind::Int),
        "text" | "character varying" => Ok(Kind::Text),
        "bytea" => Ok(Kind::Bytes),
        "boolean" => Ok(Kind::Bool),
        other => Err(CopyError::Refused(format!(
            "column {table}.{column} has type {other}, which copy-database does not know how to copy"
        ))),
    }
}

/// The target's tables (every base table of its schema but the migrations' bookkeeping), each
/// after the tables its foreign keys reference, so rows can be inserted in that order.
pub async fn tables(pool: &PgPool) -> Result<Vec<Table>, CopyError> {
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.is_identity::text \
         FROM information_schema.columns c \
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(pool)
    .await?;
    let mut by_name: BTreeMap<String, Table> = BTreeMap::new();
    for (table, column, pg_type, identity) in columns {
        if table == MIGRATIONS_TABLE {
            continue;
        }
        let kind = kind_of(&table, &column, &pg_type)?;
        by_name
            .entry(table.clone())
            .or_insert_with(|| Table {
                name: table.clone(),
                columns: Vec::new(),
                primary_key: Vec::new(),
                parents: BTreeSet::new(),
            })
            .columns
            .push(Column { name: column, kind, pg_type, identity: identity == "YES" });
    }
    let keys: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indrelid \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
         WHERE i.indisprimary AND c.relnamespace = current_schema()::regnamespace \
         ORDER BY c.relname, array_position(i.indkey::int2[], a.attnum)",
    )
    .fetch_all(pool)
    .await?;
    for (table, column) in keys {
        if let Some(t) = by_name.get_mut(&table) {
            t.primary_key.push(column);
        }
    }
    let references: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, p.relname::text FROM pg_constraint k \
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid \
         WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace",
    )
    .fetch_all(pool)
    .await?;
    for (child, parent) in references {
        if child != parent {
            if let Some(t) = by_name.get_mut(&child) {
                t.parents.insert(parent);
            }
        }
    }
    in_reference_order(by_name)
}

/// Parents before children (a self-reference needs no order; none exists today).
fn in_reference_order(mut left: BTreeMap<String, Table>) -> Result<Vec<Table>, CopyError> {
    let mut ordered: Vec<Table> = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let ready: Vec<String> =
            left.values().filter(|t| t.parents.iter().all(|p| !left.contains_key(p))).map(|t| t.name.clone()).collect();
        if ready.is_empty() {
            let names: Vec<&str> = left.keys().map(String::as_str).collect();
            return Err(CopyError::Refused(format!(
                "the foreign keys of tables {} form a cycle; copy-database cannot order them",
                names.join(", ")
            )));
        }
        for name in ready {
            if let Some(t) = left.remove(&name) {
                ordered.push(t);
            }
        }
    }
    Ok(ordered)
}

/// Row counts of a freshly migrated database: what the migrations themselves insert (the
/// default organization, the built-in roles, the public account...). Measured on a throwaway
/// in-memory SQLite database migrated by this binary (both backends' migrations insert the
/// same rows), so a new migration's rows need no change here.
async fn fresh_counts(tables: &[Table]) -> Result<BTreeMap<String, i64>, CopyError> {
    let fresh = SqliteStore::open("sqlite::memory:").await?;
    fresh.migrate().await?;
    // (the writer pool has one connection: the one that holds the in-memory database)
    let pool = fresh.write_pool();
    let mut counts = BTreeMap::new();
    for t in tables {
        // (a table of another application in the target's schema: never truncated, refused)
        let known: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind(&t.name)
            .fetch_one(pool)
            .await?;
        if known == 0 {
            return Err(CopyError::Refused(format!(
                "the target database has a table Roster does not know ({}): copy into a new, empty database",
                t.name
            )));
        }
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", ident(&t.name))).fetch_one(pool).await?;
        counts.insert(t.name.clone(), n);
    }
    pool.close().await;
    Ok(counts)
}

/// Refuses a target that holds anything beyond a fresh database's rows, naming the table.
async fn refuse_non_empty(
    tx: &mut PgConnection,
    tables: &[Table],
    fresh: &BTreeMap<String, i64>,
) -> Result<(), CopyError> {
    for t in tables {
        let n: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM {}", ident(&t.name))).fetch_one(&mut *tx).await?;
        let new = fresh.get(&t.name).copied().unwrap_or(0);
        if n > new {
            return Err(CopyError::Refused(format!(
                "the target database is not empty: table {} has {n} rows (a new database has {new}); \
                 copy into a new, empty database",
                t.name
            )));
        }
    }
    Ok(())
}

/// The values of one column for a batch of rows.
enum Values {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Bytes(Vec<Option<Vec<u8>>>),
    Bool(Vec<Option<bool>>),
}

impl Values {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Int => Values::Int(Vec::new()),
            Kind::Text => Values::Text(Vec::new()),
            Kind::Bytes => Values::Bytes(Vec::new()),
            Kind::Bool => Values::Bool(Vec::new()),
        }
    }

    /// Appends column `i` of `row`; returns the bytes it holds (for the batch budget).
    fn push(&mut self, row: &SqliteRow, i: usize) -> Result<usize, sqlx::Error> {
        Ok(match self {
            Values::Int(v) => {
                v.push(row.try_get(i)?);
                8
            }
            Values::Bool(v) => {
                v.push(row.try_get(i)?);
                1
            }
            Values::Text(v) => {
                let s: Option<String> = row.try_get(i)?;
                let n = s.as_ref().map_or(0, String::len);
                v.push(s);
                n
            }
            Values::Bytes(v) => {
                let b: Option<Vec<u8>> = row.try_get(i)?;
                let n = b.as_ref().map_or(0, Vec::len);
                v.push(b);
                n
            }
        })
    }

    fn clear(&mut self) {
        match self {
            Values::Int(v) => v.clear(),
            Values::Text(v) => v.clear(),
            Values::Bytes(v) => v.clear(),
            Values::Bool(v) => v.clear(),
        }
    }
}

/// Inserts one batch: one array per column, unnested into rows by the server.
async fn insert(tx: &mut PgConnection, sql: &str, batch: &[Values]) -> Result<(), sqlx::Error> {
    let mut q = sqlx::query(sql);
    for values in batch {
        q = match values {
            Values::Int(v) => q.bind(v),
            Values::Text(v) => q.bind(v),
            Values::Bytes(v) => q.bind(v),
            Values::Bool(v) => q.bind(v),
        };
    }
    q.execute(tx).await?;
    Ok(())
}

/// Copies one table's rows (in primary-key order); returns how many.
async fn copy_table(src: &mut SqliteConnection, tx: &mut PgConnection, t: &Table) -> Result<i64, CopyError> {
    let names: Vec<String> = t.columns.iter().map(|c| ident(&c.name)).collect();
    let order = if t.primary_key.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY {}", t.primary_key.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", "))
    };
    let select = format!("SELECT {} FROM {}{order}", names.join(", "), ident(&t.name));
    let arrays: Vec<String> =
        t.columns.iter().enumerate().map(|(i, c)| format!("${}::{}[]", i + 1, c.pg_type)).collect();
    let sql =
        format!("INSERT INTO {} ({}) SELECT * FROM UNNEST({})", ident(&t.name), names.join(", "), arrays.join(", "));
    let mut batch: Vec<Values> = t.columns.iter().map(|c| Values::new(c.kind)).collect();
    let (mut rows, mut bytes, mut total) = (0usize, 0usize, 0i64);
    let mut stream = sqlx::query(&select).fetch(&mut *src);
    while let Some(row) = stream.try_next().await.map_err(|e| read_error(t, e))? {
        for (i, values) in batch.iter_mut().enumerate() {
            bytes += values.push(&row, i).map_err(|e| read_error(t, e))?;
        }
        rows += 1;
        if rows >= BATCH_ROWS || bytes >= BATCH_BYTES {
            insert(&mut *tx, &sql, &batch).await.map_err(|e| write_error(t, e))?;
            total += rows as i64;
            batch.iter_mut().for_each(Values::clear);
            (rows, bytes) = (0, 0);
        }
    }
    if rows > 0 {
        insert(&mut *tx, &sql, &batch).await.map_err(|e| write_error(t, e))?;
        total += rows as i64;
    }
    Ok(total)
}

fn read_error(t: &Table, e: sqlx::Error) -> CopyError {
    CopyError::Refused(format!("cannot read table {} of the source: {e}", t.name))
}

fn write_error(t: &Table, e: sqlx::Error) -> CopyError {
    CopyError::Refused(format!("cannot write table {} of the target: {e}", t.name))
}

/// Sets each identity column's sequence past the highest id copied: rows were inserted with
/// their ids, which does not move a sequence, and the next account must not collide.
async fn reset_sequences(tx: &mut PgConnection, t: &Table) -> Result<(), sqlx::Error> {
    for c in t.columns.iter().filter(|c| c.identity) {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(max({}), 0) + 1, false) FROM {}",
            ident(&c.name),
            ident(&t.name)
        );
        sqlx::query(&sql).bind(ident(&t.name)).bind(&c.name).execute(&mut *tx).await?;
    }
    Ok(())
}

/// Copies every table of `source` into `target`, both migrated by this binary, neither by a
/// newer one (the caller checks). `progress` hears of each table once it is copied (not yet committed).
pub async fn copy(
    source: &SqliteStore,
    target: &PgStore,
    progress: &mut (dyn FnMut(&TableCopied) + Send),
) -> Result<Vec<TableCopied>, CopyError> {
    let tables = tables(target.pool()).await?;
    let fresh = fresh_counts(&tables).await?;
    let mut tx = target.begin_locked().await?;
    // (with the lock held: another instance cannot write between this check and the copy)
    refuse_non_empty(&mut tx, &tables, &fresh).await?;
    // A snapshot of the source: every table read as of one moment.
    let mut src = source.write_pool().begin().await?;
    // Make way for the source's rows, which include its own copy of what the migrations
    // inserted (possibly changed since: a renamed organization or role).
    let all: Vec<String> = tables.iter().map(|t| ident(&t.name)).collect();
    sqlx::query(&format!("TRUNCATE {}", all.join(", "))).execute(&mut *tx).await?;
    let mut copied = Vec::with_capacity(tables.len());
    for t in &tables {
        let rows = copy_table(&mut src, &mut tx, t).await?;
        reset_sequences(&mut tx, t).await?;
        let c = TableCopied { table: t.name.clone(), rows };
        progress(&c);
        copied.push(c);
    }
    // Each table's count, both sides, before anything is committed.
    for (t, c) in tables.iter().zip(&copied) {
        let count = format!("SELECT count(*) FROM {}", ident(&t.name));
        let on_source: i64 = sqlx::query_scalar(&count).fetch_one(&mut *src).await?;
        let on_target: i64 = sqlx::query_scalar(&count).fetch_one(&mut *tx).await?;
        if on_source != on_target || on_target != c.rows {
            // (dropping the transaction rolls it back)
            return Err(CopyError::Mismatch(format!(
                "table {}: {on_source} rows in the source, {on_target} in the target after copying {}; \
                 nothing was committed",
                t.name, c.rows
            )));
        }
    }
    tx.commit().await?;
    src.rollback().await?;
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, parents: &[&str]) -> Table {
        Table {
            name: name.into(),
            columns: Vec::new(),
            primary_key: Vec::new(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn parents_come_before_their_children_and_cycles_are_refused() {
        let all: BTreeMap<String, Table> = [
            table("a_members", &["users", "orgs"]),
            table("users", &[]),
            table("orgs", &[]),
            table("b", &["a_members"]),
        ]
        .into_iter()
        .map(|t| (t.name.clone(), t))
        .collect();
        let order: Vec<String> = in_reference_order(all).expect("ordered").into_iter().map(|t| t.name).collect();
        assert_eq!(order, ["orgs", "users", "a_members", "b"]);
        let cycle: BTreeMap<String, Table> =
            [table("x", &["y"]), table("y", &["x"])].into_iter().map(|t| (t.name.clone(), t)).collect();
        assert!(matches!(in_reference_order(cycle), Err(CopyError::Refused(_))));
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(ident("users"), "\"users\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
    }
}
