//! The change feed on PostgreSQL: `NOTIFY` inside the writing transaction (delivered to every
//! listener at commit, in commit order, never for a rollback), `LISTEN` on a connection of
//! its own per instance. Two channels:
//! - `roster_access`: `INSTANCE VERSION SENT_AT CHANGE` from `bump_access_version`;
//! - `roster_write`: `INSTANCE` from every write transaction (`PgStore::begin`).
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};

use crate::backend::store::{Change, ChangeFeed, Notice, StoreResult};

pub const ACCESS_CHANNEL: &str = "roster_access";
pub const WRITE_CHANNEL: &str = "roster_write";
/// The listening connection's name in `pg_stat_activity` (operators can tell it apart).
pub const APPLICATION_NAME: &str = "roster-listen";

pub struct PgFeed {
    listener: PgListener,
    instance: String,
}

impl PgFeed {
    /// Connects and listens; notices of transactions committed from now on are delivered.
    pub async fn listen(opts: PgConnectOptions, instance: String) -> StoreResult<Self> {
        // A pool of one that never recycles its connection: the feed owns it for life. When
        // the connection is lost the feed reports it and is dropped (see `next`); the caller
        // listens again and reloads, so nothing missed in between is ever taken as applied.
        let pool =
            PgPoolOptions::new().max_connections(1).max_lifetime(None).idle_timeout(None).connect_with(opts).await?;
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.eager_reconnect(false);
        listener.listen_all([ACCESS_CHANNEL, WRITE_CHANNEL]).await?;
        Ok(Self { listener, instance })
    }
}

#[async_trait]
impl ChangeFeed for PgFeed {
    async fn next(&mut self) -> StoreResult<Option<Notice>> {
        loop {
            let Some(n) = self.listener.try_recv().await? else { return Ok(None) };
            if let Some(notice) = parse(n.channel(), n.payload(), &self.instance) {
                return Ok(Some(notice));
            }
        }
    }
}

/// A notification as a notice; `None` for this instance's own commits (already applied
/// before they were answered). A payload this version cannot read asks for a full reload.
fn parse(channel: &str, payload: &str, me: &str) -> Option<Notice> {
    let mut parts = payload.splitn(4, ' ');
    if parts.next()? == me {
        return None;
    }
    match channel {
        WRITE_CHANNEL => Some(Notice::Write),
        ACCESS_CHANNEL => {
            let version = parts.next().and_then(|v| v.parse().ok())?;
            let sent_at = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            let change = parts.next().and_then(Change::from_wire).unwrap_or(Change::All);
            Some(Notice::Access { version, change, sent_at })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{RoleId, UserId};

    #[test]
    fn notices_are_read_from_their_payloads() {
        let access = |p: &str| parse(ACCESS_CHANNEL, p, "me");
        assert_eq!(
            access("b 7 1000 user 12"),
            Some(Notice::Access { version: 7, change: Change::User(UserId(12)), sent_at: 1000 })
        );
        assert_eq!(
            access("b 8 1000 role 3"),
            Some(Notice::Access { version: 8, change: Change::Role(RoleId(3)), sent_at: 1000 })
        );
        assert_eq!(access("b 9 1000 all"), Some(Notice::Access { version: 9, change: Change::All, sent_at: 1000 }));
        assert_eq!(
            access("b 9 1000 shard 4"),
            Some(Notice::Access { version: 9, change: Change::All, sent_at: 1000 }),
            "unknown kinds reload everything"
        );
        assert_eq!(access("me 10 1000 user 1"), None, "our own commit is not news");
        assert_eq!(access("b x 1000 user 1"), None);
        assert_eq!(parse(WRITE_CHANNEL, "b", "me"), Some(Notice::Write));
        assert_eq!(parse(WRITE_CHANNEL, "me", "me"), None);
        for c in
            [Change::User(UserId(5)), Change::Role(RoleId(6)), Change::Org(crate::domain::ids::OrgId(7)), Change::All]
        {
            assert_eq!(Change::from_wire(&c.to_wire()), Some(c));
        }
    }
}
