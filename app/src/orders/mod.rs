//! The orders area: the list with its filters and exports, and one order's page.

pub mod amount;
pub mod list;
pub mod page;
