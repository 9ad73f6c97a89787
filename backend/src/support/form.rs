//! The support form's back end: a customer gives an order number, the order's billing
//! email, a subject and a message. The pair must match an order (the email compared
//! without regard to case); any mismatch gets one message that says neither which part
//! was wrong nor whether the order exists. Submissions are limited per address (every
//! attempt counts) and per order (verified ones count). A filled honeypot is answered
//! like a success and makes nothing. A verified submission makes the ticket, its first
//! message, the acknowledgement to the customer and the notice to the shop — one
//! transaction, so either all of it exists or none.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{TicketStatus, new_reference, settings};
use crate::{
    Error, Result,
    clock::now,
    db::Db,
    error::is_unique_violation,
    mail::{
        self,
        outbox::{self, NewMail},
        templates::{self, Shop, one_line},
    },
    throttle::{self, Policy},
    typed_text,
};

pub const MAX_SUBJECT: usize = 150;
pub const MAX_MESSAGE: usize = 5_000;
pub const MAX_EMAIL: usize = 254;
/// WooCommerce order numbers are digits; 20 of them is already far-fetched.
pub const MAX_ORDER_NUMBER: usize = 20;

/// What every mismatch is told.
pub const NO_MATCH: &str =
    "We could not find an order with that number and email address. Please check both against your order confirmation.";

/// What the form sent, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Submission {
    #[cfg_attr(feature = "openapi", schema(max_length = 20, example = "1042"))]
    pub order_number: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 254))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 150))]
    pub subject: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 5000))]
    pub message: String,
    /// The honeypot: hidden from people, filled by bots. Must be empty.
    pub website: String,
}

/// Where a submission came from: the client's address, and the panel's base URL for the
/// link in the shop's notice.
pub struct Context<'a> {
    pub ip: Option<&'a str>,
    pub panel_url: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A ticket was made; the customer is told its reference.
    Created { reference: String },
    /// The honeypot was filled: answered like a success (with a reference that belongs
    /// to no ticket), nothing made.
    Ignored { decoy: String },
}

/// The fields, checked and tidied.
struct Checked {
    order_number: String,
    email: String,
    subject: String,
    message: String,
}

/// Checks each field's shape; fails naming the field.
fn check(sub: &Submission) -> Result<Checked> {
    let order_number = sub.order_number.trim().trim_start_matches('#').to_owned();
    if order_number.is_empty()
        || order_number.len() > MAX_ORDER_NUMBER
        || !order_number.chars().all(|c| c.is_ascii_digit())
    {
        return Err(Error::invalid("the order number is the digits on your order confirmation, e.g. 1042"));
    }
    let email = sub.email.trim();
    if email.is_empty() || email.len() > MAX_EMAIL || outbox::parse_address(email).is_err() {
        return Err(Error::invalid(format!(
            "the email address is the one on your order, at most {MAX_EMAIL} characters"
        )));
    }
    let subject = one_line(&sub.subject);
    if subject.is_empty() || sub.subject.chars().count() > MAX_SUBJECT {
        return Err(Error::invalid(format!("the subject needs 1 to {MAX_SUBJECT} characters")));
    }
    // A browser sends a textarea's line breaks as CRLF and counts each as one character.
    let lines = sub.message.replace("\r\n", "\n");
    let message = typed_text::within(&lines, MAX_MESSAGE)
        .ok_or_else(|| Error::invalid(format!("the message needs 1 to {MAX_MESSAGE} characters")))?;
    Ok(Checked { order_number, email: email.to_lowercase(), subject, message: message.to_owned() })
}

fn limit(per: i64, window_secs: i64) -> Policy {
    Policy { max_failures: per, window_secs, lockout_secs: window_secs }
}

/// Refuses when `subject` is over its limit; otherwise counts this attempt.
async fn count(db: &Db, subject: &str, policy: Policy, what: &str) -> Result<()> {
    if let Some(until) = throttle::locked_until(db, &[subject]).await? {
        tracing::info!(subject, "support form limit reached");
        return Err(Error::RateLimited {
            message: format!("Too many messages {what}. Please try again later."),
            retry_after_secs: (until - now()).max(1),
        });
    }
    throttle::record_attempt(db, subject, policy).await?;
    Ok(())
}

