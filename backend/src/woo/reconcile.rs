//! The reconcile: what keeps Backroom's copy right, whatever the webhooks did. Every few
//! minutes (the connection's setting) it asks the store for the orders, products and
//! coupons changed since a watermark minus an overlap (`modified_after` with
//! `dates_are_gmt=true`: the filter is exclusive and second-granular), scans the customers
//! once a day (their list has no date filter), looks for orders deleted for good (no
//! webhook says so) by comparing counts by creation time and checking ids where they
//! differ, and checks Backroom's webhooks. Changes it finds that no webhook had brought
//! are counted: they show how far the webhooks can be trusted.

use serde::{Deserialize, Serialize};

use super::{
    RECONCILE_JOB, Woo,
    apply::{self, Applied, Mode},
    client::{CallError, Store},
    model,
};
use crate::{
    Error, Result,
    clock::now,
    jobs::{self, NewJob},
    orders::events::Tx,
    users::User,
};

/// How far back each pass looks past its watermark: the store's clock may be behind, and a
/// change saved in the same second as the last one seen must not be missed.
const OVERLAP_SECS: i64 = 600;
/// How often the customers are read again.
const CUSTOMER_SCAN_SECS: i64 = 24 * 3600;
/// At most this many requests go to finding deleted orders in one pass.
const DELETION_REQUESTS: usize = 40;

/// The job that reconciles (and books the next pass).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Reconcile {}

impl jobs::Payload for Reconcile {
    const KIND: &'static str = RECONCILE_JOB;
}

/// Books the next pass at `at` (once per minute slot, however many ask).
pub async fn schedule(tx: &mut Tx, at: i64) -> Result<()> {
    let job = NewJob {
        idempotency_key: Some(format!("{RECONCILE_JOB}:{}", at / 60)),
        run_at: at,
        ..NewJob::of(&Reconcile {})
    };
    jobs::enqueue(&mut **tx, &job).await?;
    Ok(())
}

/// What a pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Orders, products, coupons and customers written because the store's were newer.
    pub changed: u64,
    pub unchanged: u64,
    /// Removed: trashed, or deleted for good.
    pub removed: u64,
    /// Of `changed`, those no webhook had brought though the store changed them minutes
    /// before ([`apply::SETTLED_SECS`]).
    pub caught: u64,
    pub requests: u64,
    pub webhooks: Option<super::webhooks::Health>,
    /// How long the pass took, and of that, how long it waited for the store's answers.
    pub took_ms: u64,
    pub store_ms: u64,
}

/// One pass (see the module's note). `Ok(None)` while no store is connected.
pub async fn run(woo: &Woo) -> std::result::Result<Option<Report>, jobs::Failure> {
    let clock = std::time::Instant::now();
    let Some(store) = super::connection::store(woo).await? else { return Ok(None) };
    let stored = super::connection::stored(woo.db.pool()).await?;
    let started = now();
    let settings = crate::settings::get(&woo.db).await?;
    let mode = Mode::Live { events: &woo.events, tz: settings.tz() };
    let mut report = Report::default();
    let mut marks = Vec::new();
    for (resource, watermark) in [
        ("orders", stored.orders_watermark),
        ("products", stored.products_watermark),
        ("coupons", stored.coupons_watermark),
    ] {
        let Some(watermark) = watermark else { continue };
        let newest = changed_since(woo, &store, resource, watermark, &settings.currency, mode, &mut report)
            .await
            .map_err(failure)?;
        marks.push((resource, newest.max(watermark)));
    }
    if stored.customers_scanned_at.is_some_and(|at| at < started - CUSTOMER_SCAN_SECS) {
        scan_customers(woo, &store, &mut report).await.map_err(failure)?;
    }
    if stored.orders_watermark.is_some() {
        let removed = deleted_orders(woo, &store, mode, &mut report).await.map_err(failure)?;
        report.removed += removed;
    }
    match super::webhooks::check_health(woo, &store).await {
        Ok(health) => report.webhooks = Some(health),
        Err(e) => {
            super::connection::note_error(&woo.db, &format!("the webhooks could not be checked: {}", e.report()))
                .await?
        }
    }
    let mut tx = woo.db.begin().await?;
    for (resource, mark) in &marks {
        let column = match *resource {
            "orders" => "orders_watermark",
            "products" => "products_watermark",
            _ => "coupons_watermark",
        };
        sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE woo_connection SET {column} = $1 WHERE id = 1")))
            .bind(mark)
            .execute(&mut *tx)
            .await?;
    }
    let lag = marks.iter().map(|(_, mark)| started - mark).min().unwrap_or(0).max(0);
    sqlx::query(
        "UPDATE woo_connection SET last_reconcile_at = $1, last_reconcile_lag = $2, reconcile_caught = reconcile_caught + $3 \
         WHERE id = 1",
    )
    .bind(now())
    .bind(lag)
    .bind(report.caught as i64)
    .execute(&mut *tx)
    .await?;
    if report.caught > 0 {
        tracing::info!(caught = report.caught, "the reconcile found changes no webhook had brought");
    }
    tx.commit().await?;
    report.took_ms = clock.elapsed().as_millis() as u64;
    report.store_ms = store.waited().as_millis() as u64;
    Ok(Some(report))
}

