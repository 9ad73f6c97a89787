//! Accounting sync against a stand-in ledger (`end2end/cari_mock.mjs`) on both databases:
//! the exact payloads, customer matching, gap-free numbering under concurrency, the
//! ledger's errors (timeout after acting, 5xx, 429, 401, 422, unreadable answers), a
//! process killed mid-sync, bulk sync with progress and cancel, refunds, the request log
//! (redaction, retention) and the API.

mod cari_mock;
mod common;

use std::time::Duration;

use backend::{
    access::Scope,
    accounting::{
        self, bulk,
        settings::{self, Numbering, RefundHandling, SettingsUpdate},
    },
    demo::{self, DemoOptions},
    sales_daily::local_day,
};
use cari_mock::{COMPANY, CariMock, KEY};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// An order as a test wants it; amounts in kuruş.
struct Spec<'a> {
    number: &'a str,
    status: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    company: &'a str,
    email: &'a str,
    tax_number: &'a str,
    national_id: &'a str,
    /// name, sku, quantity, unit price, tax of the line
    items: Vec<(String, &'a str, i64, i64, i64)>,
    /// title, total, tax
    shipping: Option<(&'a str, i64, i64)>,
}

impl Default for Spec<'_> {
    fn default() -> Self {
        Spec {
            number: "1001",
            status: "processing",
            first_name: "Şule",
            last_name: "Yılmaz",
            company: "",
            email: "sule@example.com.tr",
            tax_number: "",
            national_id: "",
            items: vec![("Türk kahvesi 250 g".into(), "TK-250", 2, 12_000, 4_800)],
            shipping: None,
        }
    }
}

async fn insert_order(db: &backend::db::Db, spec: Spec<'_>) -> i64 {
    let lines_net: i64 = spec.items.iter().map(|(_, _, q, p, _)| q * p).sum();
    let lines_tax: i64 = spec.items.iter().map(|i| i.4).sum();
    let (ship_total, ship_tax) = spec.shipping.map(|(_, t, x)| (t, x)).unwrap_or((0, 0));
    let total = lines_net + lines_tax + ship_total + ship_tax;
    let now = backend::clock::now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO orders (number, status, currency, billing_first_name, billing_last_name, billing_company, billing_address_1, \
         billing_address_2, billing_city, billing_state, billing_postcode, billing_country, billing_email, billing_phone, \
         billing_tax_number, billing_tax_office, billing_national_id, shipping_total, shipping_tax, cart_tax, total_tax, total, \
         items_count, created_at, updated_at, paid_at) \
         VALUES ($1, $2, 'TRY', $3, $4, $5, 'Atatürk Cd. No:5', 'Daire 3', 'Kadıköy', 'TR34', '34710', 'TR', $6, '+905321234567', \
         $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $16) RETURNING id",
    )
    .bind(spec.number)
    .bind(spec.status)
    .bind(spec.first_name)
    .bind(spec.last_name)
    .bind(spec.company)
    .bind(spec.email)
    .bind(spec.tax_number)
    .bind(if spec.tax_number.is_empty() { "" } else { "Kadıköy" })
    .bind(spec.national_id)
    .bind(ship_total)
    .bind(ship_tax)
    .bind(lines_tax)
    .bind(lines_tax + ship_tax)
    .bind(total)
    .bind(spec.items.iter().map(|i| i.2).sum::<i64>())
    .bind(now - 3600)
    .fetch_one(db.writer())
    .await
    .unwrap();
    for (name, sku, quantity, price, tax) in &spec.items {
        sqlx::query(
            "INSERT INTO order_items (order_id, name, sku, quantity, unit_price, subtotal, subtotal_tax, total, total_tax) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $7)",
        )
        .bind(id)
        .bind(name)
        .bind(sku)
        .bind(quantity)
        .bind(price)
        .bind(quantity * price)
        .bind(tax)
        .execute(db.writer())
        .await
        .unwrap();
    }
    if let Some((title, total, tax)) = spec.shipping {
        sqlx::query("INSERT INTO order_shipping_lines (order_id, method_id, method_title, total, total_tax) VALUES ($1, 'flat_rate', $2, $3, $4)")
            .bind(id)
            .bind(title)
            .bind(total)
            .bind(tax)
            .execute(db.writer())
            .await
            .unwrap();
    }
    id
}

