//! Support tickets: their statuses and the limits on what is typed into one.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// The most characters of a message on a ticket (a customer's, a reply, an internal note).
pub const MAX_BODY_CHARS: usize = 10_000;
/// The most characters a ticket search holds.
pub const MAX_SEARCH_CHARS: usize = 100;

/// Where a ticket stands.
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
    type Err = Invalid;
    fn from_str(s: &str) -> Result<TicketStatus, Invalid> {
        TicketStatus::ALL.into_iter().find(|status| status.as_str() == s.trim()).ok_or_else(|| {
            Invalid(format!("unknown ticket status {s:?}; the statuses are open, pending, resolved, closed"))
        })
    }
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_from_their_names_and_nothing_else() {
        assert_eq!(" pending".parse::<TicketStatus>().unwrap(), TicketStatus::Pending);
        assert_eq!(TicketStatus::Pending.label(), "Waiting for the customer");
        let refused = "waiting".parse::<TicketStatus>().unwrap_err();
        assert!(refused.0.contains("open, pending, resolved, closed"), "{refused}");
    }
}
