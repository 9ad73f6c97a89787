//! The accounting area: orders sent to the shop's ledger (Cari.com.tr) as invoices and
//! credit notes. Its settings with a connection test, the documents that need a person
//! and the request log, bulk syncs with their progress, and an order's own part (on the
//! order's page). What the pages show of the backend's documents, runs and log entries.

pub mod bulk;
pub mod log;
pub mod order;
pub mod settings;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub const SETTINGS_PATH: &str = "/admin/accounting";
pub const LOG_PATH: &str = "/admin/accounting/log";

/// A bulk sync's own page.
pub fn bulk_href(id: i64) -> String {
    format!("/admin/accounting/bulk/{id}")
}

/// A document's states as the panel names them: (value, label).
const STATES: [(&str, &str); 6] = [
    ("queued", "Queued"),
    ("synced", "Synced"),
    ("failed", "Failed (will retry)"),
    ("dead", "Dead (retry by hand)"),
    ("manual", "Manual (enter by hand)"),
    ("cancelled", "Cancelled"),
];

/// An invoice or a credit note, and where it is, as the panel lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentLine {
    pub id: i64,
    pub order_id: i64,
    pub order_number: String,
    /// `invoice` or `credit_note`.
    pub kind: String,
    /// `queued`, `synced`, `failed`, `dead`, `manual` or `cancelled`.
    pub state: String,
    /// The number we gave it; empty until it has one.
    pub number: String,
    /// The ledger's own number for it; empty until the ledger answers.
    pub remote_number: String,
    pub attempts: i64,
    /// What went wrong last, in plain words; empty when nothing did.
    pub last_error: String,
    pub updated: String,
    /// When the ledger took it; empty until then.
    pub synced: String,
}

/// "Invoice" or "Credit note".
pub fn kind_label(kind: &str) -> &str {
    match kind {
        "invoice" => "Invoice",
        "credit_note" => "Credit note",
        other => other,
    }
}

/// A document's state as a badge: its words, not only its colour.
#[component]
pub fn DocumentStateBadge(state: String) -> impl IntoView {
    let label = STATES.iter().find(|(value, _)| *value == state).map_or(state.as_str(), |(_, label)| label).to_owned();
    view! { <span class=format!("badge accounting-{state}")>{label}</span> }
}

/// A bulk sync and how far it got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkView {
    pub id: i64,
    /// "120 selected orders", or the orders list's filters.
    pub description: String,
    pub resync: bool,
    /// `running`, `cancelled` or `finished`.
    pub state: String,
    pub total: i64,
    pub done: i64,
    pub skipped: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub remaining: i64,
    pub started: String,
    /// Empty while it runs.
    pub finished: String,
}

impl BulkView {
    /// The orders settled one way or another.
    pub fn settled(&self) -> i64 {
        self.done + self.skipped + self.failed + self.cancelled
    }

    pub fn running(&self) -> bool {
        self.state == "running"
    }
}

/// A bulk sync's state as a badge.
#[component]
pub fn BulkStateBadge(state: String) -> impl IntoView {
    let label = match state.as_str() {
        "running" => "Running",
        "finished" => "Finished",
        "cancelled" => "Cancelled",
        other => other,
    }
    .to_owned();
    view! { <span class=format!("badge bulk-{state}")>{label}</span> }
}

/// The area on the server: the backend's documents and runs as lines, and who may act.
#[cfg(feature = "ssr")]
mod ssr {
    use super::{BulkView, DocumentLine};

    impl DocumentLine {
        /// The backend's document `d`, its times in `tz`.
        pub fn new(d: backend::accounting::Document, tz: chrono_tz::Tz) -> DocumentLine {
            let at = |t: i64| backend::clock::local_minute(t, tz);
            DocumentLine {
                id: d.id,
                order_id: d.order_id,
                order_number: d.order_number,
                kind: d.kind,
                state: d.state,
                number: d.number.unwrap_or_default(),
                remote_number: d.remote_number.unwrap_or_default(),
                attempts: d.attempts,
                last_error: d.last_error.unwrap_or_default(),
                updated: at(d.updated_at),
                synced: d.synced_at.map(at).unwrap_or_default(),
            }
        }
    }

    impl BulkView {
        pub fn new(run: backend::accounting::bulk::BulkRun, tz: chrono_tz::Tz) -> BulkView {
            let at = |t: i64| backend::clock::format_local(t, tz, "%Y-%m-%d %H:%M:%S");
            BulkView {
                id: run.id,
                description: run.description,
                resync: run.resync,
                state: run.state,
                total: run.total,
                done: run.done,
                skipped: run.skipped,
                failed: run.failed,
                cancelled: run.cancelled,
                remaining: run.remaining,
                started: at(run.created_at),
                finished: run.finished_at.map(at).unwrap_or_default(),
            }
        }
    }

    /// Who may open the errors and log page and sync orders: someone who manages orders.
    pub(super) async fn acting() -> Result<crate::context::Acting, crate::error::PanelError> {
        crate::context::acting(backend::users::Role::manages_orders).await
    }
}
