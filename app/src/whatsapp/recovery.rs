//! The recovery dashboard: for the carts captured in a period (the last 7 or 30 days, this
//! month, or days of one's choosing in the shop's time zone, kept in the address), how
//! many were messaged, clicked and recovered, what they brought in, and how each message
//! of the sequence fared.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::{RECOVERY_PATH, WhatsAppNav};
use crate::{
    error::PanelError,
    filters::{PeriodChoice, PeriodQuery, use_listing_query},
    loaded::{DataTable, LoadedLatest},
};

/// The ready-made periods: (the address's `period`, the link's label).
const PERIODS: [(&str, &str); 3] = [("7d", "Last 7 days"), ("30d", "Last 30 days"), ("month", "This month")];
/// The period shown when the address names none.
const DEFAULT_PERIOD: &str = "30d";

/// The first and last day (both included) of the period `query` asks for, with `today` in
/// the shop's calendar.
///
/// Fails on a period that is not one of the links, a malformed day, or a range whose start
/// is after its end or that lacks one of its ends.
#[cfg(feature = "ssr")]
fn days(query: &PeriodQuery, today: chrono::NaiveDate) -> Result<(chrono::NaiveDate, chrono::NaiveDate), PanelError> {
    use chrono::{Datelike, Days};
    match query.ready_made(DEFAULT_PERIOD) {
        Some("7d") => Ok((today - Days::new(6), today)),
        Some("30d") => Ok((today - Days::new(29), today)),
        Some("month") => Ok((today.with_day(1).unwrap_or(today), today)),
        Some(_) => Err(PanelError::Message("the period is the last 7 days, the last 30 days or this month".into())),
        None => match backend::days::range(Some(&query.from), Some(&query.to))? {
            (Some(first), Some(last)) => Ok((first, last)),
            _ => Err(PanelError::Message("give both the first and the last day".into())),
        },
    }
}

/// One message of the sequence and how it fared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepLine {
    pub step: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
    pub recovered: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryView {
    pub from: String,
    pub to: String,
    pub time_zone: String,
    pub captured: i64,
    pub messaged: i64,
    pub clicked: i64,
    pub recovered: i64,
    pub converted: i64,
    /// One amount per currency; empty when nothing was recovered.
    pub revenue: Vec<String>,
    /// Recovered ÷ messaged, as a percentage (`12.5%`).
    pub conversion: String,
    pub steps: Vec<StepLine>,
}

#[server(endpoint = "whatsapp_recovery")]
pub async fn whatsapp_recovery(query: PeriodQuery) -> Result<RecoveryView, PanelError> {
    let ctx = super::ssr::reading().await?;
    let store = backend::settings::get(&ctx.db).await?;
    let tz = store.tz();
    let (first, last) = days(&query, backend::sales_daily::local_day(backend::clock::now(), tz))?;
    let start = backend::sales_daily::day_start(first, tz);
    let end = backend::sales_daily::day_start(last.succ_opt().unwrap_or(last), tz);
    let d = backend::whatsapp::report::dashboard(&ctx.db, start, end).await?;
    Ok(RecoveryView {
        from: first.to_string(),
        to: last.to_string(),
        time_zone: store.time_zone.clone(),
        captured: d.captured,
        messaged: d.messaged,
        clicked: d.clicked,
        recovered: d.recovered,
        converted: d.converted,
        revenue: d
            .revenue
            .iter()
            .map(|(currency, amount)| vocabulary::money::format(*amount, currency, &store.locale))
            .collect(),
        conversion: format!("{:.1}%", d.conversion * 100.0),
        steps: d
            .steps
            .into_iter()
            .map(|s| StepLine {
                step: s.step,
                sent: s.sent,
                delivered: s.delivered,
                read: s.read,
                failed: s.failed,
                recovered: s.recovered,
            })
            .collect(),
    })
}

