//! The orders area: the list with its filters and exports, and one order's page; the
//! order statuses as the panel offers them, and their badge.

pub mod amount;
pub mod customer;
pub mod list;
pub mod page;

use leptos::prelude::*;

/// The order statuses as the panel offers them: (value, label), in the order the shop
/// works through them. The backend's `OrderStatus` is the authority (a test keeps these
/// equal); the browser has no backend, so the pages carry this copy.
pub const ORDER_STATUSES: [(&str, &str); 7] = [
    ("pending", "Pending payment"),
    ("processing", "Processing"),
    ("on-hold", "On hold"),
    ("completed", "Shipped / completed"),
    ("cancelled", "Cancelled"),
    ("refunded", "Refunded"),
    ("failed", "Failed"),
];

/// An order's status (`processing`, for the colour) as a badge: its words (`label`), not
/// only its colour.
#[component]
pub fn OrderStatusBadge(status: String, label: String) -> impl IntoView {
    view! { <span class=format!("badge status-{status}")>{label}</span> }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use backend::orders::OrderStatus;

    use super::*;

    #[test]
    fn the_panels_statuses_are_the_backends() {
        let backend: Vec<(&str, &str)> = OrderStatus::ALL.into_iter().map(|s| (s.as_str(), s.label())).collect();
        assert_eq!(backend, ORDER_STATUSES);
    }
}
