//! What the services count for Prometheus (served by `roster serve --metrics-addr`). The
//! names and labels live here, in one place; the server installs the exporter. Without one
//! (the CLI, most tests) the counts go nowhere and cost next to nothing.

/// A sign-in attempt's outcome: `success` (a session started, whatever the method),
/// `second_factor_required` (a first factor was accepted, the second is due), `failed`
/// (wrong credentials, unknown or disabled account), `throttled` (refused before checking).
pub fn sign_in(outcome: &'static str) {
    metrics::counter!("roster_sign_ins_total", "outcome" => outcome).increment(1);
}

/// An attempt refused by a throttle, by pathway: `password`, `token`, `sso`.
pub fn throttled(pathway: &'static str) {
    metrics::counter!("roster_throttled_total", "pathway" => pathway).increment(1);
}

/// The change feed listens again after losing its connection (everything was reloaded).
pub fn change_feed_reconnected() {
    metrics::counter!("roster_change_feed_reconnects_total").increment(1);
}

/// From another instance's access change (the database's clock at the change) to this
/// instance having applied it (its own clock).
pub fn change_feed_lag(ms: i64) {
    metrics::histogram!("roster_change_feed_lag_seconds").record(ms.max(0) as f64 / 1000.0);
}
