//! The orders list: filters (statuses, a date range, a customer, a search), sorting by
//! date or total, and pages of at most [`MAX_PER_PAGE`] reached through a cursor. The
//! cursor is the sort key of the last row, so new orders arriving do not shift the pages
//! a person is reading; it is signed (see [`crate::cursor`]).

use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row};
use vocabulary::orders::MAX_SEARCH_CHARS;

use super::OrderStatus;
use crate::{
    Error, Result,
    access::secret::SecretHasher,
    cursor,
    db::{Db, Dynamic},
    paging, typed_text,
};

pub const MAX_PER_PAGE: i64 = 100;
pub const DEFAULT_PER_PAGE: i64 = 25;
/// A name search looks at its first few words.
const MAX_NAME_WORDS: usize = 4;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    Date,
    Total,
}

impl std::str::FromStr for SortBy {
    type Err = Error;
    /// `date` (also when empty) or `total`.
    fn from_str(text: &str) -> Result<SortBy> {
        match text.trim() {
            "" | "date" => Ok(SortBy::Date),
            "total" => Ok(SortBy::Total),
            _ => Err(Error::invalid("the list sorts by date or by total")),
        }
    }
}

/// The statuses a filter names: one or several, comma-separated (`processing,on-hold`);
/// none when empty (every status). A list with an empty place in it (`processing,`) is
/// refused.
pub fn statuses(text: &str) -> Result<Vec<OrderStatus>> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',').map(|s| s.trim().parse::<OrderStatus>()).collect::<Result<_, _>>().map_err(|e| {
        let known = OrderStatus::ALL.map(OrderStatus::as_str).join(", ");
        Error::invalid(format!("{e}; the statuses are {known}"))
    })
}

/// Whether a list runs from the smallest or oldest: `asc`, or `desc` (also when empty).
pub fn ascending(direction: &str) -> Result<bool> {
    match direction {
        "" | "desc" => Ok(false),
        "asc" => Ok(true),
        _ => Err(Error::invalid("the sort direction must be asc or desc")),
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub statuses: Vec<OrderStatus>,
    /// Unix seconds, inclusive.
    pub after: Option<i64>,
    /// Unix seconds, exclusive.
    pub before: Option<i64>,
    pub customer_id: Option<i64>,
    /// An order number, an email address, a phone number, or the start of the first and
    /// last names (`ayş yıl`).
    pub search: Option<String>,
    pub sort: SortBy,
    pub ascending: bool,
    pub per_page: i64,
    /// Where the previous page ended, as [`Page::next_cursor`] gave it.
    pub cursor: Option<String>,
}

/// One row of the list: what a list screen shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = OrderRow))]
pub struct OrderRow {
    pub id: i64,
    pub number: String,
    pub status: OrderStatus,
    /// Unix seconds.
    pub created_at: i64,
    pub customer_name: String,
    pub email: String,
    /// Minor units (kuruş, cents) of `currency`.
    pub total: i64,
    pub currency: String,
    pub items_count: i64,
    pub payment_method: String,
}

/// A page of the list.
pub type Page = paging::Page<OrderRow>;

/// What a search looks for, decided by its shape.
#[derive(Debug, PartialEq, Eq)]
enum Search {
    Number(String),
    Email(String),
    Phone(String),
    Name(String),
}

/// `#1042` or up to 8 digits: an order number; with `@`: an email; digits with spaces,
/// `+`, `-`, brackets or a leading 0: a phone; anything else: the start of the first or last name, word by word.
fn classify(search: &str) -> Search {
    let text = search.trim();
    let all_digits = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit());
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if let Some(number) = text.strip_prefix('#').filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())) {
        Search::Number(number.to_owned())
    } else if text.contains('@') {
        Search::Email(text.to_lowercase())
    } else if all_digits && text.len() <= 8 && !text.starts_with('0') {
        Search::Number(text.to_owned())
    } else if digits.len() >= 7 && text.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) {
        Search::Phone(digits)
    } else {
        Search::Name(text.to_owned())
    }
}

