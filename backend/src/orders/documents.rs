//! An order's documents in the shop's ledger (its invoice and credit notes) as the
//! order's page and the API show them, read with the order. The accounting integration
//! ([`crate::accounting`]) writes them.

use serde::{Deserialize, Serialize};

/// A document as the panel and the API show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Document {
    pub id: i64,
    pub order_id: i64,
    /// The order's number, for lists.
    #[serde(default)]
    pub order_number: String,
    /// `invoice` or `credit_note`.
    pub kind: String,
    pub refund_id: Option<i64>,
    /// `queued`, `synced`, `failed` (will be retried), `dead` (given up; retry by hand),
    /// `manual` (a refund listed for the bookkeeper) or `cancelled`.
    pub state: String,
    /// The number we gave it (series prefix and number).
    pub number: Option<String>,
    pub remote_id: Option<String>,
    pub remote_number: Option<String>,
    pub attempts: i64,
    /// What went wrong last, in plain words.
    pub last_error: Option<String>,
    pub updated_at: i64,
    pub synced_at: Option<i64>,
}

/// The columns an order's page reads its documents with (as JSON, beside the order).
pub(crate) const JSON_COLUMNS: [&str; 12] = [
    "id",
    "order_id",
    "kind",
    "refund_id",
    "state",
    "number",
    "remote_id",
    "remote_number",
    "attempts",
    "last_error",
    "updated_at",
    "synced_at",
];
