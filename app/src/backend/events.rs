//! The outbox, read once per instance and handed to everyone who listens here: the event
//! streams (`/api/v1/events`) and the webhook dispatcher. The access model announces every
//! change it applies (this instance's own, another instance's through the change feed,
//! another process's through polling); by then the change's event is committed, so one
//! read of the rows after the last one seen finds it. A thousand open streams cost one
//! query per change, not a thousand.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use tokio::sync::{broadcast, Notify};

use super::store::EventRecord;
use super::Backend;

/// Events read per query.
const BATCH: i64 = 500;

pub struct EventHub {
    sender: broadcast::Sender<Arc<EventRecord>>,
    /// The last event handed out (streams that resume read older ones from the store).
    last: AtomicI64,
    /// Wakes the webhook dispatcher (a new event, a hook saved or resumed).
    wake: Notify,
}

impl Default for EventHub {
    fn default() -> Self {
        Self { sender: broadcast::channel(4096).0, last: AtomicI64::new(-1), wake: Notify::new() }
    }
}

impl EventHub {
    /// New events, in id order. A receiver that falls behind by more than the channel holds
    /// gets `Lagged` and reads what it missed from the store.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventRecord>> {
        self.sender.subscribe()
    }

    /// The id of the last event handed out (-1 until the hub has started).
    pub fn last(&self) -> i64 {
        self.last.load(Ordering::SeqCst)
    }

    pub fn wake_dispatcher(&self) {
        self.wake.notify_one();
    }

    pub async fn dispatcher_woken(&self) {
        self.wake.notified().await;
    }

    /// Reads the events after the last one handed out and hands them out; answers how many.
    pub async fn pump(&self, b: &Backend) -> usize {
        let mut n = 0;
        loop {
            let after = self.last();
            let batch = match b.store.events_after(after, BATCH).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the event outbox");
                    return n;
                }
            };
            let full = batch.len() as i64 == BATCH;
            for e in batch {
                self.last.store(e.id, Ordering::SeqCst);
                let _ = self.sender.send(Arc::new(e));
                n += 1;
            }
            if !full {
                break;
            }
        }
        if n > 0 {
            self.wake_dispatcher();
        }
        n
    }
}

/// Starts the hub: from the newest event now, then after every change the access model
/// applies (and every few seconds, in case a notice was missed).
pub fn spawn(b: &Backend) {
    let b = b.clone();
    let mut versions = b.access.subscribe();
    tokio::spawn(async move {
        let start = match b.store.last_event_id().await {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the event outbox; events start from the first");
                0
            }
        };
        b.events.last.store(start, Ordering::SeqCst);
        let mut stopping = b.stopping.subscribe();
        loop {
            tokio::select! {
                r = versions.recv() => {
                    if matches!(r, Err(broadcast::error::RecvError::Closed)) {
                        return;
                    }
                }
                _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
                _ = stopping.wait_for(|s| *s) => return,
            }
            b.events.pump(&b).await;
        }
    });
}

/// What the event stream's policy needs to know of who listens, from the access model now
/// (a role taken away meanwhile narrows what the next event may tell).
pub fn listener(b: &Backend, user: &super::context::SessionUser) -> crate::domain::policy::EventListener {
    use crate::domain::abilities::Ability;
    let m = b.access.read();
    let member_of = m.orgs_of(user.id);
    let sees_members_of = member_of
        .iter()
        .copied()
        .filter(|o| {
            let (sup, set) = m.abilities(Some(user.id), *o);
            let (_, set) = user.narrow(sup, set);
            set.contains(Ability::ViewUsers) || set.contains(Ability::ManageUsers)
        })
        .collect();
    let (sup, _) = m.abilities(Some(user.id), crate::domain::ids::DEFAULT_ORG);
    let (super_admin, _) = user.narrow(sup, crate::domain::abilities::AbilitySet::EMPTY);
    crate::domain::policy::EventListener { id: user.id, super_admin, member_of, sees_members_of }
}
