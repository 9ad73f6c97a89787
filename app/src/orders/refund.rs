//! Refunding an order from its page: the form (a quantity and an amount per line, or one
//! amount; a reason; restocking said explicitly; a preview of the totals after it), the
//! arithmetic it does as pure functions, and the server function it calls. The backend
//! decides whether a refund may be made.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use vocabulary::{
    money::{decimal, parse_amount},
    orders::MAX_REASON_CHARS,
};

use super::order::{ItemView, OrderView, items_and_amount};
use crate::{error::PanelError, forms::action_error};

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

/// Refunds under `idempotency_key`: the same key (a second click, a retry) refunds once.
#[server(endpoint = "refund_order", input = leptos::server_fn::codec::Json)]
pub async fn refund_order(id: i64, refund: RefundRequest, idempotency_key: String) -> Result<String, PanelError> {
    use backend::orders::refunds::{self, NewRefund, NewRefundLine, RefundPayment, Refunded};
    let me = super::order::ssr::acting().await?;
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
pub(super) fn RefundForm(order: OrderView, action: ServerAction<RefundOrder>) -> impl IntoView {
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
        let typed = TypedRefund {
            by_amount: by_amount.get(),
            amount: amount_only.get(),
            lines: line_inputs.with_value(|inputs| {
                inputs.iter().map(|input| (input.line, input.quantity.get(), input.amount.get())).collect()
            }),
            reason: reason.get(),
            restock: restock.get(),
            through_gateway: through_gateway.get(),
        };
        items.with_value(|items| typed.plan(items, digits, from_store))
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
                                // A quantity fills the amount in.
                                let line = item.clone();
                                let follow_quantity = move |ev: leptos::ev::Event| {
                                    let typed = event_target_value(&ev);
                                    input.quantity.set(typed.clone());
                                    if let Some(amount) = typed.trim().parse::<i64>().ok().and_then(|q| amount_for_quantity(&line, q)) {
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

/// The refund form as typed: an amount only, or a quantity and an amount per line
/// (`lines`: the line's index among the order's items, and the two texts).
#[derive(Clone, Debug, Default)]
struct TypedRefund {
    by_amount: bool,
    amount: String,
    lines: Vec<(usize, String, String)>,
    reason: String,
    restock: bool,
    through_gateway: Option<bool>,
}

impl TypedRefund {
    /// What the form asks the backend for, and its total; or the first thing typed that
    /// cannot be read. Lines left at nothing are left out; an order the store keeps needs
    /// to be told where the money goes back from (`from_store`).
    fn plan(&self, items: &[ItemView], digits: u32, from_store: bool) -> Result<RefundPlan, String> {
        let request = if self.by_amount {
            RefundRequest {
                amount: Some(parse_amount(&self.amount, digits)?),
                lines: Vec::new(),
                reason: self.reason.clone(),
                restock: false,
                through_gateway: self.through_gateway,
            }
        } else {
            let lines = self
                .lines
                .iter()
                .map(|(line, quantity, amount)| {
                    let item = &items[*line];
                    let quantity = parse_quantity(quantity, &item.name)?;
                    let amount = parse_amount(amount, digits).map_err(|e| format!("{}: {e}", item.name))?;
                    Ok(RefundLineRequest { line_id: item.id, quantity, amount })
                })
                .filter(|line| !matches!(line, Ok(RefundLineRequest { quantity: 0, amount: 0, .. })))
                .collect::<Result<Vec<_>, String>>()?;
            RefundRequest {
                amount: None,
                lines,
                reason: self.reason.clone(),
                restock: self.restock,
                through_gateway: self.through_gateway,
            }
        };
        if from_store && request.through_gateway.is_none() {
            return Err("Choose how the money goes back to the customer.".to_owned());
        }
        let total = request.amount.unwrap_or_else(|| request.lines.iter().map(|l| l.amount).sum());
        Ok(RefundPlan { request, total })
    }
}

/// What refunding `quantity` of a line's remaining items gives back: their share of the
/// line, and all that remains for the last of them (so rounding leaves nothing behind);
/// `None` for a quantity the line does not have.
fn amount_for_quantity(item: &ItemView, quantity: i64) -> Option<i64> {
    let most = item.refundable_quantity;
    if !(0..=most).contains(&quantity) {
        return None;
    }
    Some(if quantity == most {
        item.refundable_amount
    } else {
        (quantity * item.unit_refund).min(item.refundable_amount)
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Three mugs at 33.34 TRY, one refunded already: two remain, 66.66 TRY of the line.
    fn mugs() -> ItemView {
        ItemView {
            id: 7,
            name: "Mug".into(),
            sku: String::new(),
            variation: String::new(),
            quantity: 3,
            unit_price: String::new(),
            subtotal: String::new(),
            tax: String::new(),
            total: String::new(),
            refunded: String::new(),
            refundable_quantity: 2,
            refundable_amount: 6_666,
            unit_refund: 3_334,
        }
    }

    #[test]
    fn a_quantity_fills_in_its_share_and_the_last_item_takes_what_remains() {
        let mugs = mugs();
        assert_eq!(amount_for_quantity(&mugs, 0), Some(0));
        assert_eq!(amount_for_quantity(&mugs, 1), Some(3_334));
        assert_eq!(amount_for_quantity(&mugs, 2), Some(6_666), "not 2 × 33.34: what remains");
        assert_eq!(amount_for_quantity(&mugs, 3), None);
        assert_eq!(amount_for_quantity(&mugs, -1), None);
    }

    #[test]
    fn a_refund_by_lines_sends_the_lines_typed_and_totals_them() {
        let items = [mugs(), ItemView { id: 8, name: "Plate".into(), ..mugs() }];
        let typed = TypedRefund {
            lines: vec![(0, "1".into(), "33.34".into()), (1, "".into(), "".into())],
            reason: "Broken".into(),
            restock: true,
            ..TypedRefund::default()
        };
        let plan = typed.plan(&items, 2, false).unwrap();
        assert_eq!(plan.total, 3_334);
        assert_eq!(plan.request.lines, [RefundLineRequest { line_id: 7, quantity: 1, amount: 3_334 }]);
        assert!(plan.request.restock && plan.request.amount.is_none());
        assert_eq!(plan.request.reason, "Broken");

        let unreadable = TypedRefund { lines: vec![(1, "1".into(), "twelve".into())], ..TypedRefund::default() };
        assert!(unreadable.plan(&items, 2, false).unwrap_err().starts_with("Plate:"));
    }

    #[test]
    fn a_refund_by_amount_restocks_nothing_and_a_store_order_needs_its_way_back() {
        let typed = TypedRefund {
            by_amount: true,
            amount: "10.50".into(),
            lines: vec![(0, "2".into(), "66.66".into())],
            restock: true,
            ..TypedRefund::default()
        };
        let plan = typed.plan(&[mugs()], 2, false).unwrap();
        assert_eq!((plan.total, plan.request.amount, plan.request.restock), (1_050, Some(1_050), false));
        assert!(plan.request.lines.is_empty(), "the lines typed before switching are not sent");
        assert_eq!(typed.plan(&[mugs()], 2, true).unwrap_err(), "Choose how the money goes back to the customer.");
        let through_gateway = TypedRefund { through_gateway: Some(true), ..typed };
        assert_eq!(through_gateway.plan(&[mugs()], 2, true).unwrap().request.through_gateway, Some(true));
    }

    #[test]
    fn a_quantity_is_a_whole_number_of_items() {
        assert_eq!(parse_quantity(" 2 ", "Mug"), Ok(2));
        assert_eq!(parse_quantity("", "Mug"), Ok(0));
        for bad in ["-1", "1.5", "two"] {
            assert!(parse_quantity(bad, "Mug").unwrap_err().starts_with("Mug:"), "{bad}");
        }
    }
}
