//! The recovery sequence. Each step of a cart is a durable job, due at the cart's
//! `next_at` (the first a delay after the shopper's last change, the follow-ups hours
//! after the first message). A step runs only while the cart is open and waiting for
//! that very step, so a stale job does nothing; it first looks at new orders (a purchase
//! ends the sequence), and it waits out quiet hours rather than dropping the message.
//! The message is keyed by cart and step ([`super::send`]): it goes once.
//!
//! The link in each message, `/r/{token}`, is signed ([`super::link`]) and works for the
//! configured days after sending; where it leads is [`super::restore`]'s. A click is not
//! a recovery: only an order is ([`super::attribution`]).

use std::collections::HashMap;

use chrono::{Duration as Days, NaiveTime, TimeZone, Timelike};
use chrono_tz::Tz;
use sqlx::Row;
use vocabulary::money;

use super::{
    WhatsApp, attribution, carts,
    config::{Config, Field, Mapping, Purpose, parse_time},
    coupons::{self, Coupon, ForCart, Made},
    link::Link,
    send::{self, Delivered, Outgoing},
    settings,
};
use crate::{
    Result,
    clock::now,
    jobs::{ClaimedJob, Failure},
};

/// Runs a batch of recovery jobs ([`carts::schedule`]) together: the configuration, the
/// shop's settings, the account and the look at new orders are read once; the carts in
/// one read; the new messages written in one statement; Meta called for all of them at
/// once; the sends recorded in one transaction. One outcome per job, in order.
pub async fn run(whatsapp: &WhatsApp, jobs: &[ClaimedJob]) -> Vec<Result<(), Failure>> {
    match run_steps(whatsapp, jobs).await {
        Ok(outcomes) => outcomes,
        Err(failure) => vec![Err(failure); jobs.len()],
    }
}

