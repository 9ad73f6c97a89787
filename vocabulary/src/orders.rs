//! Orders: their statuses (WooCommerce's seven and those an extension adds) and the limits
//! on what a person types about one.

use std::{str::FromStr, sync::Mutex};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Invalid;

/// The most characters an order search holds (a number, an email, a name).
pub const MAX_SEARCH_CHARS: usize = 100;
/// The most characters of a note on an order.
pub const MAX_NOTE_CHARS: usize = 5_000;
/// The most characters of the reason given for a status change or a refund.
pub const MAX_REASON_CHARS: usize = 500;
/// The most characters a field of the customer's details holds (an e-mail address:
/// [`crate::people::Email::MAX_LENGTH`]; a country: its two letters).
pub const MAX_CUSTOMER_FIELD_CHARS: usize = 200;
/// The most characters of a payment gateway's name in a filter.
pub const MAX_GATEWAY_CHARS: usize = 100;
/// The most characters of an order's ID typed into a filter: a `#` and the 19 digits of
/// the largest ID (an `i64`).
pub const MAX_ORDER_ID_CHARS: usize = 20;

/// A payment transaction's states: (value, label), the one that matters most first.
pub const TRANSACTION_STATUSES: [(&str, &str); 3] =
    [("succeeded", "Succeeded"), ("pending", "Pending"), ("failed", "Failed")];

/// An order's status: WooCommerce's seven, or one an extension added (`shipped`,
/// `ready-for-pickup`), which is kept and shown as the store names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Pending,
    Processing,
    OnHold,
    Completed,
    Cancelled,
    Refunded,
    Failed,
    /// An extension's status: its name and how a person reads it.
    Other(&'static OtherStatus),
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct OtherStatus {
    pub name: String,
    pub label: String,
}

/// The extensions' statuses this process has seen, each kept once (a store registers a
/// handful); past [`MAX_OTHER_STATUSES`] a new name is refused rather than kept.
static OTHER_STATUSES: Mutex<Vec<&'static OtherStatus>> = Mutex::new(Vec::new());
const MAX_OTHER_STATUSES: usize = 64;

/// Statuses that are never an order's in Backroom: WooCommerce's drafts and its trash.
const NOT_STATUSES: [&str; 5] = ["any", "trash", "draft", "auto-draft", "checkout-draft"];

/// An extension's status by name: one already known, or, when `learn`, a well-formed new
/// one (up to [`MAX_OTHER_STATUSES`]).
fn other_status(name: &str, learn: bool) -> Option<&'static OtherStatus> {
    let well_formed = !name.is_empty()
        && name.len() <= 20
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && !NOT_STATUSES.contains(&name);
    if !well_formed {
        return None;
    }
    let mut known = OTHER_STATUSES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = known.iter().find(|s| s.name == name) {
        return Some(found);
    }
    if !learn || known.len() >= MAX_OTHER_STATUSES {
        return None;
    }
    let words = name.trim_start_matches("wc-").replace(['-', '_'], " ");
    let label = words.chars().take(1).flat_map(char::to_uppercase).chain(words.chars().skip(1)).collect();
    let status: &'static OtherStatus = Box::leak(Box::new(OtherStatus { name: name.to_owned(), label }));
    known.push(status);
    Some(status)
}

impl Serialize for OrderStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for OrderStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OrderStatus, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for OrderStatus {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[a-z0-9_-]{1,20}$"))
            .description(Some(
                "pending, processing, on-hold, completed, cancelled, refunded, failed, \
                 or a status an extension of the store added (such as shipped)",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for OrderStatus {}

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
            OrderStatus::Other(other) => &other.name,
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
            OrderStatus::Other(other) => &other.label,
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
        matches!(self, OrderStatus::Processing | OrderStatus::OnHold | OrderStatus::Completed | OrderStatus::Other(_))
    }
}

impl OrderStatus {
    fn named(s: &str, learn: bool) -> Result<OrderStatus, Invalid> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .or_else(|| other_status(s, learn).map(OrderStatus::Other))
            .ok_or_else(|| Invalid(format!("unknown order status {s:?}")))
    }

