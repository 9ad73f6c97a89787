//! Writing what the store says into Backroom's tables: orders with their lines, refunds,
//! notes and payment transactions; products with their variations, categories, tags and
//! attributes; customers; coupons. Ids are the store's (refunds and notes keep theirs
//! beside Backroom's own). A copy is never replaced by an older one (`date_modified_gmt`):
//! late, stale deliveries change nothing.
//!
//! An import writes history in bulk ([`Mode::Import`]: no events, the daily figures
//! rebuilt once at the end). A live change ([`Mode::Live`]) keeps the daily figures as it
//! goes and publishes order events, so the ledger and WhatsApp act on what happened in the
//! store as on what happened in Backroom.

use std::collections::{HashMap, HashSet};

use chrono_tz::Tz;
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Row};
use vocabulary::money::minor_digits;

use super::model::{self, Decimal};
use crate::{
    Result,
    clock::now,
    db::{Backend, Value, bind_values, insert_new_rows, insert_rows, insert_sql, upsert_rows},
    orders::events::{OrderEvent, Subscribers, Tx},
    sales_daily::{Accumulator, SaleFacts, SoldLine},
};

/// How what is read is written.
#[derive(Clone, Copy)]
pub enum Mode<'a> {
    /// Bulk history: no events, the daily figures are rebuilt when the import ends.
    Import,
    /// A change as it happens: the daily figures follow, order events are published.
    Live { events: &'a Subscribers, tz: Tz },
}

/// What a write did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Written: new, or newer than the copy Backroom had.
    pub changed: u64,
    /// Not newer than the copy Backroom had (a duplicate, a late or stale delivery).
    pub unchanged: u64,
    /// Removed (trashed in the store).
    pub removed: u64,
    /// Of `changed`, those the store had changed more than [`SETTLED_SECS`] before: a
    /// webhook should have brought them by then (the reconcile counts them as missed).
    pub settled: u64,
}

impl Applied {
    pub fn add(&mut self, other: Applied) {
        self.changed += other.changed;
        self.unchanged += other.unchanged;
        self.removed += other.removed;
        self.settled += other.settled;
    }
}

/// How long a change may take to arrive by webhook (WooCommerce queues deliveries and runs
/// the queue about once a minute).
pub const SETTLED_SECS: i64 = 120;

impl Applied {
    /// Counts a copy written over Backroom's (`ours`, the store's stamped `theirs`): a
    /// change when it was newer, `settled` too when the store made it over
    /// [`SETTLED_SECS`] ago. A copy read again with the stamp of Backroom's own is written
    /// (see [`newer`]) but, most likely the same, counts as unchanged.
    fn written(&mut self, ours: Option<&Option<i64>>, theirs: Option<i64>) {
        if matches!(ours, Some(Some(ours)) if theirs == Some(*ours)) {
            self.unchanged += 1;
            return;
        }
        self.changed += 1;
        if theirs.is_some_and(|m| m < now() - SETTLED_SECS) {
            self.settled += 1;
        }
    }
}

/// Order statuses that are not orders in Backroom: drafts of an unfinished checkout.
const DRAFTS: [&str; 3] = ["checkout-draft", "draft", "auto-draft"];

fn money(amount: &Decimal, digits: u32) -> i64 {
    amount.minor(digits).unwrap_or(0)
}

/// Comma-separated ids for an `IN (…)` list (ids are integers: nothing to escape).
fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    ids.into_iter().map(|id| id.to_string()).collect::<Vec<_>>().join(", ")
}

/// The `columns` of the rows of `table` with `ids`.
async fn rows_of(
    tx: &mut Tx,
    table: &str,
    columns: &str,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<sqlx::any::AnyRow>> {
    let ids = id_list(ids);
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {columns} FROM {table} WHERE id IN ({ids})");
    Ok(sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut **tx).await?)
}

/// Which of `ids` are in `table`.
async fn existing(tx: &mut Tx, table: &str, ids: &HashSet<i64>) -> Result<HashSet<i64>> {
    let rows = rows_of(tx, table, "id", ids.iter().copied()).await?;
    rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
}

/// The `modified_at` of the copies Backroom has of `ids` in `table`.
pub(super) async fn modified(
    tx: &mut Tx,
    table: &str,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, Option<i64>>> {
    let rows = rows_of(tx, table, "id, modified_at", ids).await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("modified_at")?))).collect()
}

/// Whether the store's copy replaces Backroom's: there is none, or the store's is not
/// older. The store stamps changes to the second, so two changes in one second carry the
/// same stamp: a copy read from the store now wins such a tie; a delivery (which may be a
/// late one) with a tie is settled by a fetch before it gets here (`webhooks::apply`).
fn newer(ours: Option<&Option<i64>>, theirs: Option<i64>) -> bool {
    match ours {
        None => true,
        Some(None) => true,
        Some(Some(ours)) => theirs.is_some_and(|theirs| theirs >= *ours),
    }
}

/// What an order counted for in the daily figures.
struct Counted {
    facts: (i64, String, String, i64, i64, i64, i64),
    lines: Vec<SoldLine>,
}

impl Counted {
    fn sale(&self) -> SaleFacts<'_> {
        let (created_at, status, currency, total, items, tax, shipping) = &self.facts;
        SaleFacts {
            created_at: *created_at,
            status,
            currency,
            total: *total,
            items: *items,
            tax: *tax,
            shipping: *shipping,
            lines: &self.lines,
        }
    }
}