#[component]
pub fn WhatsAppRecoveryPage() -> impl IntoView {
    let query = use_listing_query(RECOVERY_PATH, PeriodQuery::from_params);
    let report = crate::loaded::load(move || query.get(), whatsapp_recovery);
    view! {
        <Title text="WhatsApp cart recovery · Backroom"/>
        <h1>"Cart recovery"</h1>
        <WhatsAppNav/>
        <PeriodChoice path=RECOVERY_PATH periods=&PERIODS query default_period=DEFAULT_PERIOD
            prefix="recovery" legend="Days of your choosing" submit="Show these days"/>
        <LoadedLatest resource=report show=move |r: RecoveryView| view! { <Figures r/> }/>
    }
}

#[component]
fn Figures(r: RecoveryView) -> impl IntoView {
    let span = if r.from == r.to { r.from.clone() } else { format!("{} to {}", r.from, r.to) };
    let revenue = if r.revenue.is_empty() { "0".to_owned() } else { r.revenue.join(", ") };
    let figures = [
        ("captured", "Carts captured", r.captured.to_string()),
        ("messaged", "Messaged", r.messaged.to_string()),
        ("clicked", "Clicked a link", r.clicked.to_string()),
        ("recovered", "Recovered", r.recovered.to_string()),
        ("converted", "Bought without a message", r.converted.to_string()),
        ("revenue", "Recovered revenue", revenue),
        ("conversion", "Conversion (recovered ÷ messaged)", r.conversion.clone()),
    ];
    view! {
        <p class="muted" data-testid="recovery-period">
            "Carts captured " {span} ". Days run from midnight to midnight in " {r.time_zone.clone()} "."
        </p>
        <section class="stats" aria-label="Figures for the period">
            {figures.into_iter().map(|(key, label, value)| view! {
                <div class="stat card">
                    <span class="stat-label">{label}</span>
                    <span class="stat-value" data-testid=format!("figure-{key}")>{value}</span>
                </div>
            }).collect_view()}
        </section>
        <section aria-labelledby="steps-heading">
            <h2 id="steps-heading">"Each message of the sequence"</h2>
            {if r.steps.is_empty() {
                view! { <p class="card">"No recovery message went out for the carts of this period."</p> }.into_any()
            } else {
                view! {
                    <DataTable headings={&["Message", "Sent", "Delivered", "Read", "Failed", "Recovered after this message"]}>
                        {r.steps.into_iter().map(|s| view! {
                            <tr>
                                <td>{step_name(s.step)}</td>
                                <td class="num">{s.sent}</td>
                                <td class="num">{s.delivered}</td>
                                <td class="num">{s.read}</td>
                                <td class="num">{s.failed}</td>
                                <td class="num">{s.recovered}</td>
                            </tr>
                        }).collect_view()}
                    </DataTable>
                }.into_any()
            }}
        </section>
    }
}

fn step_name(step: i64) -> String {
    match step {
        1 => "First".to_owned(),
        2 => "Second".to_owned(),
        3 => "Third".to_owned(),
        n => format!("Message {n}"),
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn query(period: &str, from: &str, to: &str) -> PeriodQuery {
        PeriodQuery { period: period.into(), from: from.into(), to: to.into() }
    }

    #[test]
    fn periods_are_days_of_the_shops_calendar_ending_today() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        assert_eq!(days(&query("", "", ""), today), Ok((day("2026-10-20"), today)));
        assert_eq!(days(&query("7d", "", ""), today), Ok((day("2026-11-12"), today)));
        assert_eq!(days(&query("month", "", ""), today), Ok((day("2026-11-01"), today)));
        assert_eq!(days(&query("", "2026-09-01", "2026-09-30"), today), Ok((day("2026-09-01"), day("2026-09-30"))));
    }

    #[test]
    fn a_period_that_cannot_be_read_says_why() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
        assert!(days(&query("year", "", ""), today).unwrap_err().to_string().contains("this month"));
        assert!(days(&query("", "2026-09-30", "2026-09-01"), today).unwrap_err().to_string().contains("after"));
        assert!(days(&query("", "2026-09-01", ""), today).unwrap_err().to_string().contains("both"));
        assert!(
            days(&query("", "1 Sept", "2026-09-30"), today)
                .unwrap_err()
                .to_string()
                .contains("from must be a day such as")
        );
    }
}
