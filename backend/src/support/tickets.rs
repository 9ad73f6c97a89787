//! Tickets as the shop works them: an inbox (by status, assignee, search; newest activity
//! first, in signed-cursor pages), one ticket with its thread and its order's summary,
//! replies (emailed to the customer through the outbox, in the same transaction),
//! internal notes (never emailed), assignment and status. Every role may work tickets;
//! each change is audited.

use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row};
use vocabulary::support::{MAX_BODY_CHARS, MAX_SEARCH_CHARS};

use super::TicketStatus;
use crate::{
    Error, Result,
    access::secret::SecretHasher,
    audit,
    clock::now,
    cursor,
    db::{Db, Dynamic, like_escape},
    mail::{
        self,
        outbox::{self, NewMail},
        templates::{self, Shop},
    },
    orders::{OrderStatus, trail::Actor},
    paging, typed_text,
};

pub const MAX_PER_PAGE: i64 = 100;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub status: Option<TicketStatus>,
    /// `Some(None)`: unassigned; `Some(Some(id))`: that user's.
    pub assignee: Option<Option<i64>>,
    /// A reference (`T-…`), an order number, an email, or words of the subject or name.
    pub search: Option<String>,
    pub per_page: i64,
    pub cursor: Option<String>,
}

/// One ticket in the inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketRow {
    pub id: i64,
    pub reference: String,
    pub subject: String,
    pub status: TicketStatus,
    pub customer_email: String,
    pub customer_name: String,
    pub order_id: Option<i64>,
    pub order_number: Option<String>,
    pub assignee_user_id: Option<i64>,
    pub assignee_name: Option<String>,
    /// The customer wrote since the shop last looked.
    pub unread: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A page of the inbox.
pub type Page = paging::Page<TicketRow>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: i64,
    /// `customer`, `reply` (emailed) or `note` (internal).
    pub kind: String,
    pub author_user_id: Option<i64>,
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: i64,
    /// The email that carried a reply: `queued`, `sent` or `failed`.
    pub mail_state: Option<String>,
}

/// What the ticket page shows of the order, one click from the order itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderSummary {
    pub id: i64,
    pub number: String,
    pub status: OrderStatus,
    pub total: i64,
    pub currency: String,
    pub items_count: i64,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ticket {
    #[serde(flatten)]
    pub row: TicketRow,
    pub messages: Vec<Message>,
    pub order: Option<OrderSummary>,
}

const ROW_COLUMNS: &str = "t.id, t.reference, t.subject, t.status, t.customer_email, t.customer_name, t.order_id, o.number AS order_number, \
     t.assignee_user_id, u.name AS assignee_name, t.unread, t.created_at, t.updated_at \
     FROM tickets t LEFT JOIN orders o ON o.id = t.order_id LEFT JOIN users u ON u.id = t.assignee_user_id";

