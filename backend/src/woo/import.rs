//! Importing the store: its categories, tags and attributes, customers, products with their
//! variations, coupons, orders (with their lines, shipping, fees, coupons and payment
//! transactions) and refunds, then the notes of its recent orders. Pages of 100 with only
//! the fields Backroom reads, a few requests at once (the connection's setting, 2 by
//! default), and a back-off when the store or its host asks (429, a firewall's 403, 503,
//! honouring `Retry-After`). Each page is written with the cursor that follows it in one
//! transaction, so an import stopped at any moment — a crash, a restart — resumes where it
//! was and writes nothing twice. The daily sales are rebuilt from the imported history at
//! the end.

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{
    IMPORT_JOB, Woo,
    apply::{self, Mode, Terms},
    client::{CallError, Store},
    model,
};
use crate::{
    Error, Result,
    audit::{self, Event},
    clock::now,
    jobs::{self, NewJob},
    orders::events::Tx,
    users::User,
};

/// The kinds of things imported, in order: what others refer to comes first.
pub const RESOURCES: [&str; 9] =
    ["categories", "tags", "attributes", "customers", "products", "coupons", "orders", "refunds", "notes"];

/// How many of the newest orders get their notes read (a request each).
const NOTES_FOR_ORDERS: i64 = 1_000;
/// A page of the store's lists.
const PER_PAGE: usize = 100;
/// How long a process holds the import before another may take it over (renewed after
/// every few pages, so only a process that stopped loses it).
const LEASE_SECS: i64 = 20;

/// The fields of an order Backroom reads (`_fields`: the store computes no others).
const ORDER_FIELDS: &str = "id,number,status,currency,date_created_gmt,date_modified_gmt,date_paid_gmt,\
date_completed_gmt,discount_total,discount_tax,shipping_total,shipping_tax,cart_tax,total,total_tax,customer_id,\
billing,shipping,payment_method,payment_method_title,transaction_id,customer_note,meta_data,line_items,\
shipping_lines,fee_lines,coupon_lines,refunds";
const PRODUCT_FIELDS: &str = "id,name,slug,type,status,sku,regular_price,sale_price,price,tax_class,manage_stock,\
stock_quantity,stock_status,date_created_gmt,date_modified_gmt,categories,tags,attributes,variations,parent_id";

/// The job that runs the import a stretch at a time.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Import {}

impl jobs::Payload for Import {
    const KIND: &'static str = IMPORT_JOB;
}

/// One kind's progress.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub resource: String,
    pub state: String,
    pub done: i64,
    /// How many the store has, once a page said so.
    pub total: Option<i64>,
}

/// The import's progress.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// `idle` (never started), `running`, `done` or `failed`.
    pub state: String,
    pub parts: Vec<Part>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
    /// Things written per second so far.
    pub rate: f64,
    /// Seconds left at that rate, when the totals are known.
    pub seconds_left: Option<i64>,
}

impl Progress {
    pub fn done(&self) -> i64 {
        self.parts.iter().map(|p| p.done).sum()
    }

    pub fn total(&self) -> Option<i64> {
        self.parts.iter().map(|p| p.total).sum()
    }

    pub fn orders(&self) -> (i64, Option<i64>) {
        self.parts.iter().find(|p| p.resource == "orders").map_or((0, None), |p| (p.done, p.total))
    }
}

