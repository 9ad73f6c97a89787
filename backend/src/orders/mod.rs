//! Orders as WooCommerce models them: their statuses, the list with its filters and
//! cursor pages, and the whole of one order.

pub mod customer;
pub mod detail;
pub mod documents;
pub mod events;
pub mod list;
pub mod notes;
pub mod refunds;
pub mod status;
pub mod trail;
pub mod transactions;

pub use vocabulary::orders::{OrderStatus, OtherStatus};

use crate::Result;

/// The columns of an order's line (`order_items`) as the demo and the store's orders write them.
pub(crate) const ITEM_COLUMNS: &[&str] = &[
    "id",
    "order_id",
    "product_id",
    "variation_id",
    "name",
    "sku",
    "quantity",
    "unit_price",
    "subtotal",
    "subtotal_tax",
    "total",
    "total_tax",
    "tax_class",
];

/// Learns the statuses the shop's orders are in (an extension's among them), so a filter
/// or a change may name them. Run once at start.
pub async fn learn_statuses(db: &crate::db::Db) -> Result<()> {
    let names: Vec<String> = sqlx::query_scalar("SELECT DISTINCT status FROM orders").fetch_all(db.pool()).await?;
    for name in names {
        // A name that is not well formed stays unknown; its orders still show.
        let _ = OrderStatus::stored(&name);
    }
    Ok(())
}
