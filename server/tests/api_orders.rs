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

async fn the_list_pages_through_every_order_newest_first(engine: Engine) {
    let (app, key) = shop_with_orders(engine).await;
    let first = get_json(&app, &key, "/api/v1/orders").await;
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 25);
    let row = &items[0];
    for field in [
        "id",
        "number",
        "status",
        "created_at",
        "customer_name",
        "email",
        "total",
        "currency",
        "items_count",
        "payment_method",
    ] {
        assert!(!row[field].is_null(), "{field} in {row}");
    }
    let rows = all_pages(&app, &key, "per_page=100").await;
    assert_eq!(rows.len() as i64, ORDERS);
    let keys: Vec<(i64, i64)> =
        rows.iter().map(|r| (r["created_at"].as_i64().unwrap(), r["id"].as_i64().unwrap())).collect();
    assert!(keys.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats");

    // An order arriving while someone pages does not shift the pages they are on.
    let page_one = get_json(&app, &key, "/api/v1/orders?per_page=10").await;
    let cursor = page_one["next_cursor"].as_str().unwrap().to_owned();
    let before = get_json(&app, &key, &format!("/api/v1/orders?per_page=10&cursor={cursor}")).await;
    sqlx::query("INSERT INTO orders (number, status, currency, created_at, updated_at) VALUES ('999999', 'processing', 'TRY', $1, $1)")
        .bind(backend::clock::now())
        .execute(app.db.writer())
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
    assert_eq!(
        rows.len() as i64,
        app.count("SELECT COUNT(*) FROM orders WHERE status IN ('processing', 'on-hold')").await
    );
    assert!(rows.iter().all(|r| ["processing", "on-hold"].contains(&r["status"].as_str().unwrap())));

    let by_total = all_pages(&app, &key, "orderby=total&order=asc&per_page=100").await;
    assert_eq!(by_total.len() as i64, ORDERS);
    let totals: Vec<i64> = by_total.iter().map(|r| r["total"].as_i64().unwrap()).collect();
    assert!(totals.windows(2).all(|w| w[0] <= w[1]), "cheapest first");

    // A date range, in the shop's time zone (Europe/Istanbul, UTC+3).
    let (from, to): (i64, i64) =
        sqlx::query_as("SELECT MIN(created_at), MAX(created_at) FROM orders").fetch_one(app.db.pool()).await.unwrap();
    let day = chrono::DateTime::from_timestamp((from + to) / 2, 0)
        .unwrap()
        .with_timezone(&chrono_tz::Europe::Istanbul)
        .date_naive();
    let start = day.and_hms_opt(0, 0, 0).unwrap().and_local_timezone(chrono_tz::Europe::Istanbul).unwrap().timestamp();
    let in_range = all_pages(&app, &key, &format!("after={day}&before={}&per_page=100", day.succ_opt().unwrap())).await;
    let expected = app
        .count(&format!("SELECT COUNT(*) FROM orders WHERE created_at >= {start} AND created_at < {}", start + 86_400))
        .await;
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
    // The starts of a first and a last name, as typed: the same orders a full scan finds.
    let (first_name, last_name): (String, String) =
        sqlx::query_as("SELECT billing_first_name, billing_last_name FROM orders WHERE id = 7")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let start = |name: &str| name.chars().take(3).collect::<String>();
    let typed = format!("{} {}", start(&first_name), start(&last_name));
    let fold =
        |text: &str| if matches!(engine, Engine::Sqlite) { text.to_ascii_lowercase() } else { text.to_lowercase() };
    let everyone: Vec<(String, String, String)> =
        sqlx::query_as("SELECT number, billing_first_name, billing_last_name FROM orders")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let mut expected: Vec<String> = everyone
        .into_iter()
        .filter(|(_, first, last)| {
            fold(&typed).split_whitespace().all(|w| fold(first).starts_with(w) || fold(last).starts_with(w))
        })
        .map(|(number, _, _)| number)
        .collect();
    let mut found: Vec<String> = all_pages(&app, &key, &format!("search={}&per_page=100", encode(&typed)))
        .await
        .iter()
        .map(|r| r["number"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    found.sort();
    assert!(!found.is_empty());
    assert_eq!(found, expected, "{typed}");
    assert!(all_pages(&app, &key, "search=Zebulon").await.is_empty());
    let by_phone = all_pages(&app, &key, &format!("search={}", encode(&phone))).await;
    assert!(by_phone.iter().any(|r| r["number"] == number.as_str()), "{phone}");
    let by_customer = all_pages(&app, &key, &format!("customer={customer}&per_page=100")).await;
    assert_eq!(
        by_customer.len() as i64,
        app.count(&format!("SELECT COUNT(*) FROM orders WHERE customer_id = {customer}")).await
    );
    app.stop().await;
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

async fn one_order_comes_whole_with_its_panel_link(engine: Engine) {
    let (app, key) = shop_with_orders(engine).await;
    let id: i64 = app.count("SELECT MIN(order_id) FROM order_items").await;
    let order = get_json(&app, &key, &format!("/api/v1/orders/{id}")).await;
    assert_eq!(order["id"], id);
    assert!(order["admin_url"].as_str().unwrap().ends_with(&format!("/admin/orders/{id}")));
    let items = order["items"].as_array().unwrap();
    assert_eq!(items.len() as i64, app.count(&format!("SELECT COUNT(*) FROM order_items WHERE order_id = {id}")).await);
    for field in [
        "billing",
        "shipping",
        "shipping_lines",
        "fee_lines",
        "coupon_lines",
        "totals",
        "notes",
        "refunds",
        "transactions",
    ] {
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
        let (status, code) =
            error_code(app.api(Method::GET, &format!("/api/v1/orders?{query}"), &key).send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, expected), "{}", &query[..query.len().min(60)]);
    }
    app.stop().await;
}

async fn sales_table(app: &TestApp) -> Vec<(String, String, i64, i64, i64, i64)> {
    sqlx::query_as("SELECT day, currency, orders, items, gross, refunds FROM sales_daily WHERE orders <> 0 OR gross <> 0 OR refunds <> 0 ORDER BY day, currency")
        .fetch_all(app.db.pool())
        .await
        .unwrap()
}

async fn status_changes_follow_the_policy_and_leave_a_trail(engine: Engine) {
    let (app, read) = shop_with_orders(engine).await;
    let write = app.key(Scope::Write).await;
    let id = app.count("SELECT MIN(id) FROM orders WHERE status = 'pending'").await;
    let patch = |key: &str, id: i64, body: Value| {
        app.api(Method::PATCH, &format!("/api/v1/orders/{id}"), key).json(&body).send()
    };
    assert_status(&patch(&write, id, serde_json::json!({ "status": "processing" })).await.unwrap(), StatusCode::OK);

    let response = patch(&write, id, serde_json::json!({ "status": "completed" })).await.unwrap();
    assert_status(&response, StatusCode::OK);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "completed");
    assert!(order["completed_at"].as_i64().is_some());
    let note = order["notes"].as_array().unwrap().last().unwrap()["body"].as_str().unwrap().to_owned();
    assert!(note.starts_with("Status changed from Processing to Shipped / completed by owner@shop.example"), "{note}");

    // Reopening a completed order needs a reason, which is kept.
    let (status, code) =
        error_code(patch(&write, id, serde_json::json!({ "status": "processing" })).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"));
    let reopened: Value =
        patch(&write, id, serde_json::json!({ "status": "processing", "reason": "Kargo geri döndü" }))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert!(
        reopened["notes"].as_array().unwrap().last().unwrap()["body"]
            .as_str()
            .unwrap()
            .ends_with("Reason: Kargo geri döndü")
    );

    // Not allowed: the answer names where the order can go.
    let response = patch(&write, id, serde_json::json!({ "status": "refunded" })).await.unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_transition");
    assert!(
        body["error"]["message"].as_str().unwrap().ends_with("it can go to: completed, on-hold, cancelled"),
        "{body}"
    );
    for (body, expected) in [
        (serde_json::json!({ "status": "shipped" }), (StatusCode::UNPROCESSABLE_ENTITY, "invalid")),
        (serde_json::json!({ "status": "completed", "total": 1 }), (StatusCode::UNPROCESSABLE_ENTITY, "invalid")),
        (serde_json::json!({}), (StatusCode::UNPROCESSABLE_ENTITY, "invalid")),
    ] {
        let (status, code) = error_code(patch(&write, id, body.clone()).await.unwrap()).await;
        assert_eq!((status, code.as_str()), expected, "{body}");
    }
    let (status, code) =
        error_code(patch(&read, id, serde_json::json!({ "status": "completed" })).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "insufficient_scope"));
    let (status, code) =
        error_code(patch(&write, 99_999_999, serde_json::json!({ "status": "completed" })).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));

    // Every change left an event for later work and an audit entry naming the key.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM order_events WHERE order_id = {id} AND kind = 'order.status_changed'"
        ))
        .await,
        3
    );
    let audited = app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'order.status_changed' AND target LIKE 'order:{id} %' AND credential LIKE 'connection_key:%'")).await;
    assert_eq!(audited, 3);

    // The daily sales follow each change, exactly as a rebuild from the orders says: a
    // pending order that is paid becomes a sale; a sale cancelled stops being one.
    let other = app.count("SELECT MIN(id) FROM orders WHERE status = 'pending'").await;
    let before = sales_table(&app).await;
    assert_status(&patch(&write, other, serde_json::json!({ "status": "processing" })).await.unwrap(), StatusCode::OK);
    let paid = sales_table(&app).await;
    assert_ne!(before, paid);
    assert_status(&patch(&write, other, serde_json::json!({ "status": "cancelled" })).await.unwrap(), StatusCode::OK);
    assert_eq!(sales_table(&app).await, before);
    assert_status(
        &patch(&write, other, serde_json::json!({ "status": "processing", "reason": "paid after all" })).await.unwrap(),
        StatusCode::OK,
    );
    let after = sales_table(&app).await;
    assert_eq!(after, paid);
    backend::sales_daily::rebuild(&app.db, chrono_tz::Europe::Istanbul).await.unwrap();
    assert_eq!(sales_table(&app).await, after, "kept in step with each change");
    app.stop().await;
}

