//! Recovery coupons, made in the WooCommerce store before the message that carries them:
//! a unique code, single use, for the cart's e-mail, expiring, with the configured
//! discount and minimum spend. Each carries its cart's id in its meta data, so a code the
//! store says it already has counts as made only when it is this cart's (an earlier
//! attempt whose answer was lost); another's code is replaced by a new one. Coupons that
//! expired unused are removed from the store.

use std::collections::HashMap;

use rand::Rng;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Row;
use vocabulary::money;

use super::{WhatsApp, carts, config::Config};
use crate::{
    Result,
    clock::now,
    jobs::Failure,
    woo::{
        client::{CallError, Store},
        webhooks,
    },
};

/// The coupon's meta key holding the id of the cart it was made for.
pub const CART_META: &str = "backroom_cart";
/// WooCommerce takes at most 100 items in one batch request.
const PER_REQUEST: usize = 100;
/// How many times one run tries new codes for coupons whose code the store already had.
const CODE_ROUNDS: usize = 3;
/// How long a message waits for a store to be connected before it looks again.
const NO_STORE_WAIT_SECS: i64 = 600;
/// How long a message waits after the store refused a whole request (a key without write
/// permission, a firewall's page) before it is tried again.
const REFUSED_WAIT_SECS: i64 = 3600;
/// A coupon this close to its end is not sent: the cart gets a new one.
const FRESH_FOR_SECS: i64 = 3600;
/// The WooCommerce error for a code the store already has.
const CODE_TAKEN: &str = "woocommerce_rest_coupon_code_already_exists";

/// A cart's coupon.
#[derive(Clone, Debug)]
pub struct Coupon {
    pub code: String,
    pub percent: i64,
    /// A fixed amount off the cart, in its currency's minor units, instead of the percent
    /// (0: the percent).
    pub amount_minor: i64,
    pub expires_at: i64,
    /// The minimum spend, in the cart's currency's minor units (0: none).
    pub min_minor: i64,
    /// The store's id for it, once the store has it.
    pub woo_id: Option<i64>,
}

impl Coupon {
    /// The discount as the shopper reads it: `15%`, or `50,00 TRY` in Turkish.
    pub fn discount(&self, currency: &str, locale: &str) -> String {
        if self.amount_minor > 0 {
            money::format(self.amount_minor, currency, locale)
        } else {
            format!("{}%", self.percent)
        }
    }
}

/// The cart a coupon is for, as the store needs to know it.
#[derive(Clone, Copy, Debug)]
pub struct ForCart<'a> {
    pub id: i64,
    /// Only this billing e-mail may use it (none: any).
    pub email: &'a str,
    pub currency: &'a str,
}

/// What became of a coupon the store was asked for.
#[derive(Debug)]
pub enum Made {
    /// The store has it.
    Yes,
    /// Not now: the message waits (the store could not be reached, or none is connected).
    Later(Failure),
    /// The store refused this coupon, in these words: the message cannot carry a working
    /// coupon.
    Refused(String),
}

/// The cart's coupon: made once and recorded with the cart, before the store is asked
/// for it (so a retry asks for the same code).
pub async fn of(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    config: &Config,
    cart: ForCart<'_>,
    now: i64,
) -> Result<Coupon> {
    let row = sqlx::query(
        "SELECT coupon_code, coupon_percent, coupon_amount_minor, coupon_expires_at, coupon_min_minor, coupon_woo_id \
         FROM whatsapp_carts WHERE id = $1",
    )
    .bind(cart.id)
    .fetch_one(&mut **tx)
    .await?;
    if let (Some(code), Some(percent), Some(expires_at)) =
        (row.try_get("coupon_code")?, row.try_get("coupon_percent")?, row.try_get("coupon_expires_at")?)
        && expires_at > now + FRESH_FOR_SECS
    {
        let min_minor = row.try_get::<Option<i64>, _>("coupon_min_minor")?.unwrap_or(0);
        let amount_minor = row.try_get("coupon_amount_minor")?;
        return Ok(Coupon {
            code,
            percent,
            amount_minor,
            expires_at,
            min_minor,
            woo_id: row.try_get("coupon_woo_id")?,
        });
    }
    // None yet, or one that expired (or nearly) while its message waited: a new one.
    let r = &config.recovery;
    let coupon = Coupon {
        code: new_code(),
        percent: r.coupon_percent,
        amount_minor: r.coupon_amount_minor,
        expires_at: now + r.coupon_valid_days * 86_400,
        min_minor: r.coupon_min_minor,
        woo_id: None,
    };
    sqlx::query(
        "UPDATE whatsapp_carts SET coupon_code = $1, coupon_percent = $2, coupon_expires_at = $3, coupon_min_minor = $4, \
         coupon_woo_id = NULL, coupon_settled_at = NULL, coupon_amount_minor = $6 WHERE id = $5",
    )
    .bind(&coupon.code)
    .bind(coupon.percent)
    .bind(coupon.expires_at)
    .bind(coupon.min_minor)
    .bind(cart.id)
    .bind(coupon.amount_minor)
        .execute(&mut **tx)
        .await?;
    Ok(coupon)
}