async fn counted(tx: &mut Tx, order_id: i64) -> Result<Option<Counted>> {
    Ok(counted_all(tx, &[order_id]).await?.remove(&order_id))
}

/// What each of `orders` Backroom has counts for in the daily figures, read together.
async fn counted_all(tx: &mut Tx, orders: &[i64]) -> Result<HashMap<i64, Counted>> {
    if orders.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, created_at, status, currency, total, items_count, total_tax, shipping_total FROM orders \
         WHERE id IN ({})",
        id_list(orders.iter().copied())
    )))
    .fetch_all(&mut **tx)
    .await?;
    let mut lines = SoldLine::of_orders(tx, orders).await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("id")?;
            let facts = (
                row.try_get("created_at")?,
                row.try_get("status")?,
                row.try_get("currency")?,
                row.try_get("total")?,
                row.try_get("items_count")?,
                row.try_get("total_tax")?,
                row.try_get("shipping_total")?,
            );
            Ok((id, Counted { facts, lines: lines.remove(&id).unwrap_or_default() }))
        })
        .collect()
}

/// What Backroom holds of an order from the store.
struct Held {
    modified: Option<i64>,
    fingerprint: Option<i64>,
}

impl Held {
    /// Whether the copy held is `order` as `rows` would write it.
    fn holds(&self, order: &model::Order, rows: &OrderRows) -> bool {
        self.modified.is_some()
            && self.modified == order.date_modified_gmt
            && self.fingerprint == Some(rows.fingerprint)
    }
}

/// The stamp and fingerprint of the copies Backroom holds of `ids`.
async fn held_orders(tx: &mut Tx, ids: impl IntoIterator<Item = i64>) -> Result<HashMap<i64, Held>> {
    let rows = rows_of(tx, "orders", "id, modified_at, fingerprint", ids).await?;
    rows.iter()
        .map(|r| {
            Ok((r.try_get("id")?, Held { modified: r.try_get("modified_at")?, fingerprint: r.try_get("fingerprint")? }))
        })
        .collect()
}

/// Which of the products, variations and customers orders name Backroom has.
struct Known {
    products: HashSet<i64>,
    variations: HashSet<i64>,
    customers: HashSet<i64>,
}

/// The rows an order is written as, in its tables' columns.
#[derive(Default)]
struct OrderRows {
    /// A digest of the rest, written with the order.
    fingerprint: i64,
    order: Vec<Value>,
    items: Vec<Value>,
    shipping: Vec<Value>,
    fees: Vec<Value>,
    coupons: Vec<Value>,
    payments: Vec<Value>,
}

impl OrderRows {
    fn of(order: &model::Order, known: &Known, now: i64) -> OrderRows {
        let mut rows = OrderRows::default();
        let currency = if order.currency.is_empty() { "TRY".to_owned() } else { order.currency.to_uppercase() };
        let digits = minor_digits(&currency);
        let refunded: i64 = order.refunds.iter().map(|r| -money(&r.total, digits)).sum();
        let fee_total: i64 = order.fee_lines.iter().map(|f| money(&f.total, digits)).sum();
        let quantity: i64 = order.line_items.iter().map(|l| l.quantity.max(0)).sum();
        let number = if order.number.is_empty() { order.id.to_string() } else { order.number.clone() };
        let created = order.date_created_gmt.unwrap_or(now);
        let (b, s) = (&order.billing, &order.shipping);
        let customer = Some(order.customer_id).filter(|id| known.customers.contains(id));
        let total = money(&order.total, digits);
        rows.order.extend::<[Value; 47]>([
            order.id.into(),
            number.into(),
            order.status.clone().into(),
            currency.clone().into(),
            customer.into(),
            b.first_name.clone().into(),
            b.last_name.clone().into(),
            b.company.clone().into(),
            b.address_1.clone().into(),
            b.address_2.clone().into(),
            b.city.clone().into(),
            b.state.clone().into(),
            b.postcode.clone().into(),
            b.country.clone().into(),
            b.email.trim().to_lowercase().into(),
            b.phone.clone().into(),
            s.first_name.clone().into(),
            s.last_name.clone().into(),
            s.company.clone().into(),
            s.address_1.clone().into(),
            s.address_2.clone().into(),
            s.city.clone().into(),
            s.state.clone().into(),
            s.postcode.clone().into(),
            s.country.clone().into(),
            s.phone.clone().into(),
            order.payment_method.clone().into(),
            order.payment_method_title.clone().into(),
            order.customer_note.clone().into(),
            money(&order.discount_total, digits).into(),
            money(&order.discount_tax, digits).into(),
            money(&order.shipping_total, digits).into(),
            money(&order.shipping_tax, digits).into(),
            fee_total.into(),
            money(&order.cart_tax, digits).into(),
            money(&order.total_tax, digits).into(),
            total.into(),
            refunded.into(),
            quantity.into(),
            created.into(),
            order.date_modified_gmt.unwrap_or(created).into(),
            order.date_paid_gmt.into(),
            order.date_completed_gmt.into(),
            order.date_modified_gmt.into(),
            order.transaction_id.clone().into(),
            meta_text(order, &["billing_tax_number", "billing_vergi_no", "vergi_no"]).into(),
            meta_text(order, &["billing_national_id", "billing_tc_kimlik", "tc_kimlik_no"]).into(),
        ]);
        for line in order.line_items.iter().filter(|l| l.id > 0 && l.quantity > 0) {
            rows.items.extend::<[Value; 13]>([
                line.id.into(),
                order.id.into(),
                Some(line.product_id).filter(|id| known.products.contains(id)).into(),
                Some(line.variation_id).filter(|id| known.variations.contains(id)).into(),
                line.name.clone().into(),
                line.sku.clone().into(),
                line.quantity.into(),
                money(&line.price, digits).into(),
                money(&line.subtotal, digits).into(),
                money(&line.subtotal_tax, digits).into(),
                money(&line.total, digits).into(),
                money(&line.total_tax, digits).into(),
                line.tax_class.clone().into(),
            ]);
        }
        for line in order.shipping_lines.iter().filter(|l| l.id > 0) {
            rows.shipping.extend::<[Value; 6]>([
                line.id.into(),
                order.id.into(),
                line.method_id.clone().into(),
                line.method_title.clone().into(),
                money(&line.total, digits).into(),
                money(&line.total_tax, digits).into(),
            ]);
        }
        for line in order.fee_lines.iter().filter(|l| l.id > 0) {
            rows.fees.extend::<[Value; 5]>([
                line.id.into(),
                order.id.into(),
                line.name.clone().into(),
                money(&line.total, digits).into(),
                money(&line.total_tax, digits).into(),
            ]);
        }
        for line in order.coupon_lines.iter().filter(|l| l.id > 0) {
            rows.coupons.extend::<[Value; 5]>([
                line.id.into(),
                order.id.into(),
                line.code.to_lowercase().into(),
                money(&line.discount, digits).into(),
                money(&line.discount_tax, digits).into(),
            ]);
        }
        if let Some(paid) = order.date_paid_gmt
            && !order.payment_method.is_empty()
        {
            rows.payments.extend::<[Value; 9]>([
                order.id.into(),
                order.payment_method.clone().into(),
                order.transaction_id.clone().into(),
                "payment".into(),
                total.into(),
                currency.clone().into(),
                "succeeded".into(),
                paid.into(),
                format!("order:{}", order.id).into(),
            ]);
        }
        rows.fingerprint = rows.digest();
        rows.order.push(rows.fingerprint.into());
        rows
    }