async fn run_steps(whatsapp: &WhatsApp, jobs: &[ClaimedJob]) -> Result<Vec<Result<(), Failure>>, Failure> {
    let db = &whatsapp.db;
    let steps: Vec<Option<(i64, i64)>> = jobs.iter().map(carts::scheduled_step).collect();
    let config = settings::config(db.pool()).await?;
    attribution::scan(db, &config).await?;
    let carts = Cart::load(db, &steps.iter().flatten().map(|(cart, _)| *cart).collect::<Vec<_>>()).await?;
    let store = crate::settings::get(db).await?;
    let now = now();
    let quiet = quiet_until(&config, store.tz(), now);
    let mut outcomes = Vec::with_capacity(steps.len());
    // The steps that send: the job's place, the cart, the step, the template, the coupon.
    let mut sending = Vec::new();
    for (i, job_step) in steps.into_iter().enumerate() {
        let Some((cart_id, step)) = job_step else {
            outcomes.push(Err(Failure::Dead("the job names no cart and step".into())));
            continue;
        };
        outcomes.push(match plan(whatsapp, &config, quiet, carts.get(&cart_id), step, now).await {
            Ok(Plan::Nothing) => Ok(()),
            Ok(Plan::Later(failure)) => Err(failure),
            Ok(Plan::Stop(reason)) => stop(db, cart_id, &reason).await,
            Ok(Plan::Send(draft)) => {
                sending.push((i, draft));
                Ok(())
            }
            Err(e) => Err(e.into()),
        });
    }
    // The coupons the messages carry, made in the store first: no message without its coupon.
    let mut wanted: Vec<(ForCart, &mut Coupon)> =
        sending.iter_mut().filter_map(|(_, d)| Some((d.cart.for_coupon(), d.coupon.as_mut()?))).collect();
    let mut made = coupons::make_in_store(whatsapp, &mut wanted).await?.into_iter();
    drop(wanted);
    let mut ready = Vec::with_capacity(sending.len());
    for (i, draft) in sending {
        if draft.coupon.is_some() {
            // One outcome per coupon asked for, in order.
            match made.next().unwrap_or_else(|| Made::Later(Failure::Retry("its coupon was not asked for".into()))) {
                Made::Yes => {}
                Made::Later(failure) => {
                    outcomes[i] = Err(failure);
                    continue;
                }
                Made::Refused(reason) => {
                    outcomes[i] = stop(db, draft.cart.id, &reason).await;
                    continue;
                }
            }
        }
        let out = message(whatsapp, &config, &store, &draft, now);
        ready.push(((i, draft.cart, draft.step), out));
    }
    if ready.is_empty() {
        return Ok(outcomes);
    }
    let (sending, outs): (Vec<_>, Vec<_>) = ready.into_iter().unzip();
    let delivered = match send_all(whatsapp, &config, &outs, now).await {
        Ok(delivered) => delivered,
        Err(failure) => {
            for (i, ..) in &sending {
                outcomes[*i] = Err(failure.clone());
            }
            return Ok(outcomes);
        }
    };
    let mut sent = Vec::new();
    for ((i, cart, step), (message_id, delivered)) in sending.into_iter().zip(delivered) {
        outcomes[i] = match delivered {
            Ok(Delivered::Sent(wamid)) => {
                sent.push((i, Sent { cart, step, message_id, wamid }));
                Ok(())
            }
            Ok(Delivered::Failed { code: Some(131026), reason }) => {
                stop(db, cart.id, &format!("WhatsApp cannot deliver to this number: {reason}")).await
            }
            Ok(Delivered::Failed { code: None, reason }) => stop(db, cart.id, &reason).await,
            Ok(Delivered::Failed { code: Some(_), reason }) => {
                next(whatsapp, &config, cart, step, &reason).await.map_err(Failure::from)
            }
            Err(failure) => Err(failure),
        };
    }
    if let Err(e) = record_sent(whatsapp, &config, sent.iter().map(|(_, s)| s)).await {
        // The messages went; their jobs run again and find them sent (or wait for
        // Meta's status webhook) rather than send twice.
        let failure = Failure::from(e);
        for (i, _) in &sent {
            outcomes[*i] = Err(failure.clone());
        }
    }
    Ok(outcomes)
}

/// What a due step comes to, before anything is sent.
enum Plan<'c> {
    /// Nothing to do: the cart is gone, closed, or waiting for another step.
    Nothing,
    /// Not now: the job is put off.
    Later(Failure),
    /// The sequence ends here, for this reason.
    Stop(String),
    /// A message goes to the cart's phone.
    Send(Draft<'c>),
}

/// A recovery message about to go: the cart, the step, its template, and its coupon
/// (recorded with the cart; the store may not have it yet).
struct Draft<'c> {
    cart: &'c Cart,
    step: i64,
    mapping: &'c Mapping,
    coupon: Option<Coupon>,
}

/// `quiet`: when the quiet hours `now` falls in end, if it does.
async fn plan<'c>(
    whatsapp: &WhatsApp,
    config: &'c Config,
    quiet: Option<i64>,
    cart: Option<&'c Cart>,
    step: i64,
    now: i64,
) -> Result<Plan<'c>> {
    let Some(cart) = cart else { return Ok(Plan::Nothing) };
    if cart.state != "open" || cart.next_step != Some(step) {
        return Ok(Plan::Nothing);
    }
    if let Some(at) = cart.next_at.filter(|at| *at > now) {
        return Ok(Plan::Later(Failure::RetryAt { reason: "not due yet".into(), at }));
    }
    if !config.recovery.enabled {
        return Ok(Plan::Stop("cart recovery was switched off".into()));
    }
    if !cart.consented {
        return Ok(Plan::Stop("the customer opted out".into()));
    }
    if now - cart.captured_at > config.recovery.max_age_days * 86_400 {
        return Ok(Plan::Stop(format!("older than {} days", config.recovery.max_age_days)));
    }
    let Some(mapping) = Purpose::recovery_step(step).and_then(|p| config.mapping_for(p)) else {
        return Ok(Plan::Stop(format!("no template is mapped for message {step}")));
    };
    let db = &whatsapp.db;
    if let Some(end) = quiet {
        sqlx::query("UPDATE whatsapp_carts SET next_at = $1 WHERE id = $2")
            .bind(end)
            .bind(cart.id)
            .execute(db.writer())
            .await?;
        return Ok(Plan::Later(Failure::RetryAt { reason: "quiet hours".into(), at: end }));
    }
    let coupon = if config.recovery.coupon_step == Some(step) {
        let mut tx = db.begin().await?;
        let coupon = coupons::of(&mut tx, config, cart.for_coupon(), now).await?;
        tx.commit().await?;
        Some(coupon)
    } else {
        None
    };
    Ok(Plan::Send(Draft { cart, step, mapping, coupon }))
}

