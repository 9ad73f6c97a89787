//! The whole of one order: addresses, line items, shipping, fees, coupons, totals, notes,
//! refunds with their lines, and payment transactions. Money is in minor units of the
//! order's currency; times are Unix seconds.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::OrderStatus;
use crate::{Error, Result, db::Db};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    pub id: i64,
    pub number: String,
    pub status: OrderStatus,
    pub currency: String,
    pub customer_id: Option<i64>,
    pub billing: Address,
    pub shipping: Address,
    /// The buyer's tax identifiers, for invoices; empty when not given.
    pub tax_ids: TaxIds,
    pub payment_method: String,
    pub payment_method_title: String,
    pub customer_note: String,
    pub items: Vec<LineItem>,
    pub shipping_lines: Vec<ShippingLine>,
    pub fee_lines: Vec<FeeLine>,
    pub coupon_lines: Vec<CouponLine>,
    pub totals: Totals,
    pub notes: Vec<Note>,
    pub refunds: Vec<Refund>,
    pub transactions: Vec<Transaction>,
    /// The order's invoice and credit notes in the accounting ledger, and where each is.
    pub accounting: Vec<super::documents::Document>,
    /// Changes made in Backroom to an order the store keeps, and whether the store has
    /// taken each, oldest first.
    pub store_writes: Vec<StoreWrite>,
    /// Placed in the WooCommerce store (which then makes its refunds); otherwise
    /// Backroom's own.
    pub from_store: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub paid_at: Option<i64>,
    pub completed_at: Option<i64>,
}

/// A company's tax number and office, or a person's national id (T.C. kimlik no).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaxIds {
    pub tax_number: String,
    pub tax_office: String,
    pub national_id: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub address_1: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub postcode: String,
    pub country: String,
    /// Billing only; empty on the shipping address.
    pub email: String,
    pub phone: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineItem {
    pub id: i64,
    pub product_id: Option<i64>,
    pub variation_id: Option<i64>,
    pub name: String,
    pub sku: String,
    pub quantity: i64,
    pub unit_price: i64,
    /// Before discounts.
    pub subtotal: i64,
    pub subtotal_tax: i64,
    /// After discounts.
    pub total: i64,
    pub total_tax: i64,
    pub tax_class: String,
    /// What earlier refunds gave back on this line: items, and minor units tax included.
    #[serde(default)]
    pub refunded_quantity: i64,
    #[serde(default)]
    pub refunded_amount: i64,
}

impl LineItem {
    /// Items that can still be refunded.
    pub fn refundable_quantity(&self) -> i64 {
        self.quantity - self.refunded_quantity
    }

