//! One order's page: what was bought and where it goes, its money (totals, refunds,
//! transactions), its documents in the accounting ledger, its notes, and what a shop
//! manager does to it — move its status, add a note, refund it, send it to the ledger.
//! Each action is one backend call (the same ones the REST API makes), and after each
//! the page reloads the order.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};
use vocabulary::{
    money::{decimal, parse_amount},
    orders::{MAX_NOTE_CHARS, MAX_REASON_CHARS},
};

use super::{
    OrderStatusBadge,
    amount::MoneyFormat,
    customer::{AddressForm, CustomerForm, EditOrderCustomer},
    list::{LIST_ADDRESS_KEY, LIST_PATH},
};
use crate::{
    accounting::{
        DocumentLine,
        order::{OrderAccounting, SyncOrderToAccounting, TimelineLine},
    },
    error::PanelError,
    forms::{PageActions, action_error, reset_on_success},
    loaded::LoadedRecord,
    transactions::{TransactionLine, transaction_row},
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

/// A refund as the form asks for it: per line, or an amount only. Minor units.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    pub amount: Option<i64>,
    pub lines: Vec<RefundLineRequest>,
    pub reason: String,
    pub restock: bool,
    /// For an order the store keeps: through the payment provider, or recorded only.
    pub through_gateway: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLineRequest {
    pub line_id: i64,
    pub quantity: i64,
    pub amount: i64,
}

/// The order, or `None` when there is no such order.
#[server(endpoint = "get_order")]
pub async fn get_order(id: i64) -> Result<Option<OrderView>, PanelError> {
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let store = backend::settings::get(&ctx.db).await?;
    let can_change = me.role.manages_orders();
    let mut view = match backend::orders::detail::get(&ctx.db, id).await {
        Ok(order) => order_view(order, &store, can_change),
        Err(backend::Error::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if can_change {
        view.accounting_timeline = crate::accounting::order::timeline(&ctx.db, id, store.tz()).await?;
    }
    Ok(Some(view))
}

#[cfg(feature = "ssr")]
fn order_view(
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
#[cfg(feature = "ssr")]
async fn acting() -> Result<crate::context::Acting, PanelError> {
    crate::context::acting(backend::users::Role::manages_orders).await
}

/// Moves the order to `to` under the transition policy; answers what happened, for the
/// page's status line.
#[server(endpoint = "change_order_status")]
pub async fn change_order_status(id: i64, to: String, reason: String) -> Result<String, PanelError> {
    use backend::orders::{OrderStatus, status};
    let me = acting().await?;
    let to: OrderStatus = to.parse()?;
    let tz = backend::settings::get(&me.ctx.db).await?.tz();
    status::change(&me.ctx.db, &me.ctx.order_events, tz, me.actor(), id, to, Some(reason.as_str())).await?;
    Ok(format!("The order is now {}.", to.label()))
}

/// Adds a note: private, or to the customer (emailed).
#[server(endpoint = "add_order_note")]
pub async fn add_order_note(id: i64, note: String, to_customer: Option<String>) -> Result<String, PanelError> {
    let me = acting().await?;
    let note =
        backend::orders::notes::add(&me.ctx.db, &me.ctx.order_events, me.actor(), id, &note, to_customer.is_some())
            .await?;
    Ok(if note.to_customer {
        "The note is added and will be emailed to the customer."
    } else {
        "The private note is added."
    }
    .to_owned())
}

/// Refunds under `idempotency_key`: the same key (a second click, a retry) refunds once.
#[server(endpoint = "refund_order", input = leptos::server_fn::codec::Json)]
pub async fn refund_order(id: i64, refund: RefundRequest, idempotency_key: String) -> Result<String, PanelError> {
    use backend::orders::refunds::{self, NewRefund, NewRefundLine, RefundPayment, Refunded};
    let me = acting().await?;
    let tz = backend::settings::get(&me.ctx.db).await?.tz();
    let new = NewRefund {
        amount: refund.amount,
        lines: refund
            .lines
            .into_iter()
            .map(|l| NewRefundLine { line_id: l.line_id, quantity: l.quantity, amount: l.amount })
            .collect(),
        reason: refund.reason,
        restock: refund.restock,
        payment: refund.through_gateway.map(|g| if g { RefundPayment::Gateway } else { RefundPayment::Manual }),
    };
    let key = Some(idempotency_key.as_str()).filter(|k| !k.is_empty());
    let done = refunds::refund(&me.ctx.db, &me.ctx.order_events, tz, me.actor(), id, &new, key).await?;
    Ok(match done {
        Refunded::Made { created: true, .. } => "The refund is made.",
        Refunded::Made { created: false, .. } => "This refund was already made.",
        Refunded::Sent(_) => "The refund is sent to the store; it shows here once the store has made it.",
    }
    .to_owned())
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())));
    let status_change = ServerAction::<ChangeOrderStatus>::new();
    let add_note = ServerAction::<AddOrderNote>::new();
    let refund = ServerAction::<RefundOrder>::new();
    let sync = ServerAction::<SyncOrderToAccounting>::new();
    let edit_customer = ServerAction::<EditOrderCustomer>::new();
    let actions = PageActions::default();
    actions.follow(edit_customer);
    actions.follow(status_change);
    actions.follow(add_note);
    actions.follow(refund);
    actions.follow(sync);
    let order = crate::loaded::load(
        move || (id.get(), actions.reloads.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_order(id).await,
                None => Ok(None),
            }
        },
    );
    // Back to the list as it was left, filters and page, when the person came from it.
    let back = RwSignal::new(LIST_PATH.to_owned());
    Effect::new(move |_| {
        if let Ok(Some(storage)) = window().session_storage()
            && let Ok(Some(href)) = storage.get_item(LIST_ADDRESS_KEY)
            && href.starts_with(LIST_PATH)
        {
            back.set(href);
        }
    });
    view! {
        <p class="back-link"><a href=move || back.get()>"← Back to orders"</a></p>
        <p role="status" class="success">{move || actions.done.get()}</p>
        <LoadedRecord resource=order thing="order" back=LIST_PATH back_label="Back to orders"
            show=move |order| view! { <OrderDetail order status_change add_note refund sync edit_customer/> }/>
    }
}