fn default_settings(mock: &CariMock) -> SettingsUpdate {
    SettingsUpdate {
        enabled: true,
        base_url: mock.base_url(),
        company_code: COMPANY.into(),
        api_key: Some(KEY.into()),
        invoice_prefix: "WEB".into(),
        numbering: Numbering::OrderNumber,
        trigger_statuses: vec!["completed".into()],
        refunds: RefundHandling::CreditNote,
        shipping_as_line: true,
        fees_as_line: true,
        vat_codes: "20=KDV20, 10=KDV10, 1=KDV1, 0=KDV0".into(),
        max_attempts: 5,
        log_retention_days: 30,
        redact_personal_data: false,
    }
}

async fn configure(app: &TestApp, update: SettingsUpdate) {
    settings::update(&app.db, &app.sealer, &app.owner().await, None, update).await.unwrap();
}

async fn document(app: &TestApp, order_id: i64) -> (String, Option<String>) {
    sqlx::query_as("SELECT state, last_error FROM accounting_documents WHERE order_id = $1 AND kind = 'invoice'")
        .bind(order_id)
        .fetch_optional(app.db.pool())
        .await
        .unwrap()
        .unwrap_or_else(|| ("none".into(), None))
}

async fn wait_for_state(app: &TestApp, order_id: i64, state: &str) {
    eventually(&format!("order {order_id}'s invoice is {state}"), || async {
        document(app, order_id).await.0 == state
    })
    .await;
}

/// Makes the failed document's job due now (its backoff passed), once the worker has put
/// it back in the queue (the document records the failure a moment before the job does).
async fn make_due(app: &TestApp) {
    eventually("the failed job is back in the queue", || async {
        let due = sqlx::query(
            "UPDATE jobs SET run_at = 0 WHERE kind = 'accounting.sync' AND state = 'queued' AND last_error IS NOT NULL",
        )
        .execute(app.db.writer())
        .await
        .unwrap();
        due.rows_affected() > 0
    })
    .await;
}

