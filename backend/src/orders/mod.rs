//! Orders as WooCommerce models them: their statuses, the list with its filters and
//! cursor pages, and the whole of one order.

pub mod detail;
pub mod events;
pub mod list;
pub mod notes;
pub mod refunds;
pub mod status;
pub mod trail;
pub mod transactions;

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum OrderStatus {
    Pending,
    Processing,
    OnHold,
    Completed,
    Cancelled,
    Refunded,
    Failed,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::Pending,
        OrderStatus::Processing,
        OrderStatus::OnHold,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
        OrderStatus::Failed,
    ];

    /// The name stored in the database and used by WooCommerce's API.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Processing => "processing",
            OrderStatus::OnHold => "on-hold",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
            OrderStatus::Failed => "failed",
        }
    }

    /// How a shop manager reads it.
    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::Pending => "Pending payment",
            OrderStatus::Processing => "Processing",
            OrderStatus::OnHold => "On hold",
            OrderStatus::Completed => "Shipped / completed",
            OrderStatus::Cancelled => "Cancelled",
            OrderStatus::Refunded => "Refunded",
            OrderStatus::Failed => "Failed",
        }
    }

    /// Whether an order in this status can be refunded: it was paid, and it is not
    /// refunded already.
    pub fn is_refundable(self) -> bool {
        matches!(self, OrderStatus::Processing | OrderStatus::OnHold | OrderStatus::Completed)
    }
}

impl FromStr for OrderStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<OrderStatus> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| Error::invalid(format!("unknown order status {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus;

    #[test]
    fn only_paid_orders_not_yet_refunded_are_refundable() {
        let refundable: Vec<&str> =
            OrderStatus::ALL.into_iter().filter(|s| s.is_refundable()).map(OrderStatus::as_str).collect();
        assert_eq!(refundable, ["processing", "on-hold", "completed"]);
    }
}
