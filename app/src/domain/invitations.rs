//! Invitation links: an organization admin invites an email address with a role; the person
//! opens the link, sets a password (or joins with the account they are signed in to) and
//! lands in the organization. Shared by the browser and the server.
use serde::{Deserialize, Serialize};

use super::abilities::AbilitySet;

/// How long a link lives unless the inviter says otherwise, and the most it may.
pub const DEFAULT_DAYS: i64 = 7;
pub const MAX_DAYS: i64 = 30;
/// The most recent invitations an organization lists.
pub const LISTED: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Pending,
    Expired,
    Accepted,
    Revoked,
}

impl InvitationStatus {
    /// From the stored times; acceptance and revocation win over expiry.
    pub fn of(accepted_at: Option<i64>, revoked_at: Option<i64>, expires_at: i64, now: i64) -> Self {
        match (accepted_at, revoked_at) {
            (Some(_), _) => InvitationStatus::Accepted,
            (None, Some(_)) => InvitationStatus::Revoked,
            (None, None) if now >= expires_at => InvitationStatus::Expired,
            _ => InvitationStatus::Pending,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Expired => "expired",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Revoked => "revoked",
        }
    }
}

/// An invitation as its organization's admins see it (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Invitation {
    pub id: i64,
    pub email: String,
    pub org: String,
    pub role: String,
    pub abilities: AbilitySet,
    pub invited_by: String,
    /// Unix milliseconds.
    pub created_at: i64,
    pub expires_at: i64,
    pub status: InvitationStatus,
    /// The account that accepted it.
    pub accepted_by: Option<String>,
}

/// A new or re-sent invitation: the link is shown to the inviter when it was not mailed (or
/// the mail failed), once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvitationLink {
    pub invitation: Invitation,
    /// The link (`{public URL}/invite/{token}`), when it is not sent by mail.
    pub link: Option<String>,
    /// Whether the mail went out; `false` without SMTP or when sending failed.
    pub emailed: bool,
    /// Why it was not mailed, in words.
    pub delivery: Option<String>,
}

/// A new invitation, from the API.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewInvitation {
    pub email: String,
    /// A role id.
    pub role: i64,
    #[serde(default)]
    pub abilities: AbilitySet,
    /// Days the link lives (1 to 30; default 7).
    #[serde(default)]
    pub days: Option<i64>,
}

/// What the invitation page shows before anything is consumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationPreview {
    pub org: String,
    pub role: String,
    pub email: String,
    pub invited_by: String,
    pub expires_at: i64,
    pub status: InvitationStatus,
    /// The account the visitor is signed in to, if any (it may join as itself).
    pub signed_in_as: Option<String>,
    /// Whether the invitee may set a passkey instead of a password (Roster knows its public
    /// URL, which passkeys are bound to).
    #[serde(default)]
    pub passkeys: bool,
    /// The single sign-on providers the invitee may create the account through instead.
    #[serde(default)]
    pub sso: Vec<crate::domain::sso::SsoButton>,
}

impl InvitationPreview {
    /// Why the link can no longer be used, in words the invitee can act on.
    pub fn refusal(&self) -> Option<String> {
        let who = &self.invited_by;
        match self.status {
            InvitationStatus::Pending => None,
            InvitationStatus::Expired => Some(format!(
                "This invitation to {} expired on {}. Ask {who} for a new one.",
                self.org,
                crate::domain::users::format_time(self.expires_at)
            )),
            InvitationStatus::Revoked => {
                Some(format!("This invitation to {} was withdrawn. Ask {who} if you still need access.", self.org))
            }
            InvitationStatus::Accepted => {
                Some(format!("This invitation to {} has been used already. Sign in to reach {}.", self.org, self.org))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_comes_from_the_stored_times() {
        assert_eq!(InvitationStatus::of(None, None, 100, 99), InvitationStatus::Pending);
        assert_eq!(InvitationStatus::of(None, None, 100, 100), InvitationStatus::Expired);
        assert_eq!(InvitationStatus::of(Some(50), None, 100, 200), InvitationStatus::Accepted);
        assert_eq!(InvitationStatus::of(None, Some(50), 100, 60), InvitationStatus::Revoked);
    }

    #[test]
    fn each_refusal_says_what_happened_and_who_to_ask() {
        let p = |status| InvitationPreview {
            org: "Acme".into(),
            role: "Member".into(),
            email: "a@example.com".into(),
            invited_by: "olivia".into(),
            expires_at: 0,
            status,
            signed_in_as: None,
            passkeys: false,
            sso: Vec::new(),
        };
        assert_eq!(p(InvitationStatus::Pending).refusal(), None);
        let texts: Vec<String> = [InvitationStatus::Expired, InvitationStatus::Revoked, InvitationStatus::Accepted]
            .into_iter()
            .map(|s| p(s).refusal().expect("refused"))
            .collect();
        assert!(
            texts[0].contains("expired on 1970-01-01 00:00 UTC") && texts[0].contains("Ask olivia"),
            "{}",
            texts[0]
        );
        assert!(texts[1].contains("withdrawn"), "{}", texts[1]);
        assert!(texts[2].contains("used already"), "{}", texts[2]);
    }
}