    /// Minor units, tax included, that can still be refunded.
    pub fn refundable_amount(&self) -> i64 {
        self.total + self.total_tax - self.refunded_amount
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShippingLine {
    pub id: i64,
    pub method_id: String,
    pub method_title: String,
    pub total: i64,
    pub total_tax: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeeLine {
    pub id: i64,
    pub name: String,
    pub total: i64,
    pub total_tax: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CouponLine {
    pub id: i64,
    pub code: String,
    pub discount: i64,
    pub discount_tax: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Totals {
    pub discount_total: i64,
    pub discount_tax: i64,
    pub shipping_total: i64,
    pub shipping_tax: i64,
    pub fee_total: i64,
    pub cart_tax: i64,
    pub total_tax: i64,
    /// What the customer paid, tax included.
    pub total: i64,
    pub refunded_total: i64,
    pub items_count: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Note {
    pub id: i64,
    pub author_user_id: Option<i64>,
    /// Sent to the customer; otherwise private to the shop.
    pub to_customer: bool,
    pub body: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refund {
    pub id: i64,
    pub amount: i64,
    pub reason: String,
    pub restock: bool,
    pub refunded_by: Option<i64>,
    pub created_at: i64,
    pub lines: Vec<RefundLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundLine {
    pub line_id: i64,
    pub quantity: i64,
    /// Minor units, before tax (as the order's lines keep their totals).
    pub amount: i64,
    /// Minor units: the tax given back with `amount`.
    pub tax: i64,
}

/// A change made in Backroom on its way to the store ([`crate::woo::write_back`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoreWrite {
    pub id: i64,
    /// The change in words ("Status Processing → Shipped / completed", "Private note").
    pub what: String,
    /// `pending` until the store answers, then `confirmed` or `failed`.
    pub state: String,
    /// Why it failed, or what it waits for, in the store's words where it gave some.
    pub message: Option<String>,
    pub created_at: i64,
    pub settled_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transaction {
    pub id: i64,
    pub gateway: String,
    pub transaction_id: String,
    /// `payment` or `refund`.
    pub kind: String,
    pub amount: i64,
    pub currency: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub created_at: i64,
}

fn address(row: &sqlx::any::AnyRow, prefix: &str) -> Result<Address> {
    let get = |field: &str| -> Result<String> { Ok(row.try_get(format!("{prefix}_{field}").as_str())?) };
    Ok(Address {
        first_name: get("first_name")?,
        last_name: get("last_name")?,
        company: get("company")?,
        address_1: get("address_1")?,
        address_2: get("address_2")?,
        city: get("city")?,
        state: get("state")?,
        postcode: get("postcode")?,
        country: get("country")?,
        email: if prefix == "billing" { get("email")? } else { String::new() },
        phone: get("phone")?,
    })
}

/// The order with everything that belongs to it; `NotFound` when there is none. One
/// statement: the order's row with each kind of child as a JSON array beside it (an
/// order page is read far more often than written, and each statement costs more than
/// the rows it brings).
pub async fn get(db: &Db, id: i64) -> Result<Order> {
    let array = |table: &str, columns: &[&str], condition: &str, order: &str, name: &str| {
        format!("{} AS {name}", db.backend().json_rows(table, columns, condition, order))
    };
    // The order's lines, without the order's id they all share.
    let item_columns: Vec<&str> = super::ITEM_COLUMNS.iter().copied().filter(|c| *c != "order_id").collect();
    let sql = [
        "SELECT o.*".to_owned(),
        array("order_items", &item_columns, "order_id = $1", "id", "items_json"),
        array(
            "order_shipping_lines",
            &["id", "method_id", "method_title", "total", "total_tax"],
            "order_id = $1",
            "id",
            "shipping_json",
        ),
        array("order_fee_lines", &["id", "name", "total", "total_tax"], "order_id = $1", "id", "fees_json"),
        array("order_coupon_lines", &["id", "code", "discount", "discount_tax"], "order_id = $1", "id", "coupons_json"),
        array(
            "order_notes",
            &["id", "author_user_id", "is_customer_note", "body", "created_at"],
            "order_id = $1",
            "id",
            "notes_json",
        ),
        array("payment_transactions", &TRANSACTION_COLUMNS, "order_id = $1", "created_at, id", "transactions_json"),
        refund_columns(db.backend()),
        array(
            "accounting_documents",
            &super::documents::JSON_COLUMNS,
            "order_id = $1",
            "CASE WHEN kind = 'invoice' THEN 0 ELSE 1 END, id",
            "accounting_json",
        ),
        array("store_writes", &STORE_WRITE_COLUMNS, "order_id = $1", "id", "writes_json"),
    ]
    .join(", ")
        + " FROM orders o WHERE o.id = $1";
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(db.pool()).await?.ok_or(Error::NotFound)?;
    let notes: Vec<NoteRow> = children(&row, "notes_json")?;
    let refunds = assemble_refunds(children(&row, "refunds_json")?, children(&row, "refund_lines_json")?);
    let mut order = Order {
        id,
        number: row.try_get("number")?,
        status: OrderStatus::stored(&row.try_get::<String, _>("status")?)?,
        currency: row.try_get("currency")?,
        customer_id: row.try_get("customer_id")?,
        billing: address(&row, "billing")?,
        shipping: address(&row, "shipping")?,
        tax_ids: TaxIds {
            tax_number: row.try_get("billing_tax_number")?,
            tax_office: row.try_get("billing_tax_office")?,
            national_id: row.try_get("billing_national_id")?,
        },
        payment_method: row.try_get("payment_method")?,
        payment_method_title: row.try_get("payment_method_title")?,
        customer_note: row.try_get("customer_note")?,
        items: children(&row, "items_json")?,
        shipping_lines: children(&row, "shipping_json")?,
        fee_lines: children(&row, "fees_json")?,
        coupon_lines: children(&row, "coupons_json")?,
        totals: Totals {
            discount_total: row.try_get("discount_total")?,
            discount_tax: row.try_get("discount_tax")?,
            shipping_total: row.try_get("shipping_total")?,
            shipping_tax: row.try_get("shipping_tax")?,
            fee_total: row.try_get("fee_total")?,
            cart_tax: row.try_get("cart_tax")?,
            total_tax: row.try_get("total_tax")?,
            total: row.try_get("total")?,
            refunded_total: row.try_get("refunded_total")?,
            items_count: row.try_get("items_count")?,
        },
        notes: notes
            .into_iter()
            .map(|n| Note {
                id: n.id,
                author_user_id: n.author_user_id,
                to_customer: n.is_customer_note != 0,
                body: n.body,
                created_at: n.created_at,
            })
            .collect(),
        refunds,
        transactions: children(&row, "transactions_json")?,
        accounting: children(&row, "accounting_json")?,
        store_writes: children(&row, "writes_json")?,
        from_store: row.try_get::<Option<i64>, _>("modified_at")?.is_some(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        paid_at: row.try_get("paid_at")?,
        completed_at: row.try_get("completed_at")?,
    };
    for document in &mut order.accounting {
        document.order_number.clone_from(&order.number);
    }
    for line in order.refunds.iter().flat_map(|r| &r.lines) {
        if let Some(item) = order.items.iter_mut().find(|i| i.id == line.line_id) {
            item.refunded_quantity += line.quantity;
            item.refunded_amount += line.amount;
        }
    }
    Ok(order)
}

/// The order's refunds and their lines, as `refunds_json` and `refund_lines_json`, for a
/// statement whose `$1` is the order's id.
fn refund_columns(backend: crate::db::Backend) -> String {
    format!(
        "{} AS refunds_json, {} AS refund_lines_json",
        backend.json_rows("refunds", &REFUND_COLUMNS, "order_id = $1", "id"),
        backend.json_rows(
            "refund_lines",
            &REFUND_LINE_COLUMNS,
            "refund_id IN (SELECT id FROM refunds WHERE order_id = $1)",
            "id"
        ),
    )
}

/// The children in `column`, a JSON array [`crate::db::Backend::json_rows`] made.
fn children<T: serde::de::DeserializeOwned>(row: &sqlx::any::AnyRow, column: &str) -> Result<Vec<T>> {
    let json: String = row.try_get(column)?;
    serde_json::from_str(&json).map_err(|e| Error::internal(format!("{column}: {e}")))
}

const TRANSACTION_COLUMNS: [&str; 8] =
    ["id", "gateway", "transaction_id", "kind", "amount", "currency", "status", "created_at"];
const REFUND_COLUMNS: [&str; 6] = ["id", "amount", "reason", "restock", "refunded_by", "created_at"];
const REFUND_LINE_COLUMNS: [&str; 5] = ["refund_id", "order_item_id", "quantity", "amount", "tax"];

/// A note as stored (its flag an integer).
#[derive(Deserialize)]
struct NoteRow {
    id: i64,
    author_user_id: Option<i64>,
    is_customer_note: i64,
    body: String,
    created_at: i64,
}

/// A refund as stored, and one of its lines.
#[derive(Deserialize)]
struct RefundRow {
    id: i64,
    amount: i64,
    reason: String,
    restock: i64,
    refunded_by: Option<i64>,
    created_at: i64,
}

#[derive(Deserialize)]
struct RefundLineRow {
    refund_id: i64,
    order_item_id: i64,
    quantity: i64,
    amount: i64,
    tax: i64,
}

/// Each refund with its lines, oldest first.
fn assemble_refunds(refunds: Vec<RefundRow>, lines: Vec<RefundLineRow>) -> Vec<Refund> {
    refunds
        .into_iter()
        .map(|r| Refund {
            id: r.id,
            amount: r.amount,
            reason: r.reason,
            restock: r.restock != 0,
            refunded_by: r.refunded_by,
            created_at: r.created_at,
            lines: lines
                .iter()
                .filter(|l| l.refund_id == r.id)
                .map(|l| RefundLine { line_id: l.order_item_id, quantity: l.quantity, amount: l.amount, tax: l.tax })
                .collect(),
        })
        .collect()
}

impl Order {
    /// Minor units, tax included, that can still be refunded.
    pub fn refundable(&self) -> i64 {
        self.totals.total - self.totals.refunded_total
    }
}

impl Transaction {
    pub(crate) fn from_row(r: &sqlx::any::AnyRow) -> Result<Transaction> {
        Ok(Transaction {
            id: r.try_get("id")?,
            gateway: r.try_get("gateway")?,
            transaction_id: r.try_get("transaction_id")?,
            kind: r.try_get("kind")?,
            amount: r.try_get("amount")?,
            currency: r.try_get("currency")?,
            status: r.try_get("status")?,
            created_at: r.try_get("created_at")?,
        })
    }
}

const STORE_WRITE_COLUMNS: [&str; 6] = ["id", "what", "state", "message", "created_at", "settled_at"];

/// One change on its way to the store, or settled there.
pub async fn store_write(db: &Db, id: i64) -> Result<StoreWrite> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM store_writes WHERE id = $1",
        STORE_WRITE_COLUMNS.join(", ")
    )))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(Error::NotFound)?;
    Ok(StoreWrite {
        id: row.try_get("id")?,
        what: row.try_get("what")?,
        state: row.try_get("state")?,
        message: row.try_get("message")?,
        created_at: row.try_get("created_at")?,
        settled_at: row.try_get("settled_at")?,
    })
}

/// The order's refunds with their lines, oldest first; `NotFound` when there is no such
/// order.
pub async fn refunds(db: &Db, order_id: i64) -> Result<Vec<Refund>> {
    let sql = format!("SELECT {} FROM orders WHERE id = $1", refund_columns(db.backend()));
    let row =
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(order_id).fetch_optional(db.pool()).await?.ok_or(Error::NotFound)?;
    Ok(assemble_refunds(children(&row, "refunds_json")?, children(&row, "refund_lines_json")?))
}