pub async fn list(db: &Db, hasher: &SecretHasher, filter: &Filter) -> Result<Page> {
    if !(1..=MAX_PER_PAGE).contains(&filter.per_page) {
        return Err(Error::invalid(format!("per_page must be between 1 and {MAX_PER_PAGE}")));
    }
    let search = match filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => Some(classify(
            typed_text::within(s, MAX_SEARCH_CHARS)
                .ok_or_else(|| Error::invalid(format!("the search is at most {MAX_SEARCH_CHARS} characters")))?,
        )),
        None => None,
    };
    let after_key = match filter.cursor.as_deref() {
        Some(c) => match cursor::decode(hasher, &listing(filter), c, 2)?.as_slice() {
            [key, id] => Some((*key, *id)),
            _ => None,
        },
        None => None,
    };

    let mut q = Dynamic::default();
    if !filter.statuses.is_empty() {
        let list: Vec<String> = filter.statuses.iter().map(|s| q.param(s.as_str())).collect();
        q.when(format!("status IN ({})", list.join(", ")));
    }
    if let Some(after) = filter.after {
        let after = q.param(after);
        q.when(format!("created_at >= {after}"));
    }
    if let Some(before) = filter.before {
        let before = q.param(before);
        q.when(format!("created_at < {before}"));
    }
    if let Some(customer) = filter.customer_id {
        let customer = q.param(customer);
        q.when(format!("customer_id = {customer}"));
    }
    match search {
        Some(Search::Number(n)) => {
            let n = q.param(n);
            q.when(format!("number = {n}"));
        }
        Some(Search::Email(e)) => {
            let e = q.param(e);
            q.when(format!("billing_email = {e}"));
        }
        Some(Search::Phone(digits)) => {
            // Phones are stored as typed; compare their last digits.
            let tail = q.param(format!("%{}", &digits[digits.len().saturating_sub(10)..]));
            q.when(format!("REPLACE(REPLACE(REPLACE(billing_phone, ' ', ''), '-', ''), '+', '') LIKE {tail}"));
        }
        Some(Search::Name(name)) => {
            // Each word is the start of the first or the last name. SQLite's LOWER folds
            // ASCII letters only, PostgreSQL's every letter: fold the search the same way,
            // so "şeyma" finds "Şeyma" where the database can.
            let folded = match db.backend() {
                crate::db::Backend::Sqlite => name.to_ascii_lowercase(),
                crate::db::Backend::Postgres => name.to_lowercase(),
            };
            let words: Vec<&str> = folded.split_whitespace().take(MAX_NAME_WORDS).collect();
            let through_index = match db.backend() {
                crate::db::Backend::Sqlite => rare_name_word(db, &words).await?,
                crate::db::Backend::Postgres => None,
            };
            for (i, word) in words.iter().enumerate() {
                let column = |field: &str| match db.backend() {
                    // A rare word is looked up through the name indexes (then a few rows
                    // are sorted by date); the others are checked on orders read newest
                    // first, which meets enough common names at once. `+` keeps SQLite's
                    // planner from the index.
                    crate::db::Backend::Sqlite if through_index == Some(i) => format!("LOWER({field})"),
                    crate::db::Backend::Sqlite => format!("+LOWER({field})"),
                    // PostgreSQL's planner has statistics and chooses by itself.
                    crate::db::Backend::Postgres => format!("(LOWER({field}) COLLATE \"C\")"),
                };
                let (from, to) = (q.param((*word).to_owned()), q.param(format!("{word}\u{10FFFF}")));
                let (first, last) = (column("billing_first_name"), column("billing_last_name"));
                q.when(format!("(({first} >= {from} AND {first} < {to}) OR ({last} >= {from} AND {last} < {to}))"));
            }
        }
        None => {}
    }
    let key_column = match filter.sort {
        SortBy::Date => "created_at",
        SortBy::Total => "total",
    };
    let (direction, comparison) = if filter.ascending { ("ASC", ">") } else { ("DESC", "<") };
    if let Some((key, id)) = after_key {
        let (k, i) = (q.param(key), q.param(id));
        q.when(format!("({key_column} {comparison} {k} OR ({key_column} = {k} AND id {comparison} {i}))"));
    }
    let limit = q.param(paging::rows_to_read(filter.per_page));
    let clause = q.where_clause();
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM orders {clause} ORDER BY {key_column} {direction}, id {direction} LIMIT {limit}"
    );
    let rows = q.query(sql).fetch_all(db.pool()).await?;
    let rows: Vec<OrderRow> = rows.iter().map(order_row).collect::<Result<_>>()?;
    Ok(paging::cut(rows, filter.per_page, |last| {
        let key = match filter.sort {
            SortBy::Date => last.created_at,
            SortBy::Total => last.total,
        };
        cursor::encode(hasher, &listing(filter), &[key, last.id])
    }))
}

/// A name word is rare when fewer orders than this start a first or last name with it.
const RARE_NAME_ROWS: i64 = 2_000;

