//! The orders list's query: its filters and page as they stand in its address (and in
//! the CSV export's), turned into the backend's filter; and every order matching it, a
//! page at a time, for the export and a bulk accounting sync.

use leptos_router::params::ParamsMap;
use serde::{Deserialize, Serialize};

use super::{CSV_PATH, LIST_PATH};
use crate::filters::{Paged, with_query};

/// The list's filters as they stand in its address, and in the CSV export's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrdersQuery {
    /// Comma-separated statuses (`processing,on-hold`); empty for every status.
    pub status: String,
    /// `YYYY-MM-DD` days in the shop's time zone, both included.
    pub from: String,
    pub to: String,
    /// An order number, an email, a phone number or part of a name.
    pub search: String,
    /// Empty (by date) or `total`.
    pub sort: String,
    /// Empty (newest or largest first) or `asc`.
    pub dir: String,
    /// Where this page starts: the previous page's cursor; empty on the first page.
    pub cursor: String,
    /// The cursors of the pages between the first and this one, oldest first and
    /// dot-separated (cursors are base64url, without dots), for "Previous page".
    pub prev: String,
}

impl OrdersQuery {
    /// Reads an address's query. Statuses may come as one comma-separated value (the
    /// panel's links) or repeated (a form sent without JavaScript, one per checkbox).
    /// Other keys are ignored.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> OrdersQuery {
        let mut query = OrdersQuery::default();
        let mut statuses: Vec<String> = Vec::new();
        for (key, value) in pairs {
            let value = value.as_ref().to_owned();
            match key.as_ref() {
                "status" => {
                    statuses.extend(value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned))
                }
                "from" => query.from = value,
                "to" => query.to = value,
                "search" => query.search = value,
                // The defaults stay out of the address however they were written.
                "sort" => query.sort = if value == "date" { String::new() } else { value },
                "dir" => query.dir = if value == "desc" { String::new() } else { value },
                "cursor" => query.cursor = value,
                "prev" => query.prev = value,
                _ => {}
            }
        }
        query.status = statuses.join(",");
        query
    }

    pub fn from_params(params: &ParamsMap) -> OrdersQuery {
        OrdersQuery::from_pairs(params)
    }

    pub fn statuses(&self) -> impl Iterator<Item = &str> {
        self.status.split(',').map(str::trim).filter(|s| !s.is_empty())
    }

    /// Every order matching these filters, as CSV.
    pub fn csv_href(&self) -> String {
        with_query(CSV_PATH, &self.first_page().search_string())
    }
}

impl Paged for OrdersQuery {
    const PATH: &'static str = LIST_PATH;
    fn filters(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("status", self.status.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("search", self.search.as_str()),
            ("sort", self.sort.as_str()),
            ("dir", self.dir.as_str()),
        ]
    }
    fn page(&self) -> (&str, &str) {
        (&self.cursor, &self.prev)
    }
    fn at(&self, cursor: String, prev: String) -> OrdersQuery {
        OrdersQuery { cursor, prev, ..self.clone() }
    }
}

#[cfg(feature = "ssr")]
pub use ssr::MatchingOrders;

/// The query on the server: the backend's filter, and the orders it matches.
#[cfg(feature = "ssr")]
mod ssr {
    use super::OrdersQuery;
    use crate::{error::PanelError, filters::Paged};

    impl OrdersQuery {
        /// The backend's filter for one page, days turned into instants in the shop's time zone.
        ///
        /// Fails, saying what is wrong, on an unknown status, sort or direction, or a day that
        /// is not a date; the backend itself refuses a long search or a broken cursor.
        pub fn filter(&self, tz: chrono_tz::Tz) -> Result<backend::orders::list::Filter, PanelError> {
            use backend::orders::list::{self, DEFAULT_PER_PAGE, Filter};
            let statuses = list::statuses(&self.status)?;
            let sort = self.sort.parse()?;
            let ascending = list::ascending(self.dir.trim())?;
            let (after, before) = backend::days::instants(&self.from, &self.to, tz)?;
            Ok(Filter {
                statuses,
                after,
                before,
                customer_id: None,
                search: crate::filters::filled(&self.search),
                sort,
                ascending,
                per_page: DEFAULT_PER_PAGE,
                cursor: crate::filters::filled(&self.cursor),
            })
        }
    }

