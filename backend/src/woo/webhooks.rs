//! The store's webhooks, as fast hints that something changed. Backroom makes its own in the
//! store (orders, products, customers, coupons), each signed with one strong secret and
//! delivered to `{public URL}/webhooks/woocommerce`, and never a duplicate: one already
//! there for the same topic and address is taken over. A delivery's signature is checked
//! over the raw bytes before anything else; a good one is stored at once and applied by a
//! job: the object it carries replaces Backroom's copy when newer; a deletion, or a
//! payload that is an error (the object was gone when WooCommerce built it), makes
//! Backroom fetch the object instead. Deliveries are never deduplicated by their delivery
//! id (it repeats within a second): applying the same object twice changes nothing.

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use sqlx::Row;

use super::{
    FETCH_JOB, Woo,
    apply::{self, Applied, Mode},
    client::{CallError, Store},
    model,
};
use crate::{
    Error, Result,
    audit::{self, Event},
    clock::now,
    jobs::{self, NewJob},
    orders::events::Tx,
};

/// The topics Backroom listens to.
pub const TOPICS: [&str; 15] = [
    "order.created",
    "order.updated",
    "order.deleted",
    "order.restored",
    "product.created",
    "product.updated",
    "product.deleted",
    "product.restored",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "coupon.created",
    "coupon.updated",
    "coupon.deleted",
    "coupon.restored",
];

