//! WhatsApp against a stand-in for Meta's Graph API (`end2end/graph_mock.mjs`) on both
//! databases: the exact request bodies Meta receives, the whole recovery sequence, each
//! fault of the plugin Backroom replaces (reference/LESSONS.md) shown absent, checkout
//! capture's bad input, Meta's errors and limits, opt-out replies, and a process killed
//! between Meta's acceptance and our record that still ends with one message.

mod common;
mod graph_mock;
mod woo_mock;

use backend::{
    clock::now,
    whatsapp::{
        config::{Config, Field, Mapping, Purpose},
        report, settings, setup, templates,
    },
};
use common::*;
use graph_mock::{GraphMock, PHONE_NUMBER_ID, TOKEN, WABA_ID};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use woo_mock::WooMock;

const APP_SECRET: &str = "meta-app-secret-5d41402abc4b2a76";
const SHOP: &str = "https://shop.example";
const PHONE: &str = "+905321234567";

struct Shop {
    app: TestApp,
    mock: GraphMock,
    /// The WooCommerce store, connected: recovery coupons are made there.
    store: WooMock,
}

/// The recovery and notification mapping the tests use, matching the mock's templates.
fn mapping() -> Vec<Mapping> {
    let map = |purpose, template: &str, parameters: Vec<Field>| Mapping {
        purpose,
        template: template.into(),
        language: "tr".into(),
        parameters,
    };
    vec![
        map(Purpose::Recovery1, "cart_reminder_1", vec![Field::FirstName, Field::CartTotal]),
        map(Purpose::Recovery2, "cart_reminder_2", vec![Field::FirstName, Field::CouponCode, Field::CouponPercent]),
        map(Purpose::Recovery3, "cart_reminder_3", vec![Field::FirstName]),
        map(Purpose::OrderProcessing, "order_processing", vec![Field::FirstName, Field::OrderNumber]),
        map(Purpose::OrderCompleted, "order_completed", vec![Field::OrderNumber, Field::OrderTotal, Field::FirstName]),
        map(Purpose::OrderCancelled, "order_cancelled", vec![Field::OrderNumber]),
    ]
}

/// Recovery on, the first message at once, quiet hours off, a coupon in message 2.
fn test_config() -> Config {
    let mut config = Config { shop_origins: vec![SHOP.into()], mapping: mapping(), ..Config::default() };
    config.recovery.enabled = true;
    config.recovery.first_delay_minutes = 0;
    config.recovery.quiet_start = "00:00".into();
    config.recovery.quiet_end = "00:00".into();
    config.recovery.coupon_step = Some(2);
    config.recovery.coupon_percent = 15;
    config
}

async fn shop_with(engine: Engine, options: Options, change: impl FnOnce(&mut Config)) -> Shop {
    let app = spawn_app_with(
        engine,
        Options {
            whatsapp_concurrency: 2,
            whatsapp_timeout_secs: Some(2),
            job_workers: options.job_workers.max(1),
            ..options
        },
    )
    .await;
    let store = WooMock::start(0);
    woo_mock::connect(&app, &store).await;
    let mock = GraphMock::start();
    let owner = app.owner().await;
    let credentials = settings::Credentials {
        phone_number_id: PHONE_NUMBER_ID.into(),
        waba_id: WABA_ID.into(),
        access_token: Some(TOKEN.into()),
        app_secret: Some(APP_SECRET.into()),
        graph_version: "v23.0".into(),
        graph_base_url: mock.base_url(),
    };
    settings::update(&app.db, &app.sealer, &owner, None, credentials).await.unwrap();
    let token = settings::get(&app.db).await.unwrap().verify_token;
    assert_eq!(
        app.get(&format!("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=7"))
            .await
            .status(),
        StatusCode::OK
    );
    templates::refresh(&app.whatsapp()).await.unwrap();
    let mut config = test_config();
    change(&mut config);
    settings::update_config(&app.db, &owner, None, config, true).await.unwrap();
    Shop { app, mock, store }
}

async fn shop(engine: Engine) -> Shop {
    shop_with(engine, Options::default(), |_| {}).await
}

impl Shop {
    fn webhook(&self) -> String {
        self.app.url("/webhooks/whatsapp")
    }

    async fn capture(&self, body: Value) -> reqwest::Response {
        self.app
            .client
            .post(self.app.url("/api/v1/carts/capture"))
            .header("origin", SHOP)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Waits until a `SELECT COUNT(*) …` answers `n`.
    async fn until(&self, what: &str, sql: &str, n: i64) {
        eventually(what, || async { self.app.count(sql).await == n }).await;
    }

    async fn messages(&self) -> Vec<Value> {
        self.mock.messages().await
    }

    async fn wait_for_messages(&self, n: usize) -> Vec<Value> {
        eventually(&format!("Meta has {n} message(s)"), || async { self.messages().await.len() >= n }).await;
        self.messages().await
    }

    /// Makes the cart's next step due now, as if its hours had passed.
    async fn fast_forward(&self) {
        // A step still running would be put off after the change: let it finish first.
        eventually("no WhatsApp job is running", || async {
            self.app.count("SELECT COUNT(*) FROM jobs WHERE kind LIKE 'whatsapp.%' AND state = 'running'").await == 0
        })
        .await;
        let at = now();
        sqlx::query("UPDATE whatsapp_carts SET next_at = $1 WHERE next_at IS NOT NULL")
            .bind(at)
            .execute(self.app.db.writer())
            .await
            .unwrap();
        sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind LIKE 'whatsapp.%' AND state = 'queued'")
            .bind(at)
            .execute(self.app.db.writer())
            .await
            .unwrap();
    }

    async fn cart_state(&self) -> (String, i64) {
        sqlx::query_as("SELECT state, steps_sent FROM whatsapp_carts ORDER BY id DESC LIMIT 1")
            .fetch_one(self.app.db.pool())
            .await
            .unwrap()
    }

    async fn insert_order(&self, phone: &str, email: &str, total: i64) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO orders (number, status, currency, billing_first_name, billing_phone, billing_email, total, items_count, created_at, updated_at) \
             VALUES ($1, 'processing', 'TRY', 'Ayşe', $2, $3, $4, 1, $5, $5) RETURNING id",
        )
        .bind(format!("{}", 10_000 + self.app.count("SELECT COUNT(*) FROM orders").await))
        .bind(phone)
        .bind(email)
        .bind(total)
        .bind(now())
        .fetch_one(self.app.db.writer())
        .await
        .unwrap()
    }

    /// What the storefront snippet gets for a recovery link's token, asked from `origin`.
    async fn restore(&self, token: &str, origin: &str) -> (StatusCode, Value) {
        let answer = self
            .app
            .client
            .get(self.app.url(&format!("/api/v1/carts/restore/{token}")))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        (answer.status(), answer.json().await.unwrap_or(Value::Null))
    }

    /// The recovery token a message carried in its link button.
    fn token_of(message: &Value) -> String {
        let components = message["body"]["template"]["components"].as_array().unwrap();
        let button = components.iter().find(|c| c["type"] == "button").expect("a link button");
        button["parameters"][0]["text"].as_str().unwrap().to_owned()
    }

    async fn stop(self) {
        self.app.stop().await;
    }
}

