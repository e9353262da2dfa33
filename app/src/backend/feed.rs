//! Keeping this instance in step with the others on the same database.
//!
//! Where the store has a change feed (PostgreSQL), `listen` hears every other instance's
//! commits as they happen: an access change is patched into the model (or, after a gap,
//! everything is reloaded) and broadcast to this instance's live pages; any write makes the
//! cached sessions and tokens stale, so a revocation or a password change on one instance is
//! in force on every other one from its next request. A lost connection means: listen again,
//! then reload everything (notices sent meanwhile are gone). `poll` stays as the backstop,
//! and is all there is on SQLite (where another process is only ever the CLI).
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::store::Notice;
use super::Backend;

/// Whether the change feed is listening (readiness, metrics, the poll's pace).
#[derive(Debug, Default)]
pub struct FeedStatus {
    connected: AtomicBool,
    listens: AtomicU64,
}

impl FeedStatus {
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    /// How many times the feed has started listening (and reloaded): 1 + reconnections.
    pub fn listens(&self) -> u64 {
        self.listens.load(Ordering::SeqCst)
    }

    fn set(&self, connected: bool) {
        if connected {
            self.listens.fetch_add(1, Ordering::SeqCst);
        }
        self.connected.store(connected, Ordering::SeqCst);
    }
}

/// The access version is compared with the database this often when there is no feed (or
/// it is down)...
const POLL_WITHOUT_FEED: Duration = Duration::from_secs(1);
/// ...and this often while the feed listens (a notice can only be missed by losing the
/// connection, which the feed reports; this covers what nobody foresaw).
const POLL_WITH_FEED: Duration = Duration::from_secs(15);
/// Waits between attempts to listen again: from the first to the last, doubling.
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_LAST: Duration = Duration::from_secs(5);

/// Starts the change feed (where the store has one) and the polling backstop, for as long
/// as the runtime runs. Once per serving instance.
pub fn spawn(b: &Backend) {
    spawn_listener(b);
    tokio::spawn(poll(b.clone()));
}

/// Starts the change feed alone (tests that sync by hand, to see exactly when).
pub fn spawn_listener(b: &Backend) {
    tokio::spawn(listen(b.clone()));
}

async fn poll(b: Backend) {
    let mut last = Instant::now();
    loop {
        tokio::time::sleep(POLL_WITHOUT_FEED).await;
        if b.feed.connected() && last.elapsed() < POLL_WITH_FEED {
            continue;
        }
        last = Instant::now();
        if let Err(e) = b.access.sync(b.store.as_ref()).await {
            tracing::warn!(error = %e, "could not refresh the access model");
        }
    }
}

async fn listen(b: Backend) {
    if !b.store.has_change_feed() {
        return;
    }
    let mut retry = RETRY_FIRST;
    let mut reconnecting = false;
    loop {
        let mut feed = match b.store.change_feed().await {
            Ok(Some(feed)) => feed,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, retry_ms = retry.as_millis() as u64, "the change feed cannot listen");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(RETRY_LAST);
                continue;
            }
        };
        // Listening from here on: whatever was committed before is in the reload.
        b.store.generation().bump();
        let reloaded = {
            let _w = b.access.writer().await;
            b.access.reload(b.store.as_ref()).await
        };
        if let Err(e) = reloaded {
            tracing::warn!(error = %e, "the change feed listens but the access model cannot be reloaded");
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(RETRY_LAST);
            continue;
        }
        retry = RETRY_FIRST;
        b.feed.set(true);
        if reconnecting {
            super::metrics::change_feed_reconnected();
            tracing::info!("the change feed listens again; access model reloaded");
        }
        reconnecting = true;
        loop {
            match feed.next().await {
                Ok(Some(Notice::Write)) => b.store.generation().bump(),
                Ok(Some(Notice::Access { version, change, sent_at })) => {
                    if let Err(e) = b.access.apply_notice(b.store.as_ref(), version, change).await {
                        // (the model may now miss this change: start over, which reloads)
                        tracing::warn!(error = %e, "could not apply a change from another instance");
                        break;
                    }
                    super::metrics::change_feed_lag(now_ms() - sent_at);
                }
                Ok(None) => {
                    tracing::warn!("the change feed lost its connection");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the change feed lost its connection");
                    break;
                }
            }
        }
        b.feed.set(false);
    }
}

/// The wall clock (the lag compares it with the database's; the backend's clock may be a
/// test's).
fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