    /// A digest of the rows: equal for two reads of an unchanged order.
    fn digest(&self) -> i64 {
        let mut digest = Sha256::new();
        for part in [&self.order, &self.items, &self.shipping, &self.fees, &self.coupons, &self.payments] {
            digest.update((part.len() as u64).to_le_bytes());
            for value in part {
                value.digest(&mut digest);
            }
        }
        let bytes: [u8; 8] = digest.finalize()[..8].try_into().expect("a SHA-256 digest has 32 bytes");
        i64::from_le_bytes(bytes)
    }

    /// Moves `other`'s rows after these.
    fn append(&mut self, mut other: OrderRows) {
        self.order.append(&mut other.order);
        self.items.append(&mut other.items);
        self.shipping.append(&mut other.shipping);
        self.fees.append(&mut other.fees);
        self.coupons.append(&mut other.coupons);
        self.payments.append(&mut other.payments);
    }
}

const ORDER_COLUMNS: [&str; 48] = [
    "id",
    "number",
    "status",
    "currency",
    "customer_id",
    "billing_first_name",
    "billing_last_name",
    "billing_company",
    "billing_address_1",
    "billing_address_2",
    "billing_city",
    "billing_state",
    "billing_postcode",
    "billing_country",
    "billing_email",
    "billing_phone",
    "shipping_first_name",
    "shipping_last_name",
    "shipping_company",
    "shipping_address_1",
    "shipping_address_2",
    "shipping_city",
    "shipping_state",
    "shipping_postcode",
    "shipping_country",
    "shipping_phone",
    "payment_method",
    "payment_method_title",
    "customer_note",
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
    "modified_at",
    "transaction_id",
    "billing_tax_number",
    "billing_national_id",
    "fingerprint",
];

/// The store's tax number and national id of a Turkish invoice, where a checkout plugin
/// keeps them in the order's meta.
fn meta_text(order: &model::Order, keys: &[&str]) -> String {
    order
        .meta_data
        .iter()
        .find(|m| keys.contains(&m.key.trim_start_matches('_')))
        .and_then(|m| m.value.as_str().map(|v| model::plain_text(v).trim().to_owned()))
        .unwrap_or_default()
}

/// Whether Backroom can keep an order in `status` (an extension's status is learned, so
/// filters and changes may name it); one it cannot is logged and left out.
fn keepable(order: &model::Order) -> bool {
    let kept = crate::orders::OrderStatus::stored(&order.status).is_ok();
    if !kept {
        tracing::warn!(order = order.id, status = %order.status, "an order in a status Backroom cannot keep was left out");
    }
    kept
}

