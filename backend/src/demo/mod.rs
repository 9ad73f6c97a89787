//! `backroom demo`: a realistic, deterministic shop — products (some variable), customers
//! from several countries, orders over the last two years with notes, refunds and payment
//! transactions, and the daily sales figures. The same seed gives the same shop (relative
//! to the hour it is loaded in).
//!
//! Speed matters (a million orders in under two minutes on SQLite): one thread generates
//! batches while the database writes the previous one, as multi-row inserts in one
//! transaction per batch.

mod catalog;
mod people;

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng, seq::IndexedRandom};
use rand_chacha::ChaCha8Rng;
use sqlx::{AssertSqlSafe, Connection};

use crate::{
    Error, Result,
    clock::now,
    db::{Backend, Db, Value as V, insert_rows},
    orders::OrderStatus,
    sales_daily::{Accumulator, SaleFacts, SoldLine},
    settings,
};
use catalog::*;
use people::{COUNTRIES, Country, ascii_fold};

pub const MAX_ORDERS: i64 = 10_000_000;
const ORDERS_PER_BATCH: usize = 5_000;
const TWO_YEARS_SECS: i64 = 730 * 24 * 3600;

#[derive(Clone, Copy, Debug)]
pub struct DemoOptions {
    pub orders: i64,
    pub seed: u64,
}

#[derive(Clone, Debug, Default)]
pub struct DemoSummary {
    pub products: u64,
    pub variations: u64,
    pub customers: u64,
    pub orders: u64,
    pub elapsed: Duration,
}