fn row(r: &sqlx::any::AnyRow) -> Result<TicketRow> {
    Ok(TicketRow {
        id: r.try_get("id")?,
        reference: r.try_get("reference")?,
        subject: r.try_get("subject")?,
        status: r.try_get::<String, _>("status")?.parse()?,
        customer_email: r.try_get("customer_email")?,
        customer_name: r.try_get("customer_name")?,
        order_id: r.try_get("order_id")?,
        order_number: r.try_get("order_number")?,
        assignee_user_id: r.try_get("assignee_user_id")?,
        assignee_name: r.try_get("assignee_name")?,
        unread: r.try_get::<i64, _>("unread")? != 0,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn list(db: &Db, hasher: &SecretHasher, filter: &Filter) -> Result<Page> {
    if !(1..=MAX_PER_PAGE).contains(&filter.per_page) {
        return Err(Error::invalid(format!("per_page must be between 1 and {MAX_PER_PAGE}")));
    }
    let mut q = Dynamic::default();
    if let Some(status) = filter.status {
        let status = q.param(status.as_str());
        q.when(format!("t.status = {status}"));
    }
    if let Some(raw) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        let search = typed_text::within(raw, MAX_SEARCH_CHARS)
            .ok_or_else(|| Error::invalid(format!("the search is at most {MAX_SEARCH_CHARS} characters")))?;
        let condition = if search.to_ascii_uppercase().starts_with("T-") {
            format!("t.reference = {}", q.param(search.to_ascii_uppercase()))
        } else if search.contains('@') {
            format!("t.customer_email = {}", q.param(search.to_lowercase()))
        } else if search.trim_start_matches('#').chars().all(|c| c.is_ascii_digit()) {
            format!("o.number = {}", q.param(search.trim_start_matches('#')))
        } else {
            let pattern = format!("%{}%", like_escape(&search.to_lowercase()));
            let p = q.param(pattern);
            format!("(LOWER(t.subject) LIKE {p} ESCAPE '\\' OR LOWER(t.customer_name) LIKE {p} ESCAPE '\\')")
        };
        q.when(condition);
    }
    match filter.assignee {
        Some(Some(user)) => {
            let user = q.param(user);
            q.when(format!("t.assignee_user_id = {user}"));
        }
        Some(None) => q.when("t.assignee_user_id IS NULL".to_owned()),
        None => {}
    }
    if let Some(c) = filter.cursor.as_deref()
        && let [updated, id] = cursor::decode(hasher, "tickets", c, 2)?.as_slice()
    {
        let (u, i) = (q.param(*updated), q.param(*id));
        q.when(format!("(t.updated_at < {u} OR (t.updated_at = {u} AND t.id < {i}))"));
    }
    let limit = q.param(paging::rows_to_read(filter.per_page));
    let sql = format!("SELECT {ROW_COLUMNS} {} ORDER BY t.updated_at DESC, t.id DESC LIMIT {limit}", q.where_clause());
    let rows = q.query(sql).fetch_all(db.pool()).await?.iter().map(row).collect::<Result<Vec<_>>>()?;
    Ok(paging::cut(rows, filter.per_page, |last| cursor::encode(hasher, "tickets", &[last.updated_at, last.id])))
}

/// Open tickets with a customer message the shop has not seen: the navigation's count.
pub async fn unread_count(db: &Db) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE unread = 1 AND status IN ('open', 'pending')")
        .fetch_one(db.pool())
        .await?)
}

