//! Webhooks (Settings -> Webhooks, `roster webhook`, `/api/v1/webhooks`) and their delivery.
//! Super admins only: a hook sends news of every change it names to a URL they choose.
//!
//! Delivery reads the outbox (`events`, written in the transaction of each change) in id
//! order, so a receiver gets changes in commit order and never one that rolled back. One
//! event per POST, signed (`Roster-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
//! "<t>.<body>">`, Stripe's scheme, which receivers know how to check); retried with backoff
//! until the receiver answers 2xx, and the hook stays on that event meanwhile (no reordering);
//! after `MAX_ATTEMPTS` failures in a row it pauses until an admin resumes it. At least once:
//! receivers drop repeats by `Roster-Event-Id`. One instance delivers a hook at a time (a
//! lease in the database). Threats: server-side request forgery through the URL (the
//! outbound address rule, at save and at every connection), a leaked signing secret (256
//! random bits, shown once, sealed with the instance key, never logged or audited,
//! rotatable), replay of a captured delivery (the timestamp is signed too).
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::{audit_global, sudo_grants, Fields};
use crate::backend::outbound;
use crate::backend::sessions::new_token;
use crate::backend::store::{DeliveryRecord, EventRecord, HookProgress, Tx, WebhookRecord};
use crate::backend::{Backend, Ctx};
use crate::domain::error::{Error, FieldError};
use crate::domain::ids::OrgId;
use crate::domain::policy;
use crate::domain::webhooks::{
    self as rules, Delivery, Event, Webhook, WebhookInput, WebhookSecret, DELIVERY_LOG, MAX_ATTEMPTS, MAX_WEBHOOKS,
};

/// What a sealed secret is bound to: its hook.
pub(crate) fn secret_aad(id: i64) -> String {
    format!("webhook:{id}:secret")
}

/// How long an instance holds a hook it delivers (renewed with every delivery).
const LEASE_MS: i64 = 60_000;
/// Events delivered to one hook per pass, before the others get their turn.
const PER_PASS: usize = 100;
/// Events looked through per query for the next one a hook wants.
const SCAN: i64 = 500;
/// The start of a receiver's answer kept in the log.
const RESPONSE_KEPT: usize = 500;

fn org_names(b: &Backend, ids: &[OrgId]) -> Vec<String> {
    let m = b.access.read();
    ids.iter().filter_map(|o| m.orgs.get(o).cloned()).collect()
}

