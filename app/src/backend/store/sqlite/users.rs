//! SQL for accounts: look-ups, writes and the users list (keyset paging over the sort
//! indexes, with a trigram index for rare search terms).
use async_trait::async_trait;
use sqlx::{Row, Sqlite};

use super::{fts_phrase, like_pattern, map_unique, user_from_row, SEARCH_WINDOW, USER_COLS};
use super::{SqliteStore, SqliteTx};
use crate::backend::store::rows::{each_once, ids_in_order, BATCH_ROWS};
use crate::backend::store::{
    KeyValue, PageKey, Seek, StoreResult, UserInsert, UserListQuery, UserRecord, UserStore, UserTx,
};
use crate::domain::ids::UserId;
use crate::domain::users::{SortDir, SortField};

/// `AND (col, id) > (?, ?)` (or `<`) when paging from a cursor: a row-value comparison that
/// SQLite answers with a range scan on the (col, id) index.
fn keyset_sql(col: &str, cmp: &str, key: Option<&PageKey>) -> String {
    if key.is_some() {
        format!(" AND ({col}, u.id) {cmp} (?, ?)")
    } else {
        String::new()
    }
}

type Query<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// Binds a cursor's (value, id) in the order `keyset_sql` expects.
fn bind_key<'q>(query: Query<'q>, k: &PageKey) -> Query<'q> {
    let query = match &k.value {
        KeyValue::Int(i) => query.bind(*i),
        KeyValue::Text(s) => query.bind(s.clone()),
    };
    query.bind(k.id)
}

impl SqliteStore {
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
        let keyset = keyset_sql(col, cmp, key);
        let like = " AND (u.username_key LIKE ? ESCAPE '\\' OR u.full_name_key LIKE ? ESCAPE '\\' OR u.email_key LIKE ? ESCAPE '\\')";
        // The legacy filter reads only the partial index of those accounts (then sorts them),
        // so the cost follows their number, not the table's: without statistics SQLite would
        // rather walk the whole sort index looking for them.
        let (legacy, users) =
            if q.legacy_hash { (LEGACY, "users u INDEXED BY users_legacy_hash") } else { ("", "users u") };
        let sql = match window {
            None => format!(
                "SELECT {USER_COLS} FROM {users} WHERE 1=1{legacy}{}{keyset} ORDER BY {col} {ord}, u.id {ord} LIMIT ?",
                if q.search.is_some() { like } else { "" }
            ),
            Some(_) => format!(
                "SELECT {USER_COLS} FROM (SELECT * FROM {users} WHERE 1=1{legacy}{keyset} ORDER BY {col} {ord}, u.id {ord} LIMIT ?) u \
                 WHERE 1=1{like} ORDER BY {col} {ord}, u.id {ord} LIMIT ?"
            ),
        };
        let mut query = sqlx::query(&sql);
        let pattern = q.search.as_deref().map(like_pattern);
        if window.is_none() {
            if let Some(p) = &pattern {
                query = query.bind(p.clone()).bind(p.clone()).bind(p.clone());
            }
        }
        if let Some(k) = key {
            query = bind_key(query, k);
        }
        if let Some(w) = window {
            query = query.bind(w);
            if let Some(p) = &pattern {
                query = query.bind(p.clone()).bind(p.clone()).bind(p.clone());
            }
        }
        query = query.bind(q.limit as i64);
        let rows = query.fetch_all(&self.read).await?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(Into::into)
    }

    /// Whether the search window was full (more rows follow it in sort order).
    async fn window_full(&self, q: &UserListQuery) -> StoreResult<bool> {
        let col = sort_column(q.sort);
        let (cmp, _, key) = Self::seek_parts(q);
        let keyset = keyset_sql(col, cmp, key);
        let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM users u WHERE 1=1{keyset} LIMIT ?)");
        let mut query = sqlx::query(&sql);
        if let Some(k) = key {
            query = bind_key(query, k);
        }
        let n: i64 = query.bind(SEARCH_WINDOW + 1).fetch_one(&self.read).await?.try_get(0)?;
        Ok(n > SEARCH_WINDOW)
    }

    /// Search through the trigram index, then sort the (few) matches.
    async fn list_users_indexed(&self, q: &UserListQuery, search: &str) -> StoreResult<Vec<UserRecord>> {
        let col = sort_column(q.sort);
        let (cmp, ord, key) = Self::seek_parts(q);
        let keyset = keyset_sql(col, cmp, key);
        let sql = format!(
            "SELECT {USER_COLS} FROM users u WHERE u.id IN (SELECT rowid FROM users_search WHERE users_search MATCH ?)\
             {keyset} ORDER BY {col} {ord}, u.id {ord} LIMIT ?"
        );
        let mut query = sqlx::query(&sql).bind(fts_phrase(search));
        if let Some(k) = key {
            query = bind_key(query, k);
        }
        query = query.bind(q.limit as i64);
        let rows = query.fetch_all(&self.read).await?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(Into::into)
    }
}