/// The ticket as the inbox shows it, without its thread: what a change needs.
pub async fn summary(db: &Db, id: i64) -> Result<TicketRow> {
    let found = sqlx::query(AssertSqlSafe(format!("SELECT {ROW_COLUMNS} WHERE t.id = $1")))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row(&found.ok_or(Error::NotFound)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Ticket> {
    let ticket = summary(db, id).await?;
    let messages = sqlx::query(
        "SELECT m.id, m.kind, m.author_user_id, u.name AS author_name, m.body, m.created_at, mo.state AS mail_state \
         FROM ticket_messages m LEFT JOIN users u ON u.id = m.author_user_id LEFT JOIN mail_outbox mo ON mo.id = m.mail_id \
         WHERE m.ticket_id = $1 ORDER BY m.id",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(Message {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            author_user_id: r.try_get("author_user_id")?,
            author_name: r.try_get("author_name")?,
            body: r.try_get("body")?,
            created_at: r.try_get("created_at")?,
            mail_state: r.try_get("mail_state")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let order = match ticket.order_id {
        None => None,
        Some(order_id) => {
            sqlx::query("SELECT id, number, status, total, currency, items_count, created_at FROM orders WHERE id = $1")
                .bind(order_id)
                .fetch_optional(db.pool())
                .await?
                .map(|r| -> Result<OrderSummary> {
                    Ok(OrderSummary {
                        id: r.try_get("id")?,
                        number: r.try_get("number")?,
                        status: OrderStatus::stored(&r.try_get::<String, _>("status")?)?,
                        total: r.try_get("total")?,
                        currency: r.try_get("currency")?,
                        items_count: r.try_get("items_count")?,
                        created_at: r.try_get("created_at")?,
                    })
                })
                .transpose()?
        }
    };
    Ok(Ticket { row: ticket, messages, order })
}

/// The shop has seen the ticket.
pub async fn mark_read(db: &Db, id: i64) -> Result<()> {
    sqlx::query("UPDATE tickets SET unread = 0 WHERE id = $1 AND unread = 1").bind(id).execute(db.writer()).await?;
    Ok(())
}

fn check_body(body: &str) -> Result<&str> {
    typed_text::within(body, MAX_BODY_CHARS)
        .ok_or_else(|| Error::invalid(format!("a message needs 1 to {MAX_BODY_CHARS} characters")))
}

type Tx<'t> = sqlx::Transaction<'t, sqlx::Any>;

async fn audit(tx: &mut Tx<'_>, actor: Actor<'_>, action: &str, ticket: &TicketRow, details: &str) -> Result<()> {
    audit::record(&mut **tx, &actor.event(action, &format!("ticket:{} {}", ticket.id, ticket.reference), details)).await
}

/// Answers the customer: the reply joins the thread and is emailed (same transaction);
/// an open ticket then waits for the customer.
pub async fn reply(db: &Db, actor: Actor<'_>, id: i64, body: &str) -> Result<Message> {
    let body = check_body(body)?;
    let ticket = summary(db, id).await?;
    let store = crate::settings::get(db).await?;
    let mail_settings = mail::settings(db).await?;
    let content =
        templates::ticket_reply(Shop::from(&store), &ticket.reference, &ticket.customer_name, &ticket.subject, body);
    let now = now();
    let mut tx = db.begin().await?;
    let mail_id = outbox::queue(
        &mut tx,
        &NewMail {
            kind: "ticket.reply",
            to_address: &ticket.customer_email,
            to_name: &ticket.customer_name,
            content: &content,
            reply_to: mail_settings.reply_to(),
            order_id: ticket.order_id,
            ticket_id: Some(id),
        },
    )
    .await?;
    let message_id = add_message(&mut tx, id, "reply", actor, body, Some(mail_id), now).await?;
    sqlx::query("UPDATE tickets SET status = CASE WHEN status = 'open' THEN 'pending' ELSE status END, unread = 0, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit(&mut tx, actor, "ticket.reply", &ticket, "").await?;
    tx.commit().await?;
    Ok(Message {
        id: message_id,
        kind: "reply".into(),
        author_user_id: Some(actor.user.id),
        author_name: Some(actor.user.name.clone()),
        body: body.to_owned(),
        created_at: now,
        mail_state: Some("queued".into()),
    })
}

/// An internal note: in the thread for the shop, never emailed.
pub async fn note(db: &Db, actor: Actor<'_>, id: i64, body: &str) -> Result<Message> {
    let body = check_body(body)?;
    let ticket = summary(db, id).await?;
    let now = now();
    let mut tx = db.begin().await?;
    let message_id = add_message(&mut tx, id, "note", actor, body, None, now).await?;
    sqlx::query("UPDATE tickets SET updated_at = $1 WHERE id = $2").bind(now).bind(id).execute(&mut *tx).await?;
    audit(&mut tx, actor, "ticket.note", &ticket, "").await?;
    tx.commit().await?;
    Ok(Message {
        id: message_id,
        kind: "note".into(),
        author_user_id: Some(actor.user.id),
        author_name: Some(actor.user.name.clone()),
        body: body.to_owned(),
        created_at: now,
        mail_state: None,
    })
}

async fn add_message(
    tx: &mut Tx<'_>,
    ticket_id: i64,
    kind: &str,
    actor: Actor<'_>,
    body: &str,
    mail_id: Option<i64>,
    at: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO ticket_messages (ticket_id, kind, author_user_id, body, mail_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(ticket_id)
    .bind(kind)
    .bind(actor.user.id)
    .bind(body)
    .bind(mail_id)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?)
}

pub async fn set_status(db: &Db, actor: Actor<'_>, id: i64, status: TicketStatus) -> Result<TicketRow> {
    let ticket = summary(db, id).await?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE tickets SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit(&mut tx, actor, "ticket.status", &ticket, &format!("{} → {}", ticket.status, status)).await?;
    tx.commit().await?;
    summary(db, id).await
}

/// Gives the ticket to `assignee` (an active user), or to nobody.
pub async fn assign(db: &Db, actor: Actor<'_>, id: i64, assignee: Option<i64>) -> Result<TicketRow> {
    let ticket = summary(db, id).await?;
    let name = match assignee {
        None => "nobody".to_owned(),
        Some(user) => sqlx::query_scalar::<_, String>("SELECT email FROM users WHERE id = $1 AND disabled_at IS NULL")
            .bind(user)
            .fetch_optional(db.pool())
            .await?
            .ok_or_else(|| Error::invalid("the assignee must be an active user"))?,
    };
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE tickets SET assignee_user_id = $1, updated_at = $2 WHERE id = $3")
        .bind(assignee)
        .bind(now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit(&mut tx, actor, "ticket.assign", &ticket, &format!("to {name}")).await?;
    tx.commit().await?;
    summary(db, id).await
}