/// A completed order with at least two lines and nothing refunded yet.
async fn refundable_order(app: &TestApp, key: &str, skip: i64) -> Value {
    let id = app
        .count(&format!(
            "SELECT id FROM orders o WHERE status = 'completed' AND refunded_total = 0 \
         AND (SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id) >= 2 ORDER BY id LIMIT 1 OFFSET {skip}"
        ))
        .await;
    get_json(app, key, &format!("/api/v1/orders/{id}")).await
}

async fn refunds_per_line_and_in_full_never_exceed_what_was_paid(engine: Engine) {
    let (app, _) = shop_with_orders(engine).await;
    let key = app.key(Scope::Write).await;
    let order = refundable_order(&app, &key, 0).await;
    let id = order["id"].as_i64().unwrap();
    let total = order["totals"]["total"].as_i64().unwrap();
    let line = &order["items"][0];
    let (line_id, quantity) = (line["id"].as_i64().unwrap(), line["quantity"].as_i64().unwrap());
    let unit = (line["total"].as_i64().unwrap() + line["total_tax"].as_i64().unwrap()) / quantity;
    // The line's product (or variation) keeps 10 in stock.
    let (table, stocked) = match line["variation_id"].as_i64() {
        Some(variation) => ("product_variations", variation),
        None => ("products", line["product_id"].as_i64().unwrap()),
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET manage_stock = 1, stock_quantity = 10 WHERE id = {stocked}"
    )))
    .execute(app.db.writer())
    .await
    .unwrap();
    let stock_sql = format!("SELECT stock_quantity FROM {table} WHERE id = {stocked}");
    let refunds_url = format!("/api/v1/orders/{id}/refunds");
    let post = |body: Value, idempotency: Option<&str>| {
        let mut request = app.api(Method::POST, &refunds_url, &key).json(&body);
        if let Some(k) = idempotency {
            request = request.header("idempotency-key", k);
        }
        request.send()
    };

    let one_item = serde_json::json!({ "lines": [{ "line_id": line_id, "quantity": 1, "amount": unit }], "reason": "Kırık geldi", "restock": true });
    let response = post(one_item.clone(), Some("refund-1")).await.unwrap();
    assert_status(&response, StatusCode::CREATED);
    let refund: Value = response.json().await.unwrap();
    assert_eq!((refund["amount"].as_i64(), refund["lines"][0]["quantity"].as_i64()), (Some(unit), Some(1)));
    assert_eq!(refund["reason"], "Kırık geldi");
    // The line keeps its amount before tax and its tax, as order lines and WooCommerce do.
    let refunded_line = &refund["lines"][0];
    let line_tax = refunded_line["tax"].as_i64().unwrap();
    assert_eq!(refunded_line["amount"].as_i64().unwrap() + line_tax, unit);
    let (line_total, line_total_tax) = (line["total"].as_i64().unwrap(), line["total_tax"].as_i64().unwrap());
    assert_eq!(line_tax, unit * line_total_tax / (line_total + line_total_tax), "the line's share of tax: {line}");
    // A retry with the same key is the same refund, not a second one.
    let retry = post(one_item.clone(), Some("refund-1")).await.unwrap();
    assert_status(&retry, StatusCode::OK);
    assert_eq!(retry.json::<Value>().await.unwrap()["id"], refund["id"]);
    let (status, code) =
        error_code(post(serde_json::json!({ "amount": 1, "restock": false }), Some("refund-1")).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM refunds WHERE order_id = {id}")).await, 1);
    assert_eq!(app.count(&stock_sql).await, 11, "the item went back in stock, once");

    let other_order_line = app.count(&format!("SELECT MIN(id) FROM order_items WHERE order_id <> {id}")).await;
    for (body, expected) in [
        (serde_json::json!({ "amount": -5, "restock": false }), (StatusCode::UNPROCESSABLE_ENTITY, "invalid")),
        (serde_json::json!({ "amount": 0, "restock": false }), (StatusCode::UNPROCESSABLE_ENTITY, "invalid")),
        (serde_json::json!({ "amount": 100 }), (StatusCode::UNPROCESSABLE_ENTITY, "invalid")),
        (
            serde_json::json!({ "amount": 100, "restock": false, "refund_everything": true }),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ),
        (serde_json::json!({ "restock": false }), (StatusCode::UNPROCESSABLE_ENTITY, "invalid")),
        (serde_json::json!({ "amount": total, "restock": false }), (StatusCode::CONFLICT, "conflict")),
        (
            serde_json::json!({ "lines": [{ "line_id": other_order_line, "quantity": 1, "amount": 1 }], "restock": false }),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ),
        (
            serde_json::json!({ "lines": [{ "line_id": line_id, "quantity": quantity, "amount": 1 }], "restock": false }),
            (StatusCode::CONFLICT, "conflict"),
        ),
        (
            serde_json::json!({ "lines": [{ "line_id": line_id, "quantity": 0, "amount": unit * quantity }], "restock": false }),
            (StatusCode::CONFLICT, "conflict"),
        ),
        (
            serde_json::json!({ "lines": [{ "line_id": line_id, "quantity": -1, "amount": 1 }], "restock": false }),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ),
        (
            serde_json::json!({ "amount": 3, "lines": [{ "line_id": line_id, "quantity": 0, "amount": 1 }], "restock": false }),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ),
    ] {
        let (status, code) = error_code(post(body.clone(), None).await.unwrap()).await;
        assert_eq!((status, code.as_str()), expected, "{body}");
    }

    // The rest in full: the order becomes refunded, and then nothing more can go.
    let remaining = total - unit;
    let response =
        post(serde_json::json!({ "amount": remaining, "restock": false, "reason": "İade" }), None).await.unwrap();
    assert_status(&response, StatusCode::CREATED);
    let order = get_json(&app, &key, &format!("/api/v1/orders/{id}")).await;
    assert_eq!(order["status"], "refunded");
    assert_eq!(order["totals"]["refunded_total"].as_i64(), Some(total));
    assert_eq!(order["refunds"].as_array().unwrap().len(), 2);
    let listed = get_json(&app, &key, &refunds_url).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    let (status, code) =
        error_code(post(serde_json::json!({ "amount": 1, "restock": false }), None).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"));
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM order_events WHERE order_id = {id} AND kind = 'order.refunded'"))
            .await,
        2
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM order_events WHERE order_id = {id} AND kind = 'order.status_changed'"
        ))
        .await,
        1
    );

    let kept = sales_table(&app).await;
    backend::sales_daily::rebuild(&app.db, chrono_tz::Europe::Istanbul).await.unwrap();
    assert_eq!(sales_table(&app).await, kept, "refunds count on their day, as a rebuild says");
    app.stop().await;
}