/// The condition of the partial index `users_legacy_hash` (migration 0011), word for word so
/// the planner can use it.
const LEGACY: &str = " AND u.password_hash NOT LIKE '$argon2%'";

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
impl UserStore for SqliteStore {
    async fn user_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE kind = 'person'").fetch_one(&self.read).await?)
    }

    async fn list_users(&self, q: &UserListQuery) -> StoreResult<Vec<UserRecord>> {
        // The legacy-hash filter reads the small partial index, so a plain scan of it is fast
        // whatever the search.
        let Some(search) = q.search.as_deref().filter(|s| s.chars().count() >= 3 && !q.legacy_hash) else {
            return self.list_users_scan(q, None).await;
        };
        // Frequent terms: the first rows in sort order already fill the page, so a bounded
        // LIKE scan of the sort index answers at once (the trigram index would have to
        // intersect huge posting lists). Rare terms: the trigram index finds the few rows.
        // Both give exactly the rows the full query would.
        let rows = self.list_users_scan(q, Some(SEARCH_WINDOW)).await?;
        if rows.len() >= q.limit as usize || !self.window_full(q).await? {
            return Ok(rows);
        }
        self.list_users_indexed(q, search).await
    }

    async fn user_by_username(&self, username_key: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.username_key = ?"))
            .bind(username_key)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?"))
            .bind(id.0)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn user_by_login(&self, key: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users u WHERE u.username_key = ?1 UNION ALL \
             SELECT {USER_COLS} FROM users u WHERE u.email_key = ?1 LIMIT 1"
        ))
        .bind(key)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn legacy_hash_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(&format!("SELECT COUNT(*) FROM users u WHERE 1=1{LEGACY}")).fetch_one(&self.read).await?)
    }

    async fn users_after_id(&self, after: i64, limit: u32) -> StoreResult<Vec<UserRecord>> {
        let rows = sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.id > ? ORDER BY u.id LIMIT ?"))
            .bind(after)
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        Ok(rows.iter().map(user_from_row).collect::<Result<_, _>>()?)
    }
}