/// The message of `step` to the cart's phone: `mapping`'s template filled in, with the
/// signed link to the cart.
fn message(
    whatsapp: &WhatsApp,
    config: &Config,
    store: &crate::settings::StoreSettings,
    Draft { cart, step, mapping, coupon }: &Draft,
    now: i64,
) -> Outgoing {
    let step = *step;
    let token = whatsapp.links.token(Link {
        cart_id: cart.id,
        step,
        expires_at: now + config.recovery.link_valid_days * 86_400,
    });
    let value = |field: &Field| match field {
        Field::FirstName => cart.name.split_whitespace().next().unwrap_or_default().to_owned(),
        Field::FullName => cart.name.clone(),
        Field::ShopName => store.name.clone(),
        Field::CartTotal => money::format(cart.total_minor, &cart.currency, &store.locale),
        Field::CouponCode => coupon.as_ref().map(|c| c.code.clone()).unwrap_or_default(),
        Field::CouponPercent => {
            coupon.as_ref().filter(|c| c.amount_minor == 0).map(|c| c.percent.to_string()).unwrap_or_default()
        }
        Field::CouponDiscount => coupon.as_ref().map(|c| c.discount(&cart.currency, &store.locale)).unwrap_or_default(),
        Field::CouponExpiry => coupon
            .as_ref()
            .map(|c| {
                store
                    .tz()
                    .timestamp_opt(c.expires_at, 0)
                    .single()
                    .map(|d| d.format("%d.%m.%Y").to_string())
                    .unwrap_or_default()
            })
            .unwrap_or_default(),
        Field::OrderNumber | Field::OrderTotal => String::new(),
    };
    Outgoing {
        purpose: mapping.purpose.as_str().to_owned(),
        to_phone: cart.phone.clone(),
        template: mapping.template.clone(),
        language: mapping.language.clone(),
        parameters: mapping.parameters.iter().map(|f| send::non_empty(value(f))).collect(),
        url_suffix: Some(token),
        cart_id: Some(cart.id),
        step: Some(step),
        order_id: None,
        idempotency_key: carts::step_key(cart.id, step),
    }
}

/// Queues and takes the messages in one write, and calls Meta with all of them at once;
/// a message queued earlier (its send failed, or the cap held it) goes the long way,
/// through [`send::deliver`]. Each message's id and what became of it, in order.
async fn send_all(
    whatsapp: &WhatsApp,
    config: &Config,
    outs: &[Outgoing],
    now: i64,
) -> Result<Vec<(i64, Result<Delivered, Failure>)>, Failure> {
    let account = whatsapp.account().await?;
    let queued = send::queue_and_take(&whatsapp.db, outs, config.hourly_cap, now).await?;
    let calls = queued.into_iter().map(|(message_id, taken)| {
        let account = &account;
        async move {
            let delivered = match taken {
                Some((request, attempts)) => send::call(whatsapp, account, message_id, attempts, &request, now).await,
                None => send::deliver(whatsapp, config.hourly_cap, message_id).await,
            };
            (message_id, delivered)
        }
    });
    Ok(futures_util::future::join_all(calls).await)
}

