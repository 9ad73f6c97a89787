//! Checkout capture: what the storefront snippet sends as the shopper types. Nothing is
//! stored without consent; consent withdrawn forgets the cart and opts the phone out.
//! One open cart per phone (a unique index): a refresh updates it, and pushes the first
//! message back while it has not gone yet.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use vocabulary::phone::Phone;

use super::{RECOVERY_JOB, WhatsApp, config::Config, settings};
use crate::{
    Error, Result,
    clock::now,
    jobs::{self, NewJob},
};

type Tx<'t> = sqlx::Transaction<'t, sqlx::Any>;

/// The most lines a captured cart may have.
pub const MAX_LINES: usize = 100;

/// What the snippet sends. `consent` is required: `true` or `false`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Capture {
    pub phone: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    pub consent: Option<bool>,
    #[serde(default)]
    pub lines: Vec<Line>,
    #[serde(default)]
    pub total_minor: i64,
    #[serde(default)]
    pub currency: String,
    pub restore_url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Line {
    pub name: String,
    pub quantity: i64,
    pub price_minor: i64,
    #[serde(default)]
    pub product_id: Option<i64>,
}

/// What a capture did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Captured {
    Captured,
    Updated,
    /// Consent was not given or withdrawn: nothing of this phone is kept.
    Forgotten,
}

/// Checks a capture against the configuration; returns the phone in E.164.
fn check(input: &Capture, config: &Config) -> Result<String> {
    let consent = input.consent.ok_or_else(|| {
        Error::invalid("consent is required: true when the shopper agreed to WhatsApp messages, false otherwise")
    })?;
    let phone = String::from(Phone::parse(&input.phone, &config.default_country)?);
    if !consent {
        return Ok(phone);
    }
    if input.lines.len() > MAX_LINES {
        return Err(Error::invalid(format!(
            "a cart has at most {MAX_LINES} lines; this one has {}",
            input.lines.len()
        )));
    }
    if let Some(line) = input.lines.iter().find(|l| {
        l.name.trim().is_empty()
            || l.name.chars().count() > 200
            || !(1..=10_000).contains(&l.quantity)
            || l.price_minor < 0
    }) {
        return Err(Error::invalid(format!(
            "the line “{}” needs a name (up to 200 characters), a quantity of 1 to 10,000 and a price of 0 or more",
            line.name.chars().take(40).collect::<String>()
        )));
    }
    if input.total_minor < 0 || input.total_minor > 100_000_000_000 {
        return Err(Error::invalid("the total is in minor units, 0 to 100,000,000,000"));
    }
    if !vocabulary::money::is_currency_code(&input.currency) {
        return Err(Error::invalid("the currency is a three-letter ISO code such as TRY"));
    }
    if input.name.chars().count() > 200
        || input.email.chars().count() > 254
        || (!input.email.is_empty() && !input.email.contains('@'))
    {
        return Err(Error::invalid("the name is up to 200 characters and the email an address"));
    }
    let restore = reqwest::Url::parse(input.restore_url.trim())
        .map_err(|_| Error::invalid("the restore URL is the address that brings the cart back"))?;
    let origin = restore.origin().ascii_serialization();
    if !config.is_shop_origin(&origin) {
        return Err(Error::invalid(format!(
            "the restore URL is not on the shop's address ({origin} is not one of the shop's origins in the WhatsApp settings)"
        )));
    }
    Ok(phone)
}

/// Takes a capture: stores or updates the phone's open cart, or forgets it.
pub async fn capture(whatsapp: &WhatsApp, input: Capture) -> Result<Captured> {
    let config = settings::config(whatsapp.db.pool()).await?;
    if config.shop_origins.is_empty() {
        return Err(Error::Conflict(
            "cart capture is not set up: the shop's address is missing from the WhatsApp settings".into(),
        ));
    }
    let phone = check(&input, &config)?;
    // Two captures of a new cart at once: the second loses the insert and updates instead.
    for _ in 0..2 {
        let mut tx = whatsapp.db.begin().await?;
        let result = if input.consent == Some(true) {
            keep(&mut tx, &config, &phone, &input).await?
        } else {
            Some(forget(&mut tx, &phone).await?)
        };
        if let Some(result) = result {
            tx.commit().await?;
            return Ok(result);
        }
    }
    Err(Error::Busy)
}