/// Starts the import (or, with one under way, leaves it to resume) and queues its job.
///
/// Fails with `Conflict` while no store is connected.
pub async fn start(woo: &Woo) -> Result<Progress> {
    if !super::connection::stored(woo.db.pool()).await?.connected {
        return Err(Error::Conflict("connect a store first (backroom woo connect)".into()));
    }
    let mut tx = woo.db.begin().await?;
    let state: String = sqlx::query_scalar("SELECT state FROM woo_import_run WHERE id = 1").fetch_one(&mut *tx).await?;
    if state != "running" {
        let now = now();
        sqlx::query("DELETE FROM woo_import").execute(&mut *tx).await?;
        for resource in RESOURCES {
            sqlx::query("INSERT INTO woo_import (resource, state) VALUES ($1, 'pending')")
                .bind(resource)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE woo_import_run SET state = 'running', runner = NULL, lease_until = NULL, started_at = $1, \
             finished_at = NULL, error = NULL WHERE id = 1",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    jobs::enqueue(&mut *tx, &NewJob::of(&Import {})).await?;
    tx.commit().await?;
    progress(woo).await
}

/// Starts the import again from the beginning (or, with one under way, leaves it to
/// resume), as a person asked: the audit log says who. Only owners and admins may.
///
/// Fails with `Conflict` while no store is connected.
pub async fn restart(woo: &Woo, actor: &User, ip: Option<&str>) -> Result<Progress> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    let progress = start(woo).await?;
    audit::record(woo.db.writer(), &Event::by(actor, "woo.import", "woocommerce", ip)).await?;
    Ok(progress)
}

/// Where the import is.
pub async fn progress(woo: &Woo) -> Result<Progress> {
    let run = sqlx::query("SELECT state, started_at, finished_at, error FROM woo_import_run WHERE id = 1")
        .fetch_one(woo.db.pool())
        .await?;
    let rows = sqlx::query("SELECT resource, state, done, total FROM woo_import").fetch_all(woo.db.pool()).await?;
    let mut parts: Vec<Part> = rows
        .iter()
        .map(|r| {
            Ok(Part {
                resource: r.try_get("resource")?,
                state: r.try_get("state")?,
                done: r.try_get("done")?,
                total: r.try_get("total")?,
            })
        })
        .collect::<Result<_>>()?;
    parts.sort_by_key(|p| RESOURCES.iter().position(|r| *r == p.resource));
    let started_at: Option<i64> = run.try_get("started_at")?;
    let finished_at: Option<i64> = run.try_get("finished_at")?;
    let mut progress = Progress {
        state: run.try_get("state")?,
        parts,
        started_at,
        finished_at,
        error: run.try_get("error")?,
        ..Progress::default()
    };
    if let Some(started) = started_at {
        let elapsed = (finished_at.unwrap_or_else(now) - started).max(1) as f64;
        progress.rate = progress.done() as f64 / elapsed;
        if progress.state == "running" && progress.rate > 0.0 {
            let left: i64 = progress.parts.iter().filter_map(|p| p.total.map(|t| (t - p.done).max(0))).sum();
            progress.seconds_left = Some((left as f64 / progress.rate).ceil() as i64);
        }
    }
    Ok(progress)
}

/// What a stretch of import came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Stretch {
    /// Everything is imported.
    Finished,
    /// More to do; go on at once.
    More,
    /// The store asked us to wait: go on at this time.
    WaitUntil(i64),
    /// Another process holds the import.
    Busy,
}

/// Runs the import for about `budget` as `runner` (a name for this process).
pub async fn run(woo: &Woo, runner: &str, budget: Duration) -> Result<Stretch> {
    let now_at = now();
    let claimed = sqlx::query(
        "UPDATE woo_import_run SET runner = $1, lease_until = $2 WHERE id = 1 AND state = 'running' \
         AND (runner IS NULL OR runner = $1 OR lease_until < $3)",
    )
    .bind(runner)
    .bind(now_at + LEASE_SECS)
    .bind(now_at)
    .execute(woo.db.writer())
    .await?;
    if claimed.rows_affected() == 0 {
        let state: String =
            sqlx::query_scalar("SELECT state FROM woo_import_run WHERE id = 1").fetch_one(woo.db.pool()).await?;
        return Ok(if state == "running" { Stretch::Busy } else { Stretch::Finished });
    }
    let Some(store) = super::connection::store(woo).await? else {
        fail(woo, "the store was disconnected").await?;
        return Ok(Stretch::Finished);
    };
    let concurrency = super::connection::stored(woo.db.pool()).await?.concurrency.clamp(1, 8) as usize;
    let started = Instant::now();
    let mut importer = Importer { woo, store: &store, concurrency, runner, currency: None };
    while started.elapsed() < budget {
        let next = sqlx::query("SELECT resource, next_page FROM woo_import WHERE state <> 'done' ORDER BY resource")
            .fetch_all(woo.db.pool())
            .await?;
        let Some((resource, page)) = RESOURCES
            .iter()
            .filter_map(|r| next.iter().find(|row| row.try_get::<String, _>("resource").ok().as_deref() == Some(r)))
            .map(|row| Ok::<_, Error>((row.try_get::<String, _>("resource")?, row.try_get::<i64, _>("next_page")?)))
            .next()
            .transpose()?
        else {
            finish(woo).await?;
            return Ok(Stretch::Finished);
        };
        match importer.pages(&resource, page, started + budget).await {
            Ok(()) => {}
            Err(Stop::Wait(at)) => return Ok(Stretch::WaitUntil(at)),
            Err(Stop::Lost) => return Ok(Stretch::Busy),
            Err(Stop::Failed(why)) => {
                fail(woo, &why).await?;
                return Ok(Stretch::Finished);
            }
            Err(Stop::Ours(e)) => return Err(e),
        }
        sqlx::query("UPDATE woo_import_run SET lease_until = $1 WHERE id = 1 AND runner = $2")
            .bind(now() + LEASE_SECS)
            .bind(runner)
            .execute(woo.db.writer())
            .await?;
    }
    Ok(Stretch::More)
}