/// Writes `orders` (a page of the store's, or one a webhook brought): new ones and those
/// newer than Backroom's copy; trashed ones are removed; drafts are left out. Live, it
/// also says which orders arrived or moved to another status (WooCommerce adds a note
/// each time: theirs are worth reading).
pub async fn orders(
    tx: &mut Tx,
    backend: Backend,
    orders: &[model::Order],
    mode: Mode<'_>,
) -> Result<(Applied, Vec<i64>)> {
    let mut applied = Applied::default();
    let mut moved = Vec::new();
    let mut trashed = Vec::new();
    let candidates: Vec<&model::Order> = orders
        .iter()
        .filter(|o| o.id > 0 && !DRAFTS.contains(&o.status.as_str()))
        .filter(|o| o.status == "trash" || keepable(o))
        .filter(|o| {
            let trash = o.status == "trash";
            if trash {
                trashed.push(o.id);
            }
            !trash
        })
        .collect();
    for id in trashed {
        applied.removed += remove_order(tx, id, mode).await? as u64;
    }
    let ours = held_orders(tx, candidates.iter().map(|o| o.id)).await?;
    let (later, stale): (Vec<&model::Order>, Vec<&model::Order>) =
        candidates.into_iter().partition(|o| newer(ours.get(&o.id).map(|h| &h.modified), o.date_modified_gmt));
    applied.unchanged += stale.len() as u64;
    if later.is_empty() {
        return Ok((applied, moved));
    }
    // Lines may name products, variations and customers the store has since deleted:
    // those references are left empty (the line keeps its name and SKU).
    let known = Known {
        products: existing(
            tx,
            "products",
            &later.iter().flat_map(|o| o.line_items.iter().map(|l| l.product_id)).collect(),
        )
        .await?,
        variations: existing(
            tx,
            "product_variations",
            &later.iter().flat_map(|o| o.line_items.iter().map(|l| l.variation_id)).collect(),
        )
        .await?,
        customers: existing(tx, "customers", &later.iter().map(|o| o.customer_id).collect()).await?,
    };
    let now = now();
    // A copy with the stamp of Backroom's own is the same unless what it would write
    // differs (the store changed it twice in one second): only then is it written again.
    let (fresh, same): (Vec<_>, Vec<_>) = later
        .into_iter()
        .map(|order| (order, OrderRows::of(order, &known, now)))
        .partition(|(order, rows)| !ours.get(&order.id).is_some_and(|held| held.holds(order, rows)));
    applied.unchanged += same.len() as u64;
    if fresh.is_empty() {
        return Ok((applied, moved));
    }
    let (fresh, built): (Vec<&model::Order>, Vec<OrderRows>) = fresh.into_iter().unzip();
    let fresh_ids: Vec<i64> = fresh.iter().map(|o| o.id).collect();
    let mut before = match mode {
        Mode::Live { .. } => counted_all(tx, &fresh_ids).await?,
        Mode::Import => HashMap::new(),
    };
    let mut all = OrderRows::default();
    for rows in built {
        all.append(rows);
    }
    let OrderRows { order: rows, items, shipping, fees, coupons, payments, .. } = all;
    let written = id_list(fresh.iter().map(|o| o.id));
    let replaced = fresh.iter().any(|o| ours.contains_key(&o.id));
    upsert_rows(tx, backend, "orders", &ORDER_COLUMNS, &rows, "id").await?;
    if replaced {
        // Lines the store no longer has go; the rest are replaced in place (refund lines
        // point at order lines, and must keep theirs).
        let kept = |values: &[Value], width: usize| {
            id_list(values.chunks(width).filter_map(|row| match row[0] {
                Value::Int(id) => Some(id),
                _ => None,
            }))
        };
        for (table, values, width) in [("order_items", &items, crate::orders::ITEM_COLUMNS.len())] {
            let kept = kept(values, width);
            let unless = if kept.is_empty() { String::new() } else { format!(" AND id NOT IN ({kept})") };
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE order_id IN ({written}){unless}")))
                .execute(&mut **tx)
                .await?;
        }
        for table in ["order_shipping_lines", "order_fee_lines", "order_coupon_lines"] {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE order_id IN ({written})")))
                .execute(&mut **tx)
                .await?;
        }
    }
    upsert_rows(tx, backend, "order_items", crate::orders::ITEM_COLUMNS, &items, "id").await?;
    let shipping_columns = ["id", "order_id", "method_id", "method_title", "total", "total_tax"];
    insert_rows(tx, backend, "order_shipping_lines", &shipping_columns, &shipping).await?;
    insert_rows(tx, backend, "order_fee_lines", &["id", "order_id", "name", "total", "total_tax"], &fees).await?;
    let coupon_columns = ["id", "order_id", "code", "discount", "discount_tax"];
    insert_rows(tx, backend, "order_coupon_lines", &coupon_columns, &coupons).await?;
    let payment_columns =
        ["order_id", "gateway", "transaction_id", "kind", "amount", "currency", "status", "created_at", "source"];
    upsert_rows(tx, backend, "payment_transactions", &payment_columns, &payments, "source").await?;
    for order in &fresh {
        // With a fingerprint held, a copy written is one that differs: a change even with
        // the same stamp.
        let tie_is_same = ours.get(&order.id).filter(|h| h.fingerprint.is_none()).map(|h| &h.modified);
        applied.written(tie_is_same, order.date_modified_gmt);
    }
    if let Mode::Live { events, tz } = mode {
        let mut sales = Accumulator::default();
        let mut after = counted_all(tx, &fresh_ids).await?;
        for order in &fresh {
            let was = before.remove(&order.id);
            if let Some(was) = &was {
                sales.remove_order(tz, &was.sale());
            }
            let now_counted = after.remove(&order.id).expect("just written");
            sales.add_order(tz, &now_counted.sale());
            let event = match &was {
                None => Some(OrderEvent::Arrived { status: order.status.clone() }),
                Some(was) if was.facts.1 != order.status => Some(OrderEvent::StatusChanged {
                    from: was.facts.1.clone(),
                    to: order.status.clone(),
                    by: None,
                    reason: None,
                }),
                Some(_) => None,
            };
            if let Some(event) = event {
                events.publish(tx, order.id, &event, now).await?;
                moved.push(order.id);
            }
        }
        sales.add_to_table(tx).await?;
    }
    Ok((applied, moved))
}

