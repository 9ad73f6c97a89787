//! One order as its page shows it: its parts written for people, in the shop's time zone
//! and currency; the server function that reads it; and, on the server, the mapping from
//! the backend's order and who may act on one.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{amount::MoneyFormat, customer::AddressForm};
use crate::{
    accounting::{DocumentLine, order::TimelineLine},
    error::PanelError,
    transactions::TransactionLine,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub status_label: String,
    pub created: String,
    pub paid: Option<String>,
    pub completed: Option<String>,
    pub payment_method: String,
    pub customer_note: String,
    pub billing: AddressView,
    pub shipping: AddressView,
    /// The addresses field by field, for the form that edits them.
    pub billing_form: AddressForm,
    pub shipping_form: AddressForm,
    pub items: Vec<ItemView>,
    pub shipping_lines: Vec<ChargeView>,
    pub fees: Vec<ChargeView>,
    pub coupons: Vec<ChargeView>,
    /// (label, amount), top to bottom.
    pub totals: Vec<(String, String)>,
    /// Minor units, tax included.
    pub total: i64,
    pub refunded_total: i64,
    pub refundable: i64,
    pub money: MoneyFormat,
    /// Newest first.
    pub notes: Vec<NoteView>,
    /// Changes made here that the store has not taken (yet), oldest first.
    pub store_writes: Vec<StoreWriteView>,
    pub refunds: Vec<RefundView>,
    pub transactions: Vec<TransactionLine>,
    /// The order's invoice and credit notes in the ledger.
    pub accounting: Vec<DocumentLine>,
    /// Its latest requests to the ledger; only for those who may sync it.
    pub accounting_timeline: Vec<TimelineLine>,
    /// Where the status may move by hand.
    pub next: Vec<NextStatus>,
    /// Whether the person may change the order (status, notes, refunds).
    pub can_change: bool,
    /// Whether the order's status lets it be refunded (it was paid).
    pub status_refundable: bool,
    /// Placed in the WooCommerce store, which makes its refunds.
    pub from_store: bool,
    /// Whether its payment method can be asked to give the money back.
    pub gateway_refunds: bool,
    pub time_zone: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressView {
    /// Name, company, street, town, country: the lines that are filled in.
    pub lines: Vec<String>,
    pub email: String,
    pub phone: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemView {
    pub id: i64,
    pub name: String,
    pub sku: String,
    pub variation: String,
    pub quantity: i64,
    pub unit_price: String,
    pub subtotal: String,
    pub tax: String,
    pub total: String,
    /// What earlier refunds gave back, or empty.
    pub refunded: String,
    pub refundable_quantity: i64,
    /// Minor units, tax included.
    pub refundable_amount: i64,
    /// One item's share of the line, tax and discounts included: what refunding one gives back.
    pub unit_refund: i64,
}

/// A shipping line, a fee or a coupon.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeView {
    pub name: String,
    pub amount: String,
    pub tax: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteView {
    pub at: String,
    pub to_customer: bool,
    pub body: String,
}

/// A change on its way to the store, or one the store did not take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreWriteView {
    pub at: String,
    pub what: String,
    pub failed: bool,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundView {
    pub at: String,
    pub amount: String,
    pub reason: String,
    pub restocked: bool,
    /// `2 × Mug: 50.00 TRY`, one per refunded line.
    pub lines: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextStatus {
    pub value: String,
    pub label: String,
    pub needs_reason: bool,
}

/// The order, or `None` when there is no such order.
#[server(endpoint = "get_order")]
pub async fn get_order(id: i64) -> Result<Option<OrderView>, PanelError> {
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let store = backend::settings::get(&ctx.db).await?;
    let can_change = me.role.manages_orders();
    let mut view = match backend::orders::detail::get(&ctx.db, id).await {
        Ok(order) => ssr::order_view(order, &store, can_change),
        Err(backend::Error::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if can_change {
        view.accounting_timeline = crate::accounting::order::timeline(&ctx.db, id, store.tz()).await?;
    }
    Ok(Some(view))
}

/// `2 items, 50.00 TRY`; the amount alone when no items (a price adjustment).
pub(super) fn items_and_amount(items: i64, amount: &str) -> String {
    match items {
        0 => amount.to_owned(),
        1 => format!("1 item, {amount}"),
        n => format!("{n} items, {amount}"),
    }
}

#[cfg(feature = "ssr")]
pub(super) mod ssr {
    use super::*;

    pub(in crate::orders) fn order_view(
        o: backend::orders::detail::Order,
        store: &backend::settings::StoreSettings,
        can_change: bool,
    ) -> OrderView {
        use backend::orders::detail::Address;
        let tz = store.tz();
        let at = |t: i64| backend::clock::local_minute(t, tz);
        let money = MoneyFormat { currency: o.currency.clone(), locale: store.locale.clone() };
        let show = |amount: i64| money.show(amount);
        let address = |a: &Address| {
            let name = format!("{} {}", a.first_name, a.last_name);
            let town = format!("{} {}", a.postcode, a.city);
            AddressView {
                lines: [
                    name.trim(),
                    a.company.as_str(),
                    a.address_1.as_str(),
                    a.address_2.as_str(),
                    town.trim(),
                    a.state.as_str(),
                    a.country.as_str(),
                ]
                .into_iter()
                .filter(|line| !line.trim().is_empty())
                .map(str::to_owned)
                .collect(),
                email: a.email.clone(),
                phone: a.phone.clone(),
            }
        };
        let item_names: Vec<(i64, String)> = o.items.iter().map(|i| (i.id, i.name.clone())).collect();
        let t = &o.totals;
        let refundable = o.refundable();
        let mut totals = vec![("Items subtotal".to_owned(), show(o.items.iter().map(|i| i.subtotal).sum()))];
        if t.discount_total != 0 {
            totals.push(("Discount".to_owned(), show(-t.discount_total)));
        }
        totals.extend([
            ("Shipping".to_owned(), show(t.shipping_total)),
            ("Fees".to_owned(), show(t.fee_total)),
            ("Tax".to_owned(), show(t.total_tax)),
            ("Order total".to_owned(), show(t.total)),
            ("Refunded".to_owned(), show(t.refunded_total)),
            ("Remaining refundable".to_owned(), show(refundable)),
        ]);
        OrderView {
            id: o.id,
            number: o.number.clone(),
            status: o.status.as_str().to_owned(),
            status_label: o.status.label().to_owned(),
            created: at(o.created_at),
            paid: o.paid_at.map(at),
            completed: o.completed_at.map(at),
            payment_method: if o.payment_method_title.is_empty() {
                o.payment_method.clone()
            } else {
                o.payment_method_title.clone()
            },
            customer_note: o.customer_note.clone(),
            billing: address(&o.billing),
            shipping: address(&o.shipping),
            billing_form: AddressForm::from(&o.billing),
            shipping_form: AddressForm::from(&o.shipping),
            items: o
                .items
                .iter()
                .map(|i| ItemView {
                    id: i.id,
                    name: i.name.clone(),
                    sku: i.sku.clone(),
                    variation: i.variation_id.map(|v| format!("#{v}")).unwrap_or_default(),
                    quantity: i.quantity,
                    unit_price: show(i.unit_price),
                    subtotal: show(i.subtotal),
                    tax: show(i.total_tax),
                    total: show(i.total),
                    refunded: match (i.refunded_quantity, i.refunded_amount) {
                        (0, 0) => String::new(),
                        (items, amount) => items_and_amount(items, &show(amount)),
                    },
                    refundable_quantity: i.refundable_quantity(),
                    refundable_amount: i.refundable_amount(),
                    unit_refund: if i.quantity > 0 { (i.total + i.total_tax) / i.quantity } else { 0 },
                })
                .collect(),
            shipping_lines: o
                .shipping_lines
                .iter()
                .map(|s| ChargeView { name: s.method_title.clone(), amount: show(s.total), tax: show(s.total_tax) })
                .collect(),
            fees: o
                .fee_lines
                .iter()
                .map(|f| ChargeView { name: f.name.clone(), amount: show(f.total), tax: show(f.total_tax) })
                .collect(),
            coupons: o
                .coupon_lines
                .iter()
                .map(|c| ChargeView { name: c.code.clone(), amount: show(-c.discount), tax: show(-c.discount_tax) })
                .collect(),
            totals,
            total: t.total,
            refunded_total: t.refunded_total,
            refundable,
            notes: o
                .notes
                .iter()
                .rev()
                .map(|n| NoteView { at: at(n.created_at), to_customer: n.to_customer, body: n.body.clone() })
                .collect(),
            store_writes: o
                .store_writes
                .iter()
                .filter(|w| w.state != "confirmed")
                .map(|w| StoreWriteView {
                    at: at(w.created_at),
                    what: w.what.clone(),
                    failed: w.state == "failed",
                    message: w.message.clone().unwrap_or_default(),
                })
                .collect(),
            refunds: o
                .refunds
                .iter()
                .map(|r| RefundView {
                    at: at(r.created_at),
                    amount: show(r.amount),
                    reason: r.reason.clone(),
                    restocked: r.restock,
                    lines: r
                        .lines
                        .iter()
                        .map(|l| {
                            let name = item_names
                                .iter()
                                .find(|(id, _)| *id == l.line_id)
                                .map_or("a removed line", |(_, n)| n.as_str());
                            format!("{} × {name}: {}", l.quantity, show(l.amount))
                        })
                        .collect(),
                })
                .collect(),
            transactions: o
                .transactions
                .iter()
                .cloned()
                .map(|tx| TransactionLine::new(o.id, tx, tz, &store.locale))
                .collect(),
            accounting: o.accounting.iter().cloned().map(|d| DocumentLine::new(d, tz)).collect(),
            accounting_timeline: Vec::new(),
            next: o
                .status
                .next()
                .iter()
                .map(|(s, needs_reason)| NextStatus {
                    value: s.as_str().to_owned(),
                    label: s.label().to_owned(),
                    needs_reason: *needs_reason,
                })
                .collect(),
            can_change,
            status_refundable: o.status.is_refundable(),
            from_store: o.from_store,
            gateway_refunds: backend::woo::write_back::refunds_through(&o.payment_method),
            time_zone: store.time_zone.clone(),
            money: money.clone(),
        }
    }

    /// Who is acting: someone who manages orders.
    pub(in crate::orders) async fn acting() -> Result<crate::context::Acting, PanelError> {
        crate::context::acting(backend::users::Role::manages_orders).await
    }
}
