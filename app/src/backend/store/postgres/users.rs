//! SQL for accounts: look-ups, writes and the users list (keyset paging over the sort
//! indexes, with the trigram index for rare search terms). Same rows and order as SQLite.
use async_trait::async_trait;
use sqlx::{Postgres, Row};

use super::{like_keys, like_pattern, user_from_row, SEARCH_WINDOW, USER_COLS};
use super::{savepoint, search_stats, settle, PgStore, PgTx};
use crate::backend::store::rows::{each_once, ids_in_order};
use crate::backend::store::{
    KeyValue, PageKey, Seek, StoreResult, UserInsert, UserListQuery, UserRecord, UserStore, UserTx,
};
use crate::domain::ids::UserId;
use crate::domain::users::{SortDir, SortField};

/// `AND (col, id) > ($n, $n+1)` (or `<`) when paging from a cursor: a row-value comparison
/// answered by a range scan of the (col, id) index. `next` is the next free parameter number.
fn keyset_sql(col: &str, cmp: &str, key: Option<&PageKey>, next: &mut usize) -> String {
    if key.is_some() {
        let sql = format!(" AND ({col}, u.id) {cmp} (${}, ${})", *next, *next + 1);
        *next += 2;
        sql
    } else {
        String::new()
    }
}

type Query<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// Binds a cursor's (value, id) in the order `keyset_sql` expects. A cursor holds the 2FA
/// flag as the integer 0/1 (as on SQLite); it is compared with the boolean column as a
/// boolean, so the column's index serves the order (a cast column would be sorted in full).
fn bind_key<'q>(query: Query<'q>, k: &PageKey, sort: SortField) -> Query<'q> {
    let query = match (&k.value, sort) {
        (KeyValue::Int(i), SortField::TwoFactor) => query.bind(*i != 0),
        (KeyValue::Int(i), _) => query.bind(*i),
        (KeyValue::Text(s), _) => query.bind(s.clone()),
    };
    query.bind(k.id)
}

impl PgStore {
    /// Keyset part shared by the list queries: (comparison, order) for the seek direction.
    fn seek_parts(q: &UserListQuery) -> (&'static str, &'static str, Option<&PageKey>) {
        // Walking backwards (previous page) flips both the comparison and the order; the
        // service reverses the rows afterwards.
        let backwards = matches!(q.seek, Seek::Before(_));
        let ascending = (q.dir == SortDir::Asc) != backwards;
        let (cmp, ord) = if ascending { (">", "ASC") } else { ("<", "DESC") };
        let key = match &q.seek {
            Seek::First => None,
            Seek::After(k) | Seek::Before(k) => Some(k),
        };
        (cmp, ord, key)
    }

    /// The plain query: the sort index from the cursor on, filtered by LIKE when searching.
    /// With `window`, only the next `window` rows of the sort order are looked at.
    async fn list_users_scan(&self, q: &UserListQuery, window: Option<i64>) -> StoreResult<Vec<UserRecord>> {
        let col = sort_column(q.sort);
        let (cmp, ord, key) = Self::seek_parts(q);
        let order = order_by(q.sort, ord);
        let pattern = q.search.as_deref().map(like_pattern);
        // Parameters: [pattern] [cursor value, cursor id] [window] limit.
        let mut next = 1;
        let like = if pattern.is_some() {
            next += 1;
            format!(" AND {}", like_keys(1))
        } else {
            String::new()
        };
        let keyset = keyset_sql(col, cmp, key, &mut next);
        let legacy = if q.legacy_hash { LEGACY } else { "" };
        let sql = match window {
            None => format!(
                "SELECT {USER_COLS} FROM users u WHERE TRUE{legacy}{like}{keyset} ORDER BY {order} LIMIT ${next}"
            ),
            Some(_) => format!(
                "SELECT {USER_COLS} FROM (SELECT * FROM users u WHERE TRUE{legacy}{keyset} ORDER BY {order} \
                 LIMIT ${next}) u WHERE TRUE{like} ORDER BY {order} LIMIT ${}",
                next + 1
            ),
        };
        let mut query = sqlx::query(&sql);
        if let Some(p) = pattern {
            query = query.bind(p);
        }
        if let Some(k) = key {
            query = bind_key(query, k, q.sort);
        }
        if let Some(w) = window {
            query = query.bind(w);
        }
        query = query.bind(q.limit as i64);
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(Into::into)
    }