async fn refunds_racing_for_the_last_lira_never_refund_more_than_was_paid(engine: Engine) {
    let (app, _) = shop_with_orders(engine).await;
    let key = app.key(Scope::Write).await;
    let order = refundable_order(&app, &key, 1).await;
    let id = order["id"].as_i64().unwrap();
    let total = order["totals"]["total"].as_i64().unwrap();
    // Eight refunds of more than half the order, all at once: one fits.
    let url = app.url(&format!("/api/v1/orders/{id}/refunds"));
    let attempts = (0..8).map(|_| {
        app.client
            .post(&url)
            .bearer_auth(&key)
            .header("x-backroom-timestamp", backend::clock::now().to_string())
            .json(&serde_json::json!({ "amount": total / 2 + 1, "restock": false }))
            .send()
    });
    let statuses: Vec<StatusCode> =
        futures_util::future::join_all(attempts).await.into_iter().map(|r| r.unwrap().status()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT), "{statuses:?}");
    let refunded = app.count(&format!("SELECT refunded_total FROM orders WHERE id = {id}")).await;
    assert_eq!(refunded, total / 2 + 1);
    assert_eq!(
        app.count(&format!("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM refunds WHERE order_id = {id}")).await,
        refunded
    );
    app.stop().await;
}

/// An app that retries a refund after a timeout, while the first attempt is still being
/// made, is answered with that refund: never told that the refund it made is refused.
async fn retries_of_a_refund_still_being_made_get_its_result(engine: Engine) {
    let (app, _) = shop_with_orders(engine).await;
    let key = app.key(Scope::Write).await;
    let order = refundable_order(&app, &key, 2).await;
    let id = order["id"].as_i64().unwrap();
    let total = order["totals"]["total"].as_i64().unwrap();
    let url = app.url(&format!("/api/v1/orders/{id}/refunds"));
    // The whole order, so that once the first is made the order is refunded and a business
    // rule would refuse a second one.
    let attempts = (0..20).map(|_| {
        app.client
            .post(&url)
            .bearer_auth(&key)
            .header("x-backroom-timestamp", backend::clock::now().to_string())
            .header("idempotency-key", "app-retry-7")
            .json(&serde_json::json!({ "amount": total, "restock": false }))
            .send()
    });
    let mut answers = Vec::new();
    for response in futures_util::future::join_all(attempts).await {
        let response = response.unwrap();
        let status = response.status();
        answers.push((status, response.json::<Value>().await.unwrap()));
    }
    let statuses: Vec<StatusCode> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{answers:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::OK), "{answers:?}");
    let ids: std::collections::BTreeSet<i64> = answers.iter().map(|(_, body)| body["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 1, "every answer is the one refund: {answers:?}");
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM refunds WHERE order_id = {id}")).await, 1);
    assert_eq!(app.count(&format!("SELECT refunded_total FROM orders WHERE id = {id}")).await, total);
    app.stop().await;
}

async fn transactions_list_across_the_store_with_filters(engine: Engine) {
    let (app, key) = shop_with_orders(engine).await;
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = get_json(&app, &key, &format!("/api/v1/transactions?per_page=100&cursor={cursor}")).await;
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(all.len() as i64, app.count("SELECT COUNT(*) FROM payment_transactions").await);
    let keys: Vec<(i64, i64)> =
        all.iter().map(|t| (t["created_at"].as_i64().unwrap(), t["id"].as_i64().unwrap())).collect();
    assert!(keys.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats");
    let sample = &all[all.len() / 2];
    let gateway = sample["gateway"].as_str().unwrap();
    let filtered =
        get_json(&app, &key, &format!("/api/v1/transactions?per_page=100&gateway={gateway}&status=succeeded")).await;
    assert!(
        filtered["items"].as_array().unwrap().iter().all(|t| t["gateway"] == gateway && t["status"] == "succeeded")
    );
    let order_id = sample["order_id"].as_i64().unwrap();
    let of_order = get_json(&app, &key, &format!("/api/v1/transactions?order={order_id}")).await;
    let expected = app.count(&format!("SELECT COUNT(*) FROM payment_transactions WHERE order_id = {order_id}")).await;
    assert_eq!(of_order["items"].as_array().unwrap().len() as i64, expected);
    let orders_cursor =
        get_json(&app, &key, "/api/v1/orders?per_page=1").await["next_cursor"].as_str().unwrap().to_owned();
    for (query, expected) in [
        ("status=refundedish", "invalid_query"),
        ("per_page=101", "invalid_query"),
        ("after=soon", "invalid_query"),
        (&*format!("cursor={orders_cursor}"), "invalid_cursor"),
    ] {
        let (status, code) =
            error_code(app.api(Method::GET, &format!("/api/v1/transactions?{query}"), &key).send().await.unwrap())
                .await;
        assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, expected), "{query}");
    }
    app.stop().await;
}