fn cart(phone: &str, lines: usize) -> Value {
    let lines: Vec<Value> = (0..lines)
        .map(|i| json!({ "name": format!("Çay bardağı {i}"), "quantity": 2, "price_minor": 12_450, "product_id": 100 + i }))
        .collect();
    json!({
        "phone": phone, "name": "Ayşe Yılmaz", "email": "Ayse@Example.com", "consent": true,
        "lines": lines, "total_minor": 24_900, "currency": "TRY",
        "restore_url": format!("{SHOP}/cart/?restore=abc123"),
    })
}

fn body_parameters(message: &Value) -> Vec<String> {
    let components = message["body"]["template"]["components"].as_array().cloned().unwrap_or_default();
    components
        .iter()
        .find(|c| c["type"] == "body")
        .map(|c| c["parameters"].as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

async fn the_whole_sequence_recovers_the_cart_once(engine: Engine) {
    let shop = shop(engine).await;
    assert_eq!(shop.capture(cart("0532 123 45 67", 1)).await.status(), StatusCode::OK);
    let first = shop.wait_for_messages(1).await.remove(0);
    // Exactly what Meta receives for the first message.
    let token = Shop::token_of(&first);
    let message_key: String = sqlx::query_scalar("SELECT idempotency_key FROM whatsapp_messages WHERE step = 1")
        .fetch_one(shop.app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        first["body"],
        json!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": "905321234567", "type": "template",
            "template": { "name": "cart_reminder_1", "language": { "code": "tr" }, "components": [
                { "type": "body", "parameters": [{ "type": "text", "text": "Ayşe" }, { "type": "text", "text": "249.00 TRY" }] },
                { "type": "button", "sub_type": "url", "index": "0", "parameters": [{ "type": "text", "text": token }] },
            ]},
            "biz_opaque_callback_data": format!("backroom:{message_key}"),
        })
    );
    let wamid = first["wamid"].as_str().unwrap().to_owned();
    eventually("the first message is recorded as sent", || async { shop.cart_state().await == ("open".into(), 1) })
        .await;
    // Meta reports it delivered, then read (fault 2: follow-ups still go to them).
    for status in ["delivered", "read"] {
        assert_eq!(shop.mock.status(&shop.webhook(), APP_SECRET, &wamid, status, None).await.0, 200);
    }
    shop.until("the message is read", "SELECT COUNT(*) FROM whatsapp_messages WHERE state = 'read'", 1).await;
    // A day later: the follow-up with the coupon.
    shop.fast_forward().await;
    let second = shop.wait_for_messages(2).await.remove(1);
    let (code, percent): (String, i64) = sqlx::query_as("SELECT coupon_code, coupon_percent FROM whatsapp_carts")
        .fetch_one(shop.app.db.pool())
        .await
        .unwrap();
    assert_eq!(body_parameters(&second), vec!["Ayşe".to_owned(), code.clone(), "15".into()]);
    assert_eq!(second["template"], "cart_reminder_2");
    assert_eq!(percent, 15);
    // The coupon was made in the store before the message went: single use, for her
    // e-mail, expiring in the configured days, and marked as this cart's.
    let woo_id: i64 =
        sqlx::query_scalar("SELECT coupon_woo_id FROM whatsapp_carts").fetch_one(shop.app.db.pool()).await.unwrap();
    let coupon = shop.store.object("coupons", woo_id).await;
    assert_eq!(coupon["code"], code.to_lowercase());
    assert_eq!((coupon["discount_type"].as_str(), coupon["amount"].as_str()), (Some("percent"), Some("15.00")));
    assert_eq!((coupon["usage_limit"].as_i64(), coupon["usage_limit_per_user"].as_i64()), (Some(1), Some(1)));
    assert_eq!(coupon["email_restrictions"], json!(["ayse@example.com"]));
    let expires =
        chrono::NaiveDateTime::parse_from_str(coupon["date_expires_gmt"].as_str().unwrap(), "%Y-%m-%dT%H:%M:%S")
            .unwrap()
            .and_utc()
            .timestamp();
    assert!((expires - (now() + 3 * 86_400)).abs() < 120, "expires in the configured 3 days: {coupon}");
    assert!(coupon["meta_data"].as_array().unwrap().iter().any(|m| m["key"] == "backroom_cart" && m["value"] == "1"));
    // The link works after the message went out (fault 1), records the click, and is not
    // a recovery (fault 4).
    // It lands on the shop's home page, where the snippet puts the cart back: the root of
    // the checkout's site, or the store's own home page once that is one of the shop's
    // origins (where the snippet may ask for the cart).
    let second_token = Shop::token_of(&second);
    let followed = shop.app.get(&format!("/r/{second_token}")).await;
    assert!(followed.status().is_redirection(), "{}", followed.status());
    let tags = "utm_source=whatsapp&utm_medium=recovery&utm_campaign=cart_recovery&utm_content=message_2";
    assert_eq!(location(&followed), format!("{SHOP}/?{tags}#backroom_restore={second_token}"));
    let mut config = test_config();
    config.shop_origins.push(shop.store.url());
    settings::update_config(&shop.app.db, &shop.app.owner().await, None, config, true).await.unwrap();
    let followed = shop.app.get(&format!("/r/{second_token}")).await;
    assert_eq!(location(&followed), format!("{}/?{tags}#backroom_restore={second_token}", shop.store.url()));
    let restore = shop.restore(&second_token, SHOP).await;
    assert_eq!(restore.0, StatusCode::OK);
    assert_eq!(
        restore.1,
        json!({
            "lines": [{ "product_id": 100, "quantity": 2, "name": "Çay bardağı 0" }], "unknown": [], "coupon": code,
            "email": "ayse@example.com", "checkout_url": format!("{SHOP}/cart/?restore=abc123"), "ordered": false,
        })
    );
    assert_eq!(shop.restore(&second_token, "https://elsewhere.example").await.0, StatusCode::FORBIDDEN);
    assert_eq!(shop.restore(&format!("{second_token}x"), SHOP).await.0, StatusCode::NOT_FOUND);
    assert!(shop.app.get(&format!("/r/{token}")).await.status().is_redirection(), "the first message's link works too");
    assert_eq!(shop.cart_state().await, ("open".into(), 2), "a click is not a recovery");
    // At the store's checkout the coupon is hers alone; she buys with it, once.
    let buy = |email: &str| {
        json!({
            "line_items": [{ "sku": "EV-KUPA", "quantity": 2 }], "payment_method": "iyzico",
            "billing": { "first_name": "Ayşe", "email": email, "phone": "" }, "coupon_lines": [{ "code": code }],
        })
    };
    let (status, refused) = shop.store.checkout(buy("someone@example.com")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused["message"].as_str().unwrap().contains("is not yours"), "{refused}");
    let (status, order) = shop.store.checkout(buy("ayse@example.com")).await;
    assert_eq!(status, StatusCode::OK, "{order}");
    assert_eq!(order["coupon_lines"][0]["code"], code.to_lowercase());
    let (status, again) = shop.store.checkout(buy("ayse@example.com")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(again["message"].as_str().unwrap().contains("usage limit"), "{again}");
    // The order reaches Backroom (matched by email here, whatever the phone was typed as).
    shop.store.deliver().await;
    let id = order["id"].as_i64().unwrap();
    eventually("the order is in Backroom", || async {
        shop.app.count(&format!("SELECT COUNT(*) FROM orders WHERE id = {id}")).await == 1
    })
    .await;
    shop.fast_forward().await;
    eventually("the cart is recovered", || async { shop.cart_state().await.0 == "recovered" }).await;
    let (order_id, value): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT order_id, order_total_minor FROM whatsapp_carts")
            .fetch_one(shop.app.db.pool())
            .await
            .unwrap();
    let paid = vocabulary::money::parse_amount(order["total"].as_str().unwrap(), 2).unwrap();
    assert_eq!((order_id, value), (order["id"].as_i64(), Some(paid)));
    let restore = shop.restore(&second_token, SHOP).await.1;
    assert_eq!((restore["ordered"].as_bool(), restore["lines"].as_array().map(Vec::len)), (Some(true), Some(0)));
    // No further message: the third step was due, and the order ended the sequence.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(shop.messages().await.len(), 2);
    let dashboard = report::dashboard(&shop.app.db, 0, now() + 1).await.unwrap();
    assert_eq!((dashboard.captured, dashboard.messaged, dashboard.clicked, dashboard.recovered), (1, 1, 1, 1));
    assert_eq!(dashboard.revenue, vec![("TRY".to_owned(), paid)]);
    assert_eq!(
        dashboard.steps.iter().map(|s| (s.step, s.sent, s.delivered, s.read, s.recovered)).collect::<Vec<_>>(),
        vec![(1, 1, 1, 1, 0), (2, 1, 0, 0, 1)]
    );
    let timeline: Vec<String> =
        report::cart(&shop.app.db, 1).await.unwrap().unwrap().timeline.into_iter().map(|e| e.kind).collect();
    for kind in ["captured", "messaged", "delivered", "read", "coupon", "clicked", "recovered"] {
        assert!(timeline.contains(&kind.to_owned()), "{kind} in {timeline:?}");
    }
    shop.stop().await;
}

async fn a_refreshed_checkout_is_one_cart_and_one_message(engine: Engine) {
    // Fault 3: every refresh of the checkout is the same open cart.
    let shop = shop_with(engine, Options::default(), |c| c.recovery.first_delay_minutes = 1).await;
    for lines in [1, 2, 3] {
        let answer: Value = shop.capture(cart("+90 532 123 45 67", lines)).await.json().await.unwrap();
        assert_eq!(answer["status"], if lines == 1 { "captured" } else { "updated" });
    }
    assert_eq!(shop.app.count("SELECT COUNT(*) FROM whatsapp_carts").await, 1);
    assert_eq!(shop.app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'whatsapp.recovery'").await, 1);
    let lines: String =
        sqlx::query_scalar("SELECT lines FROM whatsapp_carts").fetch_one(shop.app.db.pool()).await.unwrap();
    assert_eq!(serde_json::from_str::<Vec<Value>>(&lines).unwrap().len(), 3, "the latest cart is kept");
    // Concurrent refreshes of a new contact's cart: still one.
    let captures = (0..8).map(|_| shop.capture(cart("+90 555 111 22 33", 1)));
    for answer in futures_util::future::join_all(captures).await {
        assert_eq!(answer.status(), StatusCode::OK);
    }
    assert_eq!(shop.app.count("SELECT COUNT(*) FROM whatsapp_carts WHERE phone = '+905551112233'").await, 1);
    shop.fast_forward().await;
    shop.wait_for_messages(2).await;
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let to: Vec<String> = shop.messages().await.iter().map(|m| m["to"].as_str().unwrap().to_owned()).collect();
    assert_eq!(to.len(), 2, "one message per contact: {to:?}");
    shop.stop().await;
}

async fn capture_refuses_bad_input_and_stores_nothing_without_consent(engine: Engine) {
    let owned = shop_with(engine, Options::default(), |c| c.recovery.first_delay_minutes = 30).await;
    let shop = &owned;
    let invalid = |body: Value| async move { error_code(shop.capture(body).await).await };
    let mut letters = cart("call me maybe", 1);
    assert_eq!(invalid(letters.clone()).await, (StatusCode::UNPROCESSABLE_ENTITY, "invalid".into()));
    letters["phone"] = json!("+90 532 ABC");
    assert_eq!(invalid(letters).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = invalid(cart(PHONE, 500)).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::PAYLOAD_TOO_LARGE, "{status}");
    let mut no_consent = cart(PHONE, 1);
    no_consent.as_object_mut().unwrap().remove("consent");
    assert_eq!(invalid(no_consent).await, (StatusCode::UNPROCESSABLE_ENTITY, "invalid".into()));
    let mut elsewhere = cart(PHONE, 1);
    elsewhere["restore_url"] = json!("https://evil.example/cart");
    assert_eq!(
        invalid(elsewhere).await.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a recovery link never leads off the shop"
    );
    let not_json = shop
        .app
        .client
        .post(shop.app.url("/api/v1/carts/capture"))
        .header("origin", SHOP)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    // From a page that is not the shop: refused before anything is read.
    let foreign = shop
        .app
        .client
        .post(shop.app.url("/api/v1/carts/capture"))
        .header("origin", "https://evil.example")
        .json(&cart(PHONE, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(foreign).await, (StatusCode::FORBIDDEN, "origin_not_allowed".into()));
    assert_eq!(shop.app.count("SELECT COUNT(*) FROM whatsapp_carts").await, 0);
    // Consent not given: nothing stored.
    let mut declined = cart(PHONE, 1);
    declined["consent"] = json!(false);
    let answer: Value = shop.capture(declined.clone()).await.json().await.unwrap();
    assert_eq!(answer["status"], "forgotten");
    assert_eq!(
        shop.app.count("SELECT COUNT(*) FROM whatsapp_carts").await
            + shop.app.count("SELECT COUNT(*) FROM whatsapp_contacts").await,
        0
    );
    // Given, then withdrawn: the cart stops and nothing will be sent.
    shop.capture(cart(PHONE, 1)).await;
    shop.capture(declined).await;
    let (state, reason): (String, Option<String>) =
        sqlx::query_as("SELECT state, stop_reason FROM whatsapp_carts").fetch_one(shop.app.db.pool()).await.unwrap();
    assert_eq!((state.as_str(), reason.as_deref()), ("stopped", Some("consent withdrawn at checkout")));
    shop.fast_forward().await;
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    assert!(shop.messages().await.is_empty());
    // The browser's preflight from the shop is answered for the shop only.
    let preflight = shop
        .app
        .client
        .request(Method::OPTIONS, shop.app.url("/api/v1/carts/capture"))
        .header("origin", SHOP)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(preflight.headers()["access-control-allow-origin"], SHOP);
    owned.stop().await;
}

async fn order_notifications_send_exactly_the_templates_parameters(engine: Engine) {
    // Fault 5: each template gets its own number of parameters, through the queue and log.
    let shop = shop_with(engine, Options::default(), |c| c.recovery.first_delay_minutes = 30).await;
    let key = shop.app.key(backend::access::Scope::Write).await;
    let move_to = |id: i64, status: &'static str| {
        let request =
            shop.app.api(Method::PATCH, &format!("/api/v1/orders/{id}"), &key).json(&json!({ "status": status }));
        async move { assert_eq!(request.send().await.unwrap().status(), StatusCode::OK) }
    };
    // Consent from the checkout; the order then bought (recovery has nothing to do).
    shop.capture(cart(PHONE, 1)).await;
    let consented = shop.insert_order("0532 123 45 67", "", 45_000).await;
    sqlx::query("UPDATE orders SET status = 'pending' WHERE id = $1")
        .bind(consented)
        .execute(shop.app.db.writer())
        .await
        .unwrap();
    let stranger = shop.insert_order("+90 555 999 88 77", "", 10_000).await;
    sqlx::query("UPDATE orders SET status = 'pending' WHERE id = $1")
        .bind(stranger)
        .execute(shop.app.db.writer())
        .await
        .unwrap();
    move_to(consented, "processing").await;
    move_to(stranger, "processing").await;
    move_to(consented, "completed").await;
    let sent = shop.wait_for_messages(2).await;
    let number: String = sqlx::query_scalar("SELECT number FROM orders WHERE id = $1")
        .bind(consented)
        .fetch_one(shop.app.db.pool())
        .await
        .unwrap();
    let of = |template: &str| {
        sent.iter().find(|m| m["template"] == template).unwrap_or_else(|| panic!("{template} was sent"))
    };
    assert_eq!(body_parameters(of("order_processing")), vec!["Ayşe".to_owned(), number.clone()]);
    assert_eq!(body_parameters(of("order_completed")), vec![number, "450.00 TRY".into(), "Ayşe".into()]);
    assert!(sent.iter().all(|m| m["to"] == "905321234567"), "only the customer who agreed");
    assert_eq!(
        shop.app.count("SELECT COUNT(*) FROM whatsapp_messages WHERE order_id IS NOT NULL AND wamid IS NOT NULL").await,
        2,
        "in the log"
    );
    // A mapping whose count differs from the template's is refused when saved.
    let mut wrong = test_config();
    wrong.mapping.retain(|m| m.purpose != Purpose::OrderCompleted);
    wrong.mapping.push(Mapping {
        purpose: Purpose::OrderCompleted,
        template: "order_completed".into(),
        language: "tr".into(),
        parameters: vec![Field::OrderNumber, Field::FirstName],
    });
    let refused = settings::update_config(&shop.app.db, &shop.app.owner().await, None, wrong, true).await.unwrap_err();
    assert!(refused.to_string().contains("has 3 parameter(s) and 2 were mapped"), "{refused}");
    shop.stop().await;
}

async fn the_connection_test_sends_an_approved_template_never_free_text(engine: Engine) {
    // Fault 7: only approved templates start a conversation.
    let shop = shop(engine).await;
    let owner = shop.app.owner().await;
    let checks = setup::checks(&shop.app.whatsapp()).await.unwrap();
    assert!(checks.iter().all(|c| c.ok), "{checks:?}");
    let test = |template: &str, parameters: Vec<&str>| setup::TestSend {
        to: "0532 123 45 67".into(),
        template: template.into(),
        language: "tr".into(),
        parameters: parameters.into_iter().map(str::to_owned).collect(),
        url_suffix: None,
    };
    let refused = setup::test_send(&shop.app.whatsapp(), &owner, None, test("old_promo", vec!["x"])).await.unwrap_err();
    assert!(refused.to_string().contains("rejected"), "{refused}");
    let wrong_count =
        setup::test_send(&shop.app.whatsapp(), &owner, None, test("order_completed", vec!["1"])).await.unwrap_err();
    assert!(wrong_count.to_string().contains("exactly 3"), "{wrong_count}");
    let wamid =
        setup::test_send(&shop.app.whatsapp(), &owner, None, test("order_completed", vec!["#1001", "₺450,00", "Ayşe"]))
            .await
            .unwrap();
    let sent = shop.messages().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["wamid"], wamid.as_str());
    assert!(
        shop.mock.requests().await.iter().filter(|r| r["method"] == "POST").all(|r| r["body"]["type"] == "template")
    );
    // A token Meta refuses is named as such by the live checks.
    shop.mock.config(json!({ "token": "another-token" })).await;
    let checks = setup::checks(&shop.app.whatsapp()).await.unwrap();
    assert!(checks.iter().any(|c| !c.ok && c.message.contains("refused the access token")), "{checks:?}");
    shop.mock.config(json!({ "token": TOKEN, "phone_number_id": "555" })).await;
    let checks = setup::checks(&shop.app.whatsapp()).await.unwrap();
    assert!(
        checks.iter().any(|c| !c.ok && c.message.contains("is not in this WhatsApp Business Account")),
        "{checks:?}"
    );
    shop.stop().await;
}

async fn the_csv_exports_are_safe_from_formulas(engine: Engine) {
    // Fault 6: every E.164 phone starts with "+", a formula to a spreadsheet.
    let shop = shop_with(engine, Options::default(), |c| c.recovery.first_delay_minutes = 30).await;
    let mut evil = cart(PHONE, 1);
    evil["name"] = json!("=HYPERLINK(\"https://evil.example\")");
    shop.capture(evil).await;
    let csv = report::carts_csv(&shop.app.db).await.unwrap();
    assert!(csv.contains("\"'+905321234567\""), "{csv}");
    assert!(csv.contains("\"'=HYPERLINK(\"\"https://evil.example\"\")\""), "{csv}");
    assert!(!csv.contains(",\"+90"), "{csv}");
    shop.stop().await;
}

async fn recovery_links_refuse_altered_and_expired_tokens(engine: Engine) {
    let shop = shop(engine).await;
    shop.capture(cart(PHONE, 1)).await;
    let token = Shop::token_of(&shop.wait_for_messages(1).await[0]);
    let altered = token.replacen("1.", "2.", 1);
    assert_eq!(shop.app.get(&format!("/r/{altered}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(shop.app.get("/r/not-a-token").await.status(), StatusCode::NOT_FOUND);
    let expired = shop.app.links.token(backend::whatsapp::link::Link { cart_id: 1, step: 1, expires_at: now() - 1 });
    let page = shop.app.get(&format!("/r/{expired}")).await;
    assert_eq!(page.status(), StatusCode::GONE);
    assert!(page.text().await.unwrap().contains("expired"));
    assert_eq!(shop.app.count("SELECT clicks FROM whatsapp_carts").await, 0, "no click recorded");
    shop.stop().await;
}

async fn an_order_before_any_message_is_not_a_recovery(engine: Engine) {
    // Fault 4, the other half: a cart whose shopper bought before we wrote is converted.
    let shop = shop_with(engine, Options::default(), |c| c.recovery.first_delay_minutes = 30).await;
    shop.capture(cart(PHONE, 1)).await;
    shop.insert_order("05321234567", "", 24_900).await;
    eventually("the cart is closed by the order", || async { shop.cart_state().await.0 == "converted" }).await;
    shop.fast_forward().await;
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    assert!(shop.messages().await.is_empty(), "no message after the purchase");
    assert_eq!(report::dashboard(&shop.app.db, 0, now() + 1).await.unwrap().recovered, 0);
    shop.stop().await;
}

async fn a_stop_reply_opts_out_and_ends_the_sequence(engine: Engine) {
    let shop = shop_with(engine, Options::default(), |c| c.opt_out_words.push("İPTAL".into())).await;
    shop.capture(cart(PHONE, 1)).await;
    shop.wait_for_messages(1).await;
    eventually("the first message is recorded", || async { shop.cart_state().await.1 == 1 }).await;
    // Meta escapes the Turkish letters in what it signs; the delivery is taken as sent.
    let (status, _) = shop.mock.inbound(&shop.webhook(), APP_SECRET, "905321234567", "iptal").await;
    assert_eq!(status, 200);
    eventually("the phone is opted out", || async { shop.cart_state().await.0 == "stopped" }).await;
    shop.fast_forward().await;
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    assert_eq!(shop.messages().await.len(), 1, "nothing after the opt-out");
    // STOP from another customer works the same; their later notification is not sent.
    shop.capture(cart("+90 555 111 22 33", 1)).await;
    shop.wait_for_messages(2).await;
    assert_eq!(shop.mock.inbound(&shop.webhook(), APP_SECRET, "905551112233", " Stop ").await.0, 200);
    shop.until(
        "the second phone is opted out",
        "SELECT COUNT(*) FROM whatsapp_contacts WHERE opted_out_at IS NOT NULL",
        2,
    )
    .await;
    shop.stop().await;
}

fn first_message_only(config: &mut Config) {
    config.recovery.second_enabled = false;
    config.recovery.third_enabled = false;
    config.recovery.coupon_step = None;
    config.mapping.retain(|m| !matches!(m.purpose, Purpose::Recovery2 | Purpose::Recovery3));
}

async fn meta_errors_are_retried_or_failed_as_they_deserve(engine: Engine) {
    let shop = shop_with(engine, Options::default(), first_message_only).await;
    // 130429 (throughput): put off without spending an attempt, then sent once.
    shop.mock.script(json!([{ "match": "POST /messages", "status": 429, "body": { "error": { "message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429 } } }])).await;
    shop.capture(cart(PHONE, 1)).await;
    shop.until(
        "the throughput error is noted",
        "SELECT COUNT(*) FROM whatsapp_messages WHERE error_details LIKE '%130429%'",
        1,
    )
    .await;
    shop.until(
        "the job waits without spending an attempt",
        "SELECT COUNT(*) FROM jobs WHERE kind = 'whatsapp.recovery' AND state = 'queued' AND attempts = 0 AND last_error LIKE '%130429%'",
        1,
    )
    .await;
    assert!(shop.messages().await.is_empty());
    shop.fast_forward().await;
    shop.wait_for_messages(1).await;
    // 500: retried with backoff, then sent once.
    shop.mock.script(json!([{ "match": "POST /messages", "status": 500, "body": { "error": { "message": "An unknown error occurred", "type": "OAuthException", "code": 1, "is_transient": true } } }])).await;
    shop.capture(cart("+90 555 000 00 01", 1)).await;
    shop.until(
        "the 500 is noted",
        "SELECT COUNT(*) FROM whatsapp_messages WHERE error_details LIKE '%unknown error%'",
        1,
    )
    .await;
    shop.fast_forward().await;
    shop.wait_for_messages(2).await;
    // 131026 (undeliverable): failed with Meta's words, not retried, the cart stopped.
    shop.mock.script(json!([{ "match": "POST /messages", "status": 400, "body": { "error": { "message": "(#131026) Message undeliverable", "type": "OAuthException", "code": 131026, "error_data": { "details": "The recipient is not on WhatsApp" } } } }])).await;
    shop.capture(cart("+90 555 000 00 02", 1)).await;
    shop.until(
        "the message failed",
        "SELECT COUNT(*) FROM whatsapp_messages WHERE state = 'failed' AND error_code = 131026",
        1,
    )
    .await;
    shop.until(
        "the cart stopped",
        "SELECT COUNT(*) FROM whatsapp_carts WHERE phone = '+905550000002' AND state = 'stopped'",
        1,
    )
    .await;
    // 131047 (outside the 24-hour window): failed, not retried.
    shop.mock.script(json!([{ "match": "POST /messages", "status": 400, "body": { "error": { "message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047, "error_data": { "details": "more than 24 hours" } } } }])).await;
    shop.capture(cart("+90 555 000 00 03", 1)).await;
    shop.until(
        "the message failed",
        "SELECT COUNT(*) FROM whatsapp_messages WHERE state = 'failed' AND error_code = 131047",
        1,
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    assert_eq!(shop.messages().await.len(), 2, "nothing failed was sent again");
    assert_eq!(
        shop.app.count("SELECT COUNT(*) FROM whatsapp_messages WHERE idempotency_key LIKE 'whatsapp.recovery:%'").await,
        4
    );
    shop.stop().await;
}

async fn a_lost_answer_is_settled_by_metas_status_never_by_a_second_send(engine: Engine) {
    let shop = shop_with(engine, Options::default(), first_message_only).await;
    // Meta takes the message but its answer never arrives (the client times out).
    shop.mock.script(json!([{ "match": "POST /messages", "commit": true, "delay_ms": 4000 }])).await;
    shop.capture(cart(PHONE, 1)).await;
    let sent = shop.wait_for_messages(1).await;
    shop.until(
        "the timeout is noted",
        "SELECT COUNT(*) FROM whatsapp_messages WHERE error_details LIKE '%did not arrive%'",
        1,
    )
    .await;
    assert_eq!(
        shop.app.count("SELECT COUNT(*) FROM whatsapp_messages WHERE wamid IS NULL AND attempted_at IS NOT NULL").await,
        1
    );
    shop.fast_forward().await;
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    assert_eq!(shop.messages().await.len(), 1, "not sent again while Meta may have it");
    // Meta's status names our message by its callback data: now we know its wamid.
    assert_eq!(
        shop.mock.status(&shop.webhook(), APP_SECRET, sent[0]["wamid"].as_str().unwrap(), "delivered", None).await.0,
        200
    );
    shop.fast_forward().await;
    eventually("the step is recorded", || async { shop.cart_state().await == ("open".into(), 1) }).await;
    assert_eq!(shop.app.count("SELECT COUNT(*) FROM whatsapp_messages WHERE state = 'delivered'").await, 1);

    // Another lost answer, but Meta never had it: past the grace, with the webhook
    // verified, it goes once more.
    shop.mock.script(json!([{ "match": "POST /messages", "status": 200, "raw": "<html>proxy error</html>" }])).await;
    shop.capture(cart("+90 555 111 22 33", 1)).await;
    shop.until(
        "the broken answer is noted",
        "SELECT COUNT(*) FROM whatsapp_messages WHERE wamid IS NULL AND attempted_at IS NOT NULL",
        1,
    )
    .await;
    sqlx::query("UPDATE whatsapp_messages SET attempted_at = attempted_at - 601 WHERE wamid IS NULL")
        .execute(shop.app.db.writer())
        .await
        .unwrap();
    shop.fast_forward().await;
    eventually("the second cart's message went", || async { shop.cart_state().await == ("open".into(), 1) }).await;
    assert_eq!(shop.messages().await.len(), 2, "the mock kept nothing the first time: one copy each");
    shop.stop().await;
}

async fn quiet_hours_delay_the_message_and_the_cap_holds_the_rest(engine: Engine) {
    let shop = shop_with(engine, Options::default(), |c| {
        c.recovery.quiet_start = "00:00".into();
        c.recovery.quiet_end = "23:59".into();
    })
    .await;
    // The shop's clock is in Istanbul; make "now" quiet whatever the hour.
    shop.capture(cart(PHONE, 1)).await;
    let tz = backend::settings::get(&shop.app.db).await.unwrap().tz();
    let config = settings::config(shop.app.db.pool()).await.unwrap();
    let expected = backend::whatsapp::recovery::quiet_until(&config, tz, now());
    if let Some(end) = expected {
        eventually("the message waits for the end of quiet hours", || async {
            sqlx::query_scalar::<_, Option<i64>>("SELECT next_at FROM whatsapp_carts")
                .fetch_one(shop.app.db.pool())
                .await
                .unwrap()
                == Some(end)
        })
        .await;
        assert!(shop.messages().await.is_empty());
    }
    // Quiet hours off, a cap of two an hour: three carts due, two messages.
    let mut config = test_config();
    config.hourly_cap = 2;
    settings::update_config(&shop.app.db, &shop.app.owner().await, None, config, true).await.unwrap();
    shop.capture(cart("+90 555 000 00 01", 1)).await;
    shop.capture(cart("+90 555 000 00 02", 1)).await;
    shop.fast_forward().await;
    shop.wait_for_messages(2).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(shop.messages().await.len(), 2, "the cap holds the third");
    let held: Vec<String> = sqlx::query_scalar(
        "SELECT COALESCE(last_error, '') FROM jobs WHERE kind = 'whatsapp.recovery' AND state = 'queued'",
    )
    .fetch_all(shop.app.db.pool())
    .await
    .unwrap();
    assert!(held.iter().any(|e| e.contains("hourly cap")), "{held:?}");
    shop.stop().await;
}

/// The cart's coupon code and the store's id for it.
async fn coupon_of(shop: &Shop, phone: &str) -> (Option<String>, Option<i64>) {
    sqlx::query_as("SELECT coupon_code, coupon_woo_id FROM whatsapp_carts WHERE phone = $1")
        .bind(phone)
        .fetch_one(shop.app.db.pool())
        .await
        .unwrap()
}

/// The store's requests to make coupons (the stand-in's request log).
async fn coupon_requests(shop: &Shop) -> usize {
    let state = shop.store.state().await;
    state["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == "/wp-json/wc/v3/coupons/batch")
        .count()
}

async fn recovery_coupons_are_made_in_the_store_once(engine: Engine) {
    let shop = shop_with(engine, Options { woo_timeout_secs: Some(2), ..Options::default() }, |_| {}).await;
    let (first, second) = ("+905551110001", "+905551110002");
    for phone in [first, second] {
        shop.capture(cart(phone, 1)).await;
    }
    shop.wait_for_messages(2).await;
    eventually("both first messages are recorded", || async {
        shop.app.count("SELECT COUNT(*) FROM whatsapp_carts WHERE steps_sent = 1").await == 2
    })
    .await;

    // The first cart's code is one the store already has for someone else: it gets a new one.
    let taken = shop.store.post("coupons", json!({ "code": "WA-TAKEN234", "amount": "50" })).await;
    sqlx::query(
        "UPDATE whatsapp_carts SET coupon_code = 'WA-TAKEN234', coupon_percent = 15, coupon_expires_at = $1, coupon_min_minor = 0 WHERE phone = $2",
    )
    .bind(now() + 3 * 86_400)
    .bind(first)
    .execute(shop.app.db.writer())
    .await
    .unwrap();
    // The store makes the second cart's coupon, but its answer comes after Backroom gave up.
    shop.store
        .faults(json!({ "requests": [{ "kind": "slow", "delay_ms": 3000, "count": 1, "match": "POST /wp-json/wc/v3/coupons/batch" }] }))
        .await;
    shop.fast_forward().await;
    // The store makes the second coupon after Backroom stopped waiting for its answer.
    let store = woo_mock_store(&shop).await;
    eventually("the store made the second cart's coupon", || async {
        let Some(code) = coupon_of(&shop, second).await.0 else { return false };
        let listed: Vec<Value> = store.get("/coupons", &[("code", code)]).await.unwrap().json().unwrap();
        !listed.is_empty()
    })
    .await;
    assert_eq!(coupon_of(&shop, second).await.1, None, "Backroom did not hear the answer");
    // (The two may have shared the request that timed out: then both are tried again.)
    eventually("the first cart's follow-up went", || async {
        shop.fast_forward().await;
        shop.messages().await.iter().any(|m| m["to"] == "905551110001" && m["template"] == "cart_reminder_2")
    })
    .await;
    let (code, woo_id) = coupon_of(&shop, first).await;
    let code = code.unwrap();
    assert_ne!(code, "WA-TAKEN234");
    let made = shop.store.object("coupons", woo_id.unwrap()).await;
    assert_eq!(made["code"], code.to_lowercase());
    assert_eq!(
        shop.store.object("coupons", taken["id"].as_i64().unwrap()).await["amount"],
        "50.00",
        "theirs untouched"
    );
    let message =
        shop.messages().await.into_iter().find(|m| m["to"] == "905551110001" && m["template"] == "cart_reminder_2");
    assert_eq!(body_parameters(&message.unwrap())[1], code, "the message carries the code the store has");

    // The second: found by its cart's mark after the lost answer, never made twice.
    eventually("the second cart's coupon is found", || async {
        shop.fast_forward().await;
        coupon_of(&shop, second).await.1.is_some()
    })
    .await;
    let (code, woo_id) = coupon_of(&shop, second).await;
    let code = code.unwrap();
    let listed: Vec<Value> = store.get("/coupons", &[("code", code.clone())]).await.unwrap().json().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"].as_i64(), woo_id);
    let state = shop.store.state().await;
    let looked_up =
        state["requests"].as_array().unwrap().iter().any(|r| {
            r["method"] == "GET" && r["path"] == "/wp-json/wc/v3/coupons" && r["query"]["code"] == code.as_str()
        });
    assert!(looked_up, "the store said it had the code, and Backroom found it was this cart's");
    shop.wait_for_messages(4).await;
    assert!(coupon_requests(&shop).await >= 3, "the batch was asked for again after the lost answer");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let follow_ups = shop.messages().await.iter().filter(|m| m["template"] == "cart_reminder_2").count();
    assert_eq!(follow_ups, 2, "one follow-up each");

    // The second cart's coupon is used; both expire: the unused one leaves the store.
    let (status, _) = shop
        .store
        .checkout(json!({
            "line_items": [{ "sku": "EV-KUPA", "quantity": 1 }], "payment_method": "iyzico",
            "billing": { "email": "ayse@example.com" }, "coupon_lines": [{ "code": code }],
        }))
        .await;
    assert_eq!(status, StatusCode::OK);
    sqlx::query("UPDATE whatsapp_carts SET coupon_expires_at = $1")
        .bind(now() - 60)
        .execute(shop.app.db.writer())
        .await
        .unwrap();
    let removed = backend::whatsapp::coupons::remove_expired(&shop.app.whatsapp()).await.unwrap();
    assert_eq!(removed, 1);
    let (_, first_id) = coupon_of(&shop, first).await;
    let gone = shop.store.object("coupons", first_id.unwrap()).await;
    assert_eq!(gone["code"], "not_found", "removed from the store: {gone}");
    assert_eq!(shop.store.object("coupons", woo_id.unwrap()).await["usage_count"], 1, "the used one stays");
    assert_eq!(
        backend::whatsapp::coupons::remove_expired(&shop.app.whatsapp()).await.unwrap(),
        0,
        "each is looked at once"
    );
    let events: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM whatsapp_cart_events WHERE kind = 'coupon' ORDER BY id")
            .fetch_all(shop.app.db.pool())
            .await
            .unwrap();
    assert!(events.iter().any(|e| e.contains("already had the code WA-TAKEN234")), "{events:?}");
    assert!(events.iter().any(|e| e.contains("expired unused and was removed from the store")), "{events:?}");
    assert!(events.iter().any(|e| e.ends_with("was used")), "{events:?}");

    // Without a store, a coupon cannot be promised.
    backend::woo::connection::disconnect(&shop.app.services.woo, &shop.app.owner().await, None).await.unwrap();
    let refused = settings::update_config(&shop.app.db, &shop.app.owner().await, None, test_config(), true).await;
    assert!(refused.unwrap_err().to_string().contains("connect the store first"));
    shop.stop().await;
}

/// The store as Backroom calls it.
async fn woo_mock_store(shop: &Shop) -> backend::woo::client::Store {
    backend::woo::connection::store(&shop.app.services.woo).await.unwrap().unwrap()
}

async fn a_process_killed_between_sending_and_recording_sends_once(engine: Engine) {
    let (url, data_dir) = fresh_database(engine).await;
    let mock = GraphMock::start();
    let port = free_port();
    let settings = [
        ("BACKROOM_ADDR", format!("127.0.0.1:{port}")),
        ("BACKROOM_WHATSAPP_CONCURRENCY", "1".into()),
        ("BACKROOM_WHATSAPP_SHORT_DELAYS", "true".into()),
    ];
    let start = serve_processes(&url, &data_dir, &settings);
    let mut first = start();
    let db = backend::db::Db::connect(&url).await.unwrap();
    eventually("the server has migrated", || async {
        sqlx::query("SELECT config FROM whatsapp_settings").fetch_optional(db.pool()).await.is_ok_and(|r| r.is_some())
    })
    .await;
    let (master, owner) = master_key_and_owner(&db, &data_dir).await;
    let sealer = master.sealer();
    let links = backend::whatsapp::link::Signer::from_master(&master);
    let whatsapp = backend::whatsapp::WhatsApp::new(
        db.clone(),
        sealer.clone(),
        links,
        format!("http://127.0.0.1:{port}"),
        (std::time::Duration::from_secs(5), std::time::Duration::from_secs(5)),
        true,
    );
    let credentials = settings::Credentials {
        phone_number_id: PHONE_NUMBER_ID.into(),
        waba_id: WABA_ID.into(),
        access_token: Some(TOKEN.into()),
        app_secret: Some(APP_SECRET.into()),
        graph_version: "v23.0".into(),
        graph_base_url: mock.base_url(),
    };
    settings::update(&db, &sealer, &owner, None, credentials).await.unwrap();
    templates::refresh(&whatsapp).await.unwrap();
    let mut config = test_config();
    first_message_only(&mut config);
    settings::update_config(&db, &owner, None, config, true).await.unwrap();
    // Meta accepts the message and takes its time answering: the process dies first.
    mock.script(json!([{ "match": "POST /messages", "commit": true, "delay_ms": 60000 }])).await;
    let captured = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v1/carts/capture"))
        .header("origin", SHOP)
        .json(&cart(PHONE, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(captured.status(), StatusCode::OK);
    eventually("Meta has the message", || async { mock.messages().await.len() == 1 }).await;
    first.kill().unwrap();
    first.wait().unwrap();
    let unrecorded: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM whatsapp_messages WHERE wamid IS NULL AND attempted_at IS NOT NULL")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(unrecorded, 1, "the message knows it may have gone out");
    // The dead worker's lease runs out (it would after 5 minutes); another process takes over.
    sqlx::query("UPDATE jobs SET locked_until = 0 WHERE state = 'running'").execute(db.writer()).await.unwrap();
    let mut second = start();
    eventually("the second process answers", || async {
        reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_ok()
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(mock.messages().await.len(), 1, "not sent again before Meta says what it did");
    // Meta's status webhook reaches the new process.
    let wamid = mock.messages().await[0]["wamid"].as_str().unwrap().to_owned();
    let (status, _) =
        mock.status(&format!("http://127.0.0.1:{port}/webhooks/whatsapp"), APP_SECRET, &wamid, "sent", None).await;
    assert_eq!(status, 200);
    sqlx::query("UPDATE jobs SET run_at = 0 WHERE state = 'queued'").execute(db.writer()).await.unwrap();
    eventually("the step is recorded", || async {
        sqlx::query_scalar::<_, i64>("SELECT steps_sent FROM whatsapp_carts").fetch_one(db.pool()).await.unwrap() == 1
    })
    .await;
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(mock.messages().await.len(), 1, "exactly one message");
    let recorded: Option<String> =
        sqlx::query_scalar("SELECT wamid FROM whatsapp_messages").fetch_one(db.pool()).await.unwrap();
    assert_eq!(recorded.as_deref(), Some(wamid.as_str()));
    db.close().await;
}

on_both_databases!(
    the_whole_sequence_recovers_the_cart_once,
    a_refreshed_checkout_is_one_cart_and_one_message,
    capture_refuses_bad_input_and_stores_nothing_without_consent,
    order_notifications_send_exactly_the_templates_parameters,
    the_connection_test_sends_an_approved_template_never_free_text,
    the_csv_exports_are_safe_from_formulas,
    recovery_links_refuse_altered_and_expired_tokens,
    an_order_before_any_message_is_not_a_recovery,
    a_stop_reply_opts_out_and_ends_the_sequence,
    meta_errors_are_retried_or_failed_as_they_deserve,
    a_lost_answer_is_settled_by_metas_status_never_by_a_second_send,
    recovery_coupons_are_made_in_the_store_once,
    quiet_hours_delay_the_message_and_the_cap_holds_the_rest,
    a_process_killed_between_sending_and_recording_sends_once,
);