/// Fills an empty shop with demo data, calling `progress(orders_written)` per batch.
///
/// Fails with `Invalid` for a count out of range and `Conflict` when the shop already has
/// orders or products (demo data never mixes with a real shop's).
pub async fn load(db: &Db, options: DemoOptions, progress: impl Fn(u64)) -> Result<DemoSummary> {
    if !(0..=MAX_ORDERS).contains(&options.orders) {
        return Err(Error::invalid(format!("the number of demo orders must be between 0 and {MAX_ORDERS}")));
    }
    let existing: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT id FROM orders UNION ALL SELECT id FROM products LIMIT 1) AS existing",
    )
    .fetch_one(db.pool())
    .await?;
    if existing > 0 {
        return Err(Error::Conflict(
            "this shop already has orders or products; demo data goes into an empty shop".into(),
        ));
    }
    let started = Instant::now();
    let store = settings::get(db).await?;
    let tz = store.tz();
    let anchor = now() / 3600 * 3600;
    let mut generator = Generator::new(options.seed, store.currency.clone(), anchor, options.orders as u64);

    // One connection of its own, so no setting made for the load outlives it and the index
    // builds (slow by design) raise no warnings, and one transaction: the shop gets all of
    // the demo data or none of it. On SQLite the page cache is made large enough to keep
    // the tables being filled in memory.
    let mut conn = db.bulk_connection().await?;
    if db.backend() == Backend::Sqlite {
        sqlx::query("PRAGMA cache_size = -262144").execute(&mut conn).await?;
    }
    let mut tx = conn.begin_with(db.backend().write_transaction()).await?;
    if db.backend() == Backend::Postgres && is_superuser(&mut tx).await? {
        // Skip the per-row foreign-key triggers during the load, as pg_restore does; the
        // generator writes every parent before its children. Reverts at commit.
        sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await?;
    }
    // Building the secondary indexes once at the end beats updating them row by row.
    let indexes = secondary_indexes(&mut tx, db.backend()).await?;
    for (name, _) in &indexes {
        sqlx::query(AssertSqlSafe(format!("DROP INDEX {name}"))).execute(&mut *tx).await?;
    }

    let mut summary = DemoSummary::default();
    let catalogue = generator.catalogue();
    summary.products = catalogue[0].len() as u64;
    summary.variations = catalogue[1].len() as u64;
    let customers = generator.customers();
    summary.customers = customers.len() as u64;
    let mut tables = catalogue;
    tables.push(customers);
    write_tables(&mut tx, db.backend(), &tables).await?;

    // Generate on a blocking thread while this task writes the previous batch.
    let (sender, mut batches) = tokio::sync::mpsc::channel::<(Vec<Rows>, Accumulator)>(2);
    let producer = tokio::task::spawn_blocking(move || {
        while let Some(batch) = generator.next_orders(tz) {
            if sender.blocking_send(batch).is_err() {
                break;
            }
        }
    });
    let mut sales = Accumulator::default();
    while let Some((tables, batch_sales)) = batches.recv().await {
        summary.orders += tables[0].len() as u64;
        write_tables(&mut tx, db.backend(), &tables).await?;
        sales.merge(batch_sales);
        progress(summary.orders);
    }
    producer.await?;
    for (_, create) in &indexes {
        sqlx::query(AssertSqlSafe(create.clone())).execute(&mut *tx).await?;
    }
    sales.replace_all(&mut tx, db.backend()).await?;
    tx.commit().await?;
    conn.close().await?;
    db.shrink_log().await?;
    if db.backend() == Backend::Postgres {
        advance_identity_sequences(db).await?;
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Clears every order, product and customer — the demo's data — and the figures kept from
/// them, in one transaction: before a real store's data comes in, so the two never mix.
pub async fn clear(db: &Db) -> Result<()> {
    let mut tx = db.begin().await?;
    for table in DEMO_TABLES.iter().rev().chain(&["product_sales_daily", "sales_daily"]) {
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&mut *tx).await?;
    }
    sqlx::query("UPDATE sales_version SET version = version + 1 WHERE id = 1").execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The tables the demo fills, parents first.
const DEMO_TABLES: [&str; 12] = [
    "products",
    "product_variations",
    "customers",
    "orders",
    "order_items",
    "order_shipping_lines",
    "order_fee_lines",
    "order_coupon_lines",
    "order_notes",
    "refunds",
    "refund_lines",
    "payment_transactions",
];

/// The indexes of the demo's tables that no constraint needs: (name, statement that
/// creates it), read from the database itself so the migrations stay their one source.
async fn secondary_indexes(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<Vec<(String, String)>> {
    let tables = DEMO_TABLES.map(|t| format!("'{t}'")).join(", ");
    let sql = match backend {
        Backend::Sqlite => format!(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({tables})"
        ),
        Backend::Postgres => format!(
            "SELECT CAST(indexname AS TEXT), indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ({tables}) \
             AND indexname NOT IN (SELECT CAST(conname AS TEXT) FROM pg_constraint)"
        ),
    };
    Ok(sqlx::query_as(AssertSqlSafe(sql)).fetch_all(conn).await?)
}

async fn is_superuser(conn: &mut sqlx::AnyConnection) -> Result<bool> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_roles WHERE rolname = current_user AND rolsuper")
        .fetch_one(conn)
        .await?;
    Ok(count > 0)
}

/// Explicit ids leave PostgreSQL's identity sequences behind; move them past the data.
async fn advance_identity_sequences(db: &Db) -> Result<()> {
    for table in DEMO_TABLES {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )))
        .execute(db.writer())
        .await?;
    }
    Ok(())
}

/// Rows for one table, flattened row by row.
struct Rows {
    table: &'static str,
    columns: &'static [&'static str],
    values: Vec<V>,
}

