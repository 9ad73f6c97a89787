//! The error the panel's server functions return: serializable, safe to show, with the
//! internal details left in the server's log.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PanelError {
    /// Bad input, with a message meant for the person at the screen.
    #[error("{0}")]
    Message(String),
    /// The action conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// Wrong email or password — deliberately not saying which.
    #[error("the email or password is not right")]
    BadCredentials,
    /// Too many failed attempts.
    #[error("{0}")]
    LockedOut(String),
    #[error("your session has ended; please sign in again")]
    SignedOut,
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("something went wrong on our side; it has been logged")]
    Internal,
    #[error("Backroom is busy right now; please try again in a moment")]
    Busy,
    #[error("the server could not be reached: {0}")]
    Transport(String),
}

impl PanelError {
    /// The HTTP status a response carrying this error gets.
    pub fn status(&self) -> u16 {
        match self {
            PanelError::Message(_) => 400,
            PanelError::BadCredentials | PanelError::SignedOut => 401,
            PanelError::Forbidden => 403,
            PanelError::Conflict(_) => 409,
            PanelError::LockedOut(_) => 429,
            PanelError::Internal => 500,
            PanelError::Busy => 503,
            PanelError::Transport(_) => 502,
        }
    }
}

impl FromServerFnError for PanelError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::Deserialization(msg) => {
                PanelError::Message(format!("the form could not be read: {msg}"))
            }
            other => PanelError::Transport(other.to_string()),
        }
    }
}

impl From<vocabulary::Invalid> for PanelError {
    fn from(invalid: vocabulary::Invalid) -> Self {
        PanelError::Message(invalid.0)
    }
}

#[cfg(feature = "ssr")]
impl From<backend::Error> for PanelError {
    fn from(e: backend::Error) -> Self {
        use backend::Error as E;
        match e {
            E::Invalid(msg) | E::InvalidCursor(msg) => PanelError::Message(msg),
            E::Conflict(msg) => PanelError::Conflict(msg),
            E::InvalidTransition { .. } => PanelError::Conflict(e.to_string()),
            E::BadCredentials => PanelError::BadCredentials,
            E::LockedOut { .. } | E::RateLimited { .. } => PanelError::LockedOut(e.to_string()),
            E::Forbidden => PanelError::Forbidden,
            E::Busy => PanelError::Busy,
            E::NotFound => PanelError::Message("not found".into()),
            E::Internal(inner) => {
                tracing::error!(error = %inner.report(), "panel request failed");
                PanelError::Internal
            }
        }
    }
}