/// How WooCommerce signs a delivery (`X-WC-Webhook-Signature`): the base64 HMAC-SHA256 of
/// the raw body under the webhook's secret.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `signature` (`X-WC-Webhook-Signature`) is the base64 HMAC-SHA256 of `body`
/// under `secret`.
pub fn signature_is_valid(secret: &[u8], body: &[u8], signature: Option<&str>) -> bool {
    let Some(signature) = signature.and_then(|s| STANDARD.decode(s.trim()).ok()) else { return false };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

/// Stores a verified delivery; returns once it is committed.
pub async fn receive(woo: &Woo, topic: &str, webhook_id: Option<i64>, body: String) -> Result<()> {
    woo.intake.receive(vec![now().into(), webhook_id.into(), topic.into(), body.into()]).await
}

/// Makes sure Backroom's webhooks are in the store, active, signing with `secret` and
/// delivering to Backroom; returns how many there are.
pub async fn ensure(woo: &Woo, store: &Store, secret: &str) -> std::result::Result<usize, CallError> {
    let url = woo.delivery_url();
    let existing = list(store).await?;
    let mut kept = Vec::new();
    for topic in TOPICS {
        let body = serde_json::json!({
            "name": format!("Backroom: {topic}"),
            "topic": topic,
            "delivery_url": url,
            "secret": secret,
            "status": "active",
        });
        let found = existing.iter().find(|w| w.topic == topic && w.delivery_url == url);
        let answer = match found {
            Some(webhook) => store.send(Method::PUT, &format!("/webhooks/{}", webhook.id), &[], Some(&body)).await?,
            None => store.send(Method::POST, "/webhooks", &[], Some(&body)).await?,
        };
        let webhook: model::Webhook = answer.json()?;
        kept.push(webhook);
    }
    let remembered = remember(woo, &kept).await;
    if let Err(e) = remembered {
        return Err(CallError::Malformed(e.report()));
    }
    Ok(kept.len())
}

async fn remember(woo: &Woo, webhooks: &[model::Webhook]) -> Result<()> {
    let mut tx = woo.db.begin().await?;
    sqlx::query("DELETE FROM woo_webhooks").execute(&mut *tx).await?;
    for webhook in webhooks {
        sqlx::query("INSERT INTO woo_webhooks (id, topic, status, checked_at) VALUES ($1, $2, $3, $4)")
            .bind(webhook.id)
            .bind(&webhook.topic)
            .bind(&webhook.status)
            .bind(now())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Every webhook of the store (they are few: pages of 100).
async fn list(store: &Store) -> std::result::Result<Vec<model::Webhook>, CallError> {
    let mut all = Vec::new();
    for page in 1..=20 {
        let answer = store.get("/webhooks", &[("per_page", "100".into()), ("page", page.to_string())]).await?;
        let batch: Vec<model::Webhook> = answer.json()?;
        let done = batch.len() < 100;
        all.extend(batch);
        if done {
            break;
        }
    }
    Ok(all)
}

/// Removes Backroom's webhooks from the store; returns how many went.
pub async fn remove_all(woo: &Woo, store: &Store) -> std::result::Result<usize, CallError> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM woo_webhooks")
        .fetch_all(woo.db.pool())
        .await
        .map_err(|e| CallError::Malformed(e.to_string()))?;
    let mut removed = 0;
    for id in ids {
        match store.send(Method::DELETE, &format!("/webhooks/{id}"), &[("force", "true".into())], None).await {
            Ok(_) => removed += 1,
            Err(CallError::Refused { status: 400 | 404, .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

/// What a webhook check found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub active: usize,
    /// Disabled by WooCommerce after failed deliveries, and made active again.
    pub reactivated: Vec<String>,
    /// Gone from the store, and made again.
    pub recreated: Vec<String>,
}

/// Reads the status of Backroom's webhooks: one WooCommerce disabled (after failed
/// deliveries) is made active again, one gone is made again — never a second one for a
/// topic — and the manager is told (the connection page's notice and the audit log).
pub async fn check_health(woo: &Woo, store: &Store) -> Result<Health> {
    let secret =
        super::connection::webhook_secret(woo).await?.ok_or_else(|| Error::Conflict("no store is connected".into()))?;
    let existing = list(store).await.map_err(|e| Error::internal(e.to_string()))?;
    let ours: HashMap<i64, String> = sqlx::query("SELECT id, topic FROM woo_webhooks")
        .fetch_all(woo.db.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("topic")?)))
        .collect::<Result<_>>()?;
    let mut health = Health::default();
    let url = woo.delivery_url();
    for topic in TOPICS {
        let found = existing.iter().find(|w| w.topic == topic && (ours.contains_key(&w.id) || w.delivery_url == url));
        match found {
            Some(webhook) if webhook.status == "active" => health.active += 1,
            Some(webhook) => {
                let body = serde_json::json!({ "status": "active", "delivery_url": url, "secret": secrecy::ExposeSecret::expose_secret(&secret) });
                store
                    .send(Method::PUT, &format!("/webhooks/{}", webhook.id), &[], Some(&body))
                    .await
                    .map_err(|e| Error::internal(e.to_string()))?;
                sqlx::query(
                    "UPDATE woo_webhooks SET status = 'active', reactivated_at = $1, reactivations = reactivations + 1, \
                     checked_at = $1 WHERE id = $2",
                )
                .bind(now())
                .bind(webhook.id)
                .execute(woo.db.writer())
                .await?;
                health.reactivated.push(format!("{topic} (was {})", webhook.status));
            }
            None => health.recreated.push(topic.to_owned()),
        }
    }
    if !health.recreated.is_empty() {
        let kept = ensure(woo, store, secrecy::ExposeSecret::expose_secret(&secret))
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        health.active = kept;
    } else {
        sqlx::query("UPDATE woo_webhooks SET checked_at = $1").bind(now()).execute(woo.db.writer()).await?;
    }
    if !health.reactivated.is_empty() || !health.recreated.is_empty() {
        let mut what = Vec::new();
        if !health.reactivated.is_empty() {
            what.push(format!("made active again: {}", health.reactivated.join(", ")));
        }
        if !health.recreated.is_empty() {
            what.push(format!("made again: {}", health.recreated.join(", ")));
        }
        let details = format!("WooCommerce had stopped webhooks after failed deliveries; {}", what.join("; "));
        super::connection::note_error(&woo.db, &details).await?;
        audit::record(
            woo.db.writer(),
            &Event {
                actor: "backroom",
                action: "woo.webhooks_repaired",
                target: "woocommerce",
                details: &details,
                ..Event::default()
            },
        )
        .await?;
    }
    Ok(health)
}

/// What a stored delivery carried: the resource's kind and event, and the body.
struct Delivery {
    id: i64,
    resource: String,
    event: String,
    body: serde_json::Value,
}

/// A fetch of one object from the store, after a hint that it changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fetch {
    /// `order`, `product`, `customer`, `coupon`, `order_refunds` or `order_notes`.
    pub what: String,
    pub id: i64,
}

impl jobs::Payload for Fetch {
    const KIND: &'static str = FETCH_JOB;
}

/// Applies up to `limit` stored deliveries, oldest first; returns how many.
pub async fn apply_pending(woo: &Woo, limit: i64) -> Result<usize> {
    let waiting: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM woo_deliveries WHERE applied_at IS NULL ORDER BY id LIMIT $1")
            .bind(limit)
            .fetch_all(woo.db.pool())
            .await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let store = crate::settings::get(&woo.db).await?;
    let mut tx = woo.db.begin().await?;
    // Claimed inside the transaction that applies them: another instance applying at the
    // same moment waits for it and finds them taken.
    let list = waiting.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE woo_deliveries SET applied_at = $1 WHERE id IN ({list}) AND applied_at IS NULL RETURNING id, topic, body"
    )))
    .bind(now())
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let deliveries: Vec<Delivery> = rows
        .iter()
        .map(|r| {
            let topic: String = r.try_get("topic")?;
            let (resource, event) = topic.split_once('.').unwrap_or((topic.as_str(), ""));
            let body: String = r.try_get("body")?;
            Ok(Delivery {
                id: r.try_get("id")?,
                resource: resource.to_owned(),
                event: event.to_owned(),
                body: serde_json::from_str(&body).unwrap_or_default(),
            })
        })
        .collect::<Result<_>>()?;
    let mut outcomes: Vec<(i64, String)> = Vec::new();
    let mut fetches: Vec<Fetch> = Vec::new();
    let mode = Mode::Live { events: &woo.events, tz: store.tz() };
    // The newest of each object in the batch is the one that counts.
    let mut orders = Newest::<model::Order>::new();
    let mut products = Newest::<model::Product>::new();
    let mut customers = Newest::<model::Customer>::new();
    let mut coupons = Newest::<model::Coupon>::new();
    for delivery in &deliveries {
        let id = delivery.body["id"].as_i64().or_else(|| delivery.body["id"].as_str()?.parse().ok());
        let outcome = if delivery.event == "deleted" {
            match id {
                Some(id) => {
                    fetches.push(Fetch { what: delivery.resource.clone(), id });
                    "deleted: fetching to confirm".to_owned()
                }
                None => "a deletion without an id: left to the reconcile".to_owned(),
            }
        } else if delivery.body.get("code").is_some() && id.is_none() {
            "an error in place of the object (gone when the store built it): left to the reconcile".to_owned()
        } else {
            match (delivery.resource.as_str(), id) {
                ("order", Some(_)) => orders.keep(&delivery.body),
                ("product", Some(_)) => products.keep(&delivery.body),
                ("customer", Some(_)) => customers.keep(&delivery.body),
                ("coupon", Some(_)) => coupons.keep(&delivery.body),
                _ => "not an object Backroom keeps".to_owned(),
            }
        };
        outcomes.push((delivery.id, outcome));
    }
    let orders = orders.settle(&mut tx, "orders", "order", &mut fetches).await?;
    let products = products.settle(&mut tx, "products", "product", &mut fetches).await?;
    let customers = customers.settle(&mut tx, "customers", "customer", &mut fetches).await?;
    let coupons = coupons.settle(&mut tx, "coupons", "coupon", &mut fetches).await?;
    let mut applied = Applied::default();
    for id in apply::with_unknown_refunds(&mut tx, &orders).await? {
        fetches.push(Fetch { what: "order_refunds".into(), id });
    }
    let (done, moved) = apply::orders(&mut tx, woo.db.backend(), &orders, mode).await?;
    applied.add(done);
    // A note alone changes no order and sends no webhook: the notes of an order that
    // arrived or moved are read again.
    fetches.extend(moved.into_iter().map(|id| Fetch { what: "order_notes".into(), id }));
    let (done, variable) = apply::products(&mut tx, woo.db.backend(), &store.currency, &products).await?;
    applied.add(done);
    fetches.extend(variable.into_iter().map(|id| Fetch { what: "variations".into(), id }));
    applied.add(apply::customers(&mut tx, woo.db.backend(), &customers).await?);
    applied.add(apply::coupons(&mut tx, woo.db.backend(), &store.currency, &coupons).await?);
    let mut queued = std::collections::HashSet::new();
    fetches.retain(|fetch| queued.insert((fetch.what.clone(), fetch.id)));
    jobs::enqueue_all(&mut tx, woo.db.backend(), &fetches.iter().map(NewJob::of).collect::<Vec<_>>()).await?;
    let at = now();
    // The deliveries' outcomes, one statement for each outcome.
    let mut by_outcome: HashMap<&str, Vec<i64>> = HashMap::new();
    for (id, outcome) in &outcomes {
        by_outcome.entry(outcome).or_default().push(*id);
    }
    for (outcome, ids) in by_outcome {
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE woo_deliveries SET outcome = $1 WHERE id IN ({list})")))
            .bind(outcome)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE woo_connection SET last_delivery_at = $1 WHERE id = 1").bind(at).execute(&mut *tx).await?;
    tx.commit().await?;
    tracing::debug!(
        deliveries = deliveries.len(),
        changed = applied.changed,
        unchanged = applied.unchanged,
        "applied WooCommerce deliveries"
    );
    Ok(deliveries.len())
}

/// An object a delivery carries: its id and when the store last changed it.
trait Stamped: serde::de::DeserializeOwned {
    fn stamp(&self) -> (i64, Option<i64>);
}

macro_rules! stamped {
    ($($object:ty),*) => {$(
        impl Stamped for $object {
            fn stamp(&self) -> (i64, Option<i64>) {
                (self.id, self.date_modified_gmt)
            }
        }
    )*};
}

stamped!(model::Order, model::Product, model::Customer, model::Coupon);

/// The newest copy of each object among a batch of deliveries.
struct Newest<T> {
    kept: HashMap<i64, T>,
    /// Objects with two copies stamped the same second: which is newer cannot be told.
    tied: std::collections::HashSet<i64>,
}

impl<T: Stamped> Newest<T> {
    fn new() -> Self {
        Newest { kept: HashMap::new(), tied: Default::default() }
    }

    /// Keeps the delivery's object if it is the newest of its id so far; says what it was.
    fn keep(&mut self, body: &serde_json::Value) -> String {
        let Ok(object) = serde_json::from_value::<T>(body.clone()) else { return "not readable as the object".into() };
        let (id, modified) = object.stamp();
        match self.kept.get(&id).map(|other| other.stamp().1) {
            Some(other) if other > modified => "an older copy than another in the same batch".into(),
            Some(other) if other == modified => {
                self.tied.insert(id);
                "stamped the same second as another in the same batch: fetching the store's".into()
            }
            _ => {
                self.kept.insert(id, object);
                "applied".into()
            }
        }
    }

    /// The copies to apply. A copy stamped the same second as another, or as Backroom's
    /// copy in `table`, may be the newer change or a late copy of the older one: the
    /// store's current object (fetched as `what`) settles it instead.
    async fn settle(mut self, tx: &mut Tx, table: &str, what: &str, fetches: &mut Vec<Fetch>) -> Result<Vec<T>> {
        let ours = apply::modified(tx, table, self.kept.keys().copied()).await?;
        let mut settled = Vec::with_capacity(self.kept.len());
        for (id, object) in self.kept.drain() {
            let tie = ours.get(&id).copied().flatten().is_some_and(|ours| object.stamp().1 == Some(ours));
            if tie || self.tied.contains(&id) {
                fetches.push(Fetch { what: what.to_owned(), id });
            } else {
                settled.push(object);
            }
        }
        Ok(settled)
    }
}

/// Fetches one object (or an order's refunds, notes or a product's variations) and
/// applies it; an object the store no longer has is removed.
pub async fn fetch(woo: &Woo, fetch: &Fetch) -> std::result::Result<(), jobs::Failure> {
    let Some(store) = super::connection::store(woo).await? else { return Ok(()) };
    let settings = crate::settings::get(&woo.db).await?;
    let mode = Mode::Live { events: &woo.events, tz: settings.tz() };
    let backend = woo.db.backend();
    let path = match fetch.what.as_str() {
        "order" => format!("/orders/{}", fetch.id),
        "product" => format!("/products/{}", fetch.id),
        "customer" => format!("/customers/{}", fetch.id),
        "coupon" => format!("/coupons/{}", fetch.id),
        "order_refunds" => format!("/orders/{}/refunds", fetch.id),
        "order_notes" => format!("/orders/{}/notes", fetch.id),
        "variations" => format!("/products/{}/variations", fetch.id),
        other => return Err(jobs::Failure::Dead(format!("nothing to fetch for {other}"))),
    };
    let query = if fetch.what == "order_refunds" || fetch.what == "order_notes" || fetch.what == "variations" {
        vec![("per_page", "100".to_owned())]
    } else {
        vec![]
    };
    let answer = match store.get(&path, &query).await {
        Ok(answer) => answer,
        Err(CallError::Refused { status: 400 | 404 | 410, .. }) => {
            let mut tx = woo.db.begin().await?;
            match fetch.what.as_str() {
                "order" => drop(apply::remove_order(&mut tx, fetch.id, mode).await?),
                "product" => drop(apply::remove_product(&mut tx, fetch.id).await?),
                "customer" => drop(apply::remove_customer(&mut tx, fetch.id).await?),
                "coupon" => drop(apply::remove_coupon(&mut tx, fetch.id).await?),
                _ => {}
            }
            tx.commit().await?;
            return Ok(());
        }
        Err(e) => return Err(failure(e)),
    };
    let read = |e: CallError| jobs::Failure::Dead(e.to_string());
    let mut tx = woo.db.begin().await?;
    match fetch.what.as_str() {
        "order" => drop(apply::orders(&mut tx, backend, &[answer.json().map_err(read)?], mode).await?),
        "product" => {
            let product: model::Product = answer.json().map_err(read)?;
            let (_, variable) = apply::products(&mut tx, backend, &settings.currency, &[product]).await?;
            for id in variable {
                jobs::enqueue(&mut *tx, &NewJob::of(&Fetch { what: "variations".into(), id })).await?;
            }
        }
        "customer" => drop(apply::customers(&mut tx, backend, &[answer.json().map_err(read)?]).await?),
        "coupon" => drop(apply::coupons(&mut tx, backend, &settings.currency, &[answer.json().map_err(read)?]).await?),
        "order_refunds" => {
            let mut refunds: Vec<model::Refund> = answer.json().map_err(read)?;
            for refund in &mut refunds {
                refund.parent_id = fetch.id;
            }
            apply::refunds(&mut tx, backend, &refunds, mode).await?;
        }
        "order_notes" => apply::notes(&mut tx, fetch.id, &answer.json::<Vec<model::Note>>().map_err(read)?).await?,
        "variations" => {
            let variations: Vec<model::Product> = answer.json().map_err(read)?;
            apply::variations(&mut tx, backend, &settings.currency, fetch.id, &variations).await?;
        }
        _ => {}
    }
    tx.commit().await?;
    Ok(())
}

/// A failed call as a job's failure: the store slowing us down waits without spending an
/// attempt; what cannot get better by retrying is dead.
pub fn failure(error: CallError) -> jobs::Failure {
    if let Some(wait) = error.retry_after() {
        return jobs::Failure::RetryAt { reason: error.to_string(), at: now() + wait.as_secs() as i64 };
    }
    if error.is_transient() { jobs::Failure::Retry(error.to_string()) } else { jobs::Failure::Dead(error.to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's vector (§1.4).
    #[test]
    fn signatures_are_base64_hmac_sha256_of_the_raw_body() {
        let body = br#"{"id":123,"status":"processing"}"#;
        assert!(signature_is_valid(b"my-webhook-secret", body, Some("zBe7g+Ha9D+2meCJMfa/T5Wkg1Ct845po8EcJIrPHOU=")));
        assert!(!signature_is_valid(b"another-secret", body, Some("zBe7g+Ha9D+2meCJMfa/T5Wkg1Ct845po8EcJIrPHOU=")));
        assert!(!signature_is_valid(b"my-webhook-secret", body, None));
        assert!(!signature_is_valid(b"my-webhook-secret", body, Some("not base64!")));
        assert_eq!(signature(b"my-webhook-secret", body), "zBe7g+Ha9D+2meCJMfa/T5Wkg1Ct845po8EcJIrPHOU=");
    }
}
