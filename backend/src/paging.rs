//! Pages of a listing, read one row past the page: the extra row says whether another
//! page follows and is never shown. Every keyset listing (orders, transactions, tickets,
//! the audit log, the ledger's log, WhatsApp's carts and messages) pages this way.

use serde::{Deserialize, Serialize};

/// One page: its rows, and where the next page starts (absent on the last page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub next_cursor: Option<String>,
}

/// How many rows to read for a page of `per_page`: one more, to know whether a next
/// page exists.
pub fn rows_to_read(per_page: i64) -> i64 {
    per_page + 1
}

/// `rows`, read with [`rows_to_read`], cut to a page of `per_page`; when the extra row
/// was there, the next page starts after the page's last row (`after` writes the cursor).
pub fn cut<T>(mut rows: Vec<T>, per_page: i64, after: impl FnOnce(&T) -> String) -> Page<T> {
    let per_page = usize::try_from(per_page).unwrap_or(0);
    let next_cursor = (rows.len() > per_page).then(|| {
        rows.truncate(per_page);
        rows.last().map(after)
    });
    Page { rows, next_cursor: next_cursor.flatten() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_past_the_page_says_a_next_page_follows_and_is_not_shown() {
        let page = cut(vec![1, 2, 3], 2, |last| format!("after {last}"));
        assert_eq!(page, Page { rows: vec![1, 2], next_cursor: Some("after 2".into()) });
        let last = cut(vec![1, 2], 2, |last| format!("after {last}"));
        assert_eq!(last, Page { rows: vec![1, 2], next_cursor: None });
        assert_eq!(rows_to_read(25), 26);
    }
}
