//! The one store Backroom serves: checking a store and a key before connecting (each
//! failure said with its fix), connecting (adopting the store's currency and time zone,
//! clearing demo data, creating Backroom's webhooks, all confirmed first), the connection
//! as stored (key and secrets sealed), and disconnecting (removing those webhooks).

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use vocabulary::store::{MAX_KEY_CHARS, MAX_URL_CHARS};

use super::{
    Woo,
    client::{Auth, CallError, Store},
};
use crate::{
    Error, Result,
    audit::{self, Event},
    clock::now,
    db::Db,
    sealed::{Place, Sealer},
    users::User,
};

/// What a store said of itself at the last check.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreFacts {
    pub name: String,
    pub home_url: String,
    pub woocommerce_version: String,
    pub wordpress_version: String,
    /// Orders kept in WooCommerce's own tables (HPOS) rather than as posts.
    pub hpos: bool,
    /// WordPress's own cron runs (webhooks wait for it, or for site traffic).
    pub wp_cron: bool,
    pub currency: String,
    /// An IANA name, or `UTC+3` when the site set only an offset.
    pub time_zone: String,
}

/// One check of the connect wizard: what was checked, whether it passed, what was found
/// or what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// The checks of a store and key, and what they found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub checks: Vec<Check>,
    pub facts: Option<StoreFacts>,
    /// The way of authenticating that worked.
    pub auth: Option<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    fn check(&mut self, name: &str, outcome: std::result::Result<String, String>) -> bool {
        let passed = outcome.is_ok();
        let detail = outcome.unwrap_or_else(|e| e);
        self.checks.push(Check { name: name.to_owned(), passed, detail });
        passed
    }

    /// The first failure, as one line.
    pub fn first_failure(&self) -> Option<String> {
        self.checks.iter().find(|c| !c.passed).map(|c| format!("{}: {}", c.name, c.detail))
    }
}

