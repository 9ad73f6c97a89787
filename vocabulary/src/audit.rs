//! The audit log's words: how an action it records went, and how long a filter's text
//! may be.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// The most characters of the actor or action a search of the log gives (an email
/// address at most).
pub const MAX_FILTER_CHARS: usize = 254;

/// How an audited action went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Success, Outcome::Failure, Outcome::Denied];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }

    /// How a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Success => "Success",
            Outcome::Failure => "Failure",
            Outcome::Denied => "Denied",
        }
    }
}

impl FromStr for Outcome {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Outcome, Invalid> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s.trim())
            .ok_or_else(|| Invalid::new("the outcome must be success, failure or denied"))
    }
}
