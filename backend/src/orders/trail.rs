//! What every change to an order leaves behind, inside the change's transaction: who made
//! it ([`Actor`]), a note on the order, an entry in the audit log, and an event for the
//! integrations ([`super::events`]).

use crate::{
    Result,
    audit::{self, Event},
};

/// Who is making a change, and from where, for the note and the audit log.
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    pub user: &'a crate::users::User,
    /// The API credential used (`connection_key:3`); `None` in the panel.
    pub credential: Option<&'a str>,
    pub ip: Option<&'a str>,
}

impl<'a> Actor<'a> {
    /// The audit entry for `action` on `target` by this actor, with the credential used.
    pub fn event(&self, action: &'a str, target: &'a str, details: &'a str) -> Event<'a> {
        Event { credential: self.credential, details, ..Event::by(self.user, action, target, self.ip) }
    }
}

type Tx<'t> = sqlx::Transaction<'t, sqlx::Any>;

/// Adds a note by `actor` to the order; returns its id.
pub async fn note(
    tx: &mut Tx<'_>,
    order_id: i64,
    actor: Actor<'_>,
    to_customer: bool,
    body: &str,
    at: i64,
) -> Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO order_notes (order_id, author_user_id, is_customer_note, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(order_id)
    .bind(actor.user.id)
    .bind(i64::from(to_customer))
    .bind(body)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

/// Records the change in the audit log, naming the order by id and number.
pub async fn audit(
    tx: &mut Tx<'_>,
    actor: Actor<'_>,
    action: &str,
    order_id: i64,
    number: &str,
    details: &str,
) -> Result<()> {
    audit::record(&mut **tx, &actor.event(action, &format!("order:{order_id} #{number}"), details)).await
}