pub async fn submit(db: &Db, ctx: Context<'_>, sub: &Submission) -> Result<Outcome> {
    let fields = check(sub)?;
    let limits = settings::get(db).await?;
    if let Some(ip) = ctx.ip {
        count(db, &format!("support-ip:{ip}"), limit(limits.per_ip_per_hour, 3600), "from this address").await?;
    }
    if !sub.website.is_empty() {
        tracing::info!(ip = ctx.ip, "support form honeypot filled; nothing made");
        return Ok(Outcome::Ignored { decoy: new_reference() });
    }
    let order =
        sqlx::query("SELECT id, billing_email, billing_first_name, billing_last_name FROM orders WHERE number = $1")
            .bind(&fields.order_number)
            .fetch_optional(db.pool())
            .await?;
    let order = match order {
        Some(order) if order.try_get::<String, _>("billing_email")?.trim().to_lowercase() == fields.email => order,
        _ => return Err(Error::invalid(NO_MATCH)),
    };
    let order_id: i64 = order.try_get("id")?;
    count(db, &format!("support-order:{order_id}"), limit(limits.per_order_per_day, 86_400), "about this order today")
        .await?;

    let name = one_line(&format!(
        "{} {}",
        order.try_get::<String, _>("billing_first_name")?,
        order.try_get::<String, _>("billing_last_name")?
    ));
    let store = crate::settings::get(db).await?;
    let shop = Shop::from(&store);
    let mail_settings = mail::settings(db).await?;
    let now = now();
    // A reference is random; the rare clash is tried again with another.
    for _ in 0..5 {
        let reference = new_reference();
        let mut tx = db.begin().await?;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO tickets (reference, order_id, customer_email, customer_name, subject, status, unread, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING id",
        )
        .bind(&reference)
        .bind(order_id)
        .bind(&fields.email)
        .bind(&name)
        .bind(&fields.subject)
        .bind(TicketStatus::Open.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let ticket_id = match inserted {
            Ok(id) => id,
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        };
        sqlx::query("INSERT INTO ticket_messages (ticket_id, kind, body, created_at) VALUES ($1, 'customer', $2, $3)")
            .bind(ticket_id)
            .bind(&fields.message)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let reply_to = mail_settings.reply_to();
        let ack = templates::ticket_acknowledgement(shop, &reference, &name, &fields.subject, &fields.message);
        outbox::queue(
            &mut tx,
            &NewMail {
                kind: "ticket.acknowledgement",
                to_address: &fields.email,
                to_name: &name,
                content: &ack,
                reply_to,
                order_id: Some(order_id),
                ticket_id: Some(ticket_id),
            },
        )
        .await?;
        if let Some(notify) = reply_to {
            let link = format!("{}/admin/support/{ticket_id}", ctx.panel_url.trim_end_matches('/'));
            let customer = if name.is_empty() { fields.email.clone() } else { format!("{name} <{}>", fields.email) };
            let notice = templates::ticket_for_shop(
                shop,
                &reference,
                &fields.order_number,
                &customer,
                &fields.subject,
                &fields.message,
                &link,
            );
            outbox::queue(
                &mut tx,
                &NewMail {
                    kind: "ticket.new",
                    to_address: notify,
                    to_name: "",
                    content: &notice,
                    reply_to: Some(&fields.email),
                    order_id: Some(order_id),
                    ticket_id: Some(ticket_id),
                },
            )
            .await?;
        }
        tx.commit().await?;
        return Ok(Outcome::Created { reference });
    }
    Err(Error::internal("no free ticket reference after five tries"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submission(order_number: &str, email: &str, subject: &str, message: &str) -> Submission {
        Submission {
            order_number: order_number.into(),
            email: email.into(),
            subject: subject.into(),
            message: message.into(),
            website: String::new(),
        }
    }

    #[test]
    fn each_field_is_checked_and_named() {
        let ok = check(&submission(" #1042 ", "Ayse@Example.com", "Kargo\r\nBcc: x@y", "Merhaba\r\nNerede?")).unwrap();
        assert_eq!((ok.order_number.as_str(), ok.email.as_str()), ("1042", "ayse@example.com"));
        assert_eq!(ok.subject, "Kargo Bcc: x@y");
        assert_eq!(ok.message, "Merhaba\nNerede?");
        for (bad, names) in [
            (submission("10a2", "a@b.co", "s", "m"), "order number"),
            (submission("", "a@b.co", "s", "m"), "order number"),
            (submission("1", &format!("{}@b.co", "a".repeat(300)), "s", "m"), "email"),
            (submission("1", "not-an-email", "s", "m"), "email"),
            (submission("1", "a@b.co", "", "m"), "subject"),
            (submission("1", "a@b.co", &"s".repeat(151), "m"), "subject"),
            (submission("1", "a@b.co", "s", " "), "message"),
            (submission("1", "a@b.co", "s", &"m".repeat(5_001)), "message"),
        ] {
            assert!(check(&bad).err().unwrap().to_string().contains(names), "{bad:?}");
        }
    }
}