impl Rows {
    fn new(table: &'static str, columns: &'static [&'static str]) -> Rows {
        Rows { table, columns, values: Vec::new() }
    }

    fn len(&self) -> usize {
        self.values.len() / self.columns.len()
    }

    fn push<const N: usize>(&mut self, row: [V; N]) {
        debug_assert_eq!(N, self.columns.len(), "{}", self.table);
        self.values.extend(row);
    }
}

/// Writes tables in order, parents first.
async fn write_tables(conn: &mut sqlx::AnyConnection, backend: Backend, tables: &[Rows]) -> Result<()> {
    for rows in tables {
        insert_rows(conn, backend, rows.table, rows.columns, &rows.values).await?;
    }
    Ok(())
}

struct Product {
    id: i64,
    name: String,
    sku: String,
    price: i64,
    tax_class: &'static str,
    /// (variation id, sku, price, label)
    variations: Vec<(i64, String, i64, String)>,
}

struct Customer {
    id: i64,
    first_name: String,
    last_name: String,
    email: String,
    phone: String,
    country: &'static Country,
    place: usize,
    house: u32,
    postcode: String,
}

struct Generator {
    rng: ChaCha8Rng,
    currency: String,
    anchor: i64,
    orders_total: u64,
    orders_done: u64,
    products: Vec<Product>,
    customers: Vec<Customer>,
    next: Ids,
}

#[derive(Default)]
struct Ids {
    item: i64,
    shipping: i64,
    fee: i64,
    coupon: i64,
    note: i64,
    refund: i64,
    refund_line: i64,
    transaction: i64,
}

impl Ids {
    fn take(counter: &mut i64) -> i64 {
        *counter += 1;
        *counter
    }
}

const ORDER_COLUMNS: &[&str] = &[
    "id",
    "number",
    "status",
    "currency",
    "customer_id",
    "billing_first_name",
    "billing_last_name",
    "billing_address_1",
    "billing_city",
    "billing_state",
    "billing_postcode",
    "billing_country",
    "billing_email",
    "billing_phone",
    "shipping_first_name",
    "shipping_last_name",
    "shipping_address_1",
    "shipping_city",
    "shipping_state",
    "shipping_postcode",
    "shipping_country",
    "payment_method",
    "payment_method_title",
    "discount_total",
    "discount_tax",
    "shipping_total",
    "shipping_tax",
    "fee_total",
    "cart_tax",
    "total_tax",
    "total",
    "refunded_total",
    "items_count",
    "created_at",
    "updated_at",
    "paid_at",
    "completed_at",
];

/// `amount × rate`, rounded half up, for basis-point rates.
fn share(amount: i64, basis_points: i64) -> i64 {
    (amount * basis_points + 5_000) / 10_000
}

impl Generator {
    fn new(seed: u64, currency: String, anchor: i64, orders_total: u64) -> Generator {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            currency,
            anchor,
            orders_total,
            orders_done: 0,
            products: Vec::new(),
            customers: Vec::new(),
            next: Ids::default(),
        }
    }

    /// A price like 249.90: within the range, ending in 90 minor units.
    fn price(&mut self, (low, high): (i64, i64)) -> i64 {
        self.rng.random_range(low / 100..=high / 100) * 100 - 10
    }