/// Which of `orders` list refunds Backroom does not hold yet (an order lists only its
/// refunds' ids and amounts: each is read whole from the store).
pub async fn with_unknown_refunds(tx: &mut Tx, orders: &[model::Order]) -> Result<Vec<i64>> {
    let refunded = id_list(orders.iter().filter(|o| !o.refunds.is_empty()).map(|o| o.id));
    if refunded.is_empty() {
        return Ok(Vec::new());
    }
    let known: HashSet<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT woo_id FROM refunds WHERE woo_id IS NOT NULL AND order_id IN ({refunded})"
    )))
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .collect();
    Ok(orders.iter().filter(|o| o.refunds.iter().any(|r| !known.contains(&r.id))).map(|o| o.id).collect())
}

/// Removes an order the store trashed or deleted; returns whether Backroom had it.
pub async fn remove_order(tx: &mut Tx, id: i64, mode: Mode<'_>) -> Result<bool> {
    let was = match mode {
        Mode::Live { .. } => counted(tx, id).await?,
        Mode::Import => None,
    };
    let done = sqlx::query("DELETE FROM orders WHERE id = $1").bind(id).execute(&mut **tx).await?;
    if let (Mode::Live { tz, .. }, Some(was)) = (mode, was) {
        let mut sales = Accumulator::default();
        sales.remove_order(tz, &was.sale());
        sales.add_to_table(tx).await?;
    }
    Ok(done.rows_affected() > 0)
}

/// Writes refunds (with their lines and, when the gateway sent the money, a transaction);
/// refunds of orders Backroom does not have are left out. Returns how many were new.
pub async fn refunds(tx: &mut Tx, backend: Backend, refunds: &[model::Refund], mode: Mode<'_>) -> Result<u64> {
    // The last copy of each refund, of an order Backroom has, that gave money back
    // (a refund of nothing, restocking alone, is no refund of money).
    let orders: HashMap<i64, (String, String)> = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, currency, payment_method FROM orders WHERE id IN ({})",
        id_list(refunds.iter().filter_map(model::Refund::order_id).chain([0]))
    )))
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, (r.try_get("currency")?, r.try_get("payment_method")?))))
    .collect::<Result<_>>()?;
    let mut kept: HashMap<i64, Kept> = HashMap::new();
    for refund in refunds {
        let Some((order_id, (currency, gateway))) = refund.order_id().and_then(|id| Some((id, orders.get(&id)?)))
        else {
            continue;
        };
        let digits = minor_digits(currency);
        let amount = money(&refund.amount, digits);
        if amount > 0 {
            let at = refund.date_created_gmt.unwrap_or_else(now);
            kept.insert(refund.id, Kept { refund, order_id, currency, gateway, digits, amount, at });
        }
    }
    if kept.is_empty() {
        return Ok(0);
    }
    let known: HashSet<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT woo_id FROM refunds WHERE woo_id IN ({})",
        id_list(kept.keys().copied())
    )))
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .collect();
    let kept: Vec<Kept> = kept.into_values().collect();
    let mut rows = Vec::with_capacity(kept.len() * REFUND_COLUMNS.len());
    for k in &kept {
        rows.extend::<[Value; 7]>([
            k.order_id.into(),
            k.amount.into(),
            k.refund.reason.clone().into(),
            0i64.into(),
            k.at.into(),
            k.refund.id.into(),
            i64::from(k.refund.refunded_payment).into(),
        ]);
    }
    let mut sql = insert_sql(backend, "refunds", &REFUND_COLUMNS, kept.len());
    sql.push_str(
        " ON CONFLICT (woo_id) DO UPDATE SET amount = excluded.amount, reason = excluded.reason, \
         refunded_payment = excluded.refunded_payment RETURNING id, woo_id",
    );
    let ids: HashMap<i64, i64> = bind_values(sqlx::query(AssertSqlSafe(sql)).persistent(false), &rows)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("woo_id")?, r.try_get("id")?)))
        .collect::<Result<_>>()?;
    // Their lines, written anew, for the order lines Backroom has.
    sqlx::query(AssertSqlSafe(format!(
        "DELETE FROM refund_lines WHERE refund_id IN ({})",
        id_list(ids.values().copied())
    )))
    .execute(&mut **tx)
    .await?;
    let lines: Vec<(i64, i64, &model::LineItem, u32)> = kept
        .iter()
        .flat_map(|k| {
            let id = ids.get(&k.refund.id).copied();
            k.refund.line_items.iter().filter_map(move |l| Some((id?, l.refunded_item()?, l, k.digits)))
        })
        .collect();
    let items = existing(tx, "order_items", &lines.iter().map(|(_, item, _, _)| *item).collect()).await?;
    let mut values = Vec::new();
    for (id, item, line, digits) in lines.into_iter().filter(|(_, item, _, _)| items.contains(item)) {
        values.extend::<[Value; 5]>([
            id.into(),
            item.into(),
            (-line.quantity).max(0).into(),
            (-money(&line.total, digits)).into(),
            (-money(&line.total_tax, digits)).into(),
        ]);
    }
    insert_rows(tx, backend, "refund_lines", &["refund_id", "order_item_id", "quantity", "amount", "tax"], &values)
        .await?;
    // The money the gateway sent back, once per refund.
    let mut payments = Vec::new();
    for k in kept.iter().filter(|k| k.refund.refunded_payment) {
        payments.extend::<[Value; 9]>([
            k.order_id.into(),
            k.gateway.to_owned().into(),
            String::new().into(),
            "refund".into(),
            k.amount.into(),
            k.currency.to_owned().into(),
            "succeeded".into(),
            k.at.into(),
            format!("refund:{}", k.refund.id).into(),
        ]);
    }
    insert_new_rows(
        tx,
        backend,
        "payment_transactions",
        &["order_id", "gateway", "transaction_id", "kind", "amount", "currency", "status", "created_at", "source"],
        &payments,
        "source",
    )
    .await?;
    let fresh: Vec<&Kept> = kept.iter().filter(|k| !known.contains(&k.refund.id)).collect();
    if let Mode::Live { tz, .. } = mode {
        let mut sales = Accumulator::default();
        for k in &fresh {
            sales.add_refund(tz, k.at, k.currency, k.amount);
        }
        sales.add_to_table(tx).await?;
    }
    Ok(fresh.len() as u64)
}