    /// Whether the search window was full (more rows follow it in sort order).
    async fn window_full(&self, q: &UserListQuery) -> StoreResult<bool> {
        let col = sort_column(q.sort);
        let (cmp, ord, key) = Self::seek_parts(q);
        let mut next = 1;
        let keyset = keyset_sql(col, cmp, key, &mut next);
        // Walked along the sort index (an unordered probe would read the table itself).
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM users u WHERE TRUE{keyset} ORDER BY {} LIMIT ${next}) w",
            order_by(q.sort, ord)
        );
        let mut query = sqlx::query(&sql);
        if let Some(k) = key {
            query = bind_key(query, k, q.sort);
        }
        let n: i64 = query.bind(SEARCH_WINDOW + 1).fetch_one(&self.pool).await?.try_get(0)?;
        Ok(n > SEARCH_WINDOW)
    }

    /// Search through the trigram index, then sort the (few) matches.
    async fn list_users_indexed(&self, q: &UserListQuery, search: &str) -> StoreResult<Vec<UserRecord>> {
        let col = sort_column(q.sort);
        let (cmp, ord, key) = Self::seek_parts(q);
        let order = order_by(q.sort, ord);
        let mut next = 3;
        let keyset = keyset_sql(col, cmp, key, &mut next);
        // The index is asked for the term's uncommon part ($1), and the rows it finds are
        // checked against the whole term ($2): the same rows, fewer index pages read.
        let common = self.search_stats.common(&self.pool).await;
        let part = search_stats::index_part(search, &common);
        // The matches are found first (a bitmap scan of the trigram index) and sorted
        // afterwards; OFFSET 0 keeps the planner from walking the sort index instead, and
        // from handing the whole term to the index too.
        let sql = format!(
            "SELECT {USER_COLS} FROM (SELECT * FROM users u WHERE {} OFFSET 0) u WHERE {}{keyset} \
             ORDER BY {order} LIMIT ${next}",
            like_keys(1),
            like_keys(2)
        );
        let mut query = sqlx::query(&sql).bind(like_pattern(part)).bind(like_pattern(search));
        if let Some(k) = key {
            query = bind_key(query, k, q.sort);
        }
        query = query.bind(q.limit as i64);
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(Into::into)
    }
}

/// The condition of the partial index `users_legacy_hash` (migration 0011), word for word so
/// the planner can use it.
const LEGACY: &str = " AND u.password_hash NOT LIKE '$argon2%'";

/// The ORDER BY of a sort: the column, then the id that breaks ties. Usernames and emails
/// are unique, so their unique index alone gives the same order (with the id added, the
/// planner sorts each page again).
fn order_by(f: SortField, ord: &str) -> String {
    let col = sort_column(f);
    match f {
        SortField::Username | SortField::Email => format!("{col} {ord}"),
        _ => format!("{col} {ord}, u.id {ord}"),
    }
}

/// The sort column, as its index holds it (false sorts before true, as 0 before 1 on SQLite).
fn sort_column(f: SortField) -> &'static str {
    match f {
        SortField::Username => "u.username_key",
        SortField::FullName => "u.full_name_key",
        SortField::Email => "u.email_key",
        SortField::Status => "u.status",
        SortField::TwoFactor => "u.two_factor",
        SortField::CreatedAt => "u.created_at",
        SortField::LastSignInAt => "u.last_sign_in_at",
    }
}

