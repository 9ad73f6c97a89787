//! The dashboard page: today's orders and revenue, the last seven days as a chart, the
//! latest orders.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{
    chart::{DailyChart, Series},
    error::PanelError,
    loaded::LoadedLatest,
    orders::OrderStatusBadge,
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardView {
    pub today_orders: i64,
    pub today_revenue: String,
    pub today_net: String,
    pub week_orders: i64,
    pub week_revenue: String,
    pub days: Vec<DayBar>,
    pub latest: Vec<OrderLine>,
    pub time_zone: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayBar {
    pub label: String,
    pub orders: i64,
    pub gross: i64,
    pub gross_text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub status_label: String,
    pub customer: String,
    pub total: String,
    pub created: String,
}

#[server(endpoint = "dashboard")]
pub async fn dashboard() -> Result<DashboardView, PanelError> {
    use backend::{orders::OrderStatus, settings};
    use vocabulary::money;
    let ctx = crate::context::services()?;
    crate::context::require_user().await?;
    let store = settings::get(&ctx.db).await?;
    let figures = backend::dashboard::load(&ctx.db, &store).await?;
    let tz = store.tz();
    let fmt = |amount| money::format(amount, &store.currency, &store.locale);
    let today = figures.today();
    Ok(DashboardView {
        today_orders: today.orders,
        today_revenue: fmt(today.gross),
        today_net: fmt(today.net()),
        week_orders: figures.last_7_days.iter().map(|(_, t)| t.orders).sum(),
        week_revenue: fmt(figures.last_7_days.iter().map(|(_, t)| t.gross).sum()),
        days: figures
            .last_7_days
            .iter()
            .map(|(day, t)| DayBar {
                label: day.format("%a %d").to_string(),
                orders: t.orders,
                gross: t.gross,
                gross_text: fmt(t.gross),
            })
            .collect(),
        latest: figures
            .latest_orders
            .into_iter()
            .map(|o| OrderLine {
                id: o.id,
                status_label: OrderStatus::stored(&o.status).map(|s| s.label().to_owned()).unwrap_or_default(),
                status: o.status,
                number: o.number,
                customer: o.customer,
                total: money::format(o.total, &o.currency, &store.locale),
                created: backend::clock::local_minute(o.created_at, tz),
            })
            .collect(),
        time_zone: store.time_zone,
    })
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    // New orders arriving reload the figures and the latest orders; those shown stay until
    // the new ones arrive.
    let arrivals = crate::live::use_new_orders();
    let data = crate::loaded::load(move || arrivals.get(), |_| dashboard());
    view! {
        <Title text="Dashboard · Backroom"/>
        <h1>"Dashboard"</h1>
        <LoadedLatest resource=data show={|d: DashboardView| view! { <Figures d/> }}/>
    }
}

#[component]
fn Figures(d: DashboardView) -> impl IntoView {
    view! {
        <p class="muted">"Times in " {d.time_zone.clone()} "."</p>
        <section class="stats" aria-label="Today">
            <div class="stat card"><span class="stat-label">"Orders today"</span><span class="stat-value" data-testid="today-orders">{d.today_orders}</span></div>
            <div class="stat card"><span class="stat-label">"Revenue today"</span><span class="stat-value" data-testid="today-revenue">{d.today_revenue.clone()}</span></div>
            <div class="stat card"><span class="stat-label">"Net today"</span><span class="stat-value">{d.today_net.clone()}</span></div>
            <div class="stat card"><span class="stat-label">"Last 7 days"</span><span class="stat-value" data-testid="week-revenue">{d.week_revenue.clone()}</span><span class="stat-sub">{format!("{} orders", d.week_orders)}</span></div>
        </section>
        <WeekChart days=d.days.clone()/>
        <section class="card">
            <h2>"Latest orders"</h2>
            {if d.latest.is_empty() {
                view! { <p>"No orders yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th scope="col">"Order"</th><th scope="col">"Date"</th><th scope="col">"Customer"</th><th scope="col">"Status"</th><th scope="col" class="num">"Total"</th></tr></thead>
                            <tbody>
                                {d.latest.into_iter().map(|o| view! {
                                    <tr>
                                        <td><a href=format!("/admin/orders/{}", o.id)>"#"{o.number}</a></td>
                                        <td>{o.created}</td>
                                        <td>{o.customer}</td>
                                        <td><OrderStatusBadge status=o.status label=o.status_label/></td>
                                        <td class="num">{o.total}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

/// Seven bars, switchable between revenue and order counts.
#[component]
fn WeekChart(days: Vec<DayBar>) -> impl IntoView {
    let series = vec![
        Series {
            name: "Revenue",
            caption: "Revenue per day, last 7 days".into(),
            values: days.iter().map(|d| (d.gross, d.gross_text.clone())).collect(),
        },
        Series {
            name: "Orders",
            caption: "Orders per day, last 7 days".into(),
            values: days.iter().map(|d| (d.orders, format!("{} orders", d.orders))).collect(),
        },
    ];
    view! { <DailyChart days=days.into_iter().map(|d| d.label).collect() series/> }
}
