//! `GET /api/v1/reports/sales`: the sales report for a period, in the shop's time zone.

use axum::{Json, extract::State};
use backend::reports::{self, Period, SalesReport};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    error::{ApiError, ApiQuery},
    guard::Authenticated,
    orders::list_error,
};
use crate::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `today`, `7d`, `30d` (the default, also when empty) or `90d`; or leave it out and give
    /// `from` and `to`.
    #[param(pattern = "^(today|7d|30d|90d)?$")]
    pub period: Option<String>,
    /// The first day, `YYYY-MM-DD` in the shop's time zone.
    pub from: Option<String>,
    /// The last day, included.
    pub to: Option<String>,
    /// Orders in this currency; the shop's when absent.
    #[param(pattern = "^([A-Z]{3})?$")]
    pub currency: Option<String>,
}

/// Gross, refunds, net, orders, items, average order value, a series per day, the top
/// ten products, and the previous period of the same length for comparison.
#[utoipa::path(get, path = "/reports/sales", tag = "reports", params(ReportQuery), responses((status = 200, body = SalesReport)))]
pub async fn sales(
    State(state): State<AppState>,
    Authenticated(_): Authenticated,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Json<SalesReport>, ApiError> {
    let period =
        Period::parse(query.period.as_deref(), query.from.as_deref(), query.to.as_deref()).map_err(list_error)?;
    let store = backend::settings::get(&state.services.db).await?;
    let currency = match query.currency.filter(|c| !c.is_empty()) {
        Some(c) if vocabulary::money::is_currency_code(&c) => c,
        Some(_) => return Err(list_error(backend::Error::invalid("currency must be a three-letter code such as TRY"))),
        None => store.currency.clone(),
    };
    Ok(Json(reports::sales(&state.services.db, &state.services.reports, store.tz(), &currency, period).await?))
}