async fn complete(app: &TestApp, key: &str, order_id: i64) {
    let done = app
        .api(Method::PATCH, &format!("/api/v1/orders/{order_id}"), key)
        .json(&json!({ "status": "completed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK, "{:?}", done.text().await);
}

async fn accounting_app(engine: Engine, concurrency: usize) -> TestApp {
    spawn_app_with(
        engine,
        Options { accounting_concurrency: concurrency, accounting_timeout_secs: Some(1), ..Options::default() },
    )
    .await
}

fn body_of<'a>(state: &'a Value, method: &str, path: &str) -> Vec<&'a Value> {
    state["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == method && r["path"] == path)
        .map(|r| &r["body"])
        .collect()
}

async fn an_order_reaching_a_trigger_status_becomes_one_exact_invoice(engine: Engine) {
    let (app, mock) = (accounting_app(engine, 2).await, CariMock::start());
    let key = app.key(Scope::Write).await;
    configure(&app, default_settings(&mock)).await;
    assert_eq!(
        accounting::sync::test_connection(&app.accounting()).await,
        Ok(format!("Connected to Cari.com.tr: Örnek Ticaret A.Ş. ({COMPANY})"))
    );
    let id = insert_order(
        &app.db,
        Spec {
            company: "Çiçek Gıda Ltd. Şti.",
            tax_number: "1234567890",
            items: vec![
                ("Türk kahvesi 250 g".into(), "TK-250", 2, 12_000, 4_800),
                ("Çay bardağı".into(), "CB-6", 1, 9_999, 2_000),
            ],
            shipping: Some(("Yurtiçi Kargo", 5_000, 1_000)),
            ..Spec::default()
        },
    )
    .await;
    complete(&app, &key, id).await;
    wait_for_state(&app, id, "synced").await;

    let state = mock.state().await;
    let address = json!({ "satir1": "Atatürk Cd. No:5", "satir2": "Daire 3", "sehir": "Kadıköy", "bolge": "TR34", "posta_kodu": "34710", "ulke": "TR" });
    assert_eq!(
        body_of(&state, "POST", "/v1/cariler"),
        vec![&json!({
            "tip": "kurumsal", "unvan": "Çiçek Gıda Ltd. Şti.", "ad": "Şule", "soyad": "Yılmaz", "vergi_no": "1234567890",
            "vergi_dairesi": "Kadıköy", "tc_kimlik_no": "", "eposta": "sule@example.com.tr", "telefon": "+905321234567", "adres": address,
        })]
    );
    let completed_at: i64 = sqlx::query_scalar("SELECT completed_at FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let tz = backend::settings::get(&app.db).await.unwrap().tz();
    let line = |name: &str, sku: &str, quantity: i64, price: &str, net: &str, tax: &str, total: &str| {
        json!({ "aciklama": name, "stok_kodu": sku, "miktar": quantity, "birim_fiyat": price, "ara_toplam": net, "iskonto": "0.00",
                "kdv_orani": 20, "kdv_kodu": "KDV20", "kdv_tutari": tax, "toplam": total })
    };
    assert_eq!(
        body_of(&state, "POST", "/v1/faturalar"),
        vec![&json!({
            "referans": format!("backroom-order-{id}"), "seri": "WEB", "numara": "WEB1001", "tarih": local_day(completed_at, tz).to_string(),
            "para_birimi": "TRY", "siparis_no": "1001", "cari_id": "C-1", "vergi_no": "1234567890", "vergi_dairesi": "Kadıköy",
            "tc_kimlik_no": "", "fatura_adresi": address,
            "satirlar": [
                line("Türk kahvesi 250 g", "TK-250", 2, "120.00", "240.00", "48.00", "288.00"),
                line("Çay bardağı", "CB-6", 1, "99.99", "99.99", "20.00", "119.99"),
                line("Kargo: Yurtiçi Kargo", "", 1, "50.00", "50.00", "10.00", "60.00"),
            ],
            "kargo": null, "ek_ucretler": null, "iskonto_toplam": "0.00", "kdv_toplam": "78.00", "genel_toplam": "467.99",
        })]
    );

    // The order shows where it is, over the API.
    let order: Value =
        app.api(Method::GET, &format!("/api/v1/orders/{id}"), &key).send().await.unwrap().json().await.unwrap();
    let invoice = &order["accounting"][0];
    assert_eq!((invoice["kind"].as_str(), invoice["state"].as_str()), (Some("invoice"), Some("synced")));
    assert_eq!(
        (invoice["number"].as_str(), invoice["remote_id"].as_str(), invoice["remote_number"].as_str()),
        (Some("WEB1001"), Some("F-1"), Some("WEB1001"))
    );

    // Reopened and completed again: still one invoice.
    let reopened = app
        .api(Method::PATCH, &format!("/api/v1/orders/{id}"), &key)
        .json(&json!({ "status": "processing", "reason": "wrong size" }))
        .send()
        .await
        .unwrap();
    assert_eq!(reopened.status(), StatusCode::OK);
    complete(&app, &key, id).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(mock.invoices().await.len(), 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM accounting_documents").await, 1);

    // The connection test says what is wrong.
    configure(&app, SettingsUpdate { company_code: "YOK".into(), api_key: None, ..default_settings(&mock) }).await;
    assert_eq!(
        accounting::sync::test_connection(&app.accounting()).await,
        Err("Cari.com.tr does not know the company code YOK; check it".into())
    );
    configure(&app, SettingsUpdate { api_key: Some("wrong-key-0123456789".into()), ..default_settings(&mock) }).await;
    let refused = accounting::sync::test_connection(&app.accounting()).await.unwrap_err();
    assert!(refused.contains("refused the API key"), "{refused}");
    configure(
        &app,
        SettingsUpdate { base_url: format!("http://127.0.0.1:{}/api", free_port()), ..default_settings(&mock) },
    )
    .await;
    let unreachable = accounting::sync::test_connection(&app.accounting()).await.unwrap_err();
    assert!(unreachable.contains("could not be reached"), "{unreachable}");
    app.stop().await;
}

async fn customers_are_matched_by_tax_number_national_id_then_email(engine: Engine) {
    let (app, mock) = (accounting_app(engine, 4).await, CariMock::start());
    configure(&app, default_settings(&mock)).await;
    mock.seed_customer(json!({ "unvan": "Eski Müşteri A.Ş.", "vergi_no": "1111111111" })).await;
    let known = insert_order(
        &app.db,
        Spec { number: "2001", company: "Eski Müşteri A.Ş.", tax_number: "1111111111", ..Spec::default() },
    )
    .await;
    let mut same_email = Vec::new();
    for n in 0..6 {
        same_email.push(
            insert_order(&app.db, Spec { number: &format!("21{n:02}"), email: "ayse@example.com", ..Spec::default() })
                .await,
        );
    }
    let national = insert_order(&app.db, Spec { number: "2201", national_id: "12345678901", ..Spec::default() }).await;
    let owner = app.owner().await;
    let mut all = vec![known, national];
    all.extend(&same_email);
    let run = bulk::start(&app.db, &owner, None, &all, "test", false).await.unwrap();
    eventually("the bulk sync finishes", || async { bulk::progress(&app.db, run).await.unwrap().state == "finished" })
        .await;

    let customers = mock.customers().await;
    assert_eq!(customers.len(), 3, "the seeded one, one for the shared email, one for the national id: {customers:?}");
    assert_eq!(customers[0]["updates"], 1, "the known customer was updated, not created again");
    assert!(customers.iter().any(|c| c["tc_kimlik_no"] == "12345678901" && c["tip"] == "bireysel"));
    let invoices = mock.invoices().await;
    assert_eq!(invoices.len(), 8);
    let email_customer = customers.iter().find(|c| c["eposta"] == "ayse@example.com").unwrap()["id"].clone();
    assert_eq!(invoices.iter().filter(|i| i["cari_id"] == email_customer).count(), 6);
    assert_eq!(invoices.iter().find(|i| i["siparis_no"] == "2001").unwrap()["cari_id"], "C-1");
    app.stop().await;
}

async fn own_sequence_numbers_have_no_gaps_under_concurrent_syncs(engine: Engine) {
    let (app, mock) = (accounting_app(engine, 8).await, CariMock::start());
    configure(
        &app,
        SettingsUpdate { numbering: Numbering::Sequence, invoice_prefix: "BR".into(), ..default_settings(&mock) },
    )
    .await;
    mock.configure(json!({ "latency_ms": 20 })).await;
    let mut ids = Vec::new();
    for n in 0..40 {
        ids.push(
            insert_order(
                &app.db,
                Spec { number: &format!("3{n:03}"), email: &format!("c{n}@example.com"), ..Spec::default() },
            )
            .await,
        );
    }
    let run = bulk::start(&app.db, &app.owner().await, None, &ids, "test", false).await.unwrap();
    eventually("the bulk sync finishes", || async { bulk::progress(&app.db, run).await.unwrap().state == "finished" })
        .await;
    let mut numbers: Vec<String> =
        mock.invoices().await.iter().map(|i| i["numara"].as_str().unwrap().to_owned()).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=40).map(|n| format!("BR{n:06}")).collect();
    assert_eq!(numbers, expected);
    let stored: Vec<String> = sqlx::query_scalar("SELECT number FROM accounting_documents ORDER BY number")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, expected);
    let progress = bulk::progress(&app.db, run).await.unwrap();
    assert_eq!((progress.total, progress.done, progress.failed, progress.remaining), (40, 40, 0, 0));
    app.stop().await;
}

async fn a_timeout_after_the_ledger_acted_ends_in_one_invoice(engine: Engine) {
    let (app, mock) = (accounting_app(engine, 1).await, CariMock::start());
    let key = app.key(Scope::Write).await;
    configure(&app, default_settings(&mock)).await;
    let id = insert_order(&app.db, Spec::default()).await;
    // The ledger makes the invoice, then answers after our time limit.
    mock.script(json!([{ "match": "POST /v1/faturalar", "commit": true, "delay_ms": 2500 }])).await;
    complete(&app, &key, id).await;
    eventually("the attempt times out", || async {
        document(&app, id).await == ("failed".into(), Some("Cari.com.tr did not answer in time".into()))
    })
    .await;
    assert_eq!(mock.invoices().await.len(), 1);
    make_due(&app).await;
    wait_for_state(&app, id, "synced").await;
    assert_eq!(mock.invoices().await.len(), 1, "the retry found the invoice instead of making another");
    let requests = mock.requests().await;
    assert_eq!(requests.iter().filter(|r| *r == "POST /v1/faturalar").count(), 1);
    assert_eq!(requests.iter().filter(|r| *r == "GET /v1/faturalar").count(), 1, "{requests:?}");
    let remote: Option<String> = sqlx::query_scalar("SELECT remote_id FROM accounting_documents WHERE order_id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(remote.as_deref(), Some("F-1"));
    app.stop().await;
}

async fn refused_credentials_pause_syncing_without_spending_attempts(engine: Engine) {
    let (app, mock) = (accounting_app(engine, 2).await, CariMock::start());
    configure(&app, default_settings(&mock)).await;
    mock.configure(json!({ "key": "the-key-was-revoked" })).await;
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(insert_order(&app.db, Spec { number: &format!("4{n:03}"), ..Spec::default() }).await);
    }
    bulk::start(&app.db, &app.owner().await, None, &ids, "test", false).await.unwrap();
    eventually("syncing pauses", || async { settings::get(&app.db).await.unwrap().paused_reason.is_some() }).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let reason = settings::get(&app.db).await.unwrap().paused_reason.unwrap();
    assert!(reason.contains("refused the API key"), "{reason}");
    let sent = mock.requests().await.len();
    assert!(sent <= 2, "at most one request per worker before the pause, not one per order: {sent}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'accounting.sync' AND (state <> 'queued' OR attempts > 0)")
            .await,
        0,
        "no attempt spent"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM accounting_documents WHERE state = 'synced'").await, 0);

    // The manager fixes the key; saving resumes everything.
    mock.configure(json!({ "key": KEY })).await;
    configure(&app, default_settings(&mock)).await;
    eventually("every order is synced", || async {
        app.count("SELECT COUNT(*) FROM accounting_documents WHERE state = 'synced'").await == 10
    })
    .await;
    assert_eq!(mock.invoices().await.len(), 10);
    assert!(settings::get(&app.db).await.unwrap().paused_reason.is_none());
    app.stop().await;
}

async fn each_error_of_the_ledger_is_handled_as_it_deserves(engine: Engine) {
    let (app, mock) = (accounting_app(engine, 1).await, CariMock::start());
    let key = app.key(Scope::Write).await;
    configure(&app, default_settings(&mock)).await;

    // 429 with Retry-After: waits as asked, spends no attempt.
    let slow = insert_order(&app.db, Spec { number: "5001", ..Spec::default() }).await;
    mock.script(json!([{ "match": "POST /v1/faturalar", "status": 429, "retry_after": 1, "body": { "hata": { "kod": "limit", "mesaj": "yavaş" } } }])).await;
    complete(&app, &key, slow).await;
    wait_for_state(&app, slow, "synced").await;
    let attempts: i64 = sqlx::query_scalar("SELECT attempts FROM jobs WHERE kind = 'accounting.sync'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(attempts, 1, "the throttled attempt did not count");

    // 500, then an answer that is not JSON, then a success without an id: each retried.
    for (n, script) in [
        json!({ "match": "POST /v1/faturalar", "status": 500, "body": { "hata": { "kod": "sunucu", "mesaj": "iç hata" } } }),
        json!({ "match": "POST /v1/faturalar", "status": 200, "raw": "<html>bakım</html>" }),
        json!({ "match": "POST /v1/faturalar", "status": 201, "body": { "ok": true } }),
    ]
    .into_iter()
    .enumerate()
    {
        let id = insert_order(&app.db, Spec { number: &format!("51{n:02}"), ..Spec::default() }).await;
        mock.script(json!([script])).await;
        complete(&app, &key, id).await;
        wait_for_state(&app, id, "failed").await;
        let reason = document(&app, id).await.1.unwrap();
        let expected = ["had an error (500): iç hata", "the answer is not JSON", "the answer has no invoice id"][n];
        assert!(reason.contains(expected), "{reason}");
        make_due(&app).await;
        wait_for_state(&app, id, "synced").await;
    }
    assert_eq!(mock.invoices().await.len(), 4);

    // 422: the ledger will not take it; dead at once with its reason, until retried.
    let refused = insert_order(&app.db, Spec { number: "5201", ..Spec::default() }).await;
    mock.script(json!([{ "match": "POST /v1/faturalar", "status": 422, "body": { "hata": { "kod": "gecersiz", "mesaj": "vergi dairesi eksik" } } }])).await;
    complete(&app, &key, refused).await;
    wait_for_state(&app, refused, "dead").await;
    assert!(document(&app, refused).await.1.unwrap().contains("refused the document (422): vergi dairesi eksik"));
    let problems = accounting::problems(&app.db, 10).await.unwrap();
    assert_eq!(
        problems.iter().map(|p| (p.order_number.as_str(), p.state.as_str())).collect::<Vec<_>>(),
        vec![("5201", "dead")]
    );
    accounting::retry(&app.db, &app.owner().await, None, problems[0].id).await.unwrap();
    wait_for_state(&app, refused, "synced").await;
    assert_eq!(mock.invoices().await.len(), 5);
    app.stop().await;
}

async fn a_process_killed_mid_sync_ends_with_one_invoice(engine: Engine) {
    let (url, data_dir) = fresh_database(engine).await;
    let mock = CariMock::start();
    let start = serve_processes(
        &url,
        &data_dir,
        &[("BACKROOM_ADDR", "127.0.0.1:0".into()), ("BACKROOM_ACCOUNTING_CONCURRENCY", "1".into())],
    );
    let mut first = start();
    let db = backend::db::Db::connect(&url).await.unwrap();
    eventually("the server has migrated", || async {
        sqlx::query("SELECT id FROM accounting_settings").fetch_optional(db.pool()).await.is_ok_and(|r| r.is_some())
    })
    .await;
    let (master, owner) = master_key_and_owner(&db, &data_dir).await;
    let sealer = master.sealer();
    settings::update(&db, &sealer, &owner, None, default_settings(&mock)).await.unwrap();
    let id = insert_order(&db, Spec::default()).await;
    // The ledger makes the invoice and takes its time answering: the process dies first.
    mock.script(json!([{ "match": "POST /v1/faturalar", "commit": true, "delay_ms": 60000 }])).await;
    accounting::sync_order(&db, &owner, None, None, id, false).await.unwrap();
    eventually("the ledger has the invoice", || async { mock.invoices().await.len() == 1 }).await;
    first.kill().unwrap();
    first.wait().unwrap();
    let (state, sent): (String, Option<i64>) =
        sqlx::query_as("SELECT state, sent_at FROM accounting_documents WHERE order_id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(state, "queued");
    assert!(sent.is_some(), "the document knows its create request went out");
    // The dead worker's lease runs out (it would after 5 minutes); another process takes over.
    sqlx::query("UPDATE jobs SET locked_until = 0 WHERE state = 'running'").execute(db.writer()).await.unwrap();
    let mut second = start();
    eventually("the invoice is synced", || async {
        sqlx::query_scalar::<_, String>("SELECT state FROM accounting_documents WHERE order_id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await
            .unwrap()
            == "synced"
    })
    .await;
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(mock.invoices().await.len(), 1, "exactly one invoice");
    assert_eq!(
        mock.requests().await.iter().filter(|r| *r == "GET /v1/faturalar").count(),
        1,
        "the second process asked first"
    );
    db.close().await;
}

async fn bulk_sync_of_ten_thousand_orders_reports_progress_to_the_end(engine: Engine) {
    let (app, mock) = (accounting_app(engine, 8).await, CariMock::start());
    demo::load(&app.db, DemoOptions { orders: 10_000, seed: 3 }, |_| {}).await.unwrap();
    configure(&app, default_settings(&mock)).await;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM orders ORDER BY id").fetch_all(app.db.pool()).await.unwrap();
    assert_eq!(ids.len(), 10_000);
    let run = bulk::start(&app.db, &app.owner().await, None, &ids, "everything", false).await.unwrap();
    let mut seen = Vec::new();
    let finished = loop {
        let progress = bulk::progress(&app.db, run).await.unwrap();
        seen.push(progress.done);
        if progress.state != "running" {
            break progress;
        }
        assert!(seen.len() < 3000, "the bulk sync did not finish in 10 minutes: {progress:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(finished.state, "finished");
    assert_eq!(
        (finished.total, finished.done, finished.failed, finished.skipped, finished.remaining),
        (10_000, 10_000, 0, 0, 0)
    );
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress only moves forward");
    assert!(seen.iter().any(|&done| done > 0 && done < 10_000), "progress was seen between the start and the end");
    assert_eq!(mock.invoices().await.len(), 10_000);

    // Again: everything is synced already, so everything is skipped.
    let again = bulk::start(&app.db, &app.owner().await, None, &ids[..100], "again", false).await.unwrap();
    eventually("the second run finishes", || async {
        bulk::progress(&app.db, again).await.unwrap().state == "finished"
    })
    .await;
    assert_eq!(bulk::progress(&app.db, again).await.unwrap().skipped, 100);
    assert_eq!(mock.invoices().await.len(), 10_000);
    app.stop().await;
}

async fn a_cancelled_bulk_sync_stops_what_has_not_started(engine: Engine) {
    let (app, mock) = (accounting_app(engine, 2).await, CariMock::start());
    configure(&app, default_settings(&mock)).await;
    mock.configure(json!({ "latency_ms": 150 })).await;
    let mut ids = Vec::new();
    for n in 0..60 {
        ids.push(insert_order(&app.db, Spec { number: &format!("6{n:03}"), ..Spec::default() }).await);
    }
    let owner = app.owner().await;
    let run = bulk::start(&app.db, &owner, None, &ids, "test", false).await.unwrap();
    eventually("a few are synced", || async { bulk::progress(&app.db, run).await.unwrap().done >= 3 }).await;
    bulk::cancel(&app.db, &owner, None, run).await.unwrap();
    let cancelled = bulk::progress(&app.db, run).await.unwrap();
    assert_eq!(cancelled.state, "cancelled");
    assert!(cancelled.cancelled > 30, "{cancelled:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = bulk::progress(&app.db, run).await.unwrap();
    assert_eq!(after.remaining, 0);
    assert_eq!(mock.invoices().await.len() as i64, after.done, "only what was under way finished");
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'accounting.sync' AND state = 'queued'").await, 0);
    app.stop().await;
}

async fn refunds_become_credit_notes_or_a_list_for_the_bookkeeper(engine: Engine) {
    let (app, mock) = (accounting_app(engine, 1).await, CariMock::start());
    let key = app.key(Scope::Write).await;
    configure(&app, default_settings(&mock)).await;
    let id = insert_order(&app.db, Spec::default()).await;
    complete(&app, &key, id).await;
    wait_for_state(&app, id, "synced").await;
    let refund = app
        .api(Method::POST, &format!("/api/v1/orders/{id}/refunds"), &key)
        .json(&json!({ "amount": 5000, "reason": "Kırık fincan", "restock": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(refund.status(), StatusCode::CREATED, "{:?}", refund.text().await);
    eventually("the credit note is sent", || async { mock.credit_notes().await.len() == 1 }).await;
    let note = &mock.credit_notes().await[0];
    assert_eq!(
        (note["fatura_id"].as_str(), note["genel_toplam"].as_str(), note["aciklama"].as_str()),
        (Some("F-1"), Some("50.00"), Some("Kırık fincan"))
    );
    assert_eq!(note["satirlar"][0]["toplam"], "50.00");

    configure(&app, SettingsUpdate { refunds: RefundHandling::Manual, ..default_settings(&mock) }).await;
    let second = app
        .api(Method::POST, &format!("/api/v1/orders/{id}/refunds"), &key)
        .json(&json!({ "amount": 1000, "restock": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::CREATED);
    let problems = accounting::problems(&app.db, 10).await.unwrap();
    assert_eq!(
        problems.iter().map(|p| (p.kind.as_str(), p.state.as_str())).collect::<Vec<_>>(),
        vec![("credit_note", "manual")]
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(mock.credit_notes().await.len(), 1, "a manual refund is not sent");
    app.stop().await;
}

async fn awkward_orders_are_invoiced_as_they_are(engine: Engine) {
    let (app, mock) = (accounting_app(engine, 2).await, CariMock::start());
    let key = app.key(Scope::Write).await;
    configure(&app, default_settings(&mock)).await;
    let hundred = insert_order(
        &app.db,
        Spec {
            number: "7001",
            items: (1..=100).map(|n| (format!("Ürün ğüşıöç {n}"), "SKU", 1, 1_000, 200)).collect(),
            ..Spec::default()
        },
    )
    .await;
    let free = insert_order(
        &app.db,
        Spec {
            number: "7002",
            email: "bedava@example.com",
            items: vec![("Hediye çeki".into(), "GIFT", 1, 0, 0)],
            ..Spec::default()
        },
    )
    .await;
    for id in [hundred, free] {
        complete(&app, &key, id).await;
        wait_for_state(&app, id, "synced").await;
    }
    let invoices = mock.invoices().await;
    let big = invoices.iter().find(|i| i["siparis_no"] == "7001").unwrap();
    assert_eq!(big["satirlar"].as_array().unwrap().len(), 100);
    assert_eq!(big["satirlar"][99]["aciklama"], "Ürün ğüşıöç 100");
    assert_eq!(big["genel_toplam"], "1200.00");
    let zero = invoices.iter().find(|i| i["siparis_no"] == "7002").unwrap();
    assert_eq!((zero["genel_toplam"].as_str(), zero["satirlar"][0]["kdv_kodu"].as_str()), (Some("0.00"), Some("KDV0")));
    assert!(
        mock.customers().await.iter().all(|c| c["tip"] == "bireysel" && c["vergi_no"] == ""),
        "no tax id: matched by email"
    );
    app.stop().await;
}

async fn the_log_keeps_no_key_redacts_when_asked_and_ages_out(engine: Engine) {
    let app = spawn_app_with(
        engine,
        Options { job_workers: 1, accounting_concurrency: 1, accounting_timeout_secs: Some(2), ..Options::default() },
    )
    .await;
    let mock = CariMock::start();
    let key = app.key(Scope::Write).await;
    configure(&app, SettingsUpdate { redact_personal_data: true, ..default_settings(&mock) }).await;
    let id = insert_order(&app.db, Spec::default()).await;
    complete(&app, &key, id).await;
    wait_for_state(&app, id, "synced").await;
    let entries = accounting::log::entries(&app.db, Some(id), false, None, 50).await.unwrap();
    let operations: Vec<&str> = entries.iter().rev().map(|e| e.operation.as_str()).collect();
    assert_eq!(operations, vec!["customer.find", "customer.create", "invoice.create"]);
    let logged = serde_json::to_string(&entries).unwrap();
    for secret in [KEY, "sule@example.com.tr", "Şule", "Yılmaz", "Atatürk", "905321234567"] {
        assert!(!logged.contains(secret) && !logged.contains(&secret.replace('@', "%40")), "{secret} is in the log");
    }
    assert!(logged.contains("Türk kahvesi"), "what was sold stays readable");

    configure(&app, default_settings(&mock)).await;
    let other = insert_order(&app.db, Spec { number: "8002", ..Spec::default() }).await;
    complete(&app, &key, other).await;
    wait_for_state(&app, other, "synced").await;
    let plain =
        serde_json::to_string(&accounting::log::entries(&app.db, Some(other), false, None, 50).await.unwrap()).unwrap();
    let operations: Vec<String> = accounting::log::entries(&app.db, Some(other), false, None, 50)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| e.operation)
        .collect();
    assert_eq!(
        operations,
        vec!["customer.update", "invoice.create"],
        "the customer is known now: updated, not looked up"
    );
    assert!(plain.contains("Şule"), "not redacted when the setting is off");
    assert!(!plain.contains(KEY), "the key is never logged");

    // Entries older than the retention go with the nightly clean-up.
    let old = backend::clock::now() - 31 * 86_400;
    sqlx::query("UPDATE accounting_log SET created_at = $1 WHERE order_id = $2")
        .bind(old)
        .bind(id)
        .execute(app.db.writer())
        .await
        .unwrap();
    sqlx::query("UPDATE jobs SET run_at = 0 WHERE kind = 'sessions.cleanup'").execute(app.db.writer()).await.unwrap();
    eventually("the old entries are gone", || async {
        app.count(&format!("SELECT COUNT(*) FROM accounting_log WHERE order_id = {id}")).await == 0
    })
    .await;
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM accounting_log WHERE order_id = {other}")).await,
        2,
        "newer entries stay"
    );
    app.stop().await;
}

async fn the_api_queues_a_sync_and_says_when_it_cannot(engine: Engine) {
    let (app, mock) = (accounting_app(engine, 1).await, CariMock::start());
    let (read, write) = (app.key(Scope::Read).await, app.key(Scope::Write).await);
    let id = insert_order(&app.db, Spec { status: "completed", ..Spec::default() }).await;
    let path = format!("/api/v1/orders/{id}/accounting-sync");
    let (status, code) = error_code(app.api(Method::POST, &path, &write).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"), "not set up yet");
    configure(&app, default_settings(&mock)).await;
    let (status, code) = error_code(app.api(Method::POST, &path, &read).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "insufficient_scope"));
    let (status, code) =
        error_code(app.api(Method::POST, "/api/v1/orders/999999/accounting-sync", &write).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let (status, code) =
        error_code(app.api(Method::POST, &path, &write).json(&json!({ "resync": "yes" })).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"));

    let queued = app.api(Method::POST, &path, &write).send().await.unwrap();
    assert_eq!(queued.status(), StatusCode::ACCEPTED);
    let queued: Value = queued.json().await.unwrap();
    assert_eq!((queued["result"].as_str(), queued["documents"][0]["state"].as_str()), (Some("queued"), Some("queued")));
    wait_for_state(&app, id, "synced").await;
    let again: Value =
        app.api(Method::POST, &path, &write).json(&json!({})).send().await.unwrap().json().await.unwrap();
    assert_eq!(again["result"], "already_synced");

    // A resync updates the ledger's invoice; it never makes a second one.
    sqlx::query("UPDATE orders SET billing_phone = '+905559998877' WHERE id = $1")
        .bind(id)
        .execute(app.db.writer())
        .await
        .unwrap();
    let resync: Value = app
        .api(Method::POST, &path, &write)
        .json(&json!({ "resync": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resync["result"], "queued");
    eventually("the invoice is updated", || async { mock.invoices().await[0]["updates"] == 1 }).await;
    wait_for_state(&app, id, "synced").await;
    assert_eq!(mock.invoices().await.len(), 1);
    assert_eq!(mock.customers().await[0]["telefon"], "+905559998877");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'accounting.sync'").await, 3);
    app.stop().await;
}

on_both_databases!(
    an_order_reaching_a_trigger_status_becomes_one_exact_invoice,
    customers_are_matched_by_tax_number_national_id_then_email,
    own_sequence_numbers_have_no_gaps_under_concurrent_syncs,
    a_timeout_after_the_ledger_acted_ends_in_one_invoice,
    refused_credentials_pause_syncing_without_spending_attempts,
    each_error_of_the_ledger_is_handled_as_it_deserves,
    a_process_killed_mid_sync_ends_with_one_invoice,
    bulk_sync_of_ten_thousand_orders_reports_progress_to_the_end,
    a_cancelled_bulk_sync_stops_what_has_not_started,
    refunds_become_credit_notes_or_a_list_for_the_bookkeeper,
    awkward_orders_are_invoiced_as_they_are,
    the_log_keeps_no_key_redacts_when_asked_and_ages_out,
    the_api_queues_a_sync_and_says_when_it_cannot,
);