    /// Every order matching the list's filters, from its first page on, a page of ids at a
    /// time, at most `most` in all: the CSV export writes each page as it comes, a bulk
    /// accounting sync collects them.
    pub struct MatchingOrders {
        filter: backend::orders::list::Filter,
        left: usize,
        done: bool,
    }

    impl MatchingOrders {
        /// Fails as [`OrdersQuery::filter`] does.
        pub fn new(query: &OrdersQuery, tz: chrono_tz::Tz, most: usize) -> Result<MatchingOrders, PanelError> {
            Ok(MatchingOrders { filter: query.first_page().filter(tz)?, left: most, done: most == 0 })
        }

        /// The next page's order ids, in the list's order; `None` once every match (or
        /// `most` of them) has been read.
        pub async fn next_page(
            &mut self,
            db: &backend::db::Db,
            hasher: &backend::access::secret::SecretHasher,
        ) -> Result<Option<Vec<i64>>, PanelError> {
            use backend::orders::list::{MAX_PER_PAGE, list};
            if self.done {
                return Ok(None);
            }
            self.filter.per_page = MAX_PER_PAGE.min(i64::try_from(self.left).unwrap_or(MAX_PER_PAGE));
            let page = list(db, hasher, &self.filter).await?;
            let ids: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
            self.left = self.left.saturating_sub(ids.len());
            match page.next_cursor {
                Some(cursor) if self.left > 0 && !ids.is_empty() => self.filter.cursor = Some(cursor),
                _ => self.done = true,
            }
            Ok(Some(ids))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> OrdersQuery {
        OrdersQuery::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn statuses_come_comma_separated_or_repeated() {
        let q = query(&[
            ("status", "processing"),
            ("status", "on-hold,completed"),
            ("search", "Ayşe"),
            ("ids", "1"),
            ("sort", "date"),
        ]);
        assert_eq!(q.status, "processing,on-hold,completed");
        assert_eq!(q.sort, "", "the default sort is left out");
        assert_eq!(q.search, "Ayşe");
        assert_eq!(q.statuses().collect::<Vec<_>>(), ["processing", "on-hold", "completed"]);
    }

    #[test]
    fn an_address_carries_only_what_is_set() {
        assert_eq!(OrdersQuery::default().href(), "/admin/orders");
        let q = query(&[("status", "on-hold"), ("search", "a b&c"), ("sort", "total")]);
        assert_eq!(q.href(), "/admin/orders?status=on-hold&search=a%20b%26c&sort=total");
        let paged = q.next_page("CUR1");
        assert_eq!(paged.csv_href(), "/admin/orders.csv?status=on-hold&search=a%20b%26c&sort=total");
    }

    #[test]
    fn a_new_page_keeps_the_filters() {
        let first = query(&[("search", "x"), ("status", "on-hold")]);
        let third = first.next_page("c1").next_page("c2");
        assert_eq!(third.href(), "/admin/orders?status=on-hold&search=x&cursor=c2&prev=c1");
        assert_eq!(third.first_page(), first);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn bad_filters_are_refused_with_a_reason() {
        let tz = chrono_tz::Europe::Istanbul;
        let filter =
            query(&[("status", "processing,on-hold"), ("from", "2025-03-01"), ("to", "2025-03-01"), ("dir", "asc")])
                .filter(tz)
                .unwrap();
        assert_eq!(filter.statuses.len(), 2);
        assert_eq!((filter.after, filter.before), (Some(1_740_776_400), Some(1_740_776_400 + 86_400)));
        assert!(filter.ascending);
        for (bad, says) in [
            (query(&[("status", "no-order-is-in-it")]), "unknown order status"),
            (query(&[("from", "01.03.2025")]), "from must be a day"),
            (query(&[("from", "2025-03-02"), ("to", "2025-03-01")]), "after"),
            (query(&[("sort", "name")]), "date or by total"),
        ] {
            let error = bad.filter(tz).unwrap_err().to_string();
            assert!(error.contains(says), "{bad:?}: {error}");
        }
    }
}
