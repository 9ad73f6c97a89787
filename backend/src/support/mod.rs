//! Support: the customer's side — the form that turns a verified question about an
//! order into a ticket ([`form`]) — and the shop's side — the tickets with their thread,
//! replies that are emailed, internal notes, assignment and status ([`tickets`]); and
//! where the form may be embedded and how often it may be used ([`settings`]).

pub mod form;
pub mod settings;
pub mod tickets;

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Waiting for the shop.
    Open,
    /// Waiting for the customer (the shop replied).
    Pending,
    Resolved,
    Closed,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 4] =
        [TicketStatus::Open, TicketStatus::Pending, TicketStatus::Resolved, TicketStatus::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "open",
            TicketStatus::Pending => "pending",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TicketStatus::Open => "Open",
            TicketStatus::Pending => "Waiting for the customer",
            TicketStatus::Resolved => "Resolved",
            TicketStatus::Closed => "Closed",
        }
    }
}

impl FromStr for TicketStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<TicketStatus> {
        TicketStatus::ALL.into_iter().find(|status| status.as_str() == s.trim()).ok_or_else(|| {
            Error::invalid(format!("unknown ticket status {s:?}; the statuses are open, pending, resolved, closed"))
        })
    }
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A ticket's reference: `T-` and six letters or digits that cannot be misread (no 0/O,
/// 1/I/L), e.g. `T-7KQ3M9`.
fn new_reference() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let code: String = (0..6).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect();
    format!("T-{code}")
}
