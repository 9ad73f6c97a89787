//! The orders area: the list with its filters and exports, and one order's page; an
//! order status's badge.

pub mod amount;
pub mod customer;
pub mod list;
pub mod page;

use leptos::prelude::*;

/// An order's status (`processing`, for the colour) as a badge: its words (`label`), not
/// only its colour.
#[component]
pub fn OrderStatusBadge(status: String, label: String) -> impl IntoView {
    view! { <span class=format!("badge status-{status}")>{label}</span> }
}