    fn catalogue(&mut self) -> Vec<Rows> {
        let mut products = Rows::new(
            "products",
            &[
                "id",
                "kind",
                "name",
                "sku",
                "status",
                "regular_price",
                "sale_price",
                "tax_class",
                "manage_stock",
                "stock_quantity",
                "stock_status",
                "created_at",
                "updated_at",
            ],
        );
        let mut variations = Rows::new(
            "product_variations",
            &[
                "id",
                "product_id",
                "sku",
                "attributes",
                "regular_price",
                "sale_price",
                "manage_stock",
                "stock_quantity",
                "stock_status",
                "created_at",
                "updated_at",
            ],
        );
        let created = self.anchor - TWO_YEARS_SECS - 30 * 24 * 3600;
        let mut variation_id = 0;
        for (n, &(noun, range, variable, tax_class)) in NOUNS.iter().enumerate() {
            for (a, adjective) in ADJECTIVES.iter().enumerate() {
                let id = (n * ADJECTIVES.len() + a + 1) as i64;
                let name = format!("{adjective} {noun}");
                let sku = format!("BR-{id:04}");
                let regular = self.price(range);
                let sale = self.rng.random_bool(0.2).then(|| regular * 8 / 1000 * 100 - 10);
                let stock: i64 = self.rng.random_range(0..400);
                let stock_status = if stock == 0 { "outofstock" } else { "instock" };
                let mut product = Product {
                    id,
                    name: name.clone(),
                    sku: sku.clone(),
                    price: sale.unwrap_or(regular),
                    tax_class,
                    variations: vec![],
                };
                if variable {
                    let options: Vec<String> = if noun == "Sneakers" || noun == "T-Shirt" || noun == "Hoodie" {
                        SIZES.iter().flat_map(|s| COLOURS[..2].iter().map(move |c| format!("{s}/{c}"))).collect()
                    } else {
                        COLOURS.iter().map(|c| c.to_string()).collect()
                    };
                    for option in options {
                        variation_id += 1;
                        let (size, colour) =
                            option.split_once('/').map_or((None, option.as_str()), |(s, c)| (Some(s), c));
                        let attributes = match size {
                            Some(s) => serde_json::json!({"size": s, "colour": colour}),
                            None => serde_json::json!({"colour": colour}),
                        };
                        let v_sku = format!("{sku}-{}", option.replace('/', "-").to_uppercase());
                        let v_stock: i64 = self.rng.random_range(0..60);
                        variations.push([
                            variation_id.into(),
                            id.into(),
                            v_sku.clone().into(),
                            attributes.to_string().into(),
                            regular.into(),
                            sale.into(),
                            1i64.into(),
                            v_stock.into(),
                            (if v_stock == 0 { "outofstock" } else { "instock" }).into(),
                            created.into(),
                            created.into(),
                        ]);
                        product.variations.push((
                            variation_id,
                            v_sku,
                            sale.unwrap_or(regular),
                            option.replace('/', ", "),
                        ));
                    }
                }
                products.push([
                    id.into(),
                    (if variable { "variable" } else { "simple" }).into(),
                    name.into(),
                    sku.into(),
                    "publish".into(),
                    (!variable).then_some(regular).into(),
                    if variable { None.into() } else { sale.into() },
                    tax_class.into(),
                    i64::from(!variable).into(),
                    (!variable).then_some(stock).into(),
                    stock_status.into(),
                    created.into(),
                    created.into(),
                ]);
                self.products.push(product);
            }
        }
        vec![products, variations]
    }

    fn customers(&mut self) -> Rows {
        let count = (self.orders_total / 8).clamp(20, 250_000) as i64;
        let mut rows = Rows::new(
            "customers",
            &["id", "email", "first_name", "last_name", "phone", "country", "city", "created_at"],
        );
        for id in 1..=count {
            let mut pick = self.rng.random_range(0..100u32);
            let country = COUNTRIES
                .iter()
                .find(|c| {
                    let hit = pick < c.weight;
                    pick = pick.saturating_sub(c.weight);
                    hit
                })
                .unwrap_or(&COUNTRIES[0]);
            let first_name = country.first_names.choose(&mut self.rng).copied().unwrap_or("Ada").to_owned();
            let last_name = country.last_names.choose(&mut self.rng).copied().unwrap_or("Lovelace").to_owned();
            let email = format!("{}.{}{id}@example.com", ascii_fold(&first_name), ascii_fold(&last_name));
            let subscriber: u64 = self.rng.random_range(0..10u64.pow(country.phone_digits));
            let phone = format!("{}{subscriber:0width$}", country.phone_prefix, width = country.phone_digits as usize);
            let place = self.rng.random_range(0..country.places.len());
            let postcode = format!("{}{:03}", country.places[place].2, self.rng.random_range(0..1000));
            let created_at = self.anchor - TWO_YEARS_SECS + self.rng.random_range(0..TWO_YEARS_SECS / 2);
            rows.push([
                id.into(),
                email.clone().into(),
                first_name.clone().into(),
                last_name.clone().into(),
                phone.clone().into(),
                country.code.into(),
                country.places[place].0.into(),
                created_at.into(),
            ]);
            let house = self.rng.random_range(1..200);
            self.customers.push(Customer { id, first_name, last_name, email, phone, country, place, house, postcode });
        }
        rows
    }