/// A store's address as entered: `http(s)://host[:port][/path]`, without a query.
pub fn parse_url(text: &str) -> Result<String> {
    let text = text.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(text)
        .map_err(|_| Error::invalid("enter the store's address, such as https://shop.example"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid("the store's address starts with https:// (or http://) and names its host"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(Error::invalid("enter the store's address alone, without a query or a user name"));
    }
    if text.len() > MAX_URL_CHARS {
        return Err(Error::invalid("the store's address is too long"));
    }
    Ok(text.to_owned())
}

/// Checks that `url` is a WordPress site with WooCommerce's API, that the key signs in
/// with read and write access (finding the way of authenticating the store accepts), and
/// reads the store's facts. Never an error: each failure is a failed check with its fix.
pub async fn check(http: &reqwest::Client, url: &str, key: &str, secret: &SecretString) -> (Report, Option<Store>) {
    let mut report = Report::default();
    let url = match parse_url(url) {
        Ok(url) => url,
        Err(e) => {
            report.check("The store's address", Err(e.to_string()));
            return (report, None);
        }
    };
    if !report.check("The key", key_shape(key, secret)) {
        return (report, None);
    }
    let https = url.starts_with("https://");
    let first = Store::new(
        &url,
        key.trim().to_owned(),
        secret.clone(),
        if https { Auth::Basic } else { Auth::OAuth1 },
        http.clone(),
    );
    let index = match first.index().await {
        Ok(answer) => answer.json::<serde_json::Value>().ok(),
        Err(e) => {
            report.check("The address answers", Err(e.to_string()));
            return (report, None);
        }
    };
    let index = index.unwrap_or_default();
    let has_api = index["namespaces"].as_array().is_some_and(|n| n.iter().any(|v| v == "wc/v3"));
    let answered = report.check(
        "It is WooCommerce",
        if has_api {
            Ok(format!("{} answers with WooCommerce's REST API", index["name"].as_str().unwrap_or(&url)))
        } else {
            Err("WordPress answers, but WooCommerce's REST API (wc/v3) is not there: is WooCommerce installed and active?".into())
        },
    );
    if !answered {
        return (report, None);
    }
    // Over HTTPS WooCommerce takes Basic auth, or the key in the query string where a host
    // drops the Authorization header; over HTTP only OAuth 1.0a, which also works when
    // WordPress wrongly believes it is on plain HTTP behind a proxy.
    let tries: &[Auth] = if https { &[Auth::Basic, Auth::Query, Auth::OAuth1] } else { &[Auth::OAuth1] };
    let mut found = None;
    let mut last_error = None;
    for auth in tries {
        let store = first.with_auth(*auth);
        match store.get("/system_status", &[("_fields", "environment,settings".into())]).await {
            Ok(answer) => {
                found = Some((store, answer));
                break;
            }
            // Not signed in at all: the next way may get through.
            Err(e @ CallError::Refused { status: 401, .. }) if e.code() == Some("woocommerce_rest_cannot_view") => {
                last_error = Some(e)
            }
            Err(e) => {
                last_error = Some(e);
                break;
            }
        }
    }
    let Some((store, status)) = found else {
        let error = last_error.expect("a try was made");
        report.check("The key signs in", Err(sign_in_failure(&error, https)));
        return (report, None);
    };
    report.check("The key signs in", Ok(format!("signed in ({})", describe_auth(store.auth()))));
    let status: serde_json::Value = status.json().unwrap_or_default();
    let facts = facts(&index, &status, &url);
    report.check(
        "The store's details",
        Ok(format!(
            "WooCommerce {}, WordPress {}, {}, {}, {}",
            facts.woocommerce_version,
            facts.wordpress_version,
            facts.currency,
            facts.time_zone,
            if facts.hpos { "orders in WooCommerce's own tables (HPOS)" } else { "orders stored as posts" }
        )),
    );
    if !facts.wp_cron {
        report.checks.push(Check {
            name: "WordPress's scheduler".into(),
            passed: true,
            detail: "WP-Cron is off: webhooks go out only when a system cron runs the queue; Backroom's reconcile catches up meanwhile".into(),
        });
    }
    // A batch with nothing in it: refused without write access, harmless with it.
    let write = store.send(reqwest::Method::POST, "/webhooks/batch", &[], Some(&serde_json::json!({}))).await;
    report.check(
        "The key can write",
        match write {
            Ok(_) => Ok("read and write access".into()),
            Err(CallError::Refused { status: 401 | 403, .. }) => Err(
                "the key can only read: make a key with Read/Write permissions under WooCommerce → Settings → Advanced → REST API".into(),
            ),
            Err(e) => Err(e.to_string()),
        },
    );
    report.auth = Some(store.auth().as_str().to_owned());
    report.facts = Some(facts);
    (report, Some(store))
}

fn key_shape(key: &str, secret: &SecretString) -> std::result::Result<String, String> {
    let (key, secret) = (key.trim(), secret.expose_secret().trim());
    let fine = |s: &str, prefix: &str| {
        s.starts_with(prefix) && s.len() <= MAX_KEY_CHARS && s.bytes().all(|b| b.is_ascii_graphic())
    };
    if !fine(key, "ck_") {
        return Err("the consumer key starts with ck_ (WooCommerce → Settings → Advanced → REST API)".into());
    }
    if !fine(secret, "cs_") {
        return Err("the consumer secret starts with cs_".into());
    }
    Ok(format!("consumer key ending …{}", crate::access::secret::last_four(key)))
}

fn describe_auth(auth: Auth) -> &'static str {
    match auth {
        Auth::Basic => "HTTP Basic over HTTPS",
        Auth::Query => "the key in the query string: this host drops the Authorization header",
        Auth::OAuth1 => "OAuth 1.0a signatures",
    }
}

fn sign_in_failure(error: &CallError, https: bool) -> String {
    match error {
        CallError::Refused { code, message, .. } if code == "woocommerce_rest_authentication_error" => {
            format!("the store refused the key ({message}): check the consumer key and secret")
        }
        CallError::Refused { status: 403, .. } => {
            "the key's WordPress user may not manage WooCommerce: make the key for an administrator or shop manager"
                .into()
        }
        CallError::Refused { code, .. } if code == "woocommerce_rest_cannot_view" && https => {
            "the store did not see the key: WordPress probably believes it is on plain HTTP behind a proxy \
             (set HTTPS or X-Forwarded-Proto for it), or the key is unknown"
                .into()
        }
        CallError::Refused { code, .. } if code == "woocommerce_rest_cannot_view" => {
            "the store did not accept the key".into()
        }
        other => other.to_string(),
    }
}

/// The facts from WordPress's index and `system_status`.
fn facts(index: &serde_json::Value, status: &serde_json::Value, url: &str) -> StoreFacts {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_owned();
    let flag = |v: &serde_json::Value| v.as_bool().unwrap_or_else(|| matches!(v.as_str(), Some("yes" | "1" | "true")));
    let time_zone = match index["timezone_string"].as_str().filter(|t| !t.is_empty()) {
        Some(name) => name.to_owned(),
        None => {
            let offset =
                index["gmt_offset"].as_f64().or_else(|| index["gmt_offset"].as_str()?.parse().ok()).unwrap_or(0.0);
            if offset == 0.0 { "UTC".into() } else { format!("UTC{offset:+}") }
        }
    };
    let datastore = text(&status["settings"]["order_datastore"]).to_lowercase();
    StoreFacts {
        name: text(&index["name"]),
        home_url: index["home"].as_str().map(str::to_owned).unwrap_or_else(|| url.to_owned()),
        woocommerce_version: text(&status["environment"]["version"]),
        wordpress_version: text(&status["environment"]["wp_version"]),
        hpos: datastore.contains("orderstable")
            || datastore.contains("hpos")
            || flag(&status["settings"]["HPOS_enabled"]),
        wp_cron: flag(&status["environment"]["wp_cron"]),
        currency: text(&status["settings"]["currency"]).to_uppercase(),
        time_zone,
    }
}

/// The connection as stored.
#[derive(Clone, Debug)]
pub struct Stored {
    pub connected: bool,
    pub url: String,
    pub auth: Option<Auth>,
    pub consumer_key: String,
    pub sealed_secret: String,
    pub sealed_webhook_secret: String,
    pub facts: StoreFacts,
    pub reconcile_minutes: i64,
    pub concurrency: i64,
    pub orders_watermark: Option<i64>,
    pub products_watermark: Option<i64>,
    pub coupons_watermark: Option<i64>,
    pub customers_scanned_at: Option<i64>,
    pub deletions_checked_at: Option<i64>,
    pub last_delivery_at: Option<i64>,
    pub last_reconcile_at: Option<i64>,
    pub last_reconcile_lag: Option<i64>,
    pub reconcile_caught: i64,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub connected_at: Option<i64>,
}

pub async fn stored<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(executor: E) -> Result<Stored> {
    let row = sqlx::query(
        "SELECT state, url, auth, consumer_key, consumer_secret, webhook_secret, store, reconcile_minutes, concurrency, \
         orders_watermark, products_watermark, coupons_watermark, customers_scanned_at, deletions_checked_at, \
         last_delivery_at, last_reconcile_at, last_reconcile_lag, reconcile_caught, last_error, last_error_at, connected_at \
         FROM woo_connection WHERE id = 1",
    )
    .fetch_one(executor)
    .await?;
    Ok(Stored {
        connected: row.try_get::<String, _>("state")? == "connected",
        url: row.try_get("url")?,
        auth: Auth::parse(&row.try_get::<String, _>("auth")?),
        consumer_key: row.try_get("consumer_key")?,
        sealed_secret: row.try_get("consumer_secret")?,
        sealed_webhook_secret: row.try_get("webhook_secret")?,
        facts: serde_json::from_str(&row.try_get::<String, _>("store")?).unwrap_or_default(),
        reconcile_minutes: row.try_get("reconcile_minutes")?,
        concurrency: row.try_get("concurrency")?,
        orders_watermark: row.try_get("orders_watermark")?,
        products_watermark: row.try_get("products_watermark")?,
        coupons_watermark: row.try_get("coupons_watermark")?,
        customers_scanned_at: row.try_get("customers_scanned_at")?,
        deletions_checked_at: row.try_get("deletions_checked_at")?,
        last_delivery_at: row.try_get("last_delivery_at")?,
        last_reconcile_at: row.try_get("last_reconcile_at")?,
        last_reconcile_lag: row.try_get("last_reconcile_lag")?,
        reconcile_caught: row.try_get("reconcile_caught")?,
        last_error: row.try_get("last_error")?,
        last_error_at: row.try_get("last_error_at")?,
        connected_at: row.try_get("connected_at")?,
    })
}

/// The connected store's API client, or `None` while no store is connected.
///
/// Fails when the stored secrets cannot be opened (another master key).
pub async fn store(woo: &Woo) -> Result<Option<Store>> {
    open(&woo.db, &woo.sealer, &woo.http).await
}

/// The connected store, called through `http`; `None` while none is connected.
pub async fn open(db: &Db, sealer: &Sealer, http: &reqwest::Client) -> Result<Option<Store>> {
    let stored = stored(db.pool()).await?;
    if !stored.connected {
        return Ok(None);
    }
    let secret = sealer.open(Place::WooConsumerSecret, &stored.sealed_secret)?;
    let auth = stored.auth.unwrap_or(Auth::Basic);
    Ok(Some(Store::new(&stored.url, stored.consumer_key, secret, auth, http.clone())))
}

/// The secret the store signs its webhook deliveries with, while connected.
pub async fn webhook_secret(woo: &Woo) -> Result<Option<SecretString>> {
    let stored = stored(woo.db.pool()).await?;
    if !stored.connected || stored.sealed_webhook_secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(woo.sealer.open(Place::WooWebhookSecret, &stored.sealed_webhook_secret)?))
}