const REFUND_COLUMNS: [&str; 7] =
    ["order_id", "amount", "reason", "restock", "created_at", "woo_id", "refunded_payment"];

/// A refund to write, with what its order says of it.
struct Kept<'a> {
    refund: &'a model::Refund,
    order_id: i64,
    currency: &'a str,
    gateway: &'a str,
    digits: u32,
    amount: i64,
    at: i64,
}

/// Writes an order's notes as the store has them.
pub async fn notes(tx: &mut Tx, order_id: i64, notes: &[model::Note]) -> Result<()> {
    for note in notes.iter().filter(|n| n.id > 0) {
        sqlx::query(
            "INSERT INTO order_notes (order_id, author_user_id, is_customer_note, body, created_at, woo_id, author) \
             VALUES ($1, NULL, $2, $3, $4, $5, $6) ON CONFLICT (woo_id) DO UPDATE SET body = excluded.body, \
             is_customer_note = excluded.is_customer_note",
        )
        .bind(order_id)
        .bind(i64::from(note.customer_note))
        .bind(&note.note)
        .bind(note.date_created_gmt.unwrap_or_else(now))
        .bind(note.id)
        .bind(&note.author)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

const PRODUCT_COLUMNS: [&str; 16] = [
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
    "modified_at",
    "woo_type",
    "slug",
];

/// Writes products (new, or newer than Backroom's copy) with their category and tag
/// links; variations sent as products go to [`variations`]. Returns what changed, and
/// the variable products among them (whose variations the caller reads next).
pub async fn products(
    tx: &mut Tx,
    backend: Backend,
    currency: &str,
    products: &[model::Product],
) -> Result<(Applied, Vec<i64>)> {
    let digits = minor_digits(currency);
    let mut applied = Applied::default();
    let (as_variations, products): (Vec<&model::Product>, Vec<&model::Product>) =
        products.iter().filter(|p| p.id > 0).partition(|p| p.kind == "variation");
    for variation in as_variations {
        let one = variation_from_product(variation);
        applied.add(variations(tx, backend, currency, variation.parent_id, &[one]).await?);
    }
    let mut trashed = Vec::new();
    let products: Vec<&model::Product> = products
        .into_iter()
        .filter(|p| {
            if p.status == "trash" {
                trashed.push(p.id);
            }
            p.status != "trash"
        })
        .collect();
    for id in trashed {
        applied.removed += remove_product(tx, id).await? as u64;
    }
    let ours = modified(tx, "products", products.iter().map(|p| p.id)).await?;
    let (fresh, stale): (Vec<&model::Product>, Vec<&model::Product>) =
        products.into_iter().partition(|p| newer(ours.get(&p.id), p.date_modified_gmt));
    applied.unchanged += stale.len() as u64;
    if fresh.is_empty() {
        return Ok((applied, Vec::new()));
    }
    let now = now();
    let mut rows = Vec::new();
    let (mut categories, mut tags) = (Vec::new(), Vec::new());
    for product in &fresh {
        let kind = if product.kind == "variable" { "variable" } else { "simple" };
        let price = |d: &Decimal| Some(d).filter(|d| !d.0.is_empty()).and_then(|d| d.minor(digits));
        let created = product.date_created_gmt.unwrap_or(now);
        rows.extend::<[Value; 16]>([
            product.id.into(),
            kind.into(),
            product.name.clone().into(),
            Some(product.sku.trim())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .map_or(Value::MaybeText(None), Value::from),
            product.status.clone().into(),
            price(&product.regular_price).into(),
            price(&product.sale_price).into(),
            product.tax_class.clone().into(),
            i64::from(product.manage_stock).into(),
            product.stock_quantity.filter(|_| product.manage_stock).into(),
            product.stock_status.clone().into(),
            created.into(),
            product.date_modified_gmt.unwrap_or(created).into(),
            product.date_modified_gmt.into(),
            product.kind.clone().into(),
            product.slug.clone().into(),
        ]);
        for term in &product.categories {
            categories.extend::<[Value; 2]>([product.id.into(), term.id.into()]);
        }
        for term in &product.tags {
            tags.extend::<[Value; 2]>([product.id.into(), term.id.into()]);
        }
    }
    upsert_rows(tx, backend, "products", &PRODUCT_COLUMNS, &rows, "id").await?;
    let written = id_list(fresh.iter().map(|p| p.id));
    for table in ["product_category_links", "product_tag_links"] {
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE product_id IN ({written})")))
            .execute(&mut **tx)
            .await?;
    }
    insert_rows(tx, backend, "product_category_links", &["product_id", "category_id"], &categories).await?;
    insert_rows(tx, backend, "product_tag_links", &["product_id", "tag_id"], &tags).await?;
    for product in &fresh {
        applied.written(ours.get(&product.id), product.date_modified_gmt);
    }
    let variable = fresh.iter().filter(|p| p.kind == "variable").map(|p| p.id).collect();
    Ok((applied, variable))
}

/// A variation as a product webhook sends it, read as a variation.
fn variation_from_product(product: &model::Product) -> model::Product {
    model::Product { kind: "variation".into(), ..product.clone() }
}

/// Writes a variable product's variations (new, or newer than Backroom's copy); a
/// product Backroom does not have takes none.
pub async fn variations(
    tx: &mut Tx,
    backend: Backend,
    currency: &str,
    product_id: i64,
    variations: &[model::Product],
) -> Result<Applied> {
    let mut applied = Applied::default();
    if existing(tx, "products", &HashSet::from([product_id])).await?.is_empty() {
        applied.unchanged += variations.len() as u64;
        return Ok(applied);
    }
    let digits = minor_digits(currency);
    let ours = modified(tx, "product_variations", variations.iter().map(|v| v.id)).await?;
    let now = now();
    let mut rows = Vec::new();
    for variation in variations.iter().filter(|v| v.id > 0) {
        if variation.status == "trash" {
            applied.removed += remove_variation(tx, variation.id).await? as u64;
            continue;
        }
        if !newer(ours.get(&variation.id), variation.date_modified_gmt) {
            applied.unchanged += 1;
            continue;
        }
        let attributes: serde_json::Map<String, serde_json::Value> =
            variation.attributes.iter().map(|a| (a.name.clone(), a.option.clone().into())).collect();
        let created = variation.date_created_gmt.unwrap_or(now);
        rows.extend::<[Value; 12]>([
            variation.id.into(),
            product_id.into(),
            Some(variation.sku.trim())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .map_or(Value::MaybeText(None), Value::from),
            serde_json::Value::Object(attributes).to_string().into(),
            variation.regular_price.minor(digits).unwrap_or(0).into(),
            Some(&variation.sale_price).filter(|d| !d.0.is_empty()).and_then(|d| d.minor(digits)).into(),
            i64::from(variation.manage_stock).into(),
            variation.stock_quantity.filter(|_| variation.manage_stock).into(),
            variation.stock_status.clone().into(),
            created.into(),
            variation.date_modified_gmt.unwrap_or(created).into(),
            variation.date_modified_gmt.into(),
        ]);
        applied.written(ours.get(&variation.id), variation.date_modified_gmt);
    }
    let columns = [
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
        "modified_at",
    ];
    upsert_rows(tx, backend, "product_variations", &columns, &rows, "id").await?;
    Ok(applied)
}

/// Removes a product the store trashed or deleted (its order lines keep their names).
pub async fn remove_product(tx: &mut Tx, id: i64) -> Result<bool> {
    sqlx::query("UPDATE order_items SET product_id = NULL WHERE product_id = $1").bind(id).execute(&mut **tx).await?;
    sqlx::query(
        "UPDATE order_items SET variation_id = NULL WHERE variation_id IN (SELECT id FROM product_variations WHERE product_id = $1)",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let done = sqlx::query("DELETE FROM products WHERE id = $1").bind(id).execute(&mut **tx).await?;
    Ok(done.rows_affected() > 0)
}

async fn remove_variation(tx: &mut Tx, id: i64) -> Result<bool> {
    sqlx::query("UPDATE order_items SET variation_id = NULL WHERE variation_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let done = sqlx::query("DELETE FROM product_variations WHERE id = $1").bind(id).execute(&mut **tx).await?;
    Ok(done.rows_affected() > 0)
}

/// Writes customers (new, or newer than Backroom's copy).
pub async fn customers(tx: &mut Tx, backend: Backend, customers: &[model::Customer]) -> Result<Applied> {
    let mut applied = Applied::default();
    let ours = modified(tx, "customers", customers.iter().map(|c| c.id)).await?;
    let now = now();
    let mut rows = Vec::new();
    for customer in customers.iter().filter(|c| c.id > 0) {
        if !newer(ours.get(&customer.id), customer.date_modified_gmt) {
            applied.unchanged += 1;
            continue;
        }
        let created = customer.date_created_gmt.unwrap_or(now);
        let b = &customer.billing;
        rows.extend::<[Value; 11]>([
            customer.id.into(),
            customer.email.trim().to_lowercase().into(),
            customer.first_name.clone().into(),
            customer.last_name.clone().into(),
            b.company.clone().into(),
            b.phone.clone().into(),
            b.country.clone().into(),
            b.city.clone().into(),
            created.into(),
            customer.date_modified_gmt.into(),
            customer.username.clone().into(),
        ]);
        applied.written(ours.get(&customer.id), customer.date_modified_gmt);
    }
    let columns = [
        "id",
        "email",
        "first_name",
        "last_name",
        "company",
        "phone",
        "country",
        "city",
        "created_at",
        "modified_at",
        "username",
    ];
    upsert_rows(tx, backend, "customers", &columns, &rows, "id").await?;
    Ok(applied)
}

/// Removes a customer the store deleted (their orders stay, as a guest's).
pub async fn remove_customer(tx: &mut Tx, id: i64) -> Result<bool> {
    sqlx::query("UPDATE orders SET customer_id = NULL WHERE customer_id = $1").bind(id).execute(&mut **tx).await?;
    let done = sqlx::query("DELETE FROM customers WHERE id = $1").bind(id).execute(&mut **tx).await?;
    Ok(done.rows_affected() > 0)
}

/// Writes coupons (new, or newer than Backroom's copy); trashed ones are removed.
pub async fn coupons(tx: &mut Tx, backend: Backend, currency: &str, coupons: &[model::Coupon]) -> Result<Applied> {
    let mut applied = Applied::default();
    let ours = modified(tx, "coupons", coupons.iter().map(|c| c.id)).await?;
    let now = now();
    let digits = minor_digits(currency);
    let decimal = |d: &Decimal| d.minor(digits).map(|m| vocabulary::money::decimal(m, digits)).unwrap_or_default();
    let mut rows = Vec::new();
    for coupon in coupons.iter().filter(|c| c.id > 0) {
        if coupon.status == "trash" {
            applied.removed += remove_coupon(tx, coupon.id).await? as u64;
            continue;
        }
        if !newer(ours.get(&coupon.id), coupon.date_modified_gmt) {
            applied.unchanged += 1;
            continue;
        }
        // Another coupon with the same code (the store reused a deleted one's) gives way.
        sqlx::query("DELETE FROM coupons WHERE code = $1 AND id <> $2")
            .bind(coupon.code.to_lowercase())
            .bind(coupon.id)
            .execute(&mut **tx)
            .await?;
        rows.extend::<[Value; 17]>([
            coupon.id.into(),
            coupon.code.to_lowercase().into(),
            coupon.discount_type.clone().into(),
            coupon.amount.0.clone().into(),
            coupon.description.clone().into(),
            coupon.date_expires_gmt.into(),
            coupon.usage_count.into(),
            coupon.usage_limit.into(),
            coupon.usage_limit_per_user.into(),
            i64::from(coupon.individual_use).into(),
            i64::from(coupon.free_shipping).into(),
            decimal(&coupon.minimum_amount).into(),
            decimal(&coupon.maximum_amount).into(),
            serde_json::to_string(&coupon.email_restrictions).unwrap_or_else(|_| "[]".into()).into(),
            if coupon.status.is_empty() { "publish".to_owned() } else { coupon.status.clone() }.into(),
            coupon.date_created_gmt.unwrap_or(now).into(),
            coupon.date_modified_gmt.into(),
        ]);
        applied.written(ours.get(&coupon.id), coupon.date_modified_gmt);
    }
    let columns = [
        "id",
        "code",
        "discount_type",
        "amount",
        "description",
        "expires_at",
        "usage_count",
        "usage_limit",
        "usage_limit_per_user",
        "individual_use",
        "free_shipping",
        "minimum_amount",
        "maximum_amount",
        "email_restrictions",
        "status",
        "created_at",
        "modified_at",
    ];
    upsert_rows(tx, backend, "coupons", &columns, &rows, "id").await?;
    Ok(applied)
}

pub async fn remove_coupon(tx: &mut Tx, id: i64) -> Result<bool> {
    let done = sqlx::query("DELETE FROM coupons WHERE id = $1").bind(id).execute(&mut **tx).await?;
    Ok(done.rows_affected() > 0)
}

/// Which kind of term a list holds.
#[derive(Clone, Copy, Debug)]
pub enum Terms {
    Categories,
    Tags,
    Attributes,
}

/// Writes the store's product categories, tags or attributes.
pub async fn terms(tx: &mut Tx, backend: Backend, kind: Terms, terms: &[model::Term]) -> Result<u64> {
    let terms: Vec<&model::Term> = terms.iter().filter(|t| t.id > 0).collect();
    let (table, columns, width): (&str, &[&str], usize) = match kind {
        Terms::Categories => ("product_categories", &["id", "name", "slug", "parent_id"], 4),
        Terms::Tags => ("product_tags", &["id", "name", "slug"], 3),
        Terms::Attributes => ("product_attributes", &["id", "name", "slug"], 3),
    };
    let mut rows = Vec::with_capacity(terms.len() * width);
    for term in &terms {
        rows.extend::<[Value; 3]>([term.id.into(), term.name.clone().into(), term.slug.clone().into()]);
        if width == 4 {
            rows.push(term.parent.filter(|p| *p > 0).into());
        }
    }
    upsert_rows(tx, backend, table, columns, &rows, "id").await?;
    Ok(terms.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_copy_never_replaces_ours() {
        assert!(newer(None, Some(10)), "one we do not have");
        assert!(newer(Some(&None), Some(10)), "one that did not come from the store");
        assert!(newer(Some(&Some(9)), Some(10)));
        assert!(newer(Some(&Some(10)), Some(10)), "a copy read from the store now wins a tie");
        assert!(!newer(Some(&Some(11)), Some(10)), "a stale copy");
        assert!(!newer(Some(&Some(11)), None));
    }
}
