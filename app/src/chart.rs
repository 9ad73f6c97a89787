//! The panel's daily bar chart: one bar per day, one of several series at a time (revenue,
//! orders…) behind a switch, drawn as SVG on the server so it shows before the page is
//! interactive. Screen readers get its caption, and optionally the numbers as a table.

use leptos::prelude::*;

/// One thing the chart can show, e.g. revenue per day.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The switch's button, and the column heading in the numbers table.
    pub name: &'static str,
    /// What the chart shows, e.g. "Revenue per day, last 7 days": its heading and its
    /// accessible name.
    pub caption: String,
    /// One per day: the amount the bar is scaled by, and the amount as a person reads it.
    pub values: Vec<(i64, String)>,
}

/// The drawing's coordinates (the SVG scales to the card's width).
const WIDTH: f64 = 640.0;
/// Room on either side, so the first and last day's labels are not cut off.
const SIDE: f64 = 36.0;
/// Room above the tallest bar for its value.
const TOP: f64 = 22.0;
const PLOT_HEIGHT: f64 = 150.0;
const BASELINE: f64 = TOP + PLOT_HEIGHT;
const HEIGHT: f64 = BASELINE + 24.0;
const WIDEST_BAR: f64 = 48.0;
/// At most this many day labels along the bottom, so they never overlap.
const MOST_LABELS: usize = 8;

/// Bars for `days` (their labels, oldest first), switchable between `series` (each with one
/// value per day). With `numbers`, the figures are also listed in a table under a
/// disclosure, for anyone who cannot see the bars or wants the exact amounts.
#[component]
pub fn DailyChart(days: Vec<String>, series: Vec<Series>, #[prop(optional)] numbers: bool) -> impl IntoView {
    let shown = RwSignal::new(0usize);
    let days = StoredValue::new(days);
    let series = StoredValue::new(series);
    let caption = move || series.with_value(|all| all.get(shown.get()).map(|s| s.caption.clone()).unwrap_or_default());
    let bars =
        move || series.with_value(|all| days.with_value(|days| all.get(shown.get()).map(|s| draw(days, &s.values))));
    let switch = series.with_value(|all| {
        all.iter()
            .enumerate()
            .map(|(i, s)| {
                view! {
                    <button type="button" aria-pressed=move || (shown.get() == i).to_string() on:click=move |_| shown.set(i)>
                        {s.name}
                    </button>
                }
            })
            .collect_view()
    });
    view! {
        <section class="card chart">
            <div class="chart-head">
                <h2 data-testid="chart-caption">{caption}</h2>
                <div class="segmented" role="group" aria-label="Chart shows">{switch}</div>
            </div>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=caption class="bars">
                <title>{caption}</title>
                {bars}
            </svg>
            {numbers.then(|| view! { <ChartNumbers days=days.get_value() series=series.get_value()/> })}
        </section>
    }
}

/// The bars of one series, the tallest one's value above the plot and every few days'
/// label below it.
fn draw(days: &[String], values: &[(i64, String)]) -> impl IntoView + use<> {
    let slot = (WIDTH - 2.0 * SIDE) / days.len().max(1) as f64;
    let width = (slot * 0.7).min(WIDEST_BAR);
    let peak = values.iter().max_by_key(|(value, _)| *value).filter(|(value, _)| *value > 0);
    let top = peak.map_or(1, |(value, _)| *value);
    let every = days.len().div_ceil(MOST_LABELS).max(1);
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let columns = days
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (day, (value, text)))| {
            let height = round((*value).max(0) as f64 * PLOT_HEIGHT / top as f64);
            let x = round(SIDE + slot * i as f64 + (slot - width) / 2.0);
            let middle = round(x + width / 2.0);
            view! {
                <g>
                    <title>{format!("{day}: {text}")}</title>
                    <rect x=x y=BASELINE - height width=round(width) height=height rx=round((width / 4.0).min(3.0)) class="bar"/>
                    {(i % every == 0).then(|| view! {
                        <text x=middle y=BASELINE + 16.0 text-anchor="middle" class="bar-label">{day.clone()}</text>
                    })}
                </g>
            }
        })
        .collect_view();
    view! {
        <line x1=SIDE y1=BASELINE x2=WIDTH - SIDE y2=BASELINE class="chart-axis"/>
        {peak.map(|(_, text)| view! {
            <line x1=SIDE y1=TOP x2=WIDTH - SIDE y2=TOP class="chart-grid"/>
            <text x=SIDE y=TOP - 6.0 class="chart-peak">{format!("Highest: {text}")}</text>
        })}
        {columns}
    }
}

/// The chart's figures as a table: a row per day, a column per series.
#[component]
fn ChartNumbers(days: Vec<String>, series: Vec<Series>) -> impl IntoView {
    let headings = series.iter().map(|s| view! { <th scope="col" class="num">{s.name}</th> }).collect_view();
    let rows = days
        .into_iter()
        .enumerate()
        .map(|(i, day)| {
            let cells = series
                .iter()
                .map(|s| view! { <td class="num">{s.values.get(i).map(|(_, text)| text.clone())}</td> })
                .collect_view();
            view! { <tr><th scope="row">{day}</th>{cells}</tr> }
        })
        .collect_view();
    view! {
        <details class="chart-numbers">
            <summary>"The numbers behind the chart"</summary>
            <div class="table-wrap" tabindex="0">
                <table>
                    <thead><tr><th scope="col">"Day"</th>{headings}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </details>
    }
}
