//! Outgoing mail (invitation links) over SMTP with `lettre`, when `--smtp-url` is set. A
//! message is sent after its transaction commits, never inside it; a failure is reported to
//! the caller (who then shows the link to copy), never retried blindly.
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::config::Config;

/// How long one delivery may take (connect, greeting, data).
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether mail can be sent at all.
pub fn configured(config: &Config) -> bool {
    config.smtp_url.is_some()
}

/// Checks the settings at start-up, so a typo fails there rather than at the first invitation.
pub fn check(config: &Config) -> Result<(), String> {
    if let Some(url) = &config.smtp_url {
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| format!("--smtp-url: {e}"))?;
    }
    config.smtp_from.parse::<Mailbox>().map_err(|e| format!("--smtp-from '{}': {e}", config.smtp_from))?;
    Ok(())
}

/// Sends one plain-text message; the error is in words an admin can act on (never the URL,
/// which may carry a password).
pub async fn send(config: &Config, to: &str, subject: &str, body: String) -> Result<(), String> {
    let url = config.smtp_url.as_deref().ok_or_else(|| "no mail server is configured (--smtp-url)".to_string())?;
    let from: Mailbox = config.smtp_from.parse().map_err(|e| format!("the sender address is not valid: {e}"))?;
    let to: Mailbox = to.parse().map_err(|e| format!("the address {to} cannot receive mail: {e}"))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| format!("the message could not be built: {e}"))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| format!("the mail server address is not valid: {e}"))?
        .timeout(Some(TIMEOUT))
        .build();
    transport.send(message).await.map(|_| ()).map_err(|e| {
        tracing::warn!(error = %e, "sending mail failed");
        format!("the mail server did not take the message ({e})")
    })
}