/// Sales per shop-local day, computed from every order and refund with no help from the
/// aggregates: (gross, refunds, orders, items).
async fn full_scan(app: &TestApp) -> std::collections::BTreeMap<String, (i64, i64, i64, i64)> {
    let tz = chrono_tz::Europe::Istanbul;
    let day = |at: i64| chrono::DateTime::from_timestamp(at, 0).unwrap().with_timezone(&tz).date_naive().to_string();
    let mut days = std::collections::BTreeMap::new();
    let orders: Vec<(i64, String, i64, i64)> =
        sqlx::query_as("SELECT created_at, status, total, items_count FROM orders WHERE currency = 'TRY'")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    for (at, status, total, items) in orders {
        if ["processing", "on-hold", "completed", "refunded"].contains(&status.as_str()) {
            let entry: &mut (i64, i64, i64, i64) = days.entry(day(at)).or_default();
            entry.0 += total;
            entry.2 += 1;
            entry.3 += items;
        }
    }
    let refunds: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT r.created_at, r.amount FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.currency = 'TRY'",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    for (at, amount) in refunds {
        days.entry(day(at)).or_default().1 += amount;
    }
    days
}

/// The ten products with the highest line totals among the sales of `from`..=`to` (days
/// in `tz`), from the order lines themselves: (product id, quantity, revenue).
async fn top_products_by_scan(app: &TestApp, tz: chrono_tz::Tz, from: &str, to: &str) -> Vec<(i64, i64, i64)> {
    let day = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    let (start, end) = (
        backend::sales_daily::day_start(day(from), tz),
        backend::sales_daily::day_start(day(to).succ_opt().unwrap(), tz),
    );
    let lines: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT i.product_id, i.quantity, i.total FROM order_items i JOIN orders o ON o.id = i.order_id \
         WHERE o.currency = 'TRY' AND o.status IN ('processing', 'on-hold', 'completed', 'refunded') AND o.created_at >= $1 AND o.created_at < $2",
    )
    .bind(start)
    .bind(end)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let mut products = std::collections::BTreeMap::<i64, (i64, i64)>::new();
    for (product, quantity, total) in lines {
        let p = products.entry(product).or_default();
        p.0 += quantity;
        p.1 += total;
    }
    let mut ranked: Vec<(i64, i64, i64)> = products.into_iter().map(|(id, (q, r))| (id, q, r)).collect();
    ranked.sort_by_key(|&(id, _, revenue)| (std::cmp::Reverse(revenue), id));
    ranked.truncate(10);
    ranked
}