/// Why a stretch stopped early.
enum Stop {
    /// The store asked to wait until then.
    Wait(i64),
    /// The store refused in a way waiting cannot mend: the import failed.
    Failed(String),
    /// Another process took the import over.
    Lost,
    Ours(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Ours(e)
    }
}

impl From<sqlx::Error> for Stop {
    fn from(e: sqlx::Error) -> Stop {
        Stop::Ours(e.into())
    }
}

struct Importer<'a> {
    woo: &'a Woo,
    store: &'a Store,
    concurrency: usize,
    runner: &'a str,
    /// The shop's currency, read once a stretch.
    currency: Option<String>,
}

/// A page of a list as read: its objects, and what the paging headers said.
struct Fetched {
    objects: Objects,
    total: Option<u64>,
    total_pages: Option<u64>,
}

enum Objects {
    Terms(Vec<model::Term>),
    Customers(Vec<model::Customer>),
    Products(Vec<model::Product>),
    Coupons(Vec<model::Coupon>),
    Orders(Vec<model::Order>),
    Refunds(Vec<model::Refund>),
}

impl Objects {
    fn len(&self) -> usize {
        match self {
            Objects::Terms(v) => v.len(),
            Objects::Customers(v) => v.len(),
            Objects::Products(v) => v.len(),
            Objects::Coupons(v) => v.len(),
            Objects::Orders(v) => v.len(),
            Objects::Refunds(v) => v.len(),
        }
    }
}

/// Why a page was not read.
enum Unread {
    Call(CallError),
    Unreadable(String),
}

impl Fetched {
    /// Asks for a page of `resource` and reads it into its objects.
    async fn read(
        store: &Store,
        path: &str,
        query: &[(&str, String)],
        resource: &str,
    ) -> std::result::Result<Fetched, Unread> {
        let answer = store.get(path, query).await.map_err(Unread::Call)?;
        fn read<T: serde::de::DeserializeOwned>(body: &[u8]) -> std::result::Result<Vec<T>, Unread> {
            serde_json::from_slice(body).map_err(|e| Unread::Unreadable(e.to_string()))
        }
        let body = &answer.body;
        let objects = match resource {
            "customers" => Objects::Customers(read(body)?),
            "products" => Objects::Products(read(body)?),
            "coupons" => Objects::Coupons(read(body)?),
            "orders" => Objects::Orders(read(body)?),
            "refunds" => Objects::Refunds(read(body)?),
            _ => Objects::Terms(read(body)?),
        };
        Ok(Fetched { objects, total: answer.total, total_pages: answer.total_pages })
    }
}

