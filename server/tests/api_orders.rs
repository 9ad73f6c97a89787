//! The orders API over HTTP on SQLite and PostgreSQL, against demo data: the list's
//! filters, sorting and cursor pages, one order whole, and the errors for bad queries.

mod common;

use backend::{
    access::Scope,
    demo::{self, DemoOptions},
};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

const ORDERS: i64 = 300;

async fn shop_with_orders(engine: Engine) -> (TestApp, String) {
    let app = spawn_app(engine).await;
    let key = app.key(Scope::Read).await;
    demo::load(&app.db, DemoOptions { orders: ORDERS, seed: 7 }, |_| {}).await.unwrap();
    (app, key)
}

async fn get_json(app: &TestApp, key: &str, path: &str) -> Value {
    let response = app.api(Method::GET, path, key).send().await.unwrap();
    assert_status(&response, StatusCode::OK);
    response.json().await.unwrap()
}

/// Every page of a listing, following the cursor.
async fn all_pages(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("/api/v1/orders?{query}"),
            Some(c) => format!("/api/v1/orders?{query}&cursor={c}"),
        };
        let page = get_json(app, key, &path).await;
        rows.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return rows,
        }
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(app.db.pool()).await.unwrap()
}

async fn the_list_pages_through_every_order_newest_first(engine: Engine) {
    let (app, key) = shop_with_orders(engine).await;
    let first = get_json(&app, &key, "/api/v1/orders").await;
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 25);
    let row = &items[0];
    for field in ["id", "number", "status", "created_at", "customer_name", "email", "total", "currency", "items_count", "payment_method"] {
        assert!(!row[field].is_null(), "{field} in {row}");
    }
    let rows = all_pages(&app, &key, "per_page=100").await;
    assert_eq!(rows.len() as i64, ORDERS);
    let keys: Vec<(i64, i64)> = rows.iter().map(|r| (r["created_at"].as_i64().unwrap(), r["id"].as_i64().unwrap())).collect();
    assert!(keys.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats");

    // An order arriving while someone pages does not shift the pages they are on.
    let page_one = get_json(&app, &key, "/api/v1/orders?per_page=10").await;
    let cursor = page_one["next_cursor"].as_str().unwrap().to_owned();
    let before = get_json(&app, &key, &format!("/api/v1/orders?per_page=10&cursor={cursor}")).await;
    sqlx::query("INSERT INTO orders (number, status, currency, created_at, updated_at) VALUES ('999999', 'processing', 'TRY', $1, $1)")
        .bind(backend::clock::now())
        .execute(app.db.pool())
        .await
        .unwrap();
    let after = get_json(&app, &key, &format!("/api/v1/orders?per_page=10&cursor={cursor}")).await;
    assert_eq!(before["items"], after["items"]);
    assert_eq!(get_json(&app, &key, "/api/v1/orders?per_page=1").await["items"][0]["number"], "999999");
    app.stop().await;
}

