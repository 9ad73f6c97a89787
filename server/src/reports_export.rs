//! `/admin/reports/sales.csv`: the sales report as a spreadsheet, with the reports page's
//! period, for anyone signed in to the panel (every role reads reports, as over the API).
//! A row per day, then a blank line, the period's totals and the previous period's.

use app::{
    context::{ClientIp, SignedIn},
    filters::PeriodQuery,
    reports::{SALES_CSV_PATH, load},
};
use axum::{
    Extension, Router,
    extract::{Query, State},
    http::Uri,
    response::Response,
    routing::get,
};
use backend::{
    csv,
    reports::{Figures, SalesReport},
};
use vocabulary::money::decimal;

use crate::{
    AppState,
    panel::csv_export::{Download, Requester, failed},
};

const COLUMNS: [&str; 8] = ["day", "orders", "items", "gross", "refunds", "net", "average order value", "currency"];

pub fn router() -> Router<AppState> {
    Router::new().route(SALES_CSV_PATH, get(export))
}

async fn export(
    State(state): State<AppState>,
    signed_in: Option<Extension<SignedIn>>,
    ip: Option<Extension<ClientIp>>,
    Query(query): Query<PeriodQuery>,
    uri: Uri,
) -> Response {
    let requester = match Requester::check(signed_in, ip, &uri, |_| true) {
        Ok(requester) => requester,
        Err(refused) => return *refused,
    };
    let report = match load(&state.services, &query).await {
        Ok((_, report)) => report,
        Err(e) => return failed(e),
    };
    requester
        .deliver(
            &state,
            Download {
                action: "reports.export",
                target: "sales_report",
                details: &format!("sales from {} to {} in {} as CSV", report.from, report.to, report.currency),
                filename: &format!("backroom-sales-{}-to-{}.csv", report.from, report.to),
                body: document(&report),
            },
        )
        .await
}

/// The CSV: a row per day, a blank line, then the totals of the period and of the one
/// before. Amounts are plain decimals (`1234.50`) a spreadsheet reads as numbers.
fn document(report: &SalesReport) -> String {
    let mut out = csv::document(&COLUMNS);
    for day in &report.series {
        figures_row(&mut out, &day.day, &day.figures, &report.currency);
    }
    csv::row(&mut out, std::iter::empty());
    figures_row(&mut out, &format!("total {} to {}", report.from, report.to), &report.totals, &report.currency);
    let previous = format!("previous period {} to {}", report.previous_from, report.previous_to);
    figures_row(&mut out, &previous, &report.previous, &report.currency);
    out
}

fn figures_row(out: &mut String, label: &str, f: &Figures, currency: &str) {
    let digits = vocabulary::money::minor_digits(currency);
    let [gross, refunds, net, average] =
        [f.gross, f.refunds, f.net, f.average_order_value].map(|amount| decimal(amount, digits));
    let (orders, items) = (f.orders.to_string(), f.items.to_string());
    csv::row(out, [label, &orders, &items, &gross, &refunds, &net, &average, currency]);
}

#[cfg(test)]
mod tests {
    use backend::reports::{Day, Figures, SalesReport};

    #[test]
    fn a_row_per_day_then_a_blank_line_and_the_totals() {
        let figures = |gross, refunds, orders| Figures {
            gross,
            refunds,
            net: gross - refunds,
            orders,
            items: orders * 2,
            average_order_value: if orders == 0 { 0 } else { gross / orders },
        };
        let report = SalesReport {
            from: "2026-03-01".into(),
            to: "2026-03-02".into(),
            currency: "TRY".into(),
            time_zone: "Europe/Istanbul".into(),
            totals: figures(246_900, 10_000, 2),
            series: vec![
                Day { day: "2026-03-01".into(), figures: figures(123_450, 0, 1) },
                Day { day: "2026-03-02".into(), figures: figures(123_450, 10_000, 1) },
            ],
            top_products: Vec::new(),
            previous_from: "2026-02-27".into(),
            previous_to: "2026-02-28".into(),
            previous: figures(0, 0, 0),
        };
        let csv = super::document(&report);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "\u{feff}\"day\",\"orders\",\"items\",\"gross\",\"refunds\",\"net\",\"average order value\",\"currency\""
        );
        assert_eq!(lines[1], "\"2026-03-01\",\"1\",\"2\",\"1234.50\",\"0.00\",\"1234.50\",\"1234.50\",\"TRY\"");
        assert_eq!(lines[2], "\"2026-03-02\",\"1\",\"2\",\"1234.50\",\"100.00\",\"1134.50\",\"1234.50\",\"TRY\"");
        assert_eq!(lines[3], "");
        assert_eq!(
            lines[4],
            "\"total 2026-03-01 to 2026-03-02\",\"2\",\"4\",\"2469.00\",\"100.00\",\"2369.00\",\"1234.50\",\"TRY\""
        );
        assert_eq!(
            lines[5],
            "\"previous period 2026-02-27 to 2026-02-28\",\"0\",\"0\",\"0.00\",\"0.00\",\"0.00\",\"0.00\",\"TRY\""
        );
        assert_eq!(lines.len(), 7, "the document ends with a line break");
    }
}
