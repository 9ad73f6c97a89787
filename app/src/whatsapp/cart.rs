//! One recovery cart: who and what, where it stands, the link that restores it, its
//! coupon and order, and its timeline — captured, changed, each message and what became
//! of it, clicks, the order or the reason it stopped — in the shop's time zone.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::{CARTS_PATH, CartStateBadge, WhatsAppNav};
use crate::{
    error::PanelError,
    loaded::{DataTable, LoadedRecord},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLineItem {
    pub name: String,
    pub quantity: i64,
    pub price: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineLine {
    pub at: String,
    pub kind: String,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartPage {
    pub id: i64,
    pub captured: String,
    pub phone: String,
    pub name: String,
    pub email: String,
    pub state: String,
    pub stop_reason: String,
    pub total: String,
    pub lines: Vec<CartLineItem>,
    pub restore_url: String,
    pub messages_sent: i64,
    pub clicks: i64,
    pub coupon: String,
    pub order_id: Option<i64>,
    /// What the order came to; empty without one.
    pub order_total: String,
    pub timeline: Vec<TimelineLine>,
    pub time_zone: String,
}

/// The cart `id`, or `None` when there is none.
#[server(endpoint = "whatsapp_cart")]
pub async fn whatsapp_cart(id: i64) -> Result<Option<CartPage>, PanelError> {
    let ctx = super::ssr::reading().await?;
    let Some(detail) = backend::whatsapp::report::cart(&ctx.db, id).await? else { return Ok(None) };
    let store = backend::settings::get(&ctx.db).await?;
    let tz = store.tz();
    let cart = detail.cart;
    let money = |amount: i64| vocabulary::money::format(amount, &cart.currency, &store.locale);
    Ok(Some(CartPage {
        id: cart.id,
        captured: backend::clock::local_minute(cart.captured_at, tz),
        phone: cart.phone.clone(),
        name: cart.name.clone(),
        email: cart.email.clone(),
        state: cart.state.clone(),
        stop_reason: cart.stop_reason.clone().unwrap_or_default(),
        total: money(cart.total_minor),
        lines: detail
            .lines
            .into_iter()
            .map(|l| CartLineItem { name: l.name, quantity: l.quantity, price: money(l.price_minor) })
            .collect(),
        restore_url: detail.restore_url,
        messages_sent: cart.steps_sent,
        clicks: cart.clicks,
        coupon: cart.coupon_code.clone().unwrap_or_default(),
        order_id: cart.order_id,
        order_total: cart.order_total_minor.map(money).unwrap_or_default(),
        timeline: detail
            .timeline
            .into_iter()
            .map(|e| TimelineLine {
                at: backend::clock::format_local(e.at, tz, "%Y-%m-%d %H:%M:%S"),
                kind: e.kind,
                detail: e.detail,
            })
            .collect(),
        time_zone: store.time_zone,
    }))
}

#[component]
pub fn WhatsAppCartPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())));
    let cart = crate::loaded::load(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => whatsapp_cart(id).await,
                None => Ok(None),
            }
        },
    );
    view! {
        <p class="back-link"><a href=CARTS_PATH>"← Back to the carts"</a></p>
        <LoadedRecord resource=cart thing="cart" back=CARTS_PATH back_label="Back to the carts" show=|c: CartPage| view! { <Cart c/> }/>
    }
}

#[component]
fn Cart(c: CartPage) -> impl IntoView {
    let title = format!("Cart {}", c.id);
    view! {
        <Title text=format!("{title} · WhatsApp · Backroom")/>
        <div class="order-head">
            <h1>{title}</h1>
            <CartStateBadge state=c.state.clone()/>
        </div>
        <WhatsAppNav/>
        <dl class="order-facts">
            <div><dt>"Captured"</dt><dd>{c.captured}" ("{c.time_zone.clone()}")"</dd></div>
            <div><dt>"Phone"</dt><dd>{c.phone}</dd></div>
            <div><dt>"Name"</dt><dd>{c.name}</dd></div>
            {(!c.email.is_empty()).then(|| view! { <div><dt>"Email"</dt><dd>{c.email}</dd></div> })}
            <div><dt>"Total"</dt><dd>{c.total}</dd></div>
            <div><dt>"Messages sent"</dt><dd>{c.messages_sent}</dd></div>
            <div><dt>"Clicks"</dt><dd>{c.clicks}</dd></div>
            {(!c.stop_reason.is_empty()).then(|| view! { <div><dt>"Stopped because"</dt><dd>{c.stop_reason}</dd></div> })}
            {(!c.coupon.is_empty()).then(|| view! { <div><dt>"Coupon"</dt><dd><code>{c.coupon}</code></dd></div> })}
            {c.order_id.map(|id| view! {
                <div><dt>"Order"</dt><dd><a href=format!("/admin/orders/{id}")>{format!("Order {id}")}</a>" "{c.order_total}</dd></div>
            })}
        </dl>
        <section class="card" aria-labelledby="restore-heading">
            <h2 id="restore-heading">"Restore link"</h2>
            <p class="hint">"Where the recovery messages' link leads the shopper, through Backroom (which counts the click)."</p>
            <p><a href=c.restore_url.clone() rel="external noopener" target="_blank"><code>{c.restore_url.clone()}</code></a></p>
        </section>
        <section aria-labelledby="lines-heading">
            <h2 id="lines-heading">"Lines"</h2>
            {if c.lines.is_empty() {
                view! { <p class="card">"The checkout sent no lines."</p> }.into_any()
            } else {
                view! {
                    <DataTable headings={&["Product", "Quantity", "Price"]}>
                        {c.lines.into_iter().map(|l| view! {
                            <tr><td>{l.name}</td><td class="num">{l.quantity}</td><td class="num nowrap">{l.price}</td></tr>
                        }).collect_view()}
                    </DataTable>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Timeline"</h2>
            <DataTable headings={&["Time", "What", "Detail"]}>
                {c.timeline.into_iter().map(|e| view! {
                    <tr><td class="nowrap">{e.at}</td><td>{e.kind}</td><td class="wrap">{e.detail}</td></tr>
                }).collect_view()}
            </DataTable>
        </section>
    }
}
