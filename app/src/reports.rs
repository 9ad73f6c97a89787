//! The sales reports page: a period (today, 7, 30 or 90 days, or a custom range of days
//! in the shop's time zone) kept in the address, the period's figures against the period
//! before, a chart per day, the top products, and the same report as CSV.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;
use serde::{Deserialize, Serialize};

use crate::{
    chart::{DailyChart, Series},
    error::PanelError,
    filters::{PeriodChoice, PeriodQuery, use_listing_query, with_query},
    loaded::{DataTable, Loaded},
};

/// The ready-made periods: (the address's `period`, the link's label).
const PERIODS: [(&str, &str); 4] = [("today", "Today"), ("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days")];
/// What the backend reports when no period is given.
const DEFAULT_PERIOD: &str = "30d";
/// The reports page's own address.
pub const REPORTS_PATH: &str = "/admin/reports";
/// Served by the server crate (`reports_export`), with this page's query.
pub const SALES_CSV_PATH: &str = "/admin/reports/sales.csv";

/// The report for `query` in the shop's currency and time zone (no period given: the
/// backend's default, the last 30 days), with the shop's settings (for formatting); what
/// both the page and the CSV export show.
///
/// Fails with the backend's message on a period it does not read (unknown period, from
/// after to, a range too long, a malformed day).
#[cfg(feature = "ssr")]
pub async fn load(
    services: &backend::services::Services,
    query: &PeriodQuery,
) -> Result<(backend::settings::StoreSettings, backend::reports::SalesReport), PanelError> {
    let period = backend::reports::Period::parse(Some(&query.period), Some(&query.from), Some(&query.to))?;
    let store = backend::settings::get(&services.db).await?;
    let report = backend::reports::sales(&services.db, &services.reports, store.tz(), &store.currency, period).await?;
    Ok((store, report))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportView {
    /// The period's first and last day, `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
    pub previous_from: String,
    pub previous_to: String,
    pub time_zone: String,
    pub figures: Vec<FigureCard>,
    pub days: Vec<DayFigures>,
    pub top_products: Vec<ProductLine>,
}

/// One figure of the period, with the previous period's for comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FigureCard {
    /// For tests and styles: `gross`, `refunds`, `net`, `orders`, `items`, `average`.
    pub key: String,
    pub label: String,
    pub value: String,
    pub previous: String,
    pub change: Change,
    /// False for refunds: fewer is the good news.
    pub more_is_better: bool,
}

/// How a figure moved since the previous period, as a percentage of it (`12.5%`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    Up(String),
    Down(String),
    Same,
    /// The previous period had none: no percentage means anything.
    NothingBefore,
}