    /// Every status this process knows: WooCommerce's seven, and the extensions' statuses
    /// the shop's orders are in (learned at start and whenever an order brings one).
    pub fn known() -> Vec<OrderStatus> {
        let others = OTHER_STATUSES.lock().unwrap_or_else(|e| e.into_inner());
        OrderStatus::ALL.into_iter().chain(others.iter().map(|other| OrderStatus::Other(other))).collect()
    }

    /// A status read from Backroom's own tables, where the store's data may have brought
    /// an extension's status this process has not met yet: it is learned.
    pub fn stored(s: &str) -> Result<OrderStatus, Invalid> {
        OrderStatus::named(s, true)
    }
}

impl OrderStatus {
    /// Where an order may be moved by hand from this status: (status, needs a reason).
    pub fn next(self) -> &'static [(OrderStatus, bool)] {
        use OrderStatus::*;
        match self {
            Pending => &[(Processing, false), (OnHold, false), (Completed, false), (Cancelled, false), (Failed, false)],
            Failed => &[(Pending, false), (Processing, false), (OnHold, false), (Cancelled, false)],
            OnHold => &[(Processing, false), (Completed, false), (Cancelled, false), (Failed, false)],
            Processing => &[(Completed, false), (OnHold, false), (Cancelled, false)],
            Completed => &[(Processing, true)],
            Cancelled => &[(Pending, true), (Processing, true)],
            Refunded => &[],
            // An extension's status (shipped, …) goes back into WooCommerce's own.
            Other(_) => &[(Processing, false), (OnHold, false), (Completed, false), (Cancelled, true)],
        }
    }
}

impl FromStr for OrderStatus {
    type Err = Invalid;
    /// WooCommerce's seven by name, else an extension's status the shop's orders are in.
    /// What a client sends is never learned: a flood of made-up names cannot crowd out
    /// the store's.
    fn from_str(s: &str) -> Result<OrderStatus, Invalid> {
        OrderStatus::named(s, false)
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus;

    #[test]
    fn the_policy_never_enters_or_leaves_refunded_by_hand() {
        use OrderStatus::*;
        assert!(Refunded.next().is_empty());
        for status in OrderStatus::ALL {
            assert!(status.next().iter().all(|(to, _)| *to != Refunded && *to != status), "{status:?}");
        }
        assert_eq!(Completed.next(), &[(Processing, true)]);
    }

    #[test]
    fn only_paid_orders_not_yet_refunded_are_refundable() {
        let refundable: Vec<&str> =
            OrderStatus::ALL.into_iter().filter(|s| s.is_refundable()).map(OrderStatus::as_str).collect();
        assert_eq!(refundable, ["processing", "on-hold", "completed"]);
    }

    #[test]
    fn an_extensions_status_is_kept_as_the_store_names_it() {
        assert!("shipped".parse::<OrderStatus>().is_err(), "unknown until an order is in it");
        let shipped = OrderStatus::stored("shipped").unwrap();
        assert_eq!((shipped.as_str(), shipped.label()), ("shipped", "Shipped"));
        assert_eq!(OrderStatus::stored("ready-for-pickup").unwrap().label(), "Ready for pickup");
        assert_eq!(shipped, "shipped".parse().unwrap(), "known once learned, and kept once");
        assert!(OrderStatus::known().contains(&shipped) && OrderStatus::known().contains(&OrderStatus::Failed));
        for bad in ["", "Shipped", "trash", "checkout-draft", "a b", "averyveryverylongstatusname"] {
            assert!(OrderStatus::stored(bad).is_err(), "{bad}");
        }
        assert_eq!(serde_json::to_string(&OrderStatus::OnHold).unwrap(), r#""on-hold""#);
    }
}