/// A code no one guesses: `WA-` and eight letters and digits that cannot be misread.
fn new_code() -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    format!("WA-{}", (0..8).map(|_| LETTERS[rng.random_range(0..LETTERS.len())] as char).collect::<String>())
}

/// Makes in the store the coupons it does not have yet, in one batch request per 100. A
/// code the store has for someone else is replaced (on the cart too) and asked for again.
/// One outcome per coupon, in order; the coupons made get the store's id.
pub async fn make_in_store(whatsapp: &WhatsApp, wanted: &mut [(ForCart<'_>, &mut Coupon)]) -> Result<Vec<Made>> {
    let mut made: Vec<Option<Made>> = wanted.iter().map(|(_, c)| c.woo_id.map(|_| Made::Yes)).collect();
    if made.iter().all(Option::is_some) {
        return Ok(made.into_iter().flatten().collect());
    }
    let Some(store) = whatsapp.store().await? else {
        let wait = Failure::RetryAt {
            reason: "recovery coupons are made in the WooCommerce store, and none is connected".into(),
            at: now() + NO_STORE_WAIT_SECS,
        };
        return Ok(made.into_iter().map(|m| m.unwrap_or_else(|| Made::Later(wait.clone()))).collect());
    };
    for _ in 0..CODE_ROUNDS {
        let pending: Vec<usize> = (0..made.len()).filter(|i| made[*i].is_none()).collect();
        if pending.is_empty() {
            break;
        }
        for chunk in pending.chunks(PER_REQUEST) {
            let create: Vec<Value> = chunk.iter().map(|&i| coupon_body(wanted[i].0, wanted[i].1)).collect();
            let answers = match create_batch(&store, create).await {
                Ok(answers) => answers,
                Err(e) => {
                    // The whole request: its messages wait (a refusal of one coupon is in
                    // the answer, item by item).
                    let failure = match webhooks::failure(e) {
                        Failure::Dead(reason) => Failure::RetryAt { reason, at: now() + REFUSED_WAIT_SECS },
                        waiting => waiting,
                    };
                    for &i in chunk {
                        made[i] = Some(Made::Later(failure.clone()));
                    }
                    continue;
                }
            };
            for (&i, answer) in chunk.iter().zip(answers.iter().map(Some).chain(std::iter::repeat(None))) {
                let (cart, coupon) = &mut wanted[i];
                made[i] = settle(whatsapp, &store, *cart, coupon, answer).await?;
            }
        }
    }
    Ok(made
        .into_iter()
        .map(|m| m.unwrap_or_else(|| Made::Later(Failure::Retry("the store had every new code already".into()))))
        .collect())
}

/// `POST /coupons/batch` with these coupons to create: the store's answer for each.
async fn create_batch(store: &Store, create: Vec<Value>) -> std::result::Result<Vec<Value>, CallError> {
    let answer: Value =
        store.send(Method::POST, "/coupons/batch", &[], Some(&json!({ "create": create }))).await?.json()?;
    Ok(answer.get("create").and_then(Value::as_array).cloned().unwrap_or_default())
}

/// What the store's answer about one coupon comes to: made (its id recorded), refused, or
/// `None` to ask again (with a new code when the store has the code for someone else).
async fn settle(
    whatsapp: &WhatsApp,
    store: &Store,
    cart: ForCart<'_>,
    coupon: &mut Coupon,
    answer: Option<&Value>,
) -> Result<Option<Made>> {
    let Some(answer) = answer else {
        return Ok(Some(Made::Later(Failure::Retry("the store's answer left the coupon out".into()))));
    };
    let error = &answer["error"];
    let woo_id = match error["code"].as_str() {
        None => answer["id"].as_i64().filter(|id| *id > 0),
        Some(CODE_TAKEN) => match ours(store, &coupon.code, cart.id).await {
            Ok(Some(id)) => Some(id),
            Ok(None) => {
                let taken = std::mem::replace(&mut coupon.code, new_code());
                let mut tx = whatsapp.db.begin().await?;
                let replaced = sqlx::query(
                    "UPDATE whatsapp_carts SET coupon_code = $1 WHERE id = $2 AND coupon_code = $3 AND coupon_woo_id IS NULL",
                )
                .bind(&coupon.code)
                .bind(cart.id)
                .bind(&taken)
                .execute(&mut *tx)
                .await?;
                if replaced.rows_affected() == 0 {
                    return Ok(Some(Made::Later(Failure::Retry("the cart's coupon changed meanwhile".into()))));
                }
                let detail = format!("the store already had the code {taken}: {} instead", coupon.code);
                carts::event(&mut tx, cart.id, "coupon", &detail).await?;
                tx.commit().await?;
                return Ok(None);
            }
            Err(e) => return Ok(Some(Made::Later(webhooks::failure(e)))),
        },
        Some(code) => {
            let message = error["message"].as_str().unwrap_or(code);
            return Ok(Some(Made::Refused(format!("the store did not make the coupon: {message}"))));
        }
    };
    let Some(woo_id) = woo_id else {
        return Ok(Some(Made::Later(Failure::Retry("the store's answer had no coupon id".into()))));
    };
    coupon.woo_id = Some(woo_id);
    let mut tx = whatsapp.db.begin().await?;
    let recorded = sqlx::query(
        "UPDATE whatsapp_carts SET coupon_woo_id = $1 WHERE id = $2 AND coupon_code = $3 AND coupon_woo_id IS NULL",
    )
    .bind(woo_id)
    .bind(cart.id)
    .bind(&coupon.code)
    .execute(&mut *tx)
    .await?;
    if recorded.rows_affected() == 0 {
        // Another run settled this cart's coupon meanwhile: its message is that run's.
        return Ok(Some(Made::Later(Failure::Retry("the cart's coupon changed meanwhile".into()))));
    }
    let minimum = if coupon.min_minor > 0 {
        format!(", minimum spend {}", money::format(coupon.min_minor, cart.currency, "en"))
    } else {
        String::new()
    };
    let detail =
        format!("{} for {}{minimum}, single use, made in the store", coupon.code, coupon.discount(cart.currency, "en"));
    carts::event(&mut tx, cart.id, "coupon", &detail).await?;
    tx.commit().await?;
    Ok(Some(Made::Yes))
}

/// The store's id of the coupon `code` when it was made for this cart (its meta says so).
async fn ours(store: &Store, code: &str, cart_id: i64) -> std::result::Result<Option<i64>, CallError> {
    let found: Vec<Value> = store.get("/coupons", &[("code", code.to_owned())]).await?.json()?;
    let cart = cart_id.to_string();
    Ok(found
        .iter()
        .find(|c| {
            c["meta_data"].as_array().is_some_and(|meta| {
                meta.iter().any(|m| m["key"] == CART_META && (m["value"] == cart.as_str() || m["value"] == cart_id))
            })
        })
        .and_then(|c| c["id"].as_i64()))
}

/// The coupon as WooCommerce takes it.
fn coupon_body(cart: ForCart<'_>, coupon: &Coupon) -> Value {
    let expires = chrono::DateTime::from_timestamp(coupon.expires_at, 0).unwrap_or_default();
    let emails: Vec<String> = Some(cart.email.trim().to_lowercase()).filter(|e| !e.is_empty()).into_iter().collect();
    let digits = money::minor_digits(cart.currency);
    let (kind, amount) = if coupon.amount_minor > 0 {
        ("fixed_cart", money::decimal(coupon.amount_minor, digits))
    } else {
        ("percent", coupon.percent.to_string())
    };
    json!({
        "code": coupon.code,
        "discount_type": kind,
        "amount": amount,
        "individual_use": true,
        "usage_limit": 1,
        "usage_limit_per_user": 1,
        "email_restrictions": emails,
        "date_expires_gmt": expires.format("%Y-%m-%dT%H:%M:%S").to_string(),
        "minimum_amount": money::decimal(coupon.min_minor, digits),
        "description": format!("WhatsApp cart recovery: cart {} (made by Backroom)", cart.id),
        "meta_data": [{ "key": CART_META, "value": cart.id.to_string() }],
    })
}

/// How many expired coupons one pass looks at (one store request each way).
const EXPIRED_PER_PASS: i64 = 100;

/// Removes from the store the recovery coupons that expired unused; those used (or no
/// longer in the store) are left as they are. Each is looked at once; returns how many
/// were removed.
pub async fn remove_expired(whatsapp: &WhatsApp) -> Result<usize> {
    let rows = sqlx::query(
        "SELECT id, coupon_code, coupon_woo_id FROM whatsapp_carts WHERE coupon_woo_id IS NOT NULL AND coupon_settled_at IS NULL \
         AND coupon_expires_at < $1 ORDER BY coupon_expires_at LIMIT $2",
    )
    .bind(now())
    .bind(EXPIRED_PER_PASS)
    .fetch_all(whatsapp.db.pool())
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let Some(store) = whatsapp.store().await? else { return Ok(0) };
    let expired = rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<i64, _>("id")?,
                r.try_get::<String, _>("coupon_code")?,
                r.try_get::<i64, _>("coupon_woo_id")?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let ids = expired.iter().map(|(_, _, woo_id)| woo_id.to_string()).collect::<Vec<_>>().join(",");
    let listed: Vec<Value> = store
        .get("/coupons", &[("include", ids), ("per_page", PER_REQUEST.to_string())])
        .await
        .and_then(|a| a.json())
        .map_err(crate::Error::internal)?;
    let uses: HashMap<i64, i64> =
        listed.iter().filter_map(|c| Some((c["id"].as_i64()?, c["usage_count"].as_i64().unwrap_or(0)))).collect();
    let unused: Vec<i64> =
        expired.iter().filter(|(_, _, woo_id)| uses.get(woo_id) == Some(&0)).map(|(_, _, woo_id)| *woo_id).collect();
    if !unused.is_empty() {
        store
            .send(Method::POST, "/coupons/batch", &[], Some(&json!({ "delete": unused })))
            .await
            .map_err(crate::Error::internal)?;
    }
    let at = now();
    let mut tx = whatsapp.db.begin().await?;
    for (cart_id, code, woo_id) in &expired {
        // Every instance looks: the first to record a coupon says what became of it.
        let settled =
            sqlx::query("UPDATE whatsapp_carts SET coupon_settled_at = $1 WHERE id = $2 AND coupon_settled_at IS NULL")
                .bind(at)
                .bind(cart_id)
                .execute(&mut *tx)
                .await?;
        if settled.rows_affected() == 0 {
            continue;
        }
        let detail = match uses.get(woo_id) {
            Some(0) => format!("{code} expired unused and was removed from the store"),
            Some(_) => format!("{code} was used"),
            None => format!("{code} was no longer in the store"),
        };
        carts::event(&mut tx, *cart_id, "coupon", &detail).await?;
    }
    tx.commit().await?;
    Ok(unused.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_coupon_is_a_percent_or_an_amount_off_the_cart_for_the_carts_email_only() {
        let cart = ForCart { id: 7, email: " Ayse@Example.com ", currency: "TRY" };
        let mut coupon = Coupon {
            code: "WA-ABCDEFGH".into(),
            percent: 15,
            amount_minor: 0,
            expires_at: 0,
            min_minor: 10_000,
            woo_id: None,
        };
        let body = coupon_body(cart, &coupon);
        assert_eq!((body["discount_type"].as_str(), body["amount"].as_str()), (Some("percent"), Some("15")));
        assert_eq!(body["email_restrictions"], json!(["ayse@example.com"]));
        assert_eq!((body["usage_limit"].as_i64(), body["usage_limit_per_user"].as_i64()), (Some(1), Some(1)));
        assert_eq!(body["minimum_amount"], "100.00");
        assert_eq!(body["meta_data"], json!([{ "key": CART_META, "value": "7" }]));
        assert_eq!(coupon.discount("TRY", "tr"), "15%");
        coupon.amount_minor = 5_000;
        let body = coupon_body(cart, &coupon);
        assert_eq!((body["discount_type"].as_str(), body["amount"].as_str()), (Some("fixed_cart"), Some("50.00")));
        assert_eq!(coupon.discount("TRY", "tr"), "50,00 TRY");
    }
}
