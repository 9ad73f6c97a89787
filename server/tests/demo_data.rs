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

/// The SQLite database's file; none on PostgreSQL.
async fn db_file(db: &Db) -> Option<String> {
    if db.backend() != backend::db::Backend::Sqlite {
        return None;
    }
    let row: (i64, String, String) = sqlx::query_as("PRAGMA database_list").fetch_one(db.pool()).await.unwrap();
    Some(row.2)
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
    if let Some(path) = db_file(&db).await {
        // The load's one transaction went through SQLite's write-ahead log, which is given
        // back to the disk afterwards (it would keep a million orders' size until restart).
        let log = std::fs::metadata(format!("{path}-wal")).map_or(0, |m| m.len());
        let database = std::fs::metadata(&path).unwrap().len();
        assert!(log < 1 << 20, "a write-ahead log of {log} bytes beside a database of {database}");
    }
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
    // Refunds give back what was paid: a unit at its price after the coupon, never more
    // than its line or its order.
    assert_eq!(
        count("SELECT COUNT(*) FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.amount > o.total").await,
        0
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM refund_lines l JOIN order_items i ON i.id = l.order_item_id \
               WHERE (l.amount + l.tax) * i.quantity > (i.total + i.total_tax) * l.quantity"
        )
        .await,
        0
    );
    assert_eq!(count("SELECT COUNT(*) FROM orders WHERE refunded_total > total").await, 0);

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

/// The log lines of this test process, as text (one global subscriber: each test runs in a
/// process of its own, and SQLite's statements are logged from its worker threads).
fn captured_logs() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    static LOGS: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt().with_env_filter("sqlx=warn").with_writer(move || Capture(sink.clone())).init();
        logs
    })
    .clone()
}

struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn bulk_work_is_not_reported_as_slow(engine: Engine) {
    let logs = captured_logs();
    let db = database(engine).await;
    // A statement that takes over a second, sqlx's threshold for a warning.
    let slow = match engine {
        Engine::Sqlite => {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000000) SELECT CAST(COUNT(*) AS TEXT) FROM n"
        }
        Engine::Postgres => "SELECT 1 FROM pg_sleep(1.1)",
    };
    let slow_warnings = || String::from_utf8_lossy(&logs.lock().unwrap()).matches("slow statement").count();
    let mut bulk = db.bulk_connection().await.unwrap();
    let started = std::time::Instant::now();
    sqlx::query(slow).execute(&mut bulk).await.unwrap();
    assert!(started.elapsed() > std::time::Duration::from_secs(1), "the statement is slow enough to be reported");
    assert_eq!(slow_warnings(), 0, "bulk work, slow by design, raises no warning");
    // The same statement on a serving connection is reported (so the capture works).
    sqlx::query(slow).execute(db.writer()).await.unwrap();
    assert_eq!(slow_warnings(), 1, "a slow statement while serving is reported");
    db.close().await;
}

on_both_databases!(
    demo_data_is_complete_and_its_daily_figures_match_a_full_rebuild,
    the_same_seed_gives_the_same_shop,
    demo_data_goes_only_into_an_empty_shop,
    bulk_work_is_not_reported_as_slow,
);