/// What connecting asks, and what the person confirmed.
#[derive(Clone, Debug)]
pub struct ConnectRequest {
    pub url: String,
    pub consumer_key: String,
    pub consumer_secret: SecretString,
    /// Take the store's currency and time zone where they differ from the shop's.
    pub adopt_store_settings: bool,
    /// Clear the demo data this shop holds first.
    pub clear_demo_data: bool,
}

/// Something connecting needs the person's word on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// What saying yes sets: `adopt_store_settings` or `clear_demo_data`.
    pub confirms: String,
    pub text: String,
}

/// What connecting came to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Connected {
    /// Connected: the checks, and the webhooks in place.
    Done { report: Report, webhooks: usize },
    /// The checks passed but something needs the person's word first.
    NeedsConfirmation { report: Report, questions: Vec<Question> },
    /// A check failed: nothing was changed.
    Failed { report: Report },
}

/// Checks the store and connects to it (see the module's note). Only owners and admins
/// may.
///
/// Fails with `Forbidden`, or for our own faults; a store that fails its checks is
/// [`Connected::Failed`].
pub async fn connect(woo: &Woo, actor: &User, ip: Option<&str>, request: ConnectRequest) -> Result<Connected> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    let (report, store) = check(&woo.http, &request.url, &request.consumer_key, &request.consumer_secret).await;
    let (Some(store), true) = (store, report.passed()) else { return Ok(Connected::Failed { report }) };
    let facts = report.facts.clone().unwrap_or_default();
    let shop = crate::settings::get(&woo.db).await?;
    let mut questions = Vec::new();
    let adopt_currency = !facts.currency.is_empty() && facts.currency != shop.currency;
    let adopt_zone = facts.time_zone.parse::<chrono_tz::Tz>().is_ok() && facts.time_zone != shop.time_zone;
    if (adopt_currency || adopt_zone) && !request.adopt_store_settings {
        questions.push(Question {
            confirms: "adopt_store_settings".into(),
            text: format!(
                "The store works in {} and {}; this shop is set to {} and {}. Take the store's?",
                facts.currency, facts.time_zone, shop.currency, shop.time_zone
            ),
        });
    }
    let demo = has_demo_data(&woo.db).await?;
    if demo && !request.clear_demo_data {
        questions.push(Question {
            confirms: "clear_demo_data".into(),
            text: "This shop holds demo data. It is cleared before the store's data comes in. Clear it?".into(),
        });
    }
    if !questions.is_empty() {
        return Ok(Connected::NeedsConfirmation { report, questions });
    }
    if demo {
        crate::demo::clear(&woo.db).await?;
    }
    if adopt_currency || adopt_zone {
        let currency = if adopt_currency { facts.currency.clone() } else { shop.currency.clone() };
        let zone = if adopt_zone { facts.time_zone.clone() } else { shop.time_zone.clone() };
        crate::settings::adopt_store(&woo.db, &currency, &zone).await?;
    }
    let webhook_secret = crate::access::secret::random_token(48);
    let now = now();
    sqlx::query(
        "UPDATE woo_connection SET state = 'connected', url = $1, auth = $2, consumer_key = $3, consumer_secret = $4, \
         webhook_secret = $5, store = $6, connected_at = $7, updated_at = $7, last_error = NULL, last_error_at = NULL \
         WHERE id = 1",
    )
    .bind(store.base())
    .bind(store.auth().as_str())
    .bind(request.consumer_key.trim())
    .bind(woo.sealer.seal(Place::WooConsumerSecret, request.consumer_secret.expose_secret().trim()))
    .bind(woo.sealer.seal(Place::WooWebhookSecret, &webhook_secret))
    .bind(serde_json::to_string(&facts).map_err(Error::internal)?)
    .bind(now)
    .execute(woo.db.writer())
    .await?;
    woo.forget_secret();
    let webhooks = match super::webhooks::ensure(woo, &store, &webhook_secret).await {
        Ok(count) => count,
        Err(e) => {
            note_error(&woo.db, &format!("the webhooks could not be created: {e}")).await?;
            0
        }
    };
    audit::record(
        woo.db.writer(),
        &Event {
            details: &format!("{} ({} webhooks)", store.base(), webhooks),
            ..Event::by(actor, "woo.connect", "woocommerce", ip)
        },
    )
    .await?;
    Ok(Connected::Done { report, webhooks })
}