#[component]
fn OrderDetail(
    order: OrderView,
    status_change: ServerAction<ChangeOrderStatus>,
    add_note: ServerAction<AddOrderNote>,
    refund: ServerAction<RefundOrder>,
    sync: ServerAction<SyncOrderToAccounting>,
    edit_customer: ServerAction<EditOrderCustomer>,
) -> impl IntoView {
    let title = format!("Order #{} · Backroom", order.number);
    let facts = [
        Some(("Placed", order.created.clone())),
        order.paid.clone().map(|at| ("Paid", at)),
        order.completed.clone().map(|at| ("Completed", at)),
        Some(("Payment", order.payment_method.clone())),
    ];
    view! {
        <Title text=title/>
        <header class="order-head">
            <h1>"Order #"{order.number.clone()}</h1>
            <OrderStatusBadge status=order.status.clone() label=order.status_label.clone() attr:data-testid="order-status"/>
        </header>
        <dl class="order-facts">
            {facts.into_iter().flatten().map(|(label, value)| view! { <div><dt>{label}</dt><dd>{value}</dd></div> }).collect_view()}
        </dl>
        <p class="muted">"Times in "{order.time_zone.clone()}"."</p>
        <StoreWrites writes=order.store_writes.clone()/>
        {(!order.customer_note.is_empty()).then(|| view! {
            <p class="card"><strong>"Customer's note: "</strong>{order.customer_note.clone()}</p>
        })}
        <div class="order-columns">
            <section class="card" aria-labelledby="billing-heading">
                <h2 id="billing-heading">"Billing address"</h2>
                <AddressBlock address=order.billing.clone()/>
            </section>
            <section class="card" aria-labelledby="shipping-heading">
                <h2 id="shipping-heading">"Shipping address"</h2>
                <AddressBlock address=order.shipping.clone()/>
            </section>
        </div>
        {order.can_change.then(|| view! {
            <CustomerForm id=order.id billing=order.billing_form.clone() shipping=order.shipping_form.clone()
                action=edit_customer/>
        })}
        <Items order=order.clone()/>
        <Totals order=order.clone()/>
        {order.can_change.then(|| view! {
            <div class="order-columns">
                <StatusForm order=order.clone() action=status_change/>
                <NoteForm id=order.id action=add_note/>
            </div>
            <RefundForm order=order.clone() action=refund/>
        })}
        <Refunds refunds=order.refunds.clone()/>
        <Transactions transactions=order.transactions.clone()/>
        <OrderAccounting order_id=order.id documents=order.accounting.clone() timeline=order.accounting_timeline.clone()
            can_sync=order.can_change sync/>
        <Notes notes=order.notes.clone()/>
    }
}