/// One pass now, as a person asked (the connection page's button). Only owners and
/// admins may.
///
/// Fails with `Conflict` while no store is connected, or with the store's failure in
/// words.
pub async fn run_now(woo: &Woo, actor: &User) -> Result<Report> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    match run(woo).await {
        Ok(Some(report)) => Ok(report),
        Ok(None) => Err(Error::Conflict("no store is connected".into())),
        Err(failure) => Err(Error::Conflict(format!("the reconcile stopped: {}", failure.reason()))),
    }
}

/// Runs a pass and books the next one (the job's work).
pub async fn run_and_reschedule(woo: &Woo) -> std::result::Result<(), jobs::Failure> {
    let outcome = run(woo).await;
    let stored = super::connection::stored(woo.db.pool()).await?;
    if stored.connected {
        let mut tx = woo.db.begin().await?;
        schedule(&mut tx, now() + stored.reconcile_minutes.clamp(1, 24 * 60) * 60).await?;
        tx.commit().await?;
    }
    outcome.map(drop)
}

fn failure(error: CallError) -> jobs::Failure {
    super::webhooks::failure(error)
}

/// Reads what changed in `resource` since `watermark` (minus the overlap) and writes it;
/// returns the newest change seen.
async fn changed_since(
    woo: &Woo,
    store: &Store,
    resource: &str,
    watermark: i64,
    currency: &str,
    mode: Mode<'_>,
    report: &mut Report,
) -> std::result::Result<i64, CallError> {
    let since = model::gmt_text(watermark - OVERLAP_SECS);
    let mut newest = watermark;
    // `any` leaves the trash out, and trashed things must be seen to go.
    for status in ["any", "trash"] {
        for page in 1.. {
            let query = vec![
                ("modified_after", since.clone()),
                ("dates_are_gmt", "true".to_owned()),
                ("orderby", "modified".to_owned()),
                ("order", "asc".to_owned()),
                ("per_page", "100".to_owned()),
                ("page", page.to_string()),
                ("status", status.to_owned()),
            ];
            let answer = store.get(&format!("/{resource}"), &query).await?;
            report.requests += 1;
            let stamps: Vec<model::Stamp> = answer.json()?;
            newest = stamps.iter().filter_map(|s| s.date_modified_gmt).fold(newest, i64::max);
            let count = stamps.len();
            let applied = write(woo, store, resource, &answer, currency, mode).await?;
            report.changed += applied.changed;
            report.unchanged += applied.unchanged;
            report.removed += applied.removed;
            report.caught += applied.settled;
            if count < 100 {
                break;
            }
        }
    }
    Ok(newest)
}

async fn write(
    woo: &Woo,
    store: &Store,
    resource: &str,
    answer: &super::client::Answer,
    currency: &str,
    mode: Mode<'_>,
) -> std::result::Result<Applied, CallError> {
    let ours = |e: Error| CallError::Malformed(e.report());
    let backend = woo.db.backend();
    let mut tx = woo.db.begin().await.map_err(ours)?;
    let applied = match resource {
        "orders" => {
            let orders: Vec<model::Order> = answer.json()?;
            let refunded = apply::with_unknown_refunds(&mut tx, &orders).await.map_err(ours)?;
            let (applied, _) = apply::orders(&mut tx, backend, &orders, mode).await.map_err(ours)?;
            for id in refunded {
                let refunds = store.get(&format!("/orders/{id}/refunds"), &[("per_page", "100".into())]).await?;
                let mut refunds: Vec<model::Refund> = refunds.json()?;
                for refund in &mut refunds {
                    refund.parent_id = id;
                }
                apply::refunds(&mut tx, backend, &refunds, mode).await.map_err(ours)?;
            }
            applied
        }
        "products" => {
            let products: Vec<model::Product> = answer.json()?;
            let (applied, variable) = apply::products(&mut tx, backend, currency, &products).await.map_err(ours)?;
            for id in variable {
                let variations =
                    store.get(&format!("/products/{id}/variations"), &[("per_page", "100".into())]).await?;
                apply::variations(&mut tx, backend, currency, id, &variations.json::<Vec<model::Product>>()?)
                    .await
                    .map_err(ours)?;
            }
            applied
        }
        _ => apply::coupons(&mut tx, backend, currency, &answer.json::<Vec<model::Coupon>>()?).await.map_err(ours)?,
    };
    tx.commit().await.map_err(|e| ours(e.into()))?;
    Ok(applied)
}