async fn has_demo_data(db: &Db) -> Result<bool> {
    let connected_before: Option<i64> =
        sqlx::query_scalar("SELECT connected_at FROM woo_connection WHERE id = 1").fetch_one(db.pool()).await?;
    if connected_before.is_some() {
        return Ok(false);
    }
    let rows: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT id FROM orders UNION ALL SELECT id FROM products LIMIT 1) AS existing",
    )
    .fetch_one(db.pool())
    .await?;
    Ok(rows > 0)
}

/// Disconnects: removes the webhooks Backroom made in the store (as far as the store
/// answers) and forgets the key. The store's data stays. Only owners and admins may.
pub async fn disconnect(woo: &Woo, actor: &User, ip: Option<&str>) -> Result<usize> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    let store = store(woo).await?.ok_or_else(|| Error::Conflict("no store is connected".into()))?;
    let removed = super::webhooks::remove_all(woo, &store).await;
    sqlx::query(
        "UPDATE woo_connection SET state = 'disconnected', consumer_secret = '', webhook_secret = '', updated_at = $1 WHERE id = 1",
    )
    .bind(now())
    .execute(woo.db.writer())
    .await?;
    woo.forget_secret();
    sqlx::query("DELETE FROM woo_webhooks").execute(woo.db.writer()).await?;
    let details = match &removed {
        Ok(n) => format!("{n} webhooks removed"),
        Err(e) => format!("the store's webhooks could not all be removed: {e}"),
    };
    audit::record(
        woo.db.writer(),
        &Event { details: &details, ..Event::by(actor, "woo.disconnect", "woocommerce", ip) },
    )
    .await?;
    Ok(removed.unwrap_or(0))
}

