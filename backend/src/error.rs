//! The domain's one error type. Callers map it to HTTP statuses or UI messages; the
//! `Internal` variant carries details for the log only and is never shown to a user.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input was not acceptable; the message is safe to show to the person who sent it.
    #[error("{0}")]
    Invalid(String),
    /// A page cursor that was not made for this list (tampered with, or from another
    /// list or sort order).
    #[error("{0}")]
    InvalidCursor(String),
    /// Wrong email or password, an unknown or expired session: deliberately vague.
    #[error("the email or password is not right")]
    BadCredentials,
    /// Too many failed attempts; try again after the given number of seconds.
    #[error("too many failed attempts; try again in {} minutes", (retry_after_secs + 59) / 60)]
    LockedOut { retry_after_secs: i64 },
    /// Too many requests of a kind (e.g. support form submissions); the message says which.
    #[error("{message}")]
    RateLimited { message: String, retry_after_secs: i64 },
    /// The signed-in person may not do this.
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// The action conflicts with the current state (a duplicate, a finished first run).
    #[error("{0}")]
    Conflict(String),
    /// An order cannot move from its status to the one asked for; `allowed` are the
    /// statuses it can move to by hand.
    #[error("an order cannot go from {from} to {to}; from {from} it can go to: {}", if allowed.is_empty() { "nothing (a refunded order stays refunded)".to_owned() } else { allowed.join(", ") })]
    InvalidTransition { from: String, to: String, allowed: Vec<String> },
    /// Every database connection stayed busy for the whole wait: the server is overloaded
    /// for now; the request may be tried again shortly.
    #[error("Backroom is busy right now; please try again in a moment")]
    Busy,
    /// Something went wrong on our side; the details go to the log only.
    #[error("internal error")]
    Internal(#[source] InternalError),
}

impl From<vocabulary::Invalid> for Error {
    fn from(invalid: vocabulary::Invalid) -> Error {
        Error::Invalid(invalid.0)
    }
}

/// A wrapper so any source error can become `Error::Internal` with `?`.
#[derive(Debug)]
pub struct InternalError(Box<dyn std::error::Error + Send + Sync>);

impl fmt::Display for InternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for InternalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid(message.into())
    }

    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Internal(InternalError(source.into()))
    }

    /// The error with every cause in its chain ("internal error: error returned from
    /// database: …"), for logs and a job's last error. Clients get [`Error`]'s `Display`
    /// alone, which says nothing of an internal error's cause.
    pub fn report(&self) -> String {
        chain(self)
    }
}

impl InternalError {
    /// What went wrong, with every cause after it.
    pub fn report(&self) -> String {
        chain(self)
    }
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Error::NotFound,
            sqlx::Error::PoolTimedOut => Error::Busy,
            other => Error::internal(other),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::internal(e)
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::internal(e)
    }
}

/// True when a database error is a unique-constraint violation (both dialects).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_cause_for_the_log_but_not_for_the_client() {
        let io = std::io::Error::other("disk full");
        let error = Error::internal(io);
        assert_eq!(error.to_string(), "internal error");
        assert_eq!(error.report(), "internal error: disk full");
        assert_eq!(Error::NotFound.report(), "not found");
    }
}
