//! The store's connection page: what the store is, how the sync keeps up (the last
//! delivery, the last reconcile and its lag, the changes reconciles caught that no webhook
//! brought), Backroom's webhooks in the store, the last problem and its cause, and buttons
//! to re-check, reconcile now, re-import and disconnect. With no store connected, the
//! way to the wizard.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::{CONNECT_PATH, IMPORT_PATH, ProgressView, ReimportStore};
use crate::{
    error::PanelError,
    forms::{PageActions, action_error},
    loaded::{DataTable, Loaded},
    security::NumberField,
};

/// One of Backroom's webhooks in the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    pub topic: String,
    pub status: String,
    pub checked: String,
    pub reactivations: i64,
}

/// The connection as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoreView {
    pub connected: bool,
    pub name: String,
    pub url: String,
    pub connected_since: String,
    pub woocommerce_version: String,
    pub wordpress_version: String,
    pub hpos: bool,
    pub wp_cron: bool,
    pub currency: String,
    pub time_zone: String,
    /// How Backroom signs in: Basic, the query string or OAuth 1.0a.
    pub auth: String,
    pub last_delivery: String,
    pub deliveries_waiting: i64,
    pub last_reconcile: String,
    pub reconcile_lag: String,
    pub reconcile_caught: i64,
    pub reconcile_minutes: i64,
    pub concurrency: i64,
    pub counts: Vec<(String, i64)>,
    pub import: ProgressView,
    pub webhooks: Vec<WebhookView>,
    pub last_error: Option<String>,
    pub last_error_at: String,
}

