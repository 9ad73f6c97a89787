//! One order's page: what was bought and where it goes, its money (totals, refunds,
//! transactions), its documents in the accounting ledger, its notes, and what a shop
//! manager does to it — move its status, add a note, refund it, send it to the ledger.
//! Each action is one backend call (the same ones the REST API makes), and after each
//! the page reloads the order.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use vocabulary::orders::{MAX_NOTE_CHARS, MAX_REASON_CHARS};

use super::{
    LIST_PATH, OrderStatusBadge,
    customer::{CustomerForm, EditOrderCustomer},
    list::LIST_ADDRESS_KEY,
    order::{AddressView, ChargeView, NoteView, OrderView, RefundView, StoreWriteView, get_order},
    refund::{RefundForm, RefundOrder},
};
use crate::{
    accounting::order::{OrderAccounting, SyncOrderToAccounting},
    error::PanelError,
    forms::{PageActions, action_error, reset_on_success},
    loaded::LoadedRecord,
    transactions::{TransactionLine, transaction_row},
};

/// Moves the order to `to` under the transition policy; answers what happened, for the
/// page's status line.
#[server(endpoint = "change_order_status")]
pub async fn change_order_status(id: i64, to: String, reason: String) -> Result<String, PanelError> {
    use backend::orders::{OrderStatus, status};
    let me = super::order::ssr::acting().await?;
    let to: OrderStatus = to.parse()?;
    let tz = backend::settings::get(&me.ctx.db).await?.tz();
    status::change(&me.ctx.db, &me.ctx.order_events, tz, me.actor(), id, to, Some(reason.as_str())).await?;
    Ok(format!("The order is now {}.", to.label()))
}

/// Adds a note: private, or to the customer (emailed).
#[server(endpoint = "add_order_note")]
pub async fn add_order_note(id: i64, note: String, to_customer: Option<String>) -> Result<String, PanelError> {
    let me = super::order::ssr::acting().await?;
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
