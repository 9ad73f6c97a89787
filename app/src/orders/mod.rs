//! The orders area: the list with its filters and exports, and one order's page; an
//! order status's badge.

pub mod accounting_sync;
pub mod amount;
pub mod customer;
pub mod list;
pub mod order;
pub mod page;
pub mod query;
pub mod refund;

use leptos::prelude::*;

/// The orders list's address.
pub const LIST_PATH: &str = "/admin/orders";
/// The orders list as CSV (served by the server crate's `orders_export`), with the list's query.
pub const CSV_PATH: &str = "/admin/orders.csv";

/// An order's status (`processing`, for the colour) as a badge: its words (`label`), not
/// only its colour.
#[component]
pub fn OrderStatusBadge(status: String, label: String) -> impl IntoView {
    view! { <span class=format!("badge status-{status}")>{label}</span> }
}