#[async_trait]
impl UserTx for SqliteTx {
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
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.username_key = ?"))
            .bind(username_key)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn active_super_admins(&mut self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE super_admin = 1 AND status = 'active'")
            .fetch_one(&mut *self.tx)
            .await?)
    }

    async fn insert_user(&mut self, u: &UserInsert) -> StoreResult<UserId> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, username_key, full_name, full_name_key, email, email_key, \
             password_hash, status, super_admin, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&u.username)
        .bind(u.username.to_ascii_lowercase())
        .bind(&u.full_name)
        .bind(u.full_name.to_lowercase())
        .bind(&u.email)
        .bind(crate::domain::validate::stored_email_key(&u.email, &u.username))
        .bind(&u.password_hash)
        .bind(u.status.as_str())
        .bind(u.super_admin as i64)
        .bind(u.created_at)
        .bind(u.created_at)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(map_unique)?;
        Ok(UserId(id))
    }

    async fn insert_users(&mut self, users: &[UserInsert]) -> StoreResult<Vec<UserId>> {
        let mut returned = Vec::with_capacity(users.len());
        for chunk in users.chunks(BATCH_ROWS) {
            let mut qb = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO users (username, username_key, full_name, full_name_key, email, email_key, \
                 password_hash, status, super_admin, created_at, updated_at) ",
            );
            qb.push_values(chunk, |mut row, u| {
                row.push_bind(&u.username)
                    .push_bind(u.username.to_ascii_lowercase())
                    .push_bind(&u.full_name)
                    .push_bind(u.full_name.to_lowercase())
                    .push_bind(&u.email)
                    .push_bind(crate::domain::validate::stored_email_key(&u.email, &u.username))
                    .push_bind(&u.password_hash)
                    .push_bind(u.status.as_str())
                    .push_bind(u.super_admin as i64)
                    .push_bind(u.created_at)
                    .push_bind(u.created_at);
            });
            qb.push(" RETURNING id, username_key");
            let rows = qb.build().fetch_all(&mut *self.tx).await.map_err(map_unique)?;
            for r in &rows {
                returned.push((r.try_get(0)?, r.try_get(1)?));
            }
        }
        ids_in_order(users, returned)
    }

    async fn users_by_keys(&mut self, keys: &[String]) -> StoreResult<Vec<UserRecord>> {
        let mut found = Vec::new();
        // Two look-ups joined, so each is answered by its own unique index.
        for chunk in keys.chunks(BATCH_ROWS) {
            let mut qb =
                sqlx::QueryBuilder::<Sqlite>::new(format!("SELECT {USER_COLS} FROM users u WHERE u.username_key IN ("));
            let mut list = qb.separated(", ");
            for k in chunk {
                list.push_bind(k);
            }
            qb.push(format!(") UNION ALL SELECT {USER_COLS} FROM users u WHERE u.email_key IN ("));
            let mut list = qb.separated(", ");
            for k in chunk {
                list.push_bind(k);
            }
            qb.push(")");
            for r in qb.build().fetch_all(&mut *self.tx).await? {
                found.push(user_from_row(&r)?);
            }
        }
        Ok(each_once(found))
    }

    async fn update_user(&mut self, u: &UserRecord, now: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE users SET full_name = ?, full_name_key = ?, email = ?, email_key = ?, status = ?, \
             super_admin = ?, updated_at = ? WHERE id = ?",
        )
        .bind(&u.full_name)
        .bind(u.full_name.to_lowercase())
        .bind(&u.email)
        .bind(crate::domain::validate::stored_email_key(&u.email, &u.username))
        .bind(u.status.as_str())
        .bind(u.super_admin as i64)
        .bind(now)
        .bind(u.id.0)
        .execute(&mut *self.tx)
        .await
        .map_err(map_unique)?;
        Ok(())
    }

    async fn set_password_hash(&mut self, id: UserId, hash: Option<&str>, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")
            .bind(hash)
            .bind(now)
            .bind(id.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn swap_password_hash(&mut self, id: UserId, old: &str, new: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?")
            .bind(new)
            .bind(id.0)
            .bind(old)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_user(&mut self, id: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM users WHERE id = ?").bind(id.0).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn user_by_id(&mut self, id: UserId) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?"))
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn set_two_factor(&mut self, user: UserId, on: bool) -> StoreResult<()> {
        sqlx::query("UPDATE users SET two_factor = ? WHERE id = ?")
            .bind(on as i64)
            .bind(user.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn record_sign_in(&mut self, user: UserId, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET last_sign_in_at = ? WHERE id = ?")
            .bind(now)
            .bind(user.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
