//! Payment transactions across the store, newest first: filters for a date range, a
//! gateway, a status and an order; keyset pages with a signed cursor.

use sqlx::Row;
use vocabulary::orders::{MAX_GATEWAY_CHARS, TRANSACTION_STATUSES};

use super::detail::Transaction;
use crate::{
    Error, Result,
    access::secret::SecretHasher,
    cursor,
    db::{Db, Dynamic},
    paging,
};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub after: Option<i64>,
    pub before: Option<i64>,
    pub gateway: Option<String>,
    /// `pending`, `succeeded` or `failed`.
    pub status: Option<String>,
    pub order_id: Option<i64>,
    pub per_page: i64,
    pub cursor: Option<String>,
}

/// A page of transactions, each with the order it belongs to.
pub type Page = paging::Page<(i64, Transaction)>;

const LISTING: &str = "transactions:date:desc";

pub async fn list(db: &Db, hasher: &SecretHasher, filter: &Filter) -> Result<Page> {
    if !(1..=super::list::MAX_PER_PAGE).contains(&filter.per_page) {
        return Err(Error::invalid(format!("per_page must be between 1 and {}", super::list::MAX_PER_PAGE)));
    }
    if let Some(status) = filter.status.as_deref()
        && !TRANSACTION_STATUSES.iter().any(|(value, _)| *value == status)
    {
        return Err(Error::invalid("status must be pending, succeeded or failed"));
    }
    if filter.gateway.as_ref().is_some_and(|g| g.len() > MAX_GATEWAY_CHARS) {
        return Err(Error::invalid(format!("the gateway is at most {MAX_GATEWAY_CHARS} characters")));
    }
    let after_key = filter.cursor.as_deref().map(|c| cursor::decode(hasher, LISTING, c, 2)).transpose()?;
    let mut q = Dynamic::default();
    for (sql, value) in
        [("created_at >= ", filter.after), ("created_at < ", filter.before), ("order_id = ", filter.order_id)]
    {
        if let Some(value) = value {
            let value = q.param(value);
            q.when(format!("{sql}{value}"));
        }
    }
    for (sql, value) in [("gateway = ", &filter.gateway), ("status = ", &filter.status)] {
        if let Some(value) = value {
            let value = q.param(value.as_str());
            q.when(format!("{sql}{value}"));
        }
    }
    if let Some(key) = &after_key {
        let (k, i) = (q.param(key[0]), q.param(key[1]));
        q.when(format!("(created_at < {k} OR (created_at = {k} AND id < {i}))"));
    }
    let limit = q.param(paging::rows_to_read(filter.per_page));
    let sql = format!(
        "SELECT id, order_id, gateway, transaction_id, kind, amount, currency, status, created_at FROM payment_transactions \
         {} ORDER BY created_at DESC, id DESC LIMIT {limit}",
        q.where_clause()
    );
    let rows: Vec<(i64, Transaction)> = q
        .query(sql)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("order_id")?, Transaction::from_row(r)?)))
        .collect::<Result<_>>()?;
    Ok(paging::cut(rows, filter.per_page, |(_, last)| cursor::encode(hasher, LISTING, &[last.created_at, last.id])))
}