impl Importer<'_> {
    /// Reads and writes the pages of `resource` from `page` on, with `concurrency`
    /// requests always under way: the next pages are on their way (and read into objects,
    /// on another thread) while one is written. No request is sent after `until`; those
    /// under way are still written.
    async fn pages(&mut self, resource: &str, page: i64, until: Instant) -> std::result::Result<(), Stop> {
        if resource == "notes" {
            return self.notes().await;
        }
        if resource == "refunds" && !self.has_refunds_list().await? {
            return self.refunds_per_order().await;
        }
        let (path, query) = list(resource);
        let mut asked = VecDeque::new();
        let mut next = page;
        // The last page, once the store said (`X-WP-TotalPages`): none is asked past it.
        let mut last_page: Option<i64> = None;
        let outcome = loop {
            while asked.len() < self.concurrency
                && (next == page || Instant::now() < until)
                && last_page.is_none_or(|last| next <= last)
            {
                let (store, path, resource) = (self.store.clone(), path.clone(), resource.to_owned());
                let mut query = query.clone();
                query.push(("page", next.to_string()));
                asked.push_back((
                    next,
                    tokio::spawn(async move { Fetched::read(&store, &path, &query, &resource).await }),
                ));
                next += 1;
            }
            let Some((page, answer)) = asked.pop_front() else { break Ok(()) };
            let fetched = match answer.await {
                Ok(Ok(fetched)) => fetched,
                Ok(Err(Unread::Call(e))) => break Err(self.stopped(e).await),
                Ok(Err(Unread::Unreadable(e))) => {
                    break Err(Stop::Failed(format!("the store's {resource} could not be read: {e}")));
                }
                Err(e) => break Err(Stop::Ours(Error::internal(format!("reading a page failed: {e}")))),
            };
            if let Some(pages) = fetched.total_pages {
                last_page = Some(pages as i64);
            }
            let last = fetched.objects.len() < PER_PAGE;
            self.write(resource, page, fetched).await?;
            if last {
                break Ok(());
            }
        };
        // Pages past the last one, or after a failure, are not written.
        for (_, answer) in asked {
            answer.abort();
        }
        outcome
    }

    /// Writes one page, with the cursor that follows it and the renewed lease, in one
    /// transaction.
    async fn write(&mut self, resource: &str, page: i64, fetched: Fetched) -> std::result::Result<(), Stop> {
        let backend = self.woo.db.backend();
        if self.currency.is_none() {
            self.currency = Some(crate::settings::get(&self.woo.db).await?.currency);
        }
        let currency = self.currency.clone().unwrap_or_default();
        let count = fetched.objects.len();
        let mut tx = self.woo.db.begin().await?;
        let renewed = sqlx::query("UPDATE woo_import_run SET lease_until = $1 WHERE id = 1 AND runner = $2")
            .bind(now() + LEASE_SECS)
            .bind(self.runner)
            .execute(&mut *tx)
            .await?;
        if renewed.rows_affected() == 0 {
            // Another process took the import over: what it writes is not written twice.
            return Err(Stop::Lost);
        }
        match fetched.objects {
            Objects::Terms(terms) => {
                let kind = match resource {
                    "categories" => Terms::Categories,
                    "tags" => Terms::Tags,
                    _ => Terms::Attributes,
                };
                apply::terms(&mut tx, backend, kind, &terms).await?;
            }
            Objects::Customers(customers) => drop(apply::customers(&mut tx, backend, &customers).await?),
            Objects::Products(products) => {
                let (_, variable) = apply::products(&mut tx, backend, &currency, &products).await?;
                self.variations(&mut tx, &currency, &variable).await?;
            }
            Objects::Coupons(coupons) => drop(apply::coupons(&mut tx, backend, &currency, &coupons).await?),
            Objects::Orders(orders) => drop(apply::orders(&mut tx, backend, &orders, Mode::Import).await?),
            Objects::Refunds(refunds) => drop(apply::refunds(&mut tx, backend, &refunds, Mode::Import).await?),
        }
        let last = count < PER_PAGE;
        sqlx::query(
            "UPDATE woo_import SET next_page = $1, done = done + $2, total = COALESCE($3, total), \
             started_at = COALESCE(started_at, $4), state = $5, finished_at = $6 WHERE resource = $7",
        )
        .bind(page + 1)
        .bind(count as i64)
        .bind(fetched.total.map(|t| t as i64))
        .bind(now())
        .bind(if last { "done" } else { "running" })
        .bind(last.then(now))
        .bind(resource)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The variations of the variable products of a page, read together.
    async fn variations(&mut self, tx: &mut Tx, currency: &str, products: &[i64]) -> std::result::Result<(), Stop> {
        let store = self.store;
        for chunk in products.chunks(self.concurrency.max(1)) {
            let answers = futures_util::future::join_all(chunk.iter().map(|id| {
                let path = format!("/products/{id}/variations");
                async move { store.get(&path, &[("per_page", "100".into())]).await }
            }))
            .await;
            for (id, answer) in chunk.iter().zip(answers) {
                let answer = match answer {
                    Ok(answer) => answer,
                    Err(e) => return Err(self.stopped(e).await),
                };
                let variations: Vec<model::Product> = answer.json().map_err(|e| Stop::Failed(e.to_string()))?;
                apply::variations(tx, self.woo.db.backend(), currency, *id, &variations).await?;
            }
        }
        Ok(())
    }

    /// Whether the store has the list of all refunds (WooCommerce 9.0 and later).
    async fn has_refunds_list(&self) -> Result<bool> {
        let stored = super::connection::stored(self.woo.db.pool()).await?;
        let major: u32 = stored.facts.woocommerce_version.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
        Ok(major >= 9)
    }

    /// Before WooCommerce 9: the refunds of each refunded order, an order at a time (the
    /// cursor is the last order done).
    async fn refunds_per_order(&mut self) -> std::result::Result<(), Stop> {
        let after: i64 = sqlx::query_scalar("SELECT next_page FROM woo_import WHERE resource = 'refunds'")
            .fetch_one(self.woo.db.pool())
            .await?;
        let orders: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM orders WHERE refunded_total > 0 AND id > $1 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(self.concurrency as i64 * 4)
                .fetch_all(self.woo.db.pool())
                .await?;
        self.per_order("refunds", &orders, "refunds").await
    }

    /// The notes of the newest orders, newest first (a request an order).
    async fn notes(&mut self) -> std::result::Result<(), Stop> {
        let done: i64 = sqlx::query_scalar("SELECT done FROM woo_import WHERE resource = 'notes'")
            .fetch_one(self.woo.db.pool())
            .await?;
        let orders: Vec<i64> = sqlx::query_scalar("SELECT id FROM orders ORDER BY id DESC LIMIT $1 OFFSET $2")
            .bind((self.concurrency as i64 * 4).min((NOTES_FOR_ORDERS - done).max(0)))
            .bind(done)
            .fetch_all(self.woo.db.pool())
            .await?;
        self.per_order("notes", &orders, "notes").await
    }

    /// Reads `/orders/{id}/{edge}` for each of `orders` and writes it; the resource is done
    /// when none are left.
    async fn per_order(&mut self, resource: &str, orders: &[i64], edge: &str) -> std::result::Result<(), Stop> {
        if orders.is_empty() {
            sqlx::query("UPDATE woo_import SET state = 'done', finished_at = $1 WHERE resource = $2")
                .bind(now())
                .bind(resource)
                .execute(self.woo.db.writer())
                .await?;
            return Ok(());
        }
        let store = self.store;
        for chunk in orders.chunks(self.concurrency) {
            let answers = futures_util::future::join_all(chunk.iter().map(|id| {
                let path = format!("/orders/{id}/{edge}");
                async move { store.get(&path, &[("per_page", "100".into())]).await }
            }))
            .await;
            let mut tx = self.woo.db.begin().await?;
            for (id, answer) in chunk.iter().zip(answers) {
                let answer = match answer {
                    Ok(answer) => answer,
                    Err(CallError::Refused { status: 404, .. }) => continue,
                    Err(e) => return Err(self.stopped(e).await),
                };
                if edge == "notes" {
                    let notes: Vec<model::Note> = answer.json().map_err(|e| Stop::Failed(e.to_string()))?;
                    apply::notes(&mut tx, *id, &notes).await?;
                } else {
                    let mut refunds: Vec<model::Refund> = answer.json().map_err(|e| Stop::Failed(e.to_string()))?;
                    for refund in &mut refunds {
                        refund.parent_id = *id;
                    }
                    apply::refunds(&mut tx, self.woo.db.backend(), &refunds, Mode::Import).await?;
                }
            }
            let last = chunk.last().copied().unwrap_or(0);
            sqlx::query(
                "UPDATE woo_import SET done = done + $1, state = 'running', started_at = COALESCE(started_at, $2), \
                 next_page = CASE WHEN $3 = 'refunds' THEN $4 ELSE next_page END WHERE resource = $3",
            )
            .bind(chunk.len() as i64)
            .bind(now())
            .bind(resource)
            .bind(last)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// What a failed call means for the import: wait and resume, or stop.
    async fn stopped(&mut self, error: CallError) -> Stop {
        if let Some(wait) = error.retry_after() {
            // Fewer requests at once after the store pushed back.
            self.concurrency = (self.concurrency / 2).max(1);
            let _ = super::connection::note_error(&self.woo.db, &error.to_string()).await;
            tracing::info!(runner = self.runner, error = %error, "the import waits for the store");
            return Stop::Wait(now() + wait.as_secs() as i64);
        }
        if error.is_transient() {
            let _ = super::connection::note_error(&self.woo.db, &error.to_string()).await;
            return Stop::Wait(now() + 30);
        }
        Stop::Failed(error.to_string())
    }
}

/// The list a resource is read from, and its query.
fn list(resource: &str) -> (String, Vec<(&'static str, String)>) {
    let mut query = vec![("per_page", PER_PAGE.to_string())];
    let path = match resource {
        "categories" => "/products/categories",
        "tags" => "/products/tags",
        "attributes" => "/products/attributes",
        "customers" => {
            query.push(("role", "all".into()));
            query.push(("orderby", "id".into()));
            query.push(("order", "asc".into()));
            "/customers"
        }
        "products" => {
            query.extend([
                ("orderby", "id".into()),
                ("order", "asc".into()),
                ("status", "any".into()),
                ("_fields", PRODUCT_FIELDS.into()),
            ]);
            "/products"
        }
        "coupons" => {
            query.extend([("orderby", "id".into()), ("order", "asc".into())]);
            "/coupons"
        }
        "orders" => {
            query.extend([
                ("orderby", "id".into()),
                ("order", "asc".into()),
                ("status", "any".into()),
                ("_fields", ORDER_FIELDS.into()),
            ]);
            "/orders"
        }
        _ => {
            query.extend([("orderby", "id".into()), ("order", "asc".into())]);
            "/refunds"
        }
    };
    (path.to_owned(), query)
}

/// Ends the import: the daily sales rebuilt from the imported history, the reconcile's
/// watermarks set to when the import began (what changed since, it fetches), its first
/// pass queued, and SQLite's write-ahead log given back to the disk.
async fn finish(woo: &Woo) -> Result<()> {
    let tz = crate::settings::get(&woo.db).await?.tz();
    crate::sales_daily::rebuild(&woo.db, tz).await?;
    let started: Option<i64> =
        sqlx::query_scalar("SELECT started_at FROM woo_import_run WHERE id = 1").fetch_one(woo.db.pool()).await?;
    let mut tx = woo.db.begin().await?;
    sqlx::query(
        "UPDATE woo_import_run SET state = 'done', finished_at = $1, runner = NULL, lease_until = NULL WHERE id = 1",
    )
    .bind(now())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE woo_connection SET orders_watermark = $1, products_watermark = $1, coupons_watermark = $1, \
         customers_scanned_at = $1 WHERE id = 1",
    )
    .bind(started)
    .execute(&mut *tx)
    .await?;
    super::reconcile::schedule(&mut tx, now()).await?;
    tx.commit().await?;
    woo.db.shrink_log().await
}

async fn fail(woo: &Woo, why: &str) -> Result<()> {
    sqlx::query("UPDATE woo_import_run SET state = 'failed', error = $1, finished_at = $2, runner = NULL WHERE id = 1")
        .bind(why)
        .bind(now())
        .execute(woo.db.writer())
        .await?;
    super::connection::note_error(&woo.db, &format!("the import stopped: {why}")).await
}