/// Ends a cart's sequence.
async fn stop(db: &crate::db::Db, cart_id: i64, reason: &str) -> Result<(), Failure> {
    let mut tx = db.begin().await?;
    carts::stop(&mut tx, cart_id, reason).await?;
    tx.commit().await?;
    Ok(())
}

/// A step Meta took.
struct Sent<'c> {
    cart: &'c Cart,
    step: i64,
    message_id: i64,
    wamid: String,
}

/// Records sent steps — Meta's id on each message, the step on its cart, the next step
/// scheduled — in one transaction, each once.
async fn record_sent<'a, 'c: 'a>(
    whatsapp: &WhatsApp,
    config: &Config,
    sent: impl Iterator<Item = &'a Sent<'c>>,
) -> Result<()> {
    let at = now();
    let mut tx = whatsapp.db.begin().await?;
    for Sent { cart, step, message_id, wamid } in sent {
        let next = following(config, *step, cart.first_messaged_at.unwrap_or(at))
            .map(|(next_step, due)| (next_step, due.max(at)));
        send::record_sent(&mut *tx, *message_id, wamid, at).await?;
        let recorded = sqlx::query(
            "UPDATE whatsapp_carts SET steps_sent = steps_sent + 1, first_messaged_at = COALESCE(first_messaged_at, $1), last_messaged_at = $1, \
             next_step = $4, next_at = $5, updated_at = $1 WHERE id = $2 AND next_step = $3",
        )
        .bind(at)
        .bind(cart.id)
        .bind(step)
        .bind(next.map(|(next_step, _)| next_step))
        .bind(next.map(|(_, due)| due))
        .execute(&mut *tx)
        .await?;
        if recorded.rows_affected() == 1 {
            carts::event(&mut tx, cart.id, "messaged", &format!("message {step} sent")).await?;
            if let Some((next_step, due)) = next {
                carts::schedule(&mut tx, cart.id, next_step, due).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// After a step Meta refused for good: noted on the cart, and on to the next step, if
/// any.
async fn next(whatsapp: &WhatsApp, config: &Config, cart: &Cart, step: i64, reason: &str) -> Result<()> {
    let at = now();
    let mut tx = whatsapp.db.begin().await?;
    carts::event(&mut tx, cart.id, "failed", &format!("message {step}: {reason}")).await?;
    let first = cart.first_messaged_at.unwrap_or(at);
    let (next_step, due) = following(config, step, first).map_or((None, None), |(s, d)| (Some(s), Some(d.max(at))));
    let moved = sqlx::query(
        "UPDATE whatsapp_carts SET next_step = $1, next_at = $2, updated_at = $3 WHERE id = $4 AND next_step = $5",
    )
    .bind(next_step)
    .bind(due)
    .bind(at)
    .bind(cart.id)
    .bind(step)
    .execute(&mut *tx)
    .await?;
    if let (1, Some(s), Some(d)) = (moved.rows_affected(), next_step, due) {
        carts::schedule(&mut tx, cart.id, s, d).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The step after `step` and when it is due, counted from the first message.
pub fn following(config: &Config, step: i64, first_messaged_at: i64) -> Option<(i64, i64)> {
    let r = &config.recovery;
    let second = r.second_enabled.then_some((2, first_messaged_at + r.second_delay_hours * 3600));
    let third = r.third_enabled.then_some((3, first_messaged_at + r.third_delay_hours * 3600));
    match step {
        1 => second.or(third),
        2 => third,
        _ => None,
    }
}

/// When quiet hours end, if `now` falls inside them (shop time zone).
pub fn quiet_until(config: &Config, tz: Tz, now: i64) -> Option<i64> {
    let (start, end) = (parse_time(&config.recovery.quiet_start)?, parse_time(&config.recovery.quiet_end)?);
    if start == end {
        return None;
    }
    let local = tz.timestamp_opt(now, 0).single()?;
    let minute = local.hour() * 60 + local.minute();
    let inside = if start < end { (start..end).contains(&minute) } else { minute >= start || minute < end };
    if !inside {
        return None;
    }
    let end_time = NaiveTime::from_hms_opt(end / 60, end % 60, 0)?;
    let day = if minute >= end { local.date_naive() + Days::days(1) } else { local.date_naive() };
    let end_local = tz.from_local_datetime(&day.and_time(end_time)).earliest()?;
    Some(end_local.timestamp())
}

/// What a recovery step needs of a cart.
struct Cart {
    id: i64,
    phone: String,
    name: String,
    email: String,
    state: String,
    total_minor: i64,
    currency: String,
    captured_at: i64,
    next_step: Option<i64>,
    next_at: Option<i64>,
    first_messaged_at: Option<i64>,
    /// Whether the phone agreed to messages and has not opted out.
    consented: bool,
}

impl Cart {
    fn for_coupon(&self) -> ForCart<'_> {
        ForCart { id: self.id, email: &self.email, currency: &self.currency }
    }

    /// The carts with these ids, by id (those that exist).
    async fn load(db: &crate::db::Db, ids: &[i64]) -> Result<HashMap<i64, Cart>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list = (1..=ids.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT c.id, c.phone, c.name, c.email, c.state, c.total_minor, c.currency, c.captured_at, c.next_step, c.next_at, c.first_messaged_at, \
             k.consented_at, k.opted_out_at FROM whatsapp_carts c LEFT JOIN whatsapp_contacts k ON k.phone = c.phone WHERE c.id IN ({list})"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(db.pool()).await?;
        rows.iter()
            .map(|r| {
                let cart = Cart {
                    id: r.try_get("id")?,
                    phone: r.try_get("phone")?,
                    name: r.try_get("name")?,
                    email: r.try_get("email")?,
                    state: r.try_get("state")?,
                    total_minor: r.try_get("total_minor")?,
                    currency: r.try_get("currency")?,
                    captured_at: r.try_get("captured_at")?,
                    next_step: r.try_get("next_step")?,
                    next_at: r.try_get("next_at")?,
                    first_messaged_at: r.try_get("first_messaged_at")?,
                    consented: carts::agreed(r)?,
                };
                Ok((cart.id, cart))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_over_midnight_delay_to_their_end_in_the_shops_time_zone() {
        let config = Config::default(); // 22:00–09:00
        let tz: Tz = "Europe/Istanbul".parse().unwrap(); // UTC+3
        let at = |h: u32, m: u32| tz.with_ymd_and_hms(2026, 12, 2, h, m, 0).unwrap().timestamp();
        assert_eq!(
            quiet_until(&config, tz, at(23, 30)),
            Some(tz.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap().timestamp())
        );
        assert_eq!(quiet_until(&config, tz, at(3, 0)), Some(at(9, 0)));
        assert_eq!(quiet_until(&config, tz, at(9, 0)), None);
        assert_eq!(quiet_until(&config, tz, at(21, 59)), None);
        let mut off = Config::default();
        off.recovery.quiet_end = off.recovery.quiet_start.clone();
        assert_eq!(quiet_until(&off, tz, at(23, 30)), None);
    }

    #[test]
    fn follow_ups_count_from_the_first_message_and_can_be_switched_off() {
        let mut config = Config::default();
        assert_eq!(following(&config, 1, 1000), Some((2, 1000 + 24 * 3600)));
        assert_eq!(following(&config, 2, 1000), Some((3, 1000 + 48 * 3600)));
        assert_eq!(following(&config, 3, 1000), None);
        config.recovery.second_enabled = false;
        assert_eq!(following(&config, 1, 1000), Some((3, 1000 + 48 * 3600)));
    }
}
