//! The WooCommerce store Backroom serves, for owners and admins: the connect wizard, the
//! connection page (its state, how the sync keeps up, and buttons to re-check,
//! reconcile now, re-import or disconnect) and the import's progress.

pub mod connect;
pub mod connection;
pub mod import;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::PanelError;

pub const STORE_PATH: &str = "/admin/store";
pub const CONNECT_PATH: &str = "/admin/store/connect";
pub const IMPORT_PATH: &str = "/admin/store/import";

/// One check of a store and its key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckView {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

#[cfg(feature = "ssr")]
fn checks(report: &backend::woo::connection::Report) -> Vec<CheckView> {
    report
        .checks
        .iter()
        .map(|c| CheckView { name: c.name.clone(), passed: c.passed, detail: c.detail.clone() })
        .collect()
}

/// One kind of thing the import brings, and how far it got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartView {
    pub label: String,
    pub state: String,
    pub done: i64,
    pub total: Option<i64>,
}

/// The import's progress as the pages show it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProgressView {
    /// `idle` (never started), `running`, `done` or `failed`.
    pub state: String,
    pub parts: Vec<PartView>,
    pub started: Option<String>,
    pub finished: Option<String>,
    pub error: Option<String>,
    /// Things written per second so far.
    pub rate: f64,
    pub seconds_left: Option<i64>,
}

impl ProgressView {
    pub fn running(&self) -> bool {
        self.state == "running"
    }

    pub fn done(&self) -> i64 {
        self.parts.iter().map(|p| p.done).sum()
    }

    /// Everything to bring, once every kind's total is known.
    pub fn total(&self) -> Option<i64> {
        self.parts.iter().map(|p| p.total).sum()
    }

    /// Where the import stands, in one sentence (read out when it changes).
    pub fn sentence(&self) -> String {
        match self.state.as_str() {
            "idle" => "No import has run yet.".to_owned(),
            "running" => {
                let left = self.seconds_left.map(time_left).unwrap_or_else(|| "counting what is left".to_owned());
                format!("Importing, {} a second: {left}.", self.rate.round() as i64)
            }
            "done" => format!("Imported: {} things.", self.done()),
            _ => format!(
                "The import stopped: {}. Re-import from the store's page to try again.",
                self.error.clone().unwrap_or_else(|| "no reason was recorded".into())
            ),
        }
    }
}

/// `about 3 minutes left`, `about 1 hour 5 minutes left`, `less than a minute left`.
pub fn time_left(seconds: i64) -> String {
    let minutes = (seconds + 59) / 60;
    match minutes {
        ..=1 if seconds < 60 => "less than a minute left".to_owned(),
        ..=59 => format!("about {minutes} minute{} left", if minutes == 1 { "" } else { "s" }),
        _ => {
            let (hours, minutes) = (minutes / 60, minutes % 60);
            let hours = format!("{hours} hour{}", if hours == 1 { "" } else { "s" });
            if minutes == 0 { format!("about {hours} left") } else { format!("about {hours} {minutes} minutes left") }
        }
    }
}

/// What each kind the import brings is called on the page.
#[cfg(feature = "ssr")]
fn part_label(resource: &str) -> String {
    match resource {
        "categories" => "Product categories",
        "tags" => "Product tags",
        "attributes" => "Product attributes",
        "customers" => "Customers",
        "products" => "Products",
        "coupons" => "Coupons",
        "orders" => "Orders",
        "refunds" => "Refunds",
        "notes" => "Order notes (newest orders)",
        other => other,
    }
    .to_owned()
}

#[cfg(feature = "ssr")]
impl ProgressView {
    fn new(progress: backend::woo::import::Progress, tz: chrono_tz::Tz) -> ProgressView {
        let at = |t: i64| backend::clock::local_minute(t, tz);
        ProgressView {
            parts: progress
                .parts
                .into_iter()
                .map(|p| PartView { label: part_label(&p.resource), state: p.state, done: p.done, total: p.total })
                .collect(),
            started: progress.started_at.map(at),
            finished: progress.finished_at.map(at),
            error: progress.error,
            rate: progress.rate,
            seconds_left: progress.seconds_left,
            state: progress.state,
        }
    }
}

/// The import's progress.
#[server(endpoint = "store_import_progress")]
pub async fn store_import_progress() -> Result<ProgressView, PanelError> {
    let me = crate::context::acting(backend::users::Role::manages_store).await?;
    let tz = backend::settings::get(&me.ctx.db).await?.tz();
    Ok(ProgressView::new(backend::woo::import::progress(&me.ctx.woo).await?, tz))
}

/// Starts the import again from the beginning (a running one goes on where it is).
#[server(endpoint = "reimport_store")]
pub async fn reimport_store() -> Result<String, PanelError> {
    let me = crate::context::acting(backend::users::Role::manages_store).await?;
    let progress = backend::woo::import::restart(&me.ctx.woo, &me.user, me.ip.as_deref()).await?;
    Ok(if progress.state == "running" && progress.done() > 0 {
        "The import is under way: it goes on where it is.".to_owned()
    } else {
        "The import has started.".to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_is_said_in_minutes_and_hours() {
        assert_eq!(time_left(20), "less than a minute left");
        assert_eq!(time_left(60), "about 1 minute left");
        assert_eq!(time_left(61), "about 2 minutes left");
        assert_eq!(time_left(3600), "about 1 hour left");
        assert_eq!(time_left(3600 * 2 + 5 * 60), "about 2 hours 5 minutes left");
    }

    #[test]
    fn the_progress_sentence_says_where_the_import_stands() {
        let part = |done, total| PartView { label: "Orders".into(), state: "running".into(), done, total };
        let mut progress = ProgressView {
            state: "running".into(),
            parts: vec![part(500, Some(1000))],
            rate: 250.4,
            seconds_left: Some(2),
            ..ProgressView::default()
        };
        assert_eq!(progress.sentence(), "Importing, 250 a second: less than a minute left.");
        assert_eq!(progress.total(), Some(1000));
        progress.parts.push(part(10, None));
        assert_eq!((progress.done(), progress.total()), (510, None), "a kind not yet counted leaves the total open");
        progress.state = "failed".into();
        progress.error = Some("the store refused the key".into());
        assert!(progress.sentence().starts_with("The import stopped: the store refused the key."));
    }
}