async fn scan_customers(woo: &Woo, store: &Store, report: &mut Report) -> std::result::Result<(), CallError> {
    let ours = |e: Error| CallError::Malformed(e.report());
    for page in 1.. {
        let query = vec![
            ("role", "all".to_owned()),
            ("orderby", "id".to_owned()),
            ("order", "asc".to_owned()),
            ("per_page", "100".to_owned()),
            ("page", page.to_string()),
        ];
        let answer = store.get("/customers", &query).await?;
        report.requests += 1;
        let customers: Vec<model::Customer> = answer.json()?;
        let mut tx = woo.db.begin().await.map_err(ours)?;
        let applied = apply::customers(&mut tx, woo.db.backend(), &customers).await.map_err(ours)?;
        tx.commit().await.map_err(|e| ours(e.into()))?;
        report.changed += applied.changed;
        report.unchanged += applied.unchanged;
        if customers.len() < 100 {
            break;
        }
    }
    sqlx::query("UPDATE woo_connection SET customers_scanned_at = $1 WHERE id = 1")
        .bind(now())
        .execute(woo.db.writer())
        .await
        .map_err(|e| ours(e.into()))?;
    Ok(())
}

/// Finds orders the store deleted for good: the count of orders created in a span of time
/// is compared with the store's (`X-WP-Total` of a one-item page); where they differ the
/// span is halved until it holds at most a page of orders, whose ids are then checked.
/// Returns how many were removed.
async fn deleted_orders(
    woo: &Woo,
    store: &Store,
    mode: Mode<'_>,
    report: &mut Report,
) -> std::result::Result<u64, CallError> {
    let ours = |e: Error| CallError::Malformed(e.report());
    let span: (Option<i64>, Option<i64>) = sqlx::query_as("SELECT MIN(created_at), MAX(created_at) FROM orders")
        .fetch_one(woo.db.pool())
        .await
        .map_err(|e| ours(e.into()))?;
    let (Some(first), Some(last)) = span else { return Ok(0) };
    let statuses = statuses();
    let mut spans = vec![(first, last)];
    let mut removed = 0;
    let mut requests = 0;
    while let Some((from, to)) = spans.pop() {
        if requests >= DELETION_REQUESTS {
            break;
        }
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM orders WHERE created_at BETWEEN $1 AND $2 ORDER BY id LIMIT 101")
                .bind(from)
                .bind(to)
                .fetch_all(woo.db.pool())
                .await
                .map_err(|e| ours(e.into()))?;
        let local: i64 = if ids.len() <= 100 {
            ids.len() as i64
        } else {
            sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE created_at BETWEEN $1 AND $2")
                .bind(from)
                .bind(to)
                .fetch_one(woo.db.pool())
                .await
                .map_err(|e| ours(e.into()))?
        };
        if local == 0 {
            continue;
        }
        let query = vec![
            ("after", model::gmt_text(from - 1)),
            ("before", model::gmt_text(to + 1)),
            ("dates_are_gmt", "true".to_owned()),
            ("per_page", "1".to_owned()),
            ("_fields", "id".to_owned()),
            ("status", statuses.clone()),
        ];
        let answer = store.get("/orders", &query).await?;
        requests += 1;
        let theirs = answer.total.unwrap_or(0) as i64;
        if theirs >= local {
            continue;
        }
        if local <= 100 || from == to {
            let include = ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(",");
            let query = vec![
                ("include", include),
                ("per_page", "100".to_owned()),
                ("_fields", "id".to_owned()),
                ("status", format!("{statuses},trash")),
            ];
            let answer = store.get("/orders", &query).await?;
            requests += 1;
            let found: std::collections::HashSet<i64> =
                answer.json::<Vec<model::Stamp>>()?.into_iter().map(|s| s.id).collect();
            let mut tx = woo.db.begin().await.map_err(ours)?;
            for id in ids.iter().filter(|id| !found.contains(id)) {
                if apply::remove_order(&mut tx, *id, mode).await.map_err(ours)? {
                    removed += 1;
                }
            }
            tx.commit().await.map_err(|e| ours(e.into()))?;
        } else {
            let middle = from + (to - from) / 2;
            spans.push((middle + 1, to));
            spans.push((from, middle));
        }
    }
    report.requests += requests as u64;
    sqlx::query("UPDATE woo_connection SET deletions_checked_at = $1 WHERE id = 1")
        .bind(now())
        .execute(woo.db.writer())
        .await
        .map_err(|e| ours(e.into()))?;
    Ok(removed)
}

/// Every order status Backroom holds, as the store's list filter takes them (`any` would
/// count unfinished checkouts, which Backroom leaves out).
fn statuses() -> String {
    crate::orders::OrderStatus::known().into_iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
}
