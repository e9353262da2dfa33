//! API keys and personal access tokens as the browser and the API see them.
use serde::{Deserialize, Serialize};

use super::abilities::AbilitySet;

/// SlashDB-style API keys (a header or `?apikey=`) and Databand-style personal access tokens
/// (`Authorization: Bearer`). Both authenticate as their owner; the kind decides the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum TokenKind {
    ApiKey,
    Pat,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::ApiKey => "api_key",
            TokenKind::Pat => "pat",
        }
    }
    pub fn parse(s: &str) -> Option<TokenKind> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "api_key" | "apikey" | "key" => Some(TokenKind::ApiKey),
            "pat" | "personal_access_token" | "token" => Some(TokenKind::Pat),
            _ => None,
        }
    }
    /// The public start of every token of this kind (lets secret scanners recognise them).
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::ApiKey => "rst_key_",
            TokenKind::Pat => "rst_pat_",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            TokenKind::ApiKey => "API key",
            TokenKind::Pat => "Personal access token",
        }
    }
}

/// A token as listed: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub kind: TokenKind,
    /// The visible start, e.g. `rst_pat_Q2x9`.
    pub prefix: String,
    /// `None`: everything the owner holds.
    pub abilities: Option<AbilitySet>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl TokenInfo {
    pub fn state(&self, now: i64) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        }
    }
}

/// What creating a token asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewToken {
    pub name: String,
    /// `api_key` or `pat`.
    pub kind: String,
    /// Days until it expires; `None` or 0: never.
    pub expires_in_days: Option<i64>,
    /// Ability codes; empty: everything the owner holds.
    #[serde(default)]
    pub abilities: Vec<String>,
}

/// A new token: `token` is shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    pub token: String,
    pub info: TokenInfo,
}