async fn filters_and_sorting_match_the_database(engine: Engine) {
    let (app, key) = shop_with_orders(engine).await;
    let rows = all_pages(&app, &key, "status=processing,on-hold&per_page=100").await;
    assert_eq!(rows.len() as i64, count(&app, "SELECT COUNT(*) FROM orders WHERE status IN ('processing', 'on-hold')").await);
    assert!(rows.iter().all(|r| ["processing", "on-hold"].contains(&r["status"].as_str().unwrap())));

    let by_total = all_pages(&app, &key, "orderby=total&order=asc&per_page=100").await;
    assert_eq!(by_total.len() as i64, ORDERS);
    let totals: Vec<i64> = by_total.iter().map(|r| r["total"].as_i64().unwrap()).collect();
    assert!(totals.windows(2).all(|w| w[0] <= w[1]), "cheapest first");

    // A date range, in the shop's time zone (Europe/Istanbul, UTC+3).
    let (from, to): (i64, i64) = sqlx::query_as("SELECT MIN(created_at), MAX(created_at) FROM orders").fetch_one(app.db.pool()).await.unwrap();
    let day = chrono::DateTime::from_timestamp((from + to) / 2, 0).unwrap().with_timezone(&chrono_tz::Europe::Istanbul).date_naive();
    let start = day.and_hms_opt(0, 0, 0).unwrap().and_local_timezone(chrono_tz::Europe::Istanbul).unwrap().timestamp();
    let in_range = all_pages(&app, &key, &format!("after={day}&before={}&per_page=100", day.succ_opt().unwrap())).await;
    let expected = count(&app, &format!("SELECT COUNT(*) FROM orders WHERE created_at >= {start} AND created_at < {}", start + 86_400)).await;
    assert_eq!(in_range.len() as i64, expected);

    // Search by number, email (any case), part of a name, phone; and by customer.
    let sample: (String, String, String, String, i64) = sqlx::query_as(
        "SELECT number, billing_email, billing_last_name, billing_phone, customer_id FROM orders WHERE billing_phone <> '' AND customer_id IS NOT NULL ORDER BY id LIMIT 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let (number, email, last_name, phone, customer) = sample;
    let found = get_json(&app, &key, &format!("/api/v1/orders?search=%23{number}")).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_eq!(found["items"][0]["number"], number.as_str());
    let by_email = all_pages(&app, &key, &format!("search={}", email.to_uppercase())).await;
    assert!(!by_email.is_empty() && by_email.iter().all(|r| r["email"] == email.as_str()));
    let by_name = all_pages(&app, &key, &format!("search={}&per_page=100", encode(&last_name))).await;
    assert!(by_name.iter().any(|r| r["number"] == number.as_str()));
    assert!(by_name.iter().all(|r| r["customer_name"].as_str().unwrap().contains(&last_name)));
    let by_phone = all_pages(&app, &key, &format!("search={}", encode(&phone))).await;
    assert!(by_phone.iter().any(|r| r["number"] == number.as_str()), "{phone}");
    let by_customer = all_pages(&app, &key, &format!("customer={customer}&per_page=100")).await;
    assert_eq!(by_customer.len() as i64, count(&app, &format!("SELECT COUNT(*) FROM orders WHERE customer_id = {customer}")).await);
    app.stop().await;
}

fn encode(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

async fn one_order_comes_whole_with_its_panel_link(engine: Engine) {
    let (app, key) = shop_with_orders(engine).await;
    let id: i64 = count(&app, "SELECT MIN(order_id) FROM order_items").await;
    let order = get_json(&app, &key, &format!("/api/v1/orders/{id}")).await;
    assert_eq!(order["id"], id);
    assert!(order["admin_url"].as_str().unwrap().ends_with(&format!("/admin/orders/{id}")));
    let items = order["items"].as_array().unwrap();
    assert_eq!(items.len() as i64, count(&app, &format!("SELECT COUNT(*) FROM order_items WHERE order_id = {id}")).await);
    for field in ["billing", "shipping", "shipping_lines", "fee_lines", "coupon_lines", "totals", "notes", "refunds", "transactions"] {
        assert!(!order[field].is_null(), "{field}");
    }
    let quantities: i64 = items.iter().map(|i| i["quantity"].as_i64().unwrap()).sum();
    assert_eq!(order["totals"]["items_count"].as_i64().unwrap(), quantities);
    assert!(!order["billing"]["email"].as_str().unwrap().is_empty());

    let (status, code) = error_code(app.api(Method::GET, "/api/v1/orders/99999999", &key).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let (status, code) = error_code(app.api(Method::GET, "/api/v1/orders/abc", &key).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "bad_request"));
    app.stop().await;
}

async fn bad_list_queries_get_their_error_codes(engine: Engine) {
    let (app, key) = shop_with_orders(engine).await;
    let page = get_json(&app, &key, "/api/v1/orders?per_page=5").await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let mut tampered = cursor.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let long_search = "x".repeat(10 * 1024);
    for (query, expected) in [
        ("status=shipped".to_owned(), "invalid_query"),
        ("status=processing,nonsense".to_owned(), "invalid_query"),
        ("per_page=100000".to_owned(), "invalid_query"),
        ("per_page=0".to_owned(), "invalid_query"),
        ("per_page=ten".to_owned(), "invalid_query"),
        (format!("search={long_search}"), "invalid_query"),
        ("after=yesterday".to_owned(), "invalid_query"),
        ("order=sideways".to_owned(), "invalid_query"),
        ("orderby=colour".to_owned(), "invalid_query"),
        ("unknown=1".to_owned(), "invalid_query"),
        (format!("cursor={tampered}"), "invalid_cursor"),
        ("cursor=not-a-cursor".to_owned(), "invalid_cursor"),
        (format!("orderby=total&cursor={cursor}"), "invalid_cursor"),
    ] {
        let (status, code) = error_code(app.api(Method::GET, &format!("/api/v1/orders?{query}"), &key).send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, expected), "{}", &query[..query.len().min(60)]);
    }
    app.stop().await;
}

on_both_databases!(
    the_list_pages_through_every_order_newest_first,
    filters_and_sorting_match_the_database,
    one_order_comes_whole_with_its_panel_link,
    bad_list_queries_get_their_error_codes,
);