/// Runs the wizard's checks again with the stored key. A store that passes has its facts
/// refreshed and the last error cleared; one that fails has the failure noted. Only
/// owners and admins may.
///
/// Fails with `Conflict` while no store is connected.
pub async fn recheck(woo: &Woo, actor: &User) -> Result<Report> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    let stored = stored(woo.db.pool()).await?;
    if !stored.connected {
        return Err(Error::Conflict("no store is connected".into()));
    }
    let secret = woo.sealer.open(Place::WooConsumerSecret, &stored.sealed_secret)?;
    let (report, _) = check(&woo.http, &stored.url, &stored.consumer_key, &secret).await;
    match (report.passed(), &report.facts) {
        (true, Some(facts)) => {
            sqlx::query(
                "UPDATE woo_connection SET store = $1, updated_at = $2, last_error = NULL, last_error_at = NULL WHERE id = 1",
            )
            .bind(serde_json::to_string(facts).map_err(Error::internal)?)
            .bind(now())
            .execute(woo.db.writer())
            .await?;
        }
        _ => {
            note_error(&woo.db, &report.first_failure().unwrap_or_else(|| "the store could not be checked".into()))
                .await?
        }
    }
    Ok(report)
}

/// How often the reconcile runs (minutes) and how many requests the import sends at once.
pub const RECONCILE_MINUTES: std::ops::RangeInclusive<i64> = 1..=1440;
pub const CONCURRENCY: std::ops::RangeInclusive<i64> = 1..=8;