pub(crate) fn to_view(b: &Backend, r: &WebhookRecord) -> Webhook {
    let mut orgs = org_names(b, &r.orgs);
    orgs.sort_by_key(|o| o.to_lowercase());
    Webhook {
        id: r.id,
        name: r.name.clone(),
        url: r.url.clone(),
        kinds: r.kinds.clone(),
        orgs,
        enabled: r.enabled,
        paused: r.paused.clone(),
        delivered_through: r.cursor,
        attempts: r.attempts,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// An event as streams and hooks carry it (organizations by name, as every other answer).
pub fn to_event(b: &Backend, e: &EventRecord) -> Event {
    Event {
        id: e.id,
        kind: e.kind.clone(),
        subject_id: e.subject_id,
        name: e.name.clone(),
        orgs: org_names(b, &e.orgs),
        version: e.version,
        at: e.at,
    }
}

/// What the audit trail keeps of a hook (never its secret).
fn snapshot(b: &Backend, r: &WebhookRecord) -> serde_json::Value {
    let v = to_view(b, r);
    json!({ "id": v.id, "name": v.name, "url": v.url, "kinds": v.kinds, "orgs": v.orgs, "enabled": v.enabled })
}

/// The hex HMAC-SHA256 of `"{t}.{body}"` under `secret`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        // (HMAC takes keys of any length: unreachable)
        return String::new();
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The `Roster-Signature` header of a delivery.
pub fn signature_header(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", signature(secret, t, body))
}

fn new_secret() -> String {
    format!("whsec_{}", new_token())
}

/// The URL as typed, checked with the outbound rule (as every URL the server fetches).
fn url(b: &Backend, raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    let f = |m: &str| FieldError::new("url", m);
    if s.is_empty() {
        return Err(f("Enter the URL the events are sent to."));
    }
    if s.len() > 2000 {
        return Err(f("A URL is at most 2,000 characters."));
    }
    let parsed =
        url::Url::parse(s).map_err(|_| f("Enter an absolute URL like https://tool.example.com/roster-events."))?;
    if parsed.fragment().is_some() {
        return Err(f("A webhook URL has no #fragment."));
    }
    // (a query is fine here: some receivers route on it)
    let mut probe = parsed.clone();
    probe.set_query(None);
    outbound::check_url(&probe, b.config.allow_internal_urls).map_err(|e| {
        tracing::info!(reason = %e, "webhook URL refused");
        f("Roster sends webhooks only to https URLs on public addresses, without a user name or password \
           (loopback and private addresses need --allow-internal-urls).")
    })?;
    Ok(s.to_string())
}

async fn admin_tx(b: &Backend, ctx: &Ctx) -> Result<Box<dyn Tx>, Error> {
    let mut tx = b.store.begin().await?;
    policy::can_manage_webhooks(super::actor_in(&mut tx, ctx, ctx.org()).await?).map_err(Error::Forbidden)?;
    Ok(tx)
}

pub async fn list(b: &Backend, ctx: &Ctx) -> Result<Vec<Webhook>, Error> {
    policy::can_manage_webhooks(ctx.reader(b, ctx.org())?).map_err(Error::Forbidden)?;
    Ok(b.store.webhooks(MAX_WEBHOOKS as i64).await?.iter().map(|r| to_view(b, r)).collect())
}

pub async fn get(b: &Backend, ctx: &Ctx, id: i64) -> Result<Webhook, Error> {
    policy::can_manage_webhooks(ctx.reader(b, ctx.org())?).map_err(Error::Forbidden)?;
    let r = b.store.webhook(id).await?.ok_or_else(|| Error::not_found("Webhook"))?;
    Ok(to_view(b, &r))
}

/// The hook's newest deliveries, newest first.
pub async fn deliveries(b: &Backend, ctx: &Ctx, id: i64) -> Result<Vec<Delivery>, Error> {
    policy::can_manage_webhooks(ctx.reader(b, ctx.org())?).map_err(Error::Forbidden)?;
    b.store.webhook(id).await?.ok_or_else(|| Error::not_found("Webhook"))?;
    let log = b.store.deliveries(id, DELIVERY_LOG as i64).await?;
    Ok(log
        .into_iter()
        .map(|d| Delivery {
            event_id: d.event_id,
            attempt: d.attempt,
            at: d.at,
            status: d.status,
            error: d.error,
            response: d.response,
            duration_ms: d.duration_ms,
        })
        .collect())
}

/// Creates a hook (`id` `None`) or replaces one's settings. A new hook hears of the changes
/// committed from now on, and its signing secret is answered once.
pub async fn save(b: &Backend, ctx: &Ctx, id: Option<i64>, input: WebhookInput) -> Result<WebhookSecret, Error> {
    policy::can_manage_webhooks(ctx.actor()?).map_err(Error::Forbidden)?;
    sudo_grants(b, ctx)?;
    let mut f = Fields::default();
    let name = f.take(rules::name(&input.name));
    let url = f.take(url(b, &input.url));
    let kinds = f.take(rules::kinds(&input.kinds));
    f.finish()?;
    let (Some(name), Some(url), Some(kinds)) = (name, url, kinds) else {
        return Err(Error::invalid("name", "Invalid input."));
    };
    let mut tx = admin_tx(b, ctx).await?;
    let orgs = super::clients::org_ids(&mut tx, &input.orgs).await?;
    let before = match id {
        Some(id) => Some(tx.webhook(id).await?.ok_or_else(|| Error::not_found("Webhook"))?),
        None => None,
    };
    if before.is_none() && tx.count_webhooks().await? >= MAX_WEBHOOKS as i64 {
        return Err(Error::invalid("name", format!("An instance has at most {MAX_WEBHOOKS} webhooks.")));
    }
    let now = b.now();
    let record = match &before {
        Some(r) => WebhookRecord { name, url, kinds, orgs, enabled: input.enabled, updated_at: now, ..r.clone() },
        None => WebhookRecord {
            id: 0,
            name,
            url,
            kinds,
            orgs,
            secret: Vec::new(),
            enabled: input.enabled,
            paused: None,
            cursor: tx.last_event_id().await?,
            attempts: 0,
            next_attempt_at: 0,
            created_at: now,
            updated_at: now,
        },
    };
    let id = tx.save_webhook(&record).await?;
    let secret = if before.is_none() {
        let secret = new_secret();
        tx.set_webhook_secret(id, &b.secrets.seal(secret.as_bytes(), &secret_aad(id)), now).await?;
        secret
    } else {
        String::new()
    };
    let saved = tx.webhook(id).await?.ok_or_else(|| Error::not_found("Webhook"))?;
    let mut ev = audit_global(b, ctx, if before.is_none() { "webhook.created" } else { "webhook.updated" }, true);
    ev.target = Some(format!("webhook:{}", saved.name));
    ev.before = before.as_ref().map(|r| snapshot(b, r));
    ev.after = Some(snapshot(b, &saved));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    b.events.wake_dispatcher();
    Ok(WebhookSecret { webhook: to_view(b, &saved), secret })
}

/// [`save`] from a form that may not have read: why it did not is answered only to those
/// who may manage webhooks.
pub async fn save_form(
    b: &Backend,
    ctx: &Ctx,
    id: Option<i64>,
    input: Result<WebhookInput, Error>,
) -> Result<WebhookSecret, Error> {
    policy::can_manage_webhooks(ctx.actor()?).map_err(Error::Forbidden)?;
    save(b, ctx, id, input?).await
}

pub async fn delete(b: &Backend, ctx: &Ctx, id: i64) -> Result<(), Error> {
    policy::can_manage_webhooks(ctx.actor()?).map_err(Error::Forbidden)?;
    sudo_grants(b, ctx)?;
    let mut tx = admin_tx(b, ctx).await?;
    let before = tx.webhook(id).await?.ok_or_else(|| Error::not_found("Webhook"))?;
    tx.delete_webhook(id).await?;
    let mut ev = audit_global(b, ctx, "webhook.deleted", true);
    ev.target = Some(format!("webhook:{}", before.name));
    ev.before = Some(snapshot(b, &before));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

/// A new signing secret; deliveries from now on are signed with it (answered once).
pub async fn rotate_secret(b: &Backend, ctx: &Ctx, id: i64) -> Result<WebhookSecret, Error> {
    policy::can_manage_webhooks(ctx.actor()?).map_err(Error::Forbidden)?;
    sudo_grants(b, ctx)?;
    let mut tx = admin_tx(b, ctx).await?;
    let hook = tx.webhook(id).await?.ok_or_else(|| Error::not_found("Webhook"))?;
    let secret = new_secret();
    tx.set_webhook_secret(id, &b.secrets.seal(secret.as_bytes(), &secret_aad(id)), b.now()).await?;
    let mut ev = audit_global(b, ctx, "webhook.secret_rotated", true);
    ev.target = Some(format!("webhook:{}", hook.name));
    tx.insert_audit(&ev).await?;
    let saved = tx.webhook(id).await?.ok_or_else(|| Error::not_found("Webhook"))?;
    tx.commit().await?;
    Ok(WebhookSecret { webhook: to_view(b, &saved), secret })
}

/// Resumes a paused hook at the event it stopped on, at once.
pub async fn resume(b: &Backend, ctx: &Ctx, id: i64) -> Result<Webhook, Error> {
    policy::can_manage_webhooks(ctx.actor()?).map_err(Error::Forbidden)?;
    let mut tx = admin_tx(b, ctx).await?;
    let hook = tx.webhook(id).await?.ok_or_else(|| Error::not_found("Webhook"))?;
    let progress = HookProgress { cursor: hook.cursor, attempts: 0, next_attempt_at: 0, paused: None };
    tx.set_webhook_progress(id, &progress).await?;
    let mut ev = audit_global(b, ctx, "webhook.resumed", true);
    ev.target = Some(format!("webhook:{}", hook.name));
    ev.before = Some(json!({ "paused": hook.paused, "attempts": hook.attempts }));
    tx.insert_audit(&ev).await?;
    let saved = tx.webhook(id).await?.ok_or_else(|| Error::not_found("Webhook"))?;
    tx.commit().await?;
    b.events.wake_dispatcher();
    Ok(to_view(b, &saved))
}

/// Starts delivering: after every new event, every saved or resumed hook, and every second
/// (retries fall due). Every instance runs it; the lease keeps one per hook at a time.
pub fn spawn_dispatcher(b: &Backend) {
    let b = b.clone();
    // (made here, once per serving process: the CLI and other backends never send webhooks)
    let http = match outbound::Fetcher::new(b.config.allow_internal_urls) {
        Ok(f) => Arc::new(f),
        Err(e) => {
            tracing::error!(error = %e, "webhooks are off: no HTTP client");
            return;
        }
    };
    tokio::spawn(async move {
        let mut stopping = b.stopping.subscribe();
        loop {
            if let Err(e) = deliver_due(&b, &http).await {
                tracing::warn!(error = %e, "webhook delivery pass failed");
            }
            tokio::select! {
                _ = b.events.dispatcher_woken() => {}
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                _ = stopping.wait_for(|s| *s) => return,
            }
        }
    });
}

/// One pass over the hooks: each one that is due gets its next events. Answers how many
/// deliveries were attempted.
pub async fn deliver_due(b: &Backend, http: &Arc<outbound::Fetcher>) -> Result<usize, Error> {
    let mut attempted = 0;
    for hook in b.store.webhooks(MAX_WEBHOOKS as i64).await? {
        if !hook.enabled || hook.paused.is_some() || hook.next_attempt_at > b.now() {
            continue;
        }
        attempted += deliver_hook(b, http, hook).await?;
    }
    Ok(attempted)
}

/// Delivers one hook's next events in order, stopping at the first failure.
async fn deliver_hook(b: &Backend, http: &Arc<outbound::Fetcher>, mut hook: WebhookRecord) -> Result<usize, Error> {
    let mut attempted = 0;
    // (taken once per pass; each recorded delivery renews it and checks it is still ours)
    let mut leased = false;
    while attempted < PER_PASS {
        let events = b.store.events_after(hook.cursor, SCAN).await?;
        let Some(last) = events.last().map(|e| e.id) else { break };
        let Some(event) = events.into_iter().find(|e| rules::wants(&hook.kinds, &hook.orgs, &e.kind, &e.orgs)) else {
            // Nothing it wants so far: skip ahead (under the lease, as any move of the cursor).
            let skip = HookProgress { cursor: last, attempts: 0, next_attempt_at: 0, paused: None };
            match progress(b, &hook, skip, None).await? {
                Some(h) if h.enabled && h.paused.is_none() => {
                    hook = h;
                    continue;
                }
                _ => break,
            }
        };
        // Take the hook; another instance may have delivered meanwhile.
        if !leased {
            let mut tx = b.store.begin().await?;
            let now = b.now();
            let ours = tx.lease_webhook(hook.id, &b.instance_id, now, now + LEASE_MS).await?;
            let current = tx.webhook(hook.id).await?;
            tx.commit().await?;
            let Some(current) = current else { break };
            if !ours || current.cursor != hook.cursor || current.paused.is_some() || !current.enabled {
                break;
            }
            hook = current;
            leased = true;
        }
        attempted += 1;
        let (result, duration_ms) = post(b, http, &hook, &event).await;
        let attempt = hook.attempts + 1;
        let mut log = DeliveryRecord {
            id: 0,
            webhook_id: hook.id,
            event_id: event.id,
            attempt,
            at: b.now(),
            duration_ms,
            ..Default::default()
        };
        let delivered = match result {
            Ok((status, body)) => {
                log.status = Some(i64::from(status));
                log.response = Some(body);
                (200..300).contains(&status)
            }
            Err(reason) => {
                log.error = Some(reason);
                false
            }
        };
        let next = if delivered {
            HookProgress { cursor: event.id, attempts: 0, next_attempt_at: 0, paused: None }
        } else {
            let why = match (&log.status, &log.error) {
                (Some(s), _) => format!("the receiver answered {s}"),
                (None, Some(e)) => e.clone(),
                (None, None) => "no answer".to_string(),
            };
            HookProgress {
                cursor: hook.cursor,
                attempts: attempt,
                next_attempt_at: b.now() + rules::retry_delay_ms(attempt, b.config.webhook_retry_ms),
                paused: (attempt >= MAX_ATTEMPTS)
                    .then(|| format!("Paused after {attempt} failed attempts at event {}: {why}.", event.id)),
            }
        };
        match progress(b, &hook, next, Some(log)).await? {
            // (switched off or paused by an admin meanwhile: stop here)
            Some(h) if delivered && h.enabled && h.paused.is_none() => hook = h,
            _ => break,
        }
    }
    Ok(attempted)
}

/// Moves a hook on (and logs the attempt) if it is still ours and still where we left it;
/// answers it as saved, or `None` (taken over, changed or deleted meanwhile).
async fn progress(
    b: &Backend,
    hook: &WebhookRecord,
    next: HookProgress,
    log: Option<DeliveryRecord>,
) -> Result<Option<WebhookRecord>, Error> {
    let mut tx = b.store.begin().await?;
    let now = b.now();
    if !tx.lease_webhook(hook.id, &b.instance_id, now, now + LEASE_MS).await? {
        return Ok(None);
    }
    let Some(current) = tx.webhook(hook.id).await? else { return Ok(None) };
    if current.cursor != hook.cursor {
        return Ok(None);
    }
    tx.set_webhook_progress(hook.id, &next).await?;
    if let Some(log) = &log {
        tx.insert_delivery(log, DELIVERY_LOG as i64).await?;
    }
    let saved = tx.webhook(hook.id).await?;
    tx.commit().await?;
    if let (Some(log), Some(h)) = (&log, &saved) {
        // (the hook and the receiver's status only: never the secret or the body)
        tracing::info!(webhook = h.id, event = log.event_id, attempt = log.attempt, status = ?log.status,
            error = ?log.error, paused = h.paused.is_some(), "webhook delivery");
    }
    Ok(saved)
}

/// POSTs one event; answers the status and the start of the answer, or why none came.
async fn post(
    b: &Backend,
    http: &outbound::Fetcher,
    hook: &WebhookRecord,
    event: &EventRecord,
) -> (Result<(u16, String), String>, i64) {
    let started = std::time::Instant::now();
    let elapsed = |s: std::time::Instant| i64::try_from(s.elapsed().as_millis()).unwrap_or(i64::MAX);
    let secret = match b.secrets.open(&hook.secret, &secret_aad(hook.id)) {
        Ok(s) => String::from_utf8_lossy(&s).into_owned(),
        Err(_) => {
            tracing::error!(webhook = hook.id, "the webhook's secret does not open with the instance key");
            return (Err("the signing secret could not be read (another instance key?)".to_string()), 0);
        }
    };
    let body = match serde_json::to_vec(&to_event(b, event)) {
        Ok(body) => body,
        Err(e) => return (Err(format!("the event could not be written: {e}")), 0),
    };
    let t = b.now() / 1000;
    let request = openidconnect::http::Request::builder()
        .method(openidconnect::http::Method::POST)
        .uri(hook.url.as_str())
        .header("content-type", "application/json")
        .header("user-agent", "Roster-Webhooks/1")
        .header("roster-event-id", event.id.to_string())
        .header("roster-webhook-id", hook.id.to_string())
        .header("roster-signature", signature_header(&secret, t, &body))
        .body(body);
    let request = match request {
        Ok(r) => r,
        Err(e) => return (Err(format!("the request could not be made: {e}")), 0),
    };
    let answer = http.fetch(request).await;
    let ms = elapsed(started);
    match answer {
        Ok(res) => {
            let text = String::from_utf8_lossy(res.body());
            let kept: String = text.chars().take(RESPONSE_KEPT).collect();
            (Ok((res.status().as_u16(), kept)), ms)
        }
        Err(outbound::FetchError::Refused(r)) => {
            tracing::info!(webhook = hook.id, reason = %r, "webhook URL refused at delivery");
            (Err("the URL is not allowed (outbound address rule)".to_string()), ms)
        }
        Err(e) => {
            tracing::info!(webhook = hook.id, error = %e, "webhook delivery failed");
            (Err(describe(&e)), ms)
        }
    }
}

/// A short reason for the log, without the request.
fn describe(e: &outbound::FetchError) -> String {
    let s = e.to_string().to_lowercase();
    if s.contains("timed out") || s.contains("timeout") {
        "no answer in time".into()
    } else if s.contains("connect") || s.contains("dns") || s.contains("resolve") {
        "could not connect".into()
    } else {
        "the request failed".into()
    }
}

/// Deletes events past the retention (the sweeper).
pub async fn purge_events(b: &Backend) -> Result<u64, Error> {
    let mut tx = b.store.begin().await?;
    let n = tx.purge_events(b.now() - rules::RETENTION_MS).await?;
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        // (a receiver computes the same with any HMAC-SHA256: checked here against openssl's)
        let s = signature("whsec_test", 1_700_000_000, b"{\"id\":1}");
        let key = openssl::pkey::PKey::hmac(b"whsec_test").expect("key");
        let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).expect("signer");
        signer.update(b"1700000000.{\"id\":1}").expect("update");
        let expected: String = signer.sign_to_vec().expect("sign").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(s, expected);
        assert_ne!(s, signature("whsec_test", 1_700_000_001, b"{\"id\":1}"));
        assert_ne!(s, signature("whsec_test", 1_700_000_000, b"{\"id\":2}"));
        assert_ne!(s, signature("whsec_other", 1_700_000_000, b"{\"id\":1}"));
        assert_eq!(signature_header("k", 5, b"x"), format!("t=5,v1={}", signature("k", 5, b"x")));
    }
}
