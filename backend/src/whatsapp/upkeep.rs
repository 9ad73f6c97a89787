//! What the WhatsApp side does on its own between jobs: applies stored webhook
//! deliveries soon after they arrive, looks at new orders for the carts they end, and
//! removes expired, unused recovery coupons from the store.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{WhatsApp, attribution, coupons, settings, webhook};

/// How often stored deliveries are looked for.
const DELIVERIES_EVERY: Duration = Duration::from_millis(250);
/// How often new orders are looked at (a recovery step also looks before it sends).
const ORDERS_EVERY: Duration = Duration::from_secs(5);
/// How often expired recovery coupons are looked for.
const COUPONS_EVERY: Duration = Duration::from_secs(600);

pub async fn run_until_stopped(whatsapp: WhatsApp, stop: CancellationToken) {
    let mut deliveries = tokio::time::interval(DELIVERIES_EVERY);
    let mut orders = tokio::time::interval(ORDERS_EVERY);
    deliveries.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    orders.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut expired_coupons = tokio::time::interval(COUPONS_EVERY);
    expired_coupons.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = deliveries.tick() => {
                if let Err(e) = webhook::process_pending(&whatsapp.db).await {
                    tracing::error!(error = %e.report(), "stored WhatsApp webhook deliveries could not be applied");
                }
            }
            _ = orders.tick() => {
                let scanned = match settings::config(whatsapp.db.pool()).await {
                    Ok(config) => attribution::scan(&whatsapp.db, &config).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = scanned {
                    tracing::error!(error = %e.report(), "new orders could not be matched to WhatsApp carts");
                }
            }
            _ = expired_coupons.tick() => {
                if let Err(e) = coupons::remove_expired(&whatsapp).await {
                    tracing::warn!(error = %e.report(), "expired recovery coupons could not be removed from the store");
                }
            }
        }
    }
}