/// Stores the cart; `None` when a concurrent capture created it first.
async fn keep(tx: &mut Tx<'_>, config: &Config, phone: &str, input: &Capture) -> Result<Option<Captured>> {
    let at = now();
    sqlx::query(
        "INSERT INTO whatsapp_contacts (phone, consented_at, updated_at) VALUES ($1, $2, $2) \
         ON CONFLICT (phone) DO UPDATE SET consented_at = $2, opted_out_at = NULL, opt_out_source = NULL, updated_at = $2",
    )
    .bind(phone)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    let lines = serde_json::to_string(&input.lines).expect("lines serialise");
    let email = input.email.trim().to_lowercase();
    let first_at = at + config.recovery.first_delay_minutes * 60;
    let open =
        sqlx::query("SELECT id, lines, total_minor, next_step FROM whatsapp_carts WHERE phone = $1 AND state = 'open'")
            .bind(phone)
            .fetch_optional(&mut **tx)
            .await?;
    if let Some(open) = open {
        let id: i64 = open.try_get("id")?;
        let changed =
            open.try_get::<String, _>("lines")? != lines || open.try_get::<i64, _>("total_minor")? != input.total_minor;
        let waiting_for_first = open.try_get::<Option<i64>, _>("next_step")? == Some(1);
        sqlx::query(
            "UPDATE whatsapp_carts SET name = $1, email = $2, lines = $3, total_minor = $4, currency = $5, restore_url = $6, updated_at = $7, \
             next_at = CASE WHEN next_step = 1 THEN $8 ELSE next_at END WHERE id = $9",
        )
        .bind(input.name.trim())
        .bind(&email)
        .bind(&lines)
        .bind(input.total_minor)
        .bind(&input.currency)
        .bind(input.restore_url.trim())
        .bind(at)
        .bind(first_at)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        if waiting_for_first {
            jobs::reschedule(&mut **tx, &step_key(id, 1), first_at).await?;
        }
        if changed {
            event(
                tx,
                id,
                "updated",
                &format!(
                    "{} line(s), total {}",
                    input.lines.len(),
                    vocabulary::money::format(input.total_minor, &input.currency, "en")
                ),
            )
            .await?;
        }
        return Ok(Some(Captured::Updated));
    }
    let enabled = config.recovery.enabled;
    let inserted = sqlx::query_scalar(
        "INSERT INTO whatsapp_carts (phone, email, name, lines, total_minor, currency, restore_url, state, captured_at, updated_at, next_step, next_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $8, $9, $10) RETURNING id",
    )
    .bind(phone)
    .bind(&email)
    .bind(input.name.trim())
    .bind(&lines)
    .bind(input.total_minor)
    .bind(&input.currency)
    .bind(input.restore_url.trim())
    .bind(at)
    .bind(enabled.then_some(1i64))
    .bind(enabled.then_some(first_at))
    .fetch_one(&mut **tx)
    .await;
    let id: i64 = match inserted {
        Ok(id) => id,
        Err(e) if crate::error::is_unique_violation(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    event(
        tx,
        id,
        "captured",
        &format!(
            "{} line(s), total {}",
            input.lines.len(),
            vocabulary::money::format(input.total_minor, &input.currency, "en")
        ),
    )
    .await?;
    if enabled {
        schedule(tx, id, 1, first_at).await?;
    }
    Ok(Some(Captured::Captured))
}

/// Consent withdrawn (or never given): the phone is opted out if we knew it, and its
/// open cart is closed; nothing new is stored.
async fn forget(tx: &mut Tx<'_>, phone: &str) -> Result<Captured> {
    let at = now();
    let known = sqlx::query(
        "UPDATE whatsapp_contacts SET opted_out_at = $1, opt_out_source = 'checkout', updated_at = $1 WHERE phone = $2",
    )
    .bind(at)
    .bind(phone)
    .execute(&mut **tx)
    .await?;
    if known.rows_affected() > 0 {
        stop_open(tx, phone, "consent withdrawn at checkout").await?;
    }
    Ok(Captured::Forgotten)
}

/// Opts a phone out (a STOP reply) and stops its open cart.
pub async fn opt_out(tx: &mut Tx<'_>, phone: &str, source: &str) -> Result<()> {
    let at = now();
    sqlx::query(
        "INSERT INTO whatsapp_contacts (phone, opted_out_at, opt_out_source, updated_at) VALUES ($1, $2, $3, $2) \
         ON CONFLICT (phone) DO UPDATE SET opted_out_at = $2, opt_out_source = $3, updated_at = $2",
    )
    .bind(phone)
    .bind(at)
    .bind(source)
    .execute(&mut **tx)
    .await?;
    stop_open(tx, phone, &format!("opted out ({source})")).await
}

/// Stops the phone's open cart, if any.
async fn stop_open(tx: &mut Tx<'_>, phone: &str, reason: &str) -> Result<()> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM whatsapp_carts WHERE phone = $1 AND state = 'open'")
        .bind(phone)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(id) = id {
        stop(tx, id, reason).await?;
    }
    Ok(())
}

/// Closes a cart without a purchase; its sequence ends.
pub async fn stop(tx: &mut Tx<'_>, cart_id: i64, reason: &str) -> Result<()> {
    let at = now();
    let stopped = sqlx::query("UPDATE whatsapp_carts SET state = 'stopped', stop_reason = $1, next_step = NULL, next_at = NULL, closed_at = $2, updated_at = $2 WHERE id = $3 AND state = 'open'")
        .bind(reason)
        .bind(at)
        .bind(cart_id)
        .execute(&mut **tx)
        .await?;
    if stopped.rows_affected() > 0 {
        event(tx, cart_id, "stopped", reason).await?;
    }
    Ok(())
}

/// Whether the phone opted out (and has not agreed again since).
pub async fn opted_out<'e, E>(executor: E, phone: &str) -> Result<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let at: Option<Option<i64>> = sqlx::query_scalar("SELECT opted_out_at FROM whatsapp_contacts WHERE phone = $1")
        .bind(phone)
        .fetch_optional(executor)
        .await?;
    Ok(at.flatten().is_some())
}

/// Whether the phone agreed to messages and has not opted out.
pub async fn consented<'e, E>(executor: E, phone: &str) -> Result<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query("SELECT consented_at, opted_out_at FROM whatsapp_contacts WHERE phone = $1")
        .bind(phone)
        .fetch_optional(executor)
        .await?;
    row.map_or(Ok(false), |row| agreed(&row))
}