    /// The creation time of order `i` of `n`: spread over two years, denser lately (a
    /// growing shop), ascending so ids follow time.
    fn order_time(&mut self, i: u64) -> i64 {
        let u = (i as f64 + self.rng.random::<f64>()) / self.orders_total.max(1) as f64;
        // Density 0.5 + t on [0, 1]; its inverse CDF:
        let t = -0.5 + (0.25 + 2.0 * u).sqrt();
        self.anchor - TWO_YEARS_SECS + (t * TWO_YEARS_SECS as f64) as i64
    }

    fn status(&mut self, age_days: i64) -> OrderStatus {
        use OrderStatus::*;
        let r = self.rng.random_range(0..100);
        if age_days < 2 {
            match r {
                0..10 => Pending,
                10..65 => Processing,
                65..72 => OnHold,
                72..92 => Completed,
                92..96 => Failed,
                _ => Cancelled,
            }
        } else {
            match r {
                0..2 => Pending,
                2..3 => OnHold,
                3..84 => Completed,
                84..90 => Cancelled,
                90..95 => Refunded,
                _ => Failed,
            }
        }
    }

    /// The next batch of orders with all their lines, or `None` when done.
    fn next_orders(&mut self, tz: chrono_tz::Tz) -> Option<(Vec<Rows>, Accumulator)> {
        if self.orders_done >= self.orders_total {
            return None;
        }
        let mut orders = Rows::new("orders", ORDER_COLUMNS);
        let mut items = Rows::new("order_items", crate::orders::ITEM_COLUMNS);
        let mut shipping =
            Rows::new("order_shipping_lines", &["id", "order_id", "method_id", "method_title", "total", "total_tax"]);
        let mut fees = Rows::new("order_fee_lines", &["id", "order_id", "name", "total", "total_tax"]);
        let mut coupons = Rows::new("order_coupon_lines", &["id", "order_id", "code", "discount", "discount_tax"]);
        let mut notes = Rows::new("order_notes", &["id", "order_id", "is_customer_note", "body", "created_at"]);
        let mut refunds = Rows::new("refunds", &["id", "order_id", "amount", "reason", "restock", "created_at"]);
        let mut refund_lines =
            Rows::new("refund_lines", &["id", "refund_id", "order_item_id", "quantity", "amount", "tax"]);
        let mut transactions = Rows::new(
            "payment_transactions",
            &["id", "order_id", "gateway", "transaction_id", "kind", "amount", "currency", "status", "created_at"],
        );
        let mut sales = Accumulator::default();
        let end = (self.orders_done + ORDERS_PER_BATCH as u64).min(self.orders_total);
        for i in self.orders_done..end {
            let id = i as i64 + 1;
            let created_at = self.order_time(i);
            let status = self.status((self.anchor - created_at) / 86_400);
            let status_name = status.as_str();
            // Returning customers are common: skew towards the first customers; 10 % are guests.
            let skew: f64 = self.rng.random::<f64>().powi(2);
            let customer = &self.customers[(skew * self.customers.len() as f64) as usize % self.customers.len()];
            let guest = self.rng.random_bool(0.1);
            let (gateway, gateway_title, _) = {
                let mut pick = self.rng.random_range(0..100u32);
                *PAYMENT_METHODS
                    .iter()
                    .find(|m| {
                        let hit = pick < m.2;
                        pick = pick.saturating_sub(m.2);
                        hit
                    })
                    .unwrap_or(&PAYMENT_METHODS[0])
            };
            let coupon_bp = if self.rng.random_bool(0.1) { 1_000 } else { 0 };

            // Lines: unit prices exclude tax, as WooCommerce stores them.
            let mut first_item = None;
            let mut sold = Vec::with_capacity(4);
            let (
                mut subtotal_sum,
                mut discount_sum,
                mut discount_tax_sum,
                mut line_tax_sum,
                mut line_total_sum,
                mut quantity_sum,
            ) = (0, 0, 0, 0, 0, 0);
            for _ in 0..self.rng.random_range(1..=4) {
                let product = &self.products[self.rng.random_range(0..self.products.len())];
                let (variation_id, sku, unit, name) = match product.variations.choose(&mut self.rng) {
                    Some((vid, sku, price, label)) => {
                        (Some(*vid), sku.clone(), *price, format!("{} – {label}", product.name))
                    }
                    None => (None, product.sku.clone(), product.price, product.name.clone()),
                };
                let quantity: i64 = if self.rng.random_bool(0.8) { 1 } else { self.rng.random_range(2..=3) };
                let rate = tax_rate_bp(product.tax_class);
                let subtotal = unit * quantity;
                let discount = share(subtotal, coupon_bp);
                let total = subtotal - discount;
                let (subtotal_tax, total_tax) = (share(subtotal, rate), share(total, rate));
                let item_id = Ids::take(&mut self.next.item);
                // A unit as paid: after the coupon, with its tax (what a refund of one gives back).
                first_item.get_or_insert((item_id, total / quantity, total_tax / quantity));
                sold.push(SoldLine { product_id: Some(product.id), name: name.clone(), quantity, revenue: total });
                items.push([
                    item_id.into(),
                    id.into(),
                    product.id.into(),
                    variation_id.into(),
                    name.into(),
                    sku.into(),
                    quantity.into(),
                    unit.into(),
                    subtotal.into(),
                    subtotal_tax.into(),
                    total.into(),
                    total_tax.into(),
                    product.tax_class.into(),
                ]);
                subtotal_sum += subtotal;
                discount_sum += discount;
                discount_tax_sum += subtotal_tax - total_tax;
                line_tax_sum += total_tax;
                line_total_sum += total;
                quantity_sum += quantity;
            }
            let (shipping_total, shipping_tax) =
                if subtotal_sum >= 150_000 { (0, 0) } else { (4_990, share(4_990, 2_000)) };
            shipping.push([
                Ids::take(&mut self.next.shipping).into(),
                id.into(),
                (if shipping_total == 0 { "free_shipping" } else { "flat_rate" }).into(),
                (if shipping_total == 0 { "Free shipping" } else { "Flat rate" }).into(),
                shipping_total.into(),
                shipping_tax.into(),
            ]);
            let (fee_total, fee_tax) = if gateway == "cod" { (1_500, share(1_500, 2_000)) } else { (0, 0) };
            if fee_total > 0 {
                fees.push([
                    Ids::take(&mut self.next.fee).into(),
                    id.into(),
                    "Cash on delivery fee".into(),
                    fee_total.into(),
                    fee_tax.into(),
                ]);
            }
            if coupon_bp > 0 {
                coupons.push([
                    Ids::take(&mut self.next.coupon).into(),
                    id.into(),
                    "WELCOME10".into(),
                    discount_sum.into(),
                    discount_tax_sum.into(),
                ]);
            }
            let cart_tax = line_tax_sum + fee_tax;
            let total_tax = cart_tax + shipping_tax;
            let total = line_total_sum + shipping_total + fee_total + total_tax;

            let paid = matches!(status, OrderStatus::Processing | OrderStatus::Completed | OrderStatus::Refunded)
                || (status == OrderStatus::OnHold && gateway != "bacs");
            let paid_at = paid.then_some(created_at + 60);
            let completed_at = matches!(status, OrderStatus::Completed | OrderStatus::Refunded)
                .then(|| (created_at + self.rng.random_range(86_400..5 * 86_400)).min(self.anchor));
            let mut updated_at = completed_at.or(paid_at).unwrap_or(created_at);
            let note = if status == OrderStatus::Pending {
                "Awaiting payment.".to_owned()
            } else {
                format!("Order status changed from Pending payment to {}.", status.label())
            };
            notes.push([Ids::take(&mut self.next.note).into(), id.into(), 0i64.into(), note.into(), updated_at.into()]);
            if status == OrderStatus::Completed && self.rng.random_bool(0.05) {
                notes.push([
                    Ids::take(&mut self.next.note).into(),
                    id.into(),
                    1i64.into(),
                    "Your order is on its way. Thank you for shopping with us!".into(),
                    updated_at.into(),
                ]);
            }
            let card = gateway == "iyzico" || gateway == "stripe";
            if paid || (status == OrderStatus::Failed && card) {
                let reference = match gateway {
                    "stripe" => format!("pi_{:024x}", self.rng.random::<u128>() >> 32),
                    "iyzico" => format!("{}", self.rng.random_range(10_000_000..99_999_999)),
                    _ => format!("{}-{id}", gateway.to_uppercase()),
                };
                transactions.push([
                    Ids::take(&mut self.next.transaction).into(),
                    id.into(),
                    gateway.into(),
                    reference.into(),
                    "payment".into(),
                    total.into(),
                    self.currency.as_str().into(),
                    (if paid { "succeeded" } else { "failed" }).into(),
                    paid_at.unwrap_or(created_at + 60).into(),
                ]);
            }

            // Refunds: refunded orders in full; a few completed ones in part (one unit).
            let refund = match status {
                OrderStatus::Refunded => Some((total, "Customer changed their mind", None)),
                OrderStatus::Completed if self.rng.random_bool(0.03) => first_item.map(|(item_id, unit, unit_tax)| {
                    (unit + unit_tax, "Damaged in transit", Some((item_id, unit, unit_tax)))
                }),
                _ => None,
            };
            let mut refunded_total = 0;
            if let Some((amount, reason, line)) = refund {
                let refund_id = Ids::take(&mut self.next.refund);
                let at = (created_at + self.rng.random_range(2 * 86_400..10 * 86_400)).min(self.anchor);
                refunds.push([
                    refund_id.into(),
                    id.into(),
                    amount.into(),
                    reason.into(),
                    i64::from(line.is_some()).into(),
                    at.into(),
                ]);
                if let Some((item_id, unit, unit_tax)) = line {
                    refund_lines.push([
                        Ids::take(&mut self.next.refund_line).into(),
                        refund_id.into(),
                        item_id.into(),
                        1i64.into(),
                        unit.into(),
                        unit_tax.into(),
                    ]);
                }
                if card {
                    transactions.push([
                        Ids::take(&mut self.next.transaction).into(),
                        id.into(),
                        gateway.into(),
                        format!("re_{refund_id}").into(),
                        "refund".into(),
                        amount.into(),
                        self.currency.as_str().into(),
                        "succeeded".into(),
                        at.into(),
                    ]);
                }
                sales.add_refund(tz, at, &self.currency, amount);
                refunded_total = amount;
                updated_at = updated_at.max(at);
            }

            sales.add_order(
                tz,
                &SaleFacts {
                    created_at,
                    status: status_name,
                    currency: &self.currency,
                    total,
                    items: quantity_sum,
                    tax: total_tax,
                    shipping: shipping_total,
                    lines: &sold,
                },
            );
            let c = customer;
            let (city, state, _, street) = c.country.places[c.place];
            let address = format!("{street} {}", c.house);
            orders.push([
                id.into(),
                id.to_string().into(),
                status_name.into(),
                self.currency.as_str().into(),
                (!guest).then_some(c.id).into(),
                c.first_name.as_str().into(),
                c.last_name.as_str().into(),
                address.clone().into(),
                city.into(),
                state.into(),
                c.postcode.clone().into(),
                c.country.code.into(),
                c.email.as_str().into(),
                c.phone.as_str().into(),
                c.first_name.as_str().into(),
                c.last_name.as_str().into(),
                address.into(),
                city.into(),
                state.into(),
                c.postcode.clone().into(),
                c.country.code.into(),
                gateway.into(),
                gateway_title.into(),
                discount_sum.into(),
                discount_tax_sum.into(),
                shipping_total.into(),
                shipping_tax.into(),
                fee_total.into(),
                cart_tax.into(),
                total_tax.into(),
                total.into(),
                refunded_total.into(),
                quantity_sum.into(),
                created_at.into(),
                updated_at.into(),
                paid_at.into(),
                completed_at.into(),
            ]);
        }
        self.orders_done = end;
        let tables = vec![orders, items, shipping, fees, coupons, notes, refunds, refund_lines, transactions];
        Some((tables.into_iter().filter(|t| t.len() > 0 || t.table == "orders").collect(), sales))
    }
}