impl Change {
    pub fn between(current: i64, previous: i64) -> Change {
        if previous == 0 {
            return Change::NothingBefore;
        }
        let percent = (current - previous) as f64 * 100.0 / previous.unsigned_abs() as f64;
        let text = format!("{:.1}%", percent.abs());
        match percent {
            _ if text == "0.0%" => Change::Same,
            p if p > 0.0 => Change::Up(text),
            _ => Change::Down(text),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigures {
    pub day: String,
    pub gross: i64,
    pub gross_text: String,
    pub net: i64,
    pub net_text: String,
    pub orders: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductLine {
    pub name: String,
    pub quantity: i64,
    pub revenue: String,
}

/// The figures a report shows, in the order of its cards: (key, label, the figure, whether
/// it is money, whether more is better).
#[cfg(feature = "ssr")]
type Measure = (&'static str, &'static str, fn(&backend::reports::Figures) -> i64, bool, bool);

#[cfg(feature = "ssr")]
const MEASURES: [Measure; 6] = [
    ("gross", "Gross sales", |f| f.gross, true, true),
    ("refunds", "Refunds", |f| f.refunds, true, false),
    ("net", "Net sales", |f| f.net, true, true),
    ("orders", "Orders", |f| f.orders, false, true),
    ("items", "Items sold", |f| f.items, false, true),
    ("average", "Average order value", |f| f.average_order_value, true, true),
];

/// The sales report for the period in `query`, ready to show. Every role reads reports, as
/// over the API.
#[server(endpoint = "sales_report")]
pub async fn sales_report(query: PeriodQuery) -> Result<ReportView, PanelError> {
    let ctx = crate::context::services()?;
    crate::context::require_user().await?;
    let (store, report) = load(&ctx, &query).await?;
    let money = |amount| vocabulary::money::format(amount, &report.currency, &store.locale);
    let figures = MEASURES
        .iter()
        .map(|&(key, label, pick, is_money, more_is_better)| {
            let (now, before) = (pick(&report.totals), pick(&report.previous));
            let show = |n: i64| if is_money { money(n) } else { n.to_string() };
            FigureCard {
                key: key.into(),
                label: label.into(),
                value: show(now),
                previous: show(before),
                change: Change::between(now, before),
                more_is_better,
            }
        })
        .collect();
    let days = report
        .series
        .iter()
        .map(|d| DayFigures {
            day: d.day.clone(),
            gross: d.figures.gross,
            gross_text: money(d.figures.gross),
            net: d.figures.net,
            net_text: money(d.figures.net),
            orders: d.figures.orders,
        })
        .collect();
    let top_products = report
        .top_products
        .iter()
        .map(|p| ProductLine { name: p.name.clone(), quantity: p.quantity, revenue: money(p.revenue) })
        .collect();
    Ok(ReportView {
        from: report.from,
        to: report.to,
        previous_from: report.previous_from,
        previous_to: report.previous_to,
        time_zone: report.time_zone,
        figures,
        days,
        top_products,
    })
}

#[component]
pub fn ReportsPage() -> impl IntoView {
    let location = use_location();
    let query = use_listing_query(REPORTS_PATH, PeriodQuery::from_params);
    let report = crate::loaded::load(move || query.get(), sales_report);
    let csv_href = move || with_query(SALES_CSV_PATH, location.search.get().trim_start_matches('?'));
    view! {
        <Title text="Sales reports · Backroom"/>
        <h1>"Sales reports"</h1>
        <PeriodChoice path=REPORTS_PATH periods=&PERIODS query default_period=DEFAULT_PERIOD prefix="report" legend="Custom range" submit="Show range"/>
        <Loaded resource=report show={move |r: ReportView| view! {
            <p class="muted report-period" data-testid="report-period">
                {span(&r.from, &r.to)} ", compared with " {span(&r.previous_from, &r.previous_to)} ". "
                "Days run from midnight to midnight in " {r.time_zone.clone()} "."
            </p>
            <p><a class="button" href=csv_href rel="external" download="backroom-sales.csv">"Export CSV"</a>
                <span class="hint">" (a row per day, then the totals and the previous period's)"</span></p>
            <section class="stats report-figures" aria-label="Figures for the period">
                {r.figures.into_iter().map(|f| view! { <Figure f/> }).collect_view()}
            </section>
            <ReportChart from=r.from.clone() to=r.to.clone() days=r.days/>
            <section class="report-products" aria-labelledby="top-products">
                <h2 id="top-products">"Top products"</h2>
                {if r.top_products.is_empty() {
                    view! { <p class="card">"No products sold in this period."</p> }.into_any()
                } else {
                    view! {
                        <DataTable headings={&["Product", "Quantity", "Revenue (before tax)"]}>
                            {r.top_products.into_iter().map(|p| view! {
                                <tr><td>{p.name}</td><td class="num">{p.quantity}</td><td class="num">{p.revenue}</td></tr>
                            }).collect_view()}
                        </DataTable>
                    }.into_any()
                }}
            </section>
        }}/>
    }
}

/// `2026-11-01 to 2026-11-30`, or the one day.
fn span(from: &str, to: &str) -> String {
    if from == to { from.to_owned() } else { format!("{from} to {to}") }
}

#[component]
fn Figure(f: FigureCard) -> impl IntoView {
    let (class, arrow, words, hidden) = match f.change {
        Change::Up(p) => (if f.more_is_better { "better" } else { "worse" }, "▲ ", format!("up {p}"), ""),
        Change::Down(p) => (if f.more_is_better { "worse" } else { "better" }, "▼ ", format!("down {p}"), ""),
        Change::Same => ("same", "", "no change".to_owned(), ""),
        Change::NothingBefore => ("same", "—", String::new(), "no change to show: the previous period had none"),
    };
    view! {
        <div class="stat card figure">
            <span class="stat-label">{f.label}</span>
            <span class="stat-value" data-testid=format!("figure-{}", f.key)>{f.value}</span>
            <span class="stat-sub">"Previous period: " {f.previous}</span>
            <span class=format!("change {class}") data-testid=format!("change-{}", f.key)>
                <span aria-hidden="true">{arrow}</span>{words}
                {(!hidden.is_empty()).then(|| view! { <span class="visually-hidden">{hidden}</span> })}
            </span>
        </div>
    }
}

/// The days as bars: gross or net sales, or orders.
#[component]
fn ReportChart(from: String, to: String, days: Vec<DayFigures>) -> impl IntoView {
    let when = span(&from, &to);
    let series = vec![
        Series {
            name: "Gross sales",
            caption: format!("Gross sales per day, {when}"),
            values: days.iter().map(|d| (d.gross, d.gross_text.clone())).collect(),
        },
        Series {
            name: "Net sales",
            caption: format!("Net sales per day, {when}"),
            values: days.iter().map(|d| (d.net, d.net_text.clone())).collect(),
        },
        Series {
            name: "Orders",
            caption: format!("Orders per day, {when}"),
            values: days.iter().map(|d| (d.orders, d.orders.to_string())).collect(),
        },
    ];
    view! { <DailyChart days=days.into_iter().map(|d| d.day).collect() series numbers=true/> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_percentages_of_the_previous_period() {
        assert_eq!(Change::between(1_250, 1_000), Change::Up("25.0%".into()));
        assert_eq!(Change::between(2, 3), Change::Down("33.3%".into()));
        assert_eq!(Change::between(500, 500), Change::Same);
        assert_eq!(Change::between(100_000, 100_001), Change::Same, "too small to show");
        assert_eq!(Change::between(700, 0), Change::NothingBefore);
        // A negative net before: growing towards positive is still up.
        assert_eq!(Change::between(-50, -100), Change::Up("50.0%".into()));
    }

    #[test]
    fn the_ready_made_period_follows_the_address() {
        let query =
            |period: &str, from: &str| PeriodQuery { period: period.into(), from: from.into(), to: String::new() };
        assert_eq!(query("", "").ready_made(DEFAULT_PERIOD), Some("30d"));
        assert_eq!(query("7d", "").ready_made(DEFAULT_PERIOD), Some("7d"));
        assert_eq!(query("", "2026-01-01").ready_made(DEFAULT_PERIOD), None);
    }
}