async fn the_sales_report_equals_a_full_scan_of_the_orders(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = app.key(Scope::Write).await;
    demo::load(&app.db, DemoOptions { orders: 2_000, seed: 11 }, |_| {}).await.unwrap();
    let tz = chrono_tz::Europe::Istanbul;
    // Orders on both sides of last midnight in Istanbul, paid through the API (so the
    // aggregates are kept by the same path real changes take).
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let midnight = backend::sales_daily::day_start(today, tz);
    for (n, at) in [
        (1, midnight - 1),
        (2, midnight),
        (3, midnight - 3 * 3600 - 1),
        (4, midnight + 86_399.min(backend::clock::now() - midnight)),
    ] {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO orders (number, status, currency, total, items_count, created_at, updated_at) VALUES ($1, 'pending', 'TRY', $2, 1, $3, $3) RETURNING id",
        )
        .bind(format!("90000{n}"))
        .bind(10_000 * n)
        .bind(at)
        .fetch_one(app.db.writer())
        .await
        .unwrap();
        let response = app
            .api(Method::PATCH, &format!("/api/v1/orders/{id}"), &key)
            .json(&serde_json::json!({ "status": "processing" }))
            .send()
            .await
            .unwrap();
        assert_status(&response, StatusCode::OK);
    }
    // A refund today of an order placed long ago counts today.
    let old = refundable_order(&app, &key, 0).await;
    let response = app
        .api(Method::POST, &format!("/api/v1/orders/{}/refunds", old["id"]), &key)
        .json(&serde_json::json!({ "amount": 1_234, "restock": false }))
        .send()
        .await
        .unwrap();
    assert_status(&response, StatusCode::CREATED);

    let scan = full_scan(&app).await;
    let sum = |first: &str, last: &str| {
        scan.range(first.to_owned()..=last.to_owned())
            .fold((0, 0, 0, 0), |a, (_, d)| (a.0 + d.0, a.1 + d.1, a.2 + d.2, a.3 + d.3))
    };
    for query in ["period=today", "period=7d", "period=90d", "from=2025-12-01&to=2026-03-15"] {
        let report = get_json(&app, &key, &format!("/api/v1/reports/sales?{query}")).await;
        let (from, to) = (report["from"].as_str().unwrap(), report["to"].as_str().unwrap());
        let (gross, refunds, orders, items) = sum(from, to);
        let totals = &report["totals"];
        assert_eq!(
            (
                totals["gross"].as_i64().unwrap(),
                totals["refunds"].as_i64().unwrap(),
                totals["orders"].as_i64().unwrap(),
                totals["items"].as_i64().unwrap()
            ),
            (gross, refunds, orders, items),
            "{query}"
        );
        assert_eq!(totals["net"].as_i64().unwrap(), gross - refunds);
        for day in report["series"].as_array().unwrap() {
            let expected = scan.get(day["day"].as_str().unwrap()).copied().unwrap_or_default();
            assert_eq!(
                (day["gross"].as_i64().unwrap(), day["refunds"].as_i64().unwrap(), day["orders"].as_i64().unwrap()),
                (expected.0, expected.1, expected.2),
                "{query} {day}"
            );
        }
        let scanned = top_products_by_scan(&app, tz, from, to).await;
        let reported: Vec<(i64, i64, i64)> = report["top_products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (p["product_id"].as_i64().unwrap(), p["quantity"].as_i64().unwrap(), p["revenue"].as_i64().unwrap())
            })
            .collect();
        assert_eq!(reported, scanned, "{query}: top products");
        let (previous_gross, _, previous_orders, _) =
            sum(report["previous_from"].as_str().unwrap(), report["previous_to"].as_str().unwrap());
        assert_eq!(
            (report["previous"]["gross"].as_i64().unwrap(), report["previous"]["orders"].as_i64().unwrap()),
            (previous_gross, previous_orders),
            "{query}"
        );
    }
    let today_report = get_json(&app, &key, "/api/v1/reports/sales?period=today").await;
    assert!(today_report["totals"]["refunds"].as_i64().unwrap() >= 1_234);
    let week = get_json(&app, &key, "/api/v1/reports/sales?period=7d").await;
    assert_eq!(week["series"].as_array().unwrap().len(), 7);
    assert!(week["top_products"].as_array().unwrap().len() <= 10);
    for (query, expected) in [
        ("period=1y", "invalid_query"),
        ("from=2026-02-01&to=2026-01-01", "invalid_query"),
        ("period=7d&from=2026-01-01", "invalid_query"),
        ("from=2020-01-01&to=2026-01-01", "invalid_query"),
        ("currency=lira", "invalid_query"),
    ] {
        let (status, code) =
            error_code(app.api(Method::GET, &format!("/api/v1/reports/sales?{query}"), &key).send().await.unwrap())
                .await;
        assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, expected), "{query}");
    }
    app.stop().await;
}