/// The first of `words` that starts few names (counting stops at [`RARE_NAME_ROWS`]),
/// found through the name indexes in well under a millisecond each.
async fn rare_name_word(db: &Db, words: &[&str]) -> Result<Option<usize>> {
    for (i, word) in words.iter().enumerate() {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM orders WHERE (LOWER(billing_first_name) >= $1 AND LOWER(billing_first_name) < $2) \
             OR (LOWER(billing_last_name) >= $1 AND LOWER(billing_last_name) < $2) LIMIT $3) AS found",
        )
        .bind(*word)
        .bind(format!("{word}\u{10FFFF}"))
        .bind(RARE_NAME_ROWS)
        .fetch_one(db.pool())
        .await?;
        if count < RARE_NAME_ROWS {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// The id of the newest order (0 in an empty shop): one index lookup, for telling open
/// panels that orders arrived.
pub async fn newest_id(db: &Db) -> Result<i64> {
    let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM orders").fetch_one(db.pool()).await?;
    Ok(id.unwrap_or(0))
}

/// The columns [`order_row`] reads.
const ROW_COLUMNS: &str = "id, number, status, created_at, billing_first_name, billing_last_name, billing_email, total, currency, \
                           items_count, payment_method_title";

fn order_row(r: &sqlx::any::AnyRow) -> Result<OrderRow> {
    let first: String = r.try_get("billing_first_name")?;
    let last: String = r.try_get("billing_last_name")?;
    Ok(OrderRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        status: OrderStatus::stored(&r.try_get::<String, _>("status")?)?,
        created_at: r.try_get("created_at")?,
        customer_name: format!("{first} {last}").trim().to_owned(),
        email: r.try_get("billing_email")?,
        total: r.try_get("total")?,
        currency: r.try_get("currency")?,
        items_count: r.try_get("items_count")?,
        payment_method: r.try_get("payment_method_title")?,
    })
}

/// An order as the list shows it, with what an export adds: the billing phone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRow {
    pub row: OrderRow,
    pub phone: String,
}

/// The orders with these ids (at most [`MAX_PER_PAGE`]), for an export: in the order of
/// `ids`, leaving out ids with no order.
///
/// Fails with `Invalid` for more than [`MAX_PER_PAGE`] ids.
pub async fn by_ids(db: &Db, ids: &[i64]) -> Result<Vec<ExportRow>> {
    if ids.len() as i64 > MAX_PER_PAGE {
        return Err(Error::invalid(format!("at most {MAX_PER_PAGE} orders at once")));
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let params: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!("SELECT {ROW_COLUMNS}, billing_phone FROM orders WHERE id IN ({})", params.join(", "));
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(*id);
    }
    let mut found = query
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| Ok(ExportRow { row: order_row(r)?, phone: r.try_get("billing_phone")? }))
        .collect::<Result<Vec<_>>>()?;
    Ok(ids.iter().filter_map(|id| found.iter().position(|r| r.row.id == *id).map(|at| found.swap_remove(at))).collect())
}

/// Which listing a cursor belongs to: the sort and its direction.
fn listing(filter: &Filter) -> String {
    let sort = match filter.sort {
        SortBy::Date => "date",
        SortBy::Total => "total",
    };
    format!("orders:{sort}:{}", if filter.ascending { "asc" } else { "desc" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filters_statuses_sort_and_direction_are_read_once_for_the_api_and_the_panel() {
        assert_eq!(statuses("processing,on-hold").unwrap(), [OrderStatus::Processing, OrderStatus::OnHold]);
        assert!(statuses("").unwrap().is_empty());
        assert!(statuses("processing,").is_err() && statuses(",").is_err(), "an empty place is not a status");
        let refused = statuses("processing,sent").unwrap_err().to_string();
        assert!(refused.starts_with(r#"unknown order status "sent"; the statuses are pending"#), "{refused}");
        assert_eq!(("".parse::<SortBy>().unwrap(), "total".parse::<SortBy>().unwrap()), (SortBy::Date, SortBy::Total));
        assert!("name".parse::<SortBy>().is_err());
        assert_eq!(
            (ascending("").unwrap(), ascending("desc").unwrap(), ascending("asc").unwrap()),
            (false, false, true)
        );
        assert!(ascending("up").is_err() && ascending(" asc").is_err());
    }

    #[test]
    fn a_search_is_read_by_its_shape() {
        assert_eq!(classify("#1042"), Search::Number("1042".into()));
        assert_eq!(classify("1042"), Search::Number("1042".into()));
        assert_eq!(classify(" Ayse@Example.com "), Search::Email("ayse@example.com".into()));
        assert_eq!(classify("+90 532 123 45 67"), Search::Phone("905321234567".into()));
        assert_eq!(classify("05321234567"), Search::Phone("05321234567".into()));
        assert_eq!(classify("Şeyma Çelik"), Search::Name("Şeyma Çelik".into()));
    }
}
