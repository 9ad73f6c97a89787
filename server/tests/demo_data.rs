//! `backroom demo`: a realistic, deterministic shop whose daily figures agree with its orders.

mod common;

use backend::{
    db::Db,
    demo::{self, DemoOptions},
    sales_daily, settings,
};
use common::*;

async fn database(engine: Engine) -> Db {
    let (url, _) = fresh_database(engine).await;
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    db
}

async fn daily_rows(db: &Db) -> Vec<(String, String, i64, i64, i64, i64)> {
    sqlx::query_as("SELECT day, currency, orders, items, gross, refunds FROM sales_daily ORDER BY day, currency")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

async fn index_count(db: &Db, engine: Engine) -> i64 {
    let sql = match engine {
        Engine::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'",
        Engine::Postgres => "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema()",
    };
    sqlx::query_as::<_, (i64,)>(sql).fetch_one(db.pool()).await.unwrap().0
}

async fn demo_data_is_complete_and_its_daily_figures_match_a_full_rebuild(engine: Engine) {
    let db = database(engine).await;
    let indexes_before = index_count(&db, engine).await;
    let summary = demo::load(&db, DemoOptions { orders: 3_000, seed: 7 }, |_| {}).await.unwrap();
    assert_eq!(summary.orders, 3_000);
    assert_eq!(index_count(&db, engine).await, indexes_before, "the indexes dropped for the load are back");
    assert!(summary.products >= 200 && summary.variations > 0);

    let pool = db.pool();
    let count = |sql: &'static str| async move { sqlx::query_as::<_, (i64,)>(sql).fetch_one(pool).await.unwrap().0 };
    assert_eq!(count("SELECT COUNT(*) FROM orders").await, 3_000);
    assert!(count("SELECT COUNT(*) FROM order_items").await >= 3_000);
    assert!(count("SELECT COUNT(*) FROM refunds").await > 0);
    assert!(count("SELECT COUNT(*) FROM payment_transactions").await > 0);
    assert!(count("SELECT COUNT(*) FROM order_notes").await >= 3_000);
    assert!(count("SELECT COUNT(DISTINCT status) FROM orders").await >= 6, "a realistic status mix");
    assert!(count("SELECT COUNT(DISTINCT billing_country) FROM orders").await >= 4);
    assert!(count("SELECT COUNT(*) FROM customers WHERE phone LIKE '+905%' AND first_name <> ''").await > 0);
    assert_eq!(count("SELECT COUNT(*) FROM customers WHERE phone NOT LIKE '+%'").await, 0, "E.164 phones");
    // Totals add up: lines + shipping + fees + tax.
    assert_eq!(
        count("SELECT COUNT(*) FROM orders o WHERE o.total <> (SELECT CAST(SUM(i.total) AS BIGINT) FROM order_items i WHERE i.order_id = o.id) + o.shipping_total + o.fee_total + o.total_tax").await,
        0
    );

    let written = daily_rows(&db).await;
    let tz = settings::get(&db).await.unwrap().tz();
    sales_daily::rebuild(&db, tz).await.unwrap();
    assert_eq!(daily_rows(&db).await, written, "the figures kept during loading equal a rebuild from the orders");
    db.close().await;
}

async fn the_same_seed_gives_the_same_shop(engine: Engine) {
    let (a, b) = (database(engine).await, database(engine).await);
    for db in [&a, &b] {
        demo::load(db, DemoOptions { orders: 300, seed: 42 }, |_| {}).await.unwrap();
    }
    let fingerprint = |db: Db| async move {
        sqlx::query_as::<_, (String, String, i64)>("SELECT number, billing_email, total FROM orders ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap()
    };
    assert_eq!(fingerprint(a).await, fingerprint(b).await);
}

async fn demo_data_goes_only_into_an_empty_shop(engine: Engine) {
    let db = database(engine).await;
    demo::load(&db, DemoOptions { orders: 10, seed: 1 }, |_| {}).await.unwrap();
    let again = demo::load(&db, DemoOptions { orders: 10, seed: 1 }, |_| {}).await.unwrap_err();
    assert!(again.to_string().contains("empty shop"), "{again}");
    let negative = demo::load(&db, DemoOptions { orders: -5, seed: 1 }, |_| {}).await.unwrap_err();
    assert!(negative.to_string().contains("between 0 and"), "{negative}");
    db.close().await;
}

on_both_databases!(
    demo_data_is_complete_and_its_daily_figures_match_a_full_rebuild,
    the_same_seed_gives_the_same_shop,
    demo_data_goes_only_into_an_empty_shop,
);