async fn notes_are_private_or_for_the_customer(engine: Engine) {
    let (app, read) = shop_with_orders(engine).await;
    let key = app.key(Scope::Write).await;
    let id = app.count("SELECT MIN(id) FROM orders").await;
    let post =
        |key: &str, body: Value| app.api(Method::POST, &format!("/api/v1/orders/{id}/notes"), key).json(&body).send();
    let response = post(&key, serde_json::json!({ "note": "Müşteri aradı, <b>kapıya</b> bırakılsın" })).await.unwrap();
    assert_status(&response, StatusCode::CREATED);
    let note: Value = response.json().await.unwrap();
    assert_eq!(
        (note["to_customer"].as_bool(), note["body"].as_str()),
        (Some(false), Some("Müşteri aradı, <b>kapıya</b> bırakılsın"))
    );
    assert_status(
        &post(&key, serde_json::json!({ "note": "Kargonuz yolda.", "to_customer": true })).await.unwrap(),
        StatusCode::CREATED,
    );
    let order = get_json(&app, &key, &format!("/api/v1/orders/{id}")).await;
    let bodies: Vec<&str> = order["notes"].as_array().unwrap().iter().map(|n| n["body"].as_str().unwrap()).collect();
    assert!(bodies.contains(&"Kargonuz yolda."));
    // Only the customer's note waits for the mail outbox.
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM order_events WHERE order_id = {id} AND kind = 'order.customer_note'"))
            .await,
        1
    );
    for (body, expected) in [
        (serde_json::json!({ "note": "" }), (StatusCode::UNPROCESSABLE_ENTITY, "invalid")),
        (serde_json::json!({ "note": "x".repeat(5_001) }), (StatusCode::UNPROCESSABLE_ENTITY, "invalid")),
        // The schema's limit counts the note as sent, spaces around it included.
        (
            serde_json::json!({ "note": format!("x{}", " ".repeat(5_000)) }),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ),
        (serde_json::json!({ "note": "x", "pin": true }), (StatusCode::UNPROCESSABLE_ENTITY, "invalid")),
    ] {
        let (status, code) = error_code(post(&key, body).await.unwrap()).await;
        assert_eq!((status, code.as_str()), expected);
    }
    let (status, code) = error_code(post(&read, serde_json::json!({ "note": "x" })).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "insufficient_scope"));
    app.stop().await;
}

on_both_databases!(
    notes_are_private_or_for_the_customer,
    the_sales_report_equals_a_full_scan_of_the_orders,
    transactions_list_across_the_store_with_filters,
    refunds_per_line_and_in_full_never_exceed_what_was_paid,
    refunds_racing_for_the_last_lira_never_refund_more_than_was_paid,
    retries_of_a_refund_still_being_made_get_its_result,
    status_changes_follow_the_policy_and_leave_a_trail,
    the_list_pages_through_every_order_newest_first,
    filters_and_sorting_match_the_database,
    one_order_comes_whole_with_its_panel_link,
    bad_list_queries_get_their_error_codes,
);
