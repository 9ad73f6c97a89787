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
    pub created_at: i64,
    pub updated_at: i64,
    pub paid_at: Option<i64>,
    pub completed_at: Option<i64>,
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
    pub refunded_quantity: i64,
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
    pub amount: i64,
    pub tax: i64,
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

/// The order with everything that belongs to it; `NotFound` when there is none.
pub async fn get(db: &Db, id: i64) -> Result<Order> {
    let pool = db.pool();
    let row = sqlx::query("SELECT * FROM orders WHERE id = $1").bind(id).fetch_optional(pool).await?.ok_or(Error::NotFound)?;
    let items = sqlx::query(
        "SELECT id, product_id, variation_id, name, sku, quantity, unit_price, subtotal, subtotal_tax, total, total_tax, tax_class \
         FROM order_items WHERE order_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let shipping = sqlx::query("SELECT id, method_id, method_title, total, total_tax FROM order_shipping_lines WHERE order_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(pool)
        .await?;
    let fees = sqlx::query("SELECT id, name, total, total_tax FROM order_fee_lines WHERE order_id = $1 ORDER BY id").bind(id).fetch_all(pool).await?;
    let coupons = sqlx::query("SELECT id, code, discount, discount_tax FROM order_coupon_lines WHERE order_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(pool)
        .await?;
    let notes = sqlx::query("SELECT id, author_user_id, is_customer_note, body, created_at FROM order_notes WHERE order_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(pool)
        .await?;
    let transactions = sqlx::query(
        "SELECT id, gateway, transaction_id, kind, amount, currency, status, created_at FROM payment_transactions \
         WHERE order_id = $1 ORDER BY created_at, id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;

    let refunds = refunds(db, id).await?;
    let mut order = Order {
        id,
        number: row.try_get("number")?,
        status: row.try_get::<String, _>("status")?.parse()?,
        currency: row.try_get("currency")?,
        customer_id: row.try_get("customer_id")?,
        billing: address(&row, "billing")?,
        shipping: address(&row, "shipping")?,
        payment_method: row.try_get("payment_method")?,
        payment_method_title: row.try_get("payment_method_title")?,
        customer_note: row.try_get("customer_note")?,
        items: items
            .iter()
            .map(|r| {
                Ok(LineItem {
                    id: r.try_get("id")?,
                    product_id: r.try_get("product_id")?,
                    variation_id: r.try_get("variation_id")?,
                    name: r.try_get("name")?,
                    sku: r.try_get("sku")?,
                    quantity: r.try_get("quantity")?,
                    unit_price: r.try_get("unit_price")?,
                    subtotal: r.try_get("subtotal")?,
                    subtotal_tax: r.try_get("subtotal_tax")?,
                    total: r.try_get("total")?,
                    total_tax: r.try_get("total_tax")?,
                    tax_class: r.try_get("tax_class")?,
                    refunded_quantity: 0,
                    refunded_amount: 0,
                })
            })
            .collect::<Result<_>>()?,
        shipping_lines: shipping
            .iter()
            .map(|r| {
                Ok(ShippingLine {
                    id: r.try_get("id")?,
                    method_id: r.try_get("method_id")?,
                    method_title: r.try_get("method_title")?,
                    total: r.try_get("total")?,
                    total_tax: r.try_get("total_tax")?,
                })
            })
            .collect::<Result<_>>()?,
        fee_lines: fees
            .iter()
            .map(|r| Ok(FeeLine { id: r.try_get("id")?, name: r.try_get("name")?, total: r.try_get("total")?, total_tax: r.try_get("total_tax")? }))
            .collect::<Result<_>>()?,
        coupon_lines: coupons
            .iter()
            .map(|r| {
                Ok(CouponLine {
                    id: r.try_get("id")?,
                    code: r.try_get("code")?,
                    discount: r.try_get("discount")?,
                    discount_tax: r.try_get("discount_tax")?,
                })
            })
            .collect::<Result<_>>()?,
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
            .iter()
            .map(|r| {
                Ok(Note {
                    id: r.try_get("id")?,
                    author_user_id: r.try_get("author_user_id")?,
                    to_customer: r.try_get::<i64, _>("is_customer_note")? != 0,
                    body: r.try_get("body")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect::<Result<_>>()?,
        refunds,
        transactions: transactions.iter().map(Transaction::from_row).collect::<Result<_>>()?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        paid_at: row.try_get("paid_at")?,
        completed_at: row.try_get("completed_at")?,
    };
    for line in order.refunds.iter().flat_map(|r| &r.lines) {
        if let Some(item) = order.items.iter_mut().find(|i| i.id == line.line_id) {
            item.refunded_quantity += line.quantity;
            item.refunded_amount += line.amount;
        }
    }
    Ok(order)
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

/// The order's refunds with their lines, oldest first; `NotFound` when there is no such
/// order.
pub async fn refunds(db: &Db, order_id: i64) -> Result<Vec<Refund>> {
    let pool = db.pool();
    let refunds = sqlx::query("SELECT id, amount, reason, restock, refunded_by, created_at FROM refunds WHERE order_id = $1 ORDER BY id")
        .bind(order_id)
        .fetch_all(pool)
        .await?;
    if refunds.is_empty() {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM orders WHERE id = $1").bind(order_id).fetch_optional(pool).await?;
        return if exists.is_some() { Ok(Vec::new()) } else { Err(Error::NotFound) };
    }
    let lines = sqlx::query(
        "SELECT l.refund_id, l.order_item_id, l.quantity, l.amount, l.tax FROM refund_lines l \
         JOIN refunds r ON r.id = l.refund_id WHERE r.order_id = $1 ORDER BY l.id",
    )
    .bind(order_id)
    .fetch_all(pool)
    .await?;
    refunds
        .iter()
        .map(|r| {
            let refund_id: i64 = r.try_get("id")?;
            let lines = lines
                .iter()
                .filter(|l| l.try_get::<i64, _>("refund_id").ok() == Some(refund_id))
                .map(|l| {
                    Ok(RefundLine {
                        line_id: l.try_get("order_item_id")?,
                        quantity: l.try_get("quantity")?,
                        amount: l.try_get("amount")?,
                        tax: l.try_get("tax")?,
                    })
                })
                .collect::<Result<_>>()?;
            Ok(Refund {
                id: refund_id,
                amount: r.try_get("amount")?,
                reason: r.try_get("reason")?,
                restock: r.try_get::<i64, _>("restock")? != 0,
                refunded_by: r.try_get("refunded_by")?,
                created_at: r.try_get("created_at")?,
                lines,
            })
        })
        .collect()
}
