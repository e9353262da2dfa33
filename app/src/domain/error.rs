//! The one error type of the domain and of every service. Adapters map it once: server
//! functions send it as is (it is serialisable), the JSON API turns it into a status and a
//! stable code, the CLI into an exit code. Internal failures carry only a reference id: the
//! details are logged on the server, never sent.
use serde::{Deserialize, Serialize};

use super::policy::Denied;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_string(), message: message.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Error {
    #[error("Please sign in to continue.")]
    Unauthenticated,
    /// Sign-in failed. One message for unknown user, wrong password, disabled and throttled
    /// accounts, so the answer never tells which accounts exist.
    #[error("Incorrect user ID or password.")]
    SignInFailed,
    #[error("{}", .0.message())]
    Forbidden(Denied),
    #[error("{what} not found.")]
    NotFound { what: String },
    #[error("{message}")]
    Conflict { field: Option<String>, message: String },
    /// Something that existed and can no longer be used (a used, withdrawn or expired
    /// invitation), with what happened in words.
    #[error("{message}")]
    Gone { message: String },
    #[error("{}", invalid_summary(.errors))]
    Invalid { errors: Vec<FieldError> },
    /// Too many failed attempts from this client: wait, then try again.
    #[error("Too many failed attempts. Try again in {wait_secs} seconds.")]
    TooManyRequests { wait_secs: i64 },
    #[error("Something went wrong on our side. Reference: {ref_id}.")]
    Internal { ref_id: String },
    /// Only produced in the browser, when the server could not be reached or answered
    /// something that is not one of ours.
    #[error("The request failed: {0}")]
    Transport(String),
}

fn invalid_summary(errors: &[FieldError]) -> String {
    match errors {
        [one] => one.message.clone(),
        _ => "Please correct the highlighted fields.".to_string(),
    }
}

impl Error {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::Invalid { errors: vec![FieldError::new(field, message)] }
    }

    pub fn not_found(what: &str) -> Self {
        Error::NotFound { what: what.to_string() }
    }

    /// The message for one form field, if this error names it.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            Error::Invalid { errors } => errors.iter().find(|e| e.field == name).map(|e| e.message.clone()),
            Error::Conflict { field: Some(f), message } if f == name => Some(message.clone()),
            _ => None,
        }
    }

    /// The HTTP status for this error (JSON API and server functions alike).
    pub fn http_status(&self) -> u16 {
        match self {
            Error::Unauthenticated | Error::SignInFailed => 401,
            Error::Forbidden(_) => 403,
            Error::NotFound { .. } => 404,
            Error::Conflict { .. } => 409,
            Error::Gone { .. } => 410,
            Error::Invalid { .. } => 422,
            Error::TooManyRequests { .. } => 429,
            Error::Internal { .. } => 500,
            Error::Transport(_) => 502,
        }
    }

    /// A stable machine-readable code (JSON API, CLI messages, tests).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthenticated => "unauthenticated",
            Error::SignInFailed => "sign_in_failed",
            Error::Forbidden(d) => d.code(),
            Error::NotFound { .. } => "not_found",
            Error::Conflict { .. } => "conflict",
            Error::Gone { .. } => "gone",
            Error::Invalid { .. } => "invalid",
            Error::TooManyRequests { .. } => "too_many_requests",
            Error::Internal { .. } => "internal",
            Error::Transport(_) => "transport",
        }
    }
}
