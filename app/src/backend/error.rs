//! How server-side failures become the `domain::error::Error` clients see: unexpected ones
//! are logged once with a reference id and only the id leaves the server; a store conflict
//! names the input that collided.
use super::store::StoreError;
use crate::domain::error::Error;

/// Logs an unexpected failure once, with a reference id, and returns the error the client
/// sees (only the id).
pub fn internal(err: impl std::fmt::Display) -> Error {
    use rand::Rng;
    let ref_id = format!("{:08x}", rand::thread_rng().gen::<u32>());
    tracing::error!(ref_id = %ref_id, error = %err, "internal error");
    Error::Internal { ref_id }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { field: "username" } => {
                Error::Conflict { field: Some("username".into()), message: "That username is already taken.".into() }
            }
            StoreError::Conflict { field: "email" } => Error::Conflict {
                field: Some("email".into()),
                message: "Another account already uses that email.".into(),
            },
            StoreError::Conflict { field: "db_id" } => Error::Conflict {
                field: Some("db_id".into()),
                message: "This organization already has a database with that id.".into(),
            },
            StoreError::Conflict { field } => {
                Error::Conflict { field: Some(field.into()), message: format!("That {field} already exists.") }
            }
            other => internal(other),
        }
    }
}