#[async_trait]
impl UserStore for PgStore {
    async fn user_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE kind = 'person'").fetch_one(&self.pool).await?)
    }

    async fn list_users(&self, q: &UserListQuery) -> StoreResult<Vec<UserRecord>> {
        // The legacy-hash filter reads the small partial index, so a plain scan of it is fast
        // whatever the search.
        let Some(search) = q.search.as_deref().filter(|s| s.chars().count() >= 3 && !q.legacy_hash) else {
            return self.list_users_scan(q, None).await;
        };
        // Frequent terms: the first rows in sort order already fill the page, so a bounded
        // LIKE scan of the sort index answers at once. Rare terms: the trigram index finds
        // the few rows. Both give exactly the rows the full query would.
        let rows = self.list_users_scan(q, Some(SEARCH_WINDOW)).await?;
        if rows.len() >= q.limit as usize || !self.window_full(q).await? {
            return Ok(rows);
        }
        self.list_users_indexed(q, search).await
    }

    async fn user_by_username(&self, username_key: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.username_key = $1"))
            .bind(username_key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn user_by_login(&self, key: &str) -> StoreResult<Option<UserRecord>> {
        // A username wins over another account's email address (as on SQLite: the username
        // branch comes first).
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users u WHERE u.username_key = $1 OR u.email_key = $1 \
             ORDER BY (u.username_key = $1) DESC LIMIT 1"
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn legacy_hash_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(&format!("SELECT COUNT(*) FROM users u WHERE TRUE{LEGACY}"))
            .fetch_one(&self.pool)
            .await?)
    }

    async fn users_after_id(&self, after: i64, limit: u32) -> StoreResult<Vec<UserRecord>> {
        let rows = sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.id > $1 ORDER BY u.id LIMIT $2"))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(user_from_row).collect::<Result<_, _>>()?)
    }
}

#[async_trait]
impl UserTx for PgTx {
    async fn user_count(&mut self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE kind = 'person'").fetch_one(&mut *self.tx).await?)
    }