#[component]
fn AddressBlock(address: AddressView) -> impl IntoView {
    if address.lines.is_empty() && address.email.is_empty() && address.phone.is_empty() {
        return view! { <p class="muted">"None given."</p> }.into_any();
    }
    view! {
        <address>
            {address.lines.into_iter().map(|line| view! { {line}<br/> }).collect_view()}
        </address>
        {(!address.email.is_empty()).then(|| view! { <p>"Email: "<a href=format!("mailto:{}", address.email)>{address.email.clone()}</a></p> })}
        {(!address.phone.is_empty()).then(|| view! { <p>"Phone: "<a href=format!("tel:{}", address.phone)>{address.phone.clone()}</a></p> })}
    }
    .into_any()
}

#[component]
fn Items(order: OrderView) -> impl IntoView {
    view! {
        <section aria-labelledby="items-heading">
            <h2 id="items-heading">"Items"</h2>
            <div class="card table-wrap" tabindex="0" role="region" aria-labelledby="items-heading">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Product"</th>
                            <th scope="col">"SKU"</th>
                            <th scope="col">"Variation"</th>
                            <th scope="col" class="num">"Qty"</th>
                            <th scope="col" class="num">"Unit price"</th>
                            <th scope="col" class="num">"Subtotal"</th>
                            <th scope="col" class="num">"Tax"</th>
                            <th scope="col" class="num">"Total"</th>
                            <th scope="col" class="num">"Refunded"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {order.items.into_iter().map(|i| view! {
                            <tr>
                                <td class="wrap">{i.name}</td>
                                <td class="nowrap"><code>{i.sku}</code></td>
                                <td>{i.variation}</td>
                                <td class="num">{i.quantity}</td>
                                <td class="num nowrap">{i.unit_price}</td>
                                <td class="num nowrap">{i.subtotal}</td>
                                <td class="num nowrap">{i.tax}</td>
                                <td class="num nowrap">{i.total}</td>
                                <td class="num nowrap">{i.refunded}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="hint">"Subtotal is before discounts and Total after them, both without tax; refunded amounts include tax."</p>
            <Charges heading="Shipping" charges=order.shipping_lines/>
            <Charges heading="Fees" charges=order.fees/>
            <Charges heading="Coupons" charges=order.coupons/>
        </section>
    }
}

/// Shipping lines, fees or coupons, when the order has any.
#[component]
fn Charges(heading: &'static str, charges: Vec<ChargeView>) -> impl IntoView {
    (!charges.is_empty()).then(|| {
        let id = format!("{}-heading", heading.to_lowercase());
        view! {
            <h3 id=id.clone()>{heading}</h3>
            <div class="card table-wrap">
                <table aria-labelledby=id>
                    <thead><tr><th scope="col">"Name"</th><th scope="col" class="num">"Amount"</th><th scope="col" class="num">"Tax"</th></tr></thead>
                    <tbody>
                        {charges.into_iter().map(|c| view! {
                            <tr><td class="wrap">{c.name}</td><td class="num nowrap">{c.amount}</td><td class="num nowrap">{c.tax}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
    })
}

#[component]
fn Totals(order: OrderView) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="totals-heading">
            <h2 id="totals-heading">"Totals"</h2>
            <dl class="order-totals">
                {order.totals.into_iter().map(|(label, amount)| {
                    let testid = label.to_lowercase().replace(' ', "-");
                    view! { <div><dt>{label}</dt><dd data-testid=testid>{amount}</dd></div> }
                }).collect_view()}
            </dl>
        </section>
    }
}

/// The status change: only the moves the policy allows from here, with a reason field
/// that is required when the move needs one (the backend checks the same).
#[component]
fn StatusForm(order: OrderView, action: ServerAction<ChangeOrderStatus>) -> impl IntoView {
    let error = action_error(action);
    let next = order.next.clone();
    if next.is_empty() {
        return view! {
            <section class="card" aria-labelledby="status-heading">
                <h2 id="status-heading">"Status"</h2>
                <p>{format!("A {} order's status does not change by hand.", order.status_label.to_lowercase())}</p>
            </section>
        }
        .into_any();
    }
    let chosen = RwSignal::new(next[0].value.clone());
    let needs_reason = move || next.iter().any(|n| n.value == chosen.get() && n.needs_reason);
    let needs_reason_label = needs_reason.clone();
    let form = NodeRef::<leptos::html::Form>::new();
    reset_on_success(action, form);
    view! {
        <section class="card" aria-labelledby="status-heading">
            <h2 id="status-heading">"Change the status"</h2>
            <p>"Now: "<strong>{order.status_label.clone()}</strong></p>
            <ActionForm action node_ref=form>
                <input type="hidden" name="id" value=order.id/>
                <div class="field">
                    <label for="status-to">"New status"</label>
                    <select id="status-to" name="to" prop:value=move || chosen.get() on:change=move |ev| chosen.set(event_target_value(&ev))>
                        {order.next.iter().map(|n| view! {
                            <option value=n.value.clone()>{n.label.clone()}{n.needs_reason.then_some(" (needs a reason)")}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="status-reason">{move || if needs_reason_label() { "Reason (required for this change)" } else { "Reason (optional)" }}</label>
                    <input id="status-reason" name="reason" type="text" maxlength=MAX_REASON_CHARS.to_string() required=needs_reason
                        aria-describedby="status-reason-hint"/>
                    <p class="hint" id="status-reason-hint">"Kept in the order's notes and the audit log."</p>
                </div>
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Change status"</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn NoteForm(id: i64, action: ServerAction<AddOrderNote>) -> impl IntoView {
    let error = action_error(action);
    let form = NodeRef::<leptos::html::Form>::new();
    reset_on_success(action, form);
    view! {
        <section class="card" aria-labelledby="add-note-heading">
            <h2 id="add-note-heading">"Add a note"</h2>
            <ActionForm action node_ref=form>
                <input type="hidden" name="id" value=id/>
                <div class="field">
                    <label for="note-body">"Note"</label>
                    <textarea id="note-body" name="note" rows="3" maxlength=MAX_NOTE_CHARS.to_string() required></textarea>
                </div>
                <div class="field checkbox">
                    <input id="note-to-customer" name="to_customer" type="checkbox" value="on"/>
                    <label for="note-to-customer">"Note to the customer (emailed)"</label>
                </div>
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" disabled=move || action.pending().get()>"Add note"</button>
            </ActionForm>
        </section>
    }
}

/// One line of the refund form: what may still be refunded on it, and what is typed.
#[derive(Clone, Copy)]
struct RefundLineInput {
    line: usize,
    quantity: RwSignal<String>,
    amount: RwSignal<String>,
}

/// A refund as typed: minor units per line and in all, or why it cannot be sent.
#[derive(Clone, Debug, PartialEq)]
struct RefundPlan {
    request: RefundRequest,
    total: i64,
}

/// The refund form: a quantity and an amount per line (the amount follows the quantity
/// until edited) or one amount; a reason; restocking, said explicitly; a preview of the
/// totals after it. The backend decides whether it may be made.
#[component]
fn RefundForm(order: OrderView, action: ServerAction<RefundOrder>) -> impl IntoView {
    // The backend refuses these too; the form would only lead to its refusal.
    let cannot = if order.refundable <= 0 {
        Some("Nothing remains to be refunded on this order.".to_owned())
    } else if !order.status_refundable {
        Some(format!("This order is {}: only paid orders can be refunded.", order.status_label.to_lowercase()))
    } else {
        None
    };
    if let Some(why) = cannot {
        return view! {
            <section class="card" aria-labelledby="refund-heading">
                <h2 id="refund-heading">"Refund"</h2>
                <p data-testid="no-refund">{why}</p>
            </section>
        }
        .into_any();
    }
    let money = order.money.clone();
    let digits = money.digits();
    let items = StoredValue::new(order.items.clone());
    let inputs: Vec<RefundLineInput> = order
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.refundable_amount > 0)
        .map(|(line, _)| RefundLineInput {
            line,
            quantity: RwSignal::new("0".to_owned()),
            amount: RwSignal::new(String::new()),
        })
        .collect();
    let by_amount = RwSignal::new(inputs.is_empty());
    let amount_only = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let restock = RwSignal::new(false);
    // Where the money goes back from, for the store's orders: chosen, never assumed (a
    // method that cannot refund leaves one choice).
    let (from_store, gateway_refunds) = (order.from_store, order.gateway_refunds);
    let through_gateway = RwSignal::new((from_store && !gateway_refunds).then_some(false));
    // One key for this form: a second click, or a retry after a lost answer, refunds once.
    // Reloading the order after a refund draws a new form, with a new key.
    let key = StoredValue::new(None::<String>);
    let line_inputs = StoredValue::new(inputs.clone());
    let no_lines = inputs.is_empty();

    let plan = Memo::new(move |_| -> Result<RefundPlan, String> {
        let request = if by_amount.get() {
            let amount = parse_amount(&amount_only.get(), digits)?;
            RefundRequest {
                amount: Some(amount),
                lines: Vec::new(),
                reason: reason.get(),
                restock: false,
                through_gateway: through_gateway.get(),
            }
        } else {
            let lines = line_inputs.with_value(|inputs| {
                items.with_value(|items| {
                    inputs
                        .iter()
                        .map(|input| {
                            let item = &items[input.line];
                            let quantity = parse_quantity(&input.quantity.get(), &item.name)?;
                            let amount =
                                parse_amount(&input.amount.get(), digits).map_err(|e| format!("{}: {e}", item.name))?;
                            Ok(RefundLineRequest { line_id: item.id, quantity, amount })
                        })
                        .filter(|line| !matches!(line, Ok(RefundLineRequest { quantity: 0, amount: 0, .. })))
                        .collect::<Result<Vec<_>, String>>()
                })
            })?;
            RefundRequest {
                amount: None,
                lines,
                reason: reason.get(),
                restock: restock.get(),
                through_gateway: through_gateway.get(),
            }
        };
        if from_store && request.through_gateway.is_none() {
            return Err("Choose how the money goes back to the customer.".to_owned());
        }
        let total = request.amount.unwrap_or_else(|| request.lines.iter().map(|l| l.amount).sum());
        Ok(RefundPlan { request, total })
    });
    let (total, refunded_total, refundable) = (order.total, order.refunded_total, order.refundable);
    let preview_money = money.clone();
    let preview = move || match plan.get() {
        Err(problem) => view! { <p class="error">{problem}</p> }.into_any(),
        Ok(RefundPlan { total: 0, .. }) => {
            view! { <p class="muted">"Choose what to refund: a quantity or an amount on a line, or an amount."</p> }
                .into_any()
        }
        Ok(RefundPlan { total: this, .. }) => {
            let remaining = refundable - this;
            view! {
                <dl class="order-totals">
                    <div><dt>"This refund"</dt><dd data-testid="preview-refund">{preview_money.show(this)}</dd></div>
                    <div><dt>"Refunded after it"</dt><dd>{format!("{} of {}", preview_money.show(refunded_total + this), preview_money.show(total))}</dd></div>
                    <div><dt>"Remaining refundable after it"</dt><dd data-testid="preview-remaining">{preview_money.show(remaining.max(0))}</dd></div>
                </dl>
                {(remaining == 0).then(|| view! { <p><strong>"The order becomes Refunded."</strong></p> })}
                {(remaining < 0).then(|| view! {
                    <p class="error">{format!("That is more than the {} that remains refundable.", preview_money.show(refundable))}</p>
                })}
            }
            .into_any()
        }
    };
    let ready = move || plan.with(|p| p.as_ref().is_ok_and(|p| p.total > 0)) && !action.pending().get();
    let error = action_error(action);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(plan) = plan.get_untracked() else { return };
        if plan.total <= 0 || action.pending().get_untracked() {
            return;
        }
        let idempotency_key = key.with_value(Clone::clone).unwrap_or_else(new_idempotency_key);
        key.set_value(Some(idempotency_key.clone()));
        action.dispatch(RefundOrder { id: order.id, refund: plan.request, idempotency_key });
    };
    let line_money = money.clone();
    let payment_method = order.payment_method.clone();
    view! {
        <section class="card" aria-labelledby="refund-heading">
            <h2 id="refund-heading">"Refund"</h2>
            <p>"Remaining refundable: "<strong data-testid="refundable">{money.show(refundable)}</strong></p>
            <form on:submit=on_submit class="refund-form">
                <fieldset class="choices">
                    <legend>"Refund by"</legend>
                    <span class="choice">
                        <input type="radio" id="refund-by-lines" name="refund-by" checked=!by_amount.get_untracked() prop:checked=move || !by_amount.get()
                            disabled=no_lines on:change=move |_| by_amount.set(false)/>
                        <label for="refund-by-lines">"Items: a quantity and an amount per line"</label>
                    </span>
                    <span class="choice">
                        <input type="radio" id="refund-by-amount" name="refund-by" checked=by_amount.get_untracked() prop:checked=move || by_amount.get()
                            on:change=move |_| by_amount.set(true)/>
                        <label for="refund-by-amount">"An amount only"</label>
                    </span>
                </fieldset>
                <div class="table-wrap" hidden=move || by_amount.get()>
                    <table class="refund-lines">
                        <thead>
                            <tr>
                                <th scope="col" id="refund-item-heading">"Item"</th>
                                <th scope="col" class="num">"Refundable"</th>
                                <th scope="col" id="refund-quantity-heading">"Quantity to refund"</th>
                                <th scope="col" id="refund-amount-heading">"Amount to refund"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {inputs.into_iter().map(|input| {
                                let item = items.with_value(|items| items[input.line].clone());
                                let (row_id, quantity_id, amount_id) =
                                    (format!("refund-item-{}", item.id), format!("refund-quantity-{}", item.id), format!("refund-amount-{}", item.id));
                                let refundable_text = items_and_amount(item.refundable_quantity, &line_money.show(item.refundable_amount));
                                // A quantity fills the amount in: the items' share of the line,
                                // all that remains for the last of them.
                                let (most, all_of_it, each) = (item.refundable_quantity, item.refundable_amount, item.unit_refund);
                                let follow_quantity = move |ev: leptos::ev::Event| {
                                    let typed = event_target_value(&ev);
                                    input.quantity.set(typed.clone());
                                    if let Ok(quantity) = typed.trim().parse::<i64>()
                                        && (0..=most).contains(&quantity)
                                    {
                                        let amount = if quantity == most { all_of_it } else { (quantity * each).min(all_of_it) };
                                        input.amount.set(if amount == 0 { String::new() } else { decimal(amount, digits) });
                                    }
                                };
                                view! {
                                    <tr>
                                        <td id=row_id.clone() class="wrap">{item.name.clone()}</td>
                                        <td class="num nowrap">{refundable_text}</td>
                                        <td>
                                            <input type="number" id=quantity_id min="0" max=item.refundable_quantity step="1" inputmode="numeric"
                                                aria-labelledby=format!("refund-quantity-heading {row_id}")
                                                prop:value=move || input.quantity.get() on:input=follow_quantity/>
                                        </td>
                                        <td>
                                            <input type="text" id=amount_id inputmode="decimal" autocomplete="off" size="10"
                                                aria-labelledby=format!("refund-amount-heading {row_id}")
                                                prop:value=move || input.amount.get() on:input=move |ev| input.amount.set(event_target_value(&ev))/>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <div class="field" hidden=move || !by_amount.get()>
                    <label for="refund-amount">{format!("Amount to refund ({}, tax included)", money.currency)}</label>
                    <input id="refund-amount" type="text" inputmode="decimal" autocomplete="off"
                        placeholder=decimal(refundable, digits) aria-describedby="refund-amount-hint"
                        prop:value=move || amount_only.get() on:input=move |ev| amount_only.set(event_target_value(&ev))/>
                    <p class="hint" id="refund-amount-hint">"Type 12,50 or 12.50."</p>
                </div>
                <div class="field">
                    <label for="refund-reason">"Reason (optional)"</label>
                    <input id="refund-reason" type="text" maxlength=MAX_REASON_CHARS.to_string()
                        prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/>
                </div>
                {from_store.then(|| view! {
                    <fieldset class="choices">
                        <legend>"Money back"</legend>
                        {gateway_refunds.then(|| view! {
                            <span class="choice">
                                <input type="radio" id="refund-through-gateway" name="refund-payment"
                                    prop:checked=move || through_gateway.get() == Some(true)
                                    on:change=move |_| through_gateway.set(Some(true))/>
                                <label for="refund-through-gateway">{format!("Through {}: the store asks it to pay the customer back", payment_method)}</label>
                            </span>
                        })}
                        <span class="choice">
                            <input type="radio" id="refund-recorded" name="refund-payment"
                                prop:checked=move || through_gateway.get() == Some(false)
                                on:change=move |_| through_gateway.set(Some(false))/>
                            <label for="refund-recorded">"Recorded only: the money was returned another way"</label>
                        </span>
                    </fieldset>
                })}
                <div class="field checkbox">
                    <input id="refund-restock" type="checkbox" disabled=move || by_amount.get()
                        prop:checked=move || restock.get() on:change=move |ev| restock.set(event_target_checked(&ev))/>
                    <label for="refund-restock">"Restock the refunded items"</label>
                </div>
                <div class="refund-preview" aria-live="polite">{preview}</div>
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="primary" disabled=move || !ready()>
                    {move || if action.pending().get() { "Refunding…" } else { "Refund" }}
                </button>
            </form>
        </section>
    }
    .into_any()
}

/// `2 items, 50.00 TRY`; the amount alone when no items (a price adjustment).
fn items_and_amount(items: i64, amount: &str) -> String {
    match items {
        0 => amount.to_owned(),
        1 => format!("1 item, {amount}"),
        n => format!("{n} items, {amount}"),
    }
}

/// A whole number of items, 0 when empty.
fn parse_quantity(text: &str, item: &str) -> Result<i64, String> {
    match text.trim() {
        "" => Ok(0),
        text => text
            .parse::<i64>()
            .ok()
            .filter(|q| *q >= 0)
            .ok_or_else(|| format!("{item}: the quantity is a whole number of items")),
    }
}

/// A fresh idempotency key, made in the browser when the form is first sent. It needs to
/// be unique to this form, not secret.
fn new_idempotency_key() -> String {
    use web_sys::js_sys::{Date, Math};
    let random = |scale: f64| (Math::random() * scale) as u64;
    format!("panel-{:x}-{:012x}{:012x}", Date::now() as u64, random(2f64.powi(48)), random(2f64.powi(48)))
}

/// A part of the order's page under its heading (`id` is the heading's): `children`, or
/// a card saying `empty` when there is nothing to show.
#[component]
fn Part(
    id: &'static str,
    heading: &'static str,
    empty: &'static str,
    is_empty: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <section aria-labelledby=id>
            <h2 id=id>{heading}</h2>
            {if is_empty { view! { <p class="card muted">{empty}</p> }.into_any() } else { children() }}
        </section>
    }
}

#[component]
fn Refunds(refunds: Vec<RefundView>) -> impl IntoView {
    view! {
        <Part id="refunds-heading" heading="Refunds" empty="No refunds." is_empty=refunds.is_empty()>
            <div class="card table-wrap" tabindex="0" role="region" aria-labelledby="refunds-heading">
                <table data-testid="refunds">
                    <thead>
                        <tr>
                            <th scope="col">"When"</th>
                            <th scope="col" class="num">"Amount"</th>
                            <th scope="col">"Lines"</th>
                            <th scope="col">"Reason"</th>
                            <th scope="col">"Restocked"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {refunds.into_iter().map(|r| view! {
                            <tr>
                                <td class="nowrap">{r.at}</td>
                                <td class="num nowrap">{r.amount}</td>
                                <td>{if r.lines.is_empty() {
                                    view! { <span class="muted">"Amount only"</span> }.into_any()
                                } else {
                                    view! { <ul class="plain">{r.lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul> }.into_any()
                                }}</td>
                                <td class="wrap">{r.reason}</td>
                                <td>{if r.restocked { "Yes" } else { "No" }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </Part>
    }
}

#[component]
fn Transactions(transactions: Vec<TransactionLine>) -> impl IntoView {
    view! {
        <Part id="transactions-heading" heading="Transactions" empty="No payment transactions." is_empty=transactions.is_empty()>
            <div class="card table-wrap" tabindex="0" role="region" aria-labelledby="transactions-heading">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"When"</th>
                            <th scope="col">"Gateway"</th>
                            <th scope="col">"Transaction"</th>
                            <th scope="col">"Kind"</th>
                            <th scope="col" class="num">"Amount"</th>
                            <th scope="col">"Status"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {transactions.into_iter().map(|t| transaction_row(t, false)).collect_view()}
                    </tbody>
                </table>
            </div>
        </Part>
    }
}

/// Changes the store has not taken: waiting ones, and refused ones with the store's words.
#[component]
fn StoreWrites(writes: Vec<StoreWriteView>) -> impl IntoView {
    (!writes.is_empty()).then(|| {
        view! {
            <section class="card" aria-labelledby="store-writes-heading" data-testid="store-writes">
                <h2 id="store-writes-heading">"With the store"</h2>
                <div role="status">
                    <ul>
                        {writes.into_iter().map(|w| view! {
                            <li class=if w.failed { "store-write failed" } else { "store-write" }>
                                <strong>{w.what}</strong>" · "<span class="nowrap">{w.at}</span>" · "
                                {if w.failed { "The store did not take this change. " } else { "Waiting for the store. " }}
                                {w.message}
                            </li>
                        }).collect_view()}
                    </ul>
                </div>
            </section>
        }
    })
}

#[component]
fn Notes(notes: Vec<NoteView>) -> impl IntoView {
    view! {
        <Part id="notes-heading" heading="Notes" empty="No notes." is_empty=notes.is_empty()>
            <ol class="order-notes" data-testid="notes">
                {notes.into_iter().map(|n| view! {
                    <li class=if n.to_customer { "card to-customer" } else { "card" }>
                        <p class="note-meta">
                            <span class="nowrap">{n.at}</span>" · "
                            {if n.to_customer { "To the customer" } else { "Private" }}
                        </p>
                        <p class="note-body">{n.body}</p>
                    </li>
                }).collect_view()}
            </ol>
        </Part>
    }
}

#[cfg(test)]
mod tests {
    use super::parse_quantity;

    #[test]
    fn a_quantity_is_a_whole_number_of_items() {
        assert_eq!(parse_quantity(" 2 ", "Mug"), Ok(2));
        assert_eq!(parse_quantity("", "Mug"), Ok(0));
        for bad in ["-1", "1.5", "two"] {
            assert!(parse_quantity(bad, "Mug").unwrap_err().starts_with("Mug:"), "{bad}");
        }
    }
}