/// Sets the sync's pace: a reconcile every `reconcile_minutes`, `concurrency` requests at
/// once while importing. Only owners and admins may.
///
/// Fails with `Invalid` naming the value out of range.
pub async fn set_pace(
    woo: &Woo,
    actor: &User,
    ip: Option<&str>,
    reconcile_minutes: i64,
    concurrency: i64,
) -> Result<()> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    if !RECONCILE_MINUTES.contains(&reconcile_minutes) {
        return Err(Error::Invalid(format!(
            "the reconcile runs every {} to {} minutes",
            RECONCILE_MINUTES.start(),
            RECONCILE_MINUTES.end()
        )));
    }
    if !CONCURRENCY.contains(&concurrency) {
        return Err(Error::Invalid(format!(
            "the import sends {} to {} requests at once",
            CONCURRENCY.start(),
            CONCURRENCY.end()
        )));
    }
    sqlx::query("UPDATE woo_connection SET reconcile_minutes = $1, concurrency = $2, updated_at = $3 WHERE id = 1")
        .bind(reconcile_minutes)
        .bind(concurrency)
        .bind(now())
        .execute(woo.db.writer())
        .await?;
    let details = format!("reconcile every {reconcile_minutes} minutes, {concurrency} requests at once");
    audit::record(woo.db.writer(), &Event { details: &details, ..Event::by(actor, "woo.pace", "woocommerce", ip) })
        .await?;
    Ok(())
}

/// Records a problem with the store for the connection page.
pub async fn note_error(db: &Db, error: &str) -> Result<()> {
    tracing::warn!(error, "WooCommerce connection");
    sqlx::query("UPDATE woo_connection SET last_error = $1, last_error_at = $2 WHERE id = 1")
        .bind(error)
        .bind(now())
        .execute(db.writer())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_addresses_are_checked() {
        assert_eq!(parse_url(" https://shop.example/ ").unwrap(), "https://shop.example");
        assert_eq!(parse_url("http://127.0.0.1:8080/magaza").unwrap(), "http://127.0.0.1:8080/magaza");
        for bad in ["shop.example", "ftp://shop.example", "https://shop.example/?a=1", "https://user@shop.example", ""]
        {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_time_zone_comes_from_wordpress() {
        let index = serde_json::json!({ "name": "M", "timezone_string": "", "gmt_offset": 3 });
        assert_eq!(facts(&index, &serde_json::json!({}), "https://x").time_zone, "UTC+3");
        let index = serde_json::json!({ "timezone_string": "Europe/Istanbul" });
        assert_eq!(facts(&index, &serde_json::json!({}), "https://x").time_zone, "Europe/Istanbul");
    }
}