/// `5 seconds`, `3 minutes`, `2 hours`.
#[cfg(feature = "ssr")]
fn duration(seconds: i64) -> String {
    let (n, unit) = match seconds {
        ..60 => (seconds.max(0), "second"),
        60..3600 => (seconds / 60, "minute"),
        _ => (seconds / 3600, "hour"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(feature = "ssr")]
fn auth_label(auth: Option<&str>) -> String {
    match auth {
        Some("basic") => "Basic authentication over HTTPS",
        Some("query") => "The key in the query string (the host drops the Authorization header)",
        Some("oauth1") => "OAuth 1.0a signatures (plain HTTP)",
        _ => "Not yet known",
    }
    .to_owned()
}

/// The connection, or the way to connect one.
#[server(endpoint = "store_connection")]
pub async fn store_connection() -> Result<StoreView, PanelError> {
    let me = crate::context::acting(backend::users::Role::manages_store).await?;
    let tz = backend::settings::get(&me.ctx.db).await?.tz();
    let status = backend::woo::status(&me.ctx.woo).await?;
    let at = |t: Option<i64>, none: &str| t.map_or_else(|| none.to_owned(), |t| backend::clock::local_minute(t, tz));
    let c = &status.counts;
    Ok(StoreView {
        connected: status.state == "connected",
        name: status.store.name.clone(),
        url: status.url.clone(),
        connected_since: at(status.connected_at, "—"),
        woocommerce_version: status.store.woocommerce_version.clone(),
        wordpress_version: status.store.wordpress_version.clone(),
        hpos: status.store.hpos,
        wp_cron: status.store.wp_cron,
        currency: status.store.currency.clone(),
        time_zone: status.store.time_zone.clone(),
        auth: auth_label(status.auth.as_deref()),
        last_delivery: at(status.last_delivery_at, "none yet"),
        deliveries_waiting: status.deliveries_waiting,
        last_reconcile: at(status.last_reconcile_at, "none yet"),
        reconcile_lag: status.reconcile_lag_secs.map_or_else(|| "—".to_owned(), duration),
        reconcile_caught: status.reconcile_caught,
        reconcile_minutes: status.reconcile_minutes,
        concurrency: status.concurrency,
        counts: vec![
            ("Orders".into(), c.orders),
            ("Products".into(), c.products),
            ("Variations".into(), c.variations),
            ("Customers".into(), c.customers),
            ("Coupons".into(), c.coupons),
        ],
        import: ProgressView::new(status.import, tz),
        webhooks: status
            .webhooks
            .into_iter()
            .map(|w| WebhookView {
                topic: w.topic,
                status: w.status,
                checked: at(w.checked_at, "not yet"),
                reactivations: w.reactivations,
            })
            .collect(),
        last_error: status.last_error,
        last_error_at: at(status.last_error_at, ""),
    })
}

/// Runs the wizard's checks again with the stored key.
#[server(endpoint = "recheck_store")]
pub async fn recheck_store() -> Result<String, PanelError> {
    let me = crate::context::acting(backend::users::Role::manages_store).await?;
    let report = backend::woo::connection::recheck(&me.ctx.woo, &me.user).await?;
    Ok(match report.first_failure() {
        None => format!("Every check passed ({} checks).", report.checks.len()),
        Some(failure) => format!("A check failed: {failure}"),
    })
}

/// One reconcile pass now.
#[server(endpoint = "reconcile_store")]
pub async fn reconcile_store() -> Result<String, PanelError> {
    let me = crate::context::acting(backend::users::Role::manages_store).await?;
    let report = backend::woo::reconcile::run_now(&me.ctx.woo, &me.user).await?;
    Ok(format!(
        "Reconciled: {} changed, {} of them missed by webhooks, {} removed.",
        report.changed, report.caught, report.removed
    ))
}

/// The sync's pace, as the form sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaceForm {
    pub reconcile_minutes: i64,
    pub concurrency: i64,
}

/// Sets how often the reconcile runs and how many requests the import sends at once.
#[server(endpoint = "save_store_pace")]
pub async fn save_store_pace(settings: PaceForm) -> Result<String, PanelError> {
    let me = crate::context::acting(backend::users::Role::manages_store).await?;
    backend::woo::connection::set_pace(
        &me.ctx.woo,
        &me.user,
        me.ip.as_deref(),
        settings.reconcile_minutes,
        settings.concurrency,
    )
    .await?;
    Ok("Saved the pace.".to_owned())
}

/// Disconnects the store: Backroom's webhooks are removed from it; its data stays here.
#[server(endpoint = "disconnect_store")]
pub async fn disconnect_store() -> Result<String, PanelError> {
    let me = crate::context::acting(backend::users::Role::manages_store).await?;
    let removed = backend::woo::connection::disconnect(&me.ctx.woo, &me.user, me.ip.as_deref()).await?;
    Ok(format!("Disconnected; {removed} webhooks removed from the store."))
}

#[component]
pub fn StoreConnectionPage() -> impl IntoView {
    let actions = StoreActions {
        recheck: ServerAction::new(),
        reconcile: ServerAction::new(),
        reimport: ServerAction::new(),
        disconnect: ServerAction::new(),
        pace: ServerAction::new(),
    };
    let page = PageActions::default();
    page.follow(actions.recheck);
    page.follow(actions.reconcile);
    page.follow(actions.reimport);
    page.follow(actions.disconnect);
    page.follow(actions.pace);
    let store = crate::loaded::load(move || page.reloads.get(), |_| store_connection());
    view! {
        <Title text="Store · Backroom"/>
        <h1>"Store"</h1>
        <p role="status" class="success">{move || page.done.get()}</p>
        <Loaded resource=store show=move |store: StoreView| if store.connected {
            view! { <Connected store actions/> }.into_any()
        } else {
            view! { <NotConnected store/> }.into_any()
        }/>
    }
}

#[derive(Clone, Copy)]
struct StoreActions {
    recheck: ServerAction<RecheckStore>,
    reconcile: ServerAction<ReconcileStore>,
    reimport: ServerAction<ReimportStore>,
    disconnect: ServerAction<DisconnectStore>,
    pace: ServerAction<SaveStorePace>,
}

#[component]
fn NotConnected(store: StoreView) -> impl IntoView {
    let had_data = store.counts.iter().any(|(_, n)| *n > 0);
    view! {
        <section class="card" aria-labelledby="no-store-heading">
            <h2 id="no-store-heading">"No store is connected"</h2>
            <p>"Connect your WooCommerce store: Backroom imports its orders, products, customers and coupons, then keeps them in step as they change."</p>
            {had_data.then(|| view! {
                <p class="muted">"What Backroom holds now stays until a store's data comes in; demo data is cleared first, after you confirm."</p>
            })}
            <p><a class="button primary" href=CONNECT_PATH>"Connect a store"</a></p>
        </section>
    }
}

#[component]
fn Connected(store: StoreView, actions: StoreActions) -> impl IntoView {
    let yes_no = |on: bool| if on { "Yes" } else { "No" };
    let import_sentence = store.import.sentence();
    view! {
        {store.last_error.clone().map(|error| view! {
            <section class="card notice warning" aria-labelledby="store-problem-heading">
                <h2 id="store-problem-heading">"Needs your attention"</h2>
                <p><strong>{error}</strong></p>
                <p class="muted">"Noted "{store.last_error_at.clone()}". Re-check once it is mended: a passing check clears this."</p>
            </section>
        })}
        <section class="card" aria-labelledby="store-heading">
            <h2 id="store-heading">{store.name.clone()}</h2>
            <dl class="order-totals">
                <div><dt>"Address"</dt><dd><a href=store.url.clone() rel="noopener noreferrer">{store.url.clone()}</a></dd></div>
                <div><dt>"Connected since"</dt><dd>{store.connected_since.clone()}</dd></div>
                <div><dt>"WooCommerce"</dt><dd>{store.woocommerce_version.clone()}" (WordPress "{store.wordpress_version.clone()}")"</dd></div>
                <div><dt>"Orders in their own tables (HPOS)"</dt><dd>{yes_no(store.hpos)}</dd></div>
                <div><dt>"WordPress's cron"</dt><dd>{if store.wp_cron { "Runs" } else { "Off: webhooks wait for a real cron job" }}</dd></div>
                <div><dt>"Currency and time zone"</dt><dd>{store.currency.clone()}", "{store.time_zone.clone()}</dd></div>
                <div><dt>"Signing in"</dt><dd>{store.auth.clone()}</dd></div>
            </dl>
        </section>
        <section class="card" aria-labelledby="sync-heading">
            <h2 id="sync-heading">"Keeping in step"</h2>
            <dl class="order-totals">
                <div><dt>"Last webhook delivery"</dt><dd data-testid="last-delivery">{store.last_delivery.clone()}</dd></div>
                <div><dt>"Deliveries waiting"</dt><dd>{store.deliveries_waiting}</dd></div>
                <div><dt>"Last reconcile"</dt><dd data-testid="last-reconcile">{store.last_reconcile.clone()}</dd></div>
                <div><dt>"Behind the store by"</dt><dd>{store.reconcile_lag.clone()}</dd></div>
                <div><dt>"Changes reconciles caught that webhooks missed"</dt><dd data-testid="reconcile-caught">{store.reconcile_caught}</dd></div>
                <div><dt>"Reconcile every"</dt><dd>{store.reconcile_minutes}" minutes"</dd></div>
            </dl>
            <p>{import_sentence}" "<a href=IMPORT_PATH>"The import's progress"</a></p>
        </section>
        <section class="stats" aria-label="What Backroom holds from the store">
            {store.counts.iter().map(|(label, n)| view! {
                <div class="stat card">
                    <span class="stat-label">{label.clone()}</span>
                    <span class="stat-value">{*n}</span>
                </div>
            }).collect_view()}
        </section>
        <h2 id="webhooks-heading">"Backroom's webhooks in the store"</h2>
        <DataTable headings=&["Topic", "Status", "Last checked", "Made active again"]>
            {store.webhooks.iter().map(|w| view! {
                <tr>
                    <th scope="row"><code>{w.topic.clone()}</code></th>
                    <td>{w.status.clone()}</td>
                    <td>{w.checked.clone()}</td>
                    <td class="num">{w.reactivations}</td>
                </tr>
            }).collect_view()}
        </DataTable>
        <PaceCard reconcile_minutes=store.reconcile_minutes concurrency=store.concurrency action=actions.pace/>
        <StoreButtons actions/>
    }
}

#[component]
fn PaceCard(reconcile_minutes: i64, concurrency: i64, action: ServerAction<SaveStorePace>) -> impl IntoView {
    let error = action_error(action);
    view! {
        <section class="card" aria-labelledby="pace-heading">
            <h2 id="pace-heading">"Pace"</h2>
            <ActionForm action>
                <NumberField name="reconcile_minutes" label="Reconcile every (minutes)" min=1 max=1440 value=reconcile_minutes
                    hint="Webhooks bring most changes within seconds; the reconcile catches what they miss."/>
                <NumberField name="concurrency" label="Requests at once while importing" min=1 max=8 value=concurrency
                    hint="More is faster; a small host may answer more with errors. WooCommerce's own pace is about 2."/>
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" disabled=move || action.pending().get()>"Save the pace"</button>
            </ActionForm>
        </section>
    }
}

/// Re-check, reconcile now, re-import and disconnect, each with its error beside it.
#[component]
fn StoreButtons(actions: StoreActions) -> impl IntoView {
    let StoreActions { recheck, reconcile, reimport, disconnect, .. } = actions;
    let (recheck_error, reconcile_error, reimport_error, disconnect_error) =
        (action_error(recheck), action_error(reconcile), action_error(reimport), action_error(disconnect));
    let error = move |e: Option<String>| e.map(|e| view! { <p class="error" role="alert">{e}</p> });
    view! {
        <section class="card" aria-labelledby="store-actions-heading">
            <h2 id="store-actions-heading">"Actions"</h2>
            <div class="ticket-columns">
                <ActionForm action=recheck>
                    <p class="hint" id="recheck-hint">"Checks the address, the key and its access again, and reads the store's facts."</p>
                    <button type="submit" aria-describedby="recheck-hint" disabled=move || recheck.pending().get()>
                        {move || if recheck.pending().get() { "Checking…" } else { "Re-check" }}
                    </button>
                    {move || error(recheck_error())}
                </ActionForm>
                <ActionForm action=reconcile>
                    <p class="hint" id="reconcile-hint">"Asks the store what changed since the last pass, and what it deleted."</p>
                    <button type="submit" aria-describedby="reconcile-hint" disabled=move || reconcile.pending().get()>
                        {move || if reconcile.pending().get() { "Reconciling…" } else { "Reconcile now" }}
                    </button>
                    {move || error(reconcile_error())}
                </ActionForm>
                <ActionForm action=reimport>
                    <p class="hint" id="reimport-hint">"Reads everything again. Nothing is duplicated; newer copies win."</p>
                    <button type="submit" aria-describedby="reimport-hint" disabled=move || reimport.pending().get()>"Re-import"</button>
                    {move || error(reimport_error())}
                </ActionForm>
            </div>
            <ActionForm action=disconnect>
                <div class="field checkbox">
                    <input type="checkbox" id="confirm-disconnect" required/>
                    <label for="confirm-disconnect">"Disconnect: Backroom's webhooks are removed from the store and the key is forgotten. What was imported stays."</label>
                </div>
                <button type="submit" class="danger" disabled=move || disconnect.pending().get()>"Disconnect the store"</button>
                {move || error(disconnect_error())}
            </ActionForm>
        </section>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn a_lag_is_said_in_its_largest_unit() {
        assert_eq!(duration(1), "1 second");
        assert_eq!(duration(59), "59 seconds");
        assert_eq!(duration(125), "2 minutes");
        assert_eq!(duration(7200), "2 hours");
    }
}