    async fn claim_first_sign_up(&mut self) -> StoreResult<bool> {
        let done = sqlx::query("INSERT INTO instance_flags (key) VALUES ('bootstrapped') ON CONFLICT DO NOTHING")
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn user_by_username(&mut self, username_key: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.username_key = $1"))
            .bind(username_key)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn active_super_admins(&mut self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE super_admin AND status = 'active'")
            .fetch_one(&mut *self.tx)
            .await?)
    }

    async fn insert_user(&mut self, u: &UserInsert) -> StoreResult<UserId> {
        savepoint(&mut self.tx).await?;
        let r = sqlx::query_scalar(
            "INSERT INTO users (username, username_key, full_name, full_name_key, email, email_key, \
             password_hash, status, super_admin, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(&u.username)
        .bind(u.username.to_ascii_lowercase())
        .bind(&u.full_name)
        .bind(u.full_name.to_lowercase())
        .bind(&u.email)
        .bind(crate::domain::validate::stored_email_key(&u.email, &u.username))
        .bind(&u.password_hash)
        .bind(u.status.as_str())
        .bind(u.super_admin)
        .bind(u.created_at)
        .fetch_one(&mut *self.tx)
        .await;
        let id: i64 = settle(&mut self.tx, r).await?;
        Ok(UserId(id))
    }

    async fn insert_users(&mut self, users: &[UserInsert]) -> StoreResult<Vec<UserId>> {
        // One statement over arrays, whatever the count (no limit on bound parameters).
        let col = |f: fn(&UserInsert) -> String| users.iter().map(f).collect::<Vec<String>>();
        savepoint(&mut self.tx).await?;
        let r = sqlx::query_as::<_, (i64, String)>(
            "INSERT INTO users (username, username_key, full_name, full_name_key, email, email_key, \
             password_hash, status, super_admin, created_at, updated_at) \
             SELECT u.*, u.created_at FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::text[], $8::text[], $9::bool[], $10::bigint[]) AS u (username, username_key, full_name, \
             full_name_key, email, email_key, password_hash, status, super_admin, created_at) \
             RETURNING id, username_key",
        )
        .bind(col(|u| u.username.clone()))
        .bind(col(|u| u.username.to_ascii_lowercase()))
        .bind(col(|u| u.full_name.clone()))
        .bind(col(|u| u.full_name.to_lowercase()))
        .bind(col(|u| u.email.clone()))
        .bind(col(|u| crate::domain::validate::stored_email_key(&u.email, &u.username)))
        .bind(users.iter().map(|u| u.password_hash.clone()).collect::<Vec<Option<String>>>())
        .bind(col(|u| u.status.as_str().to_string()))
        .bind(users.iter().map(|u| u.super_admin).collect::<Vec<bool>>())
        .bind(users.iter().map(|u| u.created_at).collect::<Vec<i64>>())
        .fetch_all(&mut *self.tx)
        .await;
        let returned = settle(&mut self.tx, r).await?;
        // The planner's statistics describe the table as it was before this transaction (an
        // empty instance: "users has one row"); it then answers a batch's look-ups by key
        // through the trigram index or by scanning the growing table, measured at seconds more
        // per batch than the one before. Statistics taken here see this transaction's rows,
        // and are taken each time the rows it added double (a few times per import).
        let before = self.bulk_rows;
        self.bulk_rows += users.len() as u64;
        if self.bulk_rows >= 1024 && (before < 1024 || before.ilog2() != self.bulk_rows.ilog2()) {
            sqlx::query("ANALYZE users").execute(&mut *self.tx).await?;
        }
        ids_in_order(users, returned)
    }

    async fn users_by_keys(&mut self, keys: &[String]) -> StoreResult<Vec<UserRecord>> {
        // One probe of each unique b-tree index per key, whatever the planner's statistics
        // say. As `= ANY($1)` over the table, the planner took the trigram index (pg_trgm also
        // answers `=`; it reads the posting lists of every trigram of every key: seconds per
        // batch of 500) or, with bitmap scans off, a scan of the whole table hashing the keys
        // (measured growing with every batch an import added: quadratic in the file). A
        // lateral look-up per key leaves it only the choice of how to find one key. Bitmap
        // scans stay off for the rest of this (bulk) transaction: the trigram index can only
        // be read that way. Planned for each batch (`persistent(false)`): a plan kept from
        // when the table was small could scan it in each lateral look-up.
        sqlx::query("SET LOCAL enable_bitmapscan = off").execute(&mut *self.tx).await?;
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM UNNEST($1::text[]) AS k (key) CROSS JOIN LATERAL \
             (SELECT * FROM users u WHERE u.username_key = k.key UNION ALL \
              SELECT * FROM users u WHERE u.email_key = k.key) AS u"
        ))
        .persistent(false)
        .bind(keys)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(each_once(rows.iter().map(user_from_row).collect::<Result<_, _>>()?))
    }

    async fn update_user(&mut self, u: &UserRecord, now: i64) -> StoreResult<()> {
        savepoint(&mut self.tx).await?;
        let r = sqlx::query(
            "UPDATE users SET full_name = $1, full_name_key = $2, email = $3, email_key = $4, status = $5, \
             super_admin = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&u.full_name)
        .bind(u.full_name.to_lowercase())
        .bind(&u.email)
        .bind(crate::domain::validate::stored_email_key(&u.email, &u.username))
        .bind(u.status.as_str())
        .bind(u.super_admin)
        .bind(now)
        .bind(u.id.0)
        .execute(&mut *self.tx)
        .await;
        settle(&mut self.tx, r).await?;
        Ok(())
    }

    async fn set_password_hash(&mut self, id: UserId, hash: Option<&str>, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now)
            .bind(id.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn swap_password_hash(&mut self, id: UserId, old: &str, new: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
            .bind(new)
            .bind(id.0)
            .bind(old)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_user(&mut self, id: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM users WHERE id = $1").bind(id.0).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn user_by_id(&mut self, id: UserId) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1"))
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn set_two_factor(&mut self, user: UserId, on: bool) -> StoreResult<()> {
        sqlx::query("UPDATE users SET two_factor = $1 WHERE id = $2")
            .bind(on)
            .bind(user.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn record_sign_in(&mut self, user: UserId, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2")
            .bind(now)
            .bind(user.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