/// Whether a row with a contact's `consented_at` and `opted_out_at` (NULL when there is
/// no contact) says the phone may be messaged.
pub fn agreed(row: &sqlx::any::AnyRow) -> Result<bool> {
    Ok(row.try_get::<Option<i64>, _>("consented_at")?.is_some()
        && row.try_get::<Option<i64>, _>("opted_out_at")?.is_none())
}

/// Adds a line to a cart's timeline.
pub async fn event(tx: &mut Tx<'_>, cart_id: i64, kind: &str, detail: &str) -> Result<()> {
    sqlx::query("INSERT INTO whatsapp_cart_events (cart_id, at, kind, detail) VALUES ($1, $2, $3, $4)")
        .bind(cart_id)
        .bind(now())
        .bind(kind)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The idempotency key of a cart's step: one job, one message, ever.
pub fn step_key(cart_id: i64, step: i64) -> String {
    format!("{RECOVERY_JOB}:{cart_id}:{step}")
}

/// Queues the job that sends a cart's step when it is due.
pub async fn schedule(tx: &mut Tx<'_>, cart_id: i64, step: i64, at: i64) -> Result<()> {
    let job = NewJob {
        idempotency_key: Some(step_key(cart_id, step)),
        run_at: at,
        ..NewJob::of(&RecoveryStep { cart_id, step })
    };
    jobs::enqueue(&mut **tx, &job).await?;
    Ok(())
}

/// The job that sends a cart's step of the recovery sequence when it is due.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct RecoveryStep {
    pub cart_id: i64,
    pub step: i64,
}

impl jobs::Payload for RecoveryStep {
    const KIND: &'static str = RECOVERY_JOB;
}

/// The cart and step a job of [`schedule`] is for.
pub fn scheduled_step(job: &jobs::ClaimedJob) -> Option<(i64, i64)> {
    job.payload::<RecoveryStep>().ok().map(|s| (s.cart_id, s.step))
}
