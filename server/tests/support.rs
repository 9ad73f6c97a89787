//! The support form and tickets over HTTP: the order-and-email pair verified with one
//! uniform refusal, limits per address and per order, the honeypot, bad input of every
//! kind, the plain-HTML form with and without an embedding origin, the emails a ticket
//! sends (to a real SMTP server), and the tickets API the mobile app uses.

mod common;
mod smtp;

use backend::{
    access::Scope,
    demo::{self, DemoOptions},
    support::form::NO_MATCH,
};
use common::*;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use smtp::SmtpSink;

/// A demo order: its id, number and billing email.
async fn an_order(app: &TestApp) -> (i64, String, String) {
    sqlx::query_as("SELECT id, number, billing_email FROM orders ORDER BY id LIMIT 1")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn shop(engine: Engine, smtp_url: Option<String>) -> TestApp {
    let app = spawn_app_with(engine, Options { job_workers: 1, smtp_url, ..Options::default() }).await;
    demo::load(&app.db, DemoOptions { orders: 30, seed: 5 }, |_| {}).await.unwrap();
    app
}

async fn post_ticket(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client.post(app.url("/api/v1/support/tickets")).json(body).send().await.unwrap()
}

fn submission(number: &str, email: &str) -> Value {
    json!({ "order_number": number, "email": email, "subject": "Kargom nerede?", "message": "Merhaba, siparişim gelmedi.", "website": "" })
}

async fn a_matching_pair_makes_a_ticket_and_any_mismatch_gets_one_answer(engine: Engine) {
    let sink = SmtpSink::start(0, None);
    let app = shop(engine, Some(sink.url())).await;
    sqlx::query("UPDATE mail_settings SET notify_address = 'destek@shop.example' WHERE id = 1")
        .execute(app.db.writer())
        .await
        .unwrap();
    let (order_id, number, email) = an_order(&app).await;
    let response = post_ticket(&app, &submission(&format!("#{number}"), &email.to_uppercase())).await;
    assert_status(&response, StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let reference = body["reference"].as_str().unwrap().to_owned();
    assert!(reference.starts_with("T-") && reference.len() == 8, "{reference}");
    let (ticket_order, status, unread): (Option<i64>, String, i64) =
        sqlx::query_as("SELECT order_id, status, unread FROM tickets WHERE reference = $1")
            .bind(&reference)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((ticket_order, status.as_str(), unread), (Some(order_id), "open", 1));

    // The customer's acknowledgement and the shop's notice both arrive, with the reference.
    eventually("both emails arrive", || async { sink.received().len() == 2 }).await;
    let mails = sink.received();
    let to_customer = mails.iter().find(|m| m["rcpt_tos"][0] == email.as_str()).expect("the acknowledgement");
    assert!(to_customer["subject"].as_str().unwrap().contains(&reference));
    assert!(to_customer["text"].as_str().unwrap().contains("> Merhaba, siparişim gelmedi."));
    assert_eq!(to_customer["reply_to"], "destek@shop.example");
    let to_shop = mails.iter().find(|m| m["rcpt_tos"][0] == "destek@shop.example").expect("the shop's notice");
    assert!(to_shop["text"].as_str().unwrap().contains("/admin/support/"));
    assert_eq!(to_shop["reply_to"], email.as_str());

    // A wrong email and an order that does not exist get the very same answer.
    let mut answers = Vec::new();
    for (number, email) in
        [(number.clone(), "someone.else@example.com".to_owned()), ("99999999".to_owned(), email.clone())]
    {
        let response = post_ticket(&app, &submission(&number, &email)).await;
        answers.push((response.status(), response.text().await.unwrap()));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answers[0].1.contains(NO_MATCH));
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 1);
    app.stop().await;
}

async fn bad_input_gets_a_clear_answer_and_makes_nothing(engine: Engine) {
    let app = shop(engine, None).await;
    let (_, number, email) = an_order(&app).await;
    let cases = [
        (json!({ "email": email, "subject": "s", "message": "m" }), StatusCode::UNPROCESSABLE_ENTITY, "order number"),
        (
            json!({ "order_number": "12a4", "email": email, "subject": "s", "message": "m" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "order number",
        ),
        (
            json!({ "order_number": number, "email": format!("{}@example.com", "a".repeat(300)), "subject": "s", "message": "m" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "email",
        ),
        (
            json!({ "order_number": number, "email": email, "subject": "", "message": "m" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject",
        ),
        (
            json!({ "order_number": number, "email": email, "subject": "s", "message": "m".repeat(5_001) }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "message",
        ),
        // Just over the 64 KiB limit. The server answers 413 before reading the body and
        // closes; a body this size is all sent by then, so the answer is always read
        // (with a megabyte the upload could be cut off by the close: a broken pipe).
        (
            json!({ "order_number": number, "email": email, "subject": "s", "message": "m".repeat(70_000) }),
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
        ),
        (
            json!({ "order_number": 1042, "email": email, "subject": "s", "message": "m" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
    ];
    for (body, status, says) in cases {
        let response = post_ticket(&app, &body).await;
        assert_eq!(response.status(), status, "{}", &body.to_string()[..body.to_string().len().min(200)]);
        assert!(response.text().await.unwrap().contains(says));
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 0);

    // HTML and a line break in the subject: kept as text, on one line.
    let mut sneaky = submission(&number, &email);
    sneaky["subject"] = json!("<b>Hi</b>\r\nBcc: all@example.com");
    sneaky["message"] = json!("<script>alert('x')</script>");
    assert_status(&post_ticket(&app, &sneaky).await, StatusCode::CREATED);
    let (subject, body): (String, String) =
        sqlx::query_as("SELECT t.subject, m.body FROM tickets t JOIN ticket_messages m ON m.ticket_id = t.id")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(subject, "<b>Hi</b> Bcc: all@example.com");
    assert_eq!(body, "<script>alert('x')</script>");
    let html: String = sqlx::query_scalar("SELECT html_body FROM mail_outbox WHERE kind = 'ticket.acknowledgement'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
    app.stop().await;
}

async fn the_honeypot_and_the_limits_hold(engine: Engine) {
    let app = shop(engine, None).await;
    let (_, number, email) = an_order(&app).await;
    let mut bot = submission(&number, &email);
    bot["website"] = json!("http://spam.example");
    let response = post_ticket(&app, &bot).await;
    assert_status(&response, StatusCode::CREATED);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 0, "a bot is answered, and nothing is made");

    // Per order: three a day (the address limit raised out of the way).
    sqlx::query("UPDATE support_settings SET per_ip_per_hour = 100 WHERE id = 1")
        .execute(app.db.writer())
        .await
        .unwrap();
    for _ in 0..3 {
        assert_status(&post_ticket(&app, &submission(&number, &email)).await, StatusCode::CREATED);
    }
    let refused = post_ticket(&app, &submission(&number, &email)).await;
    assert_status(&refused, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key(header::RETRY_AFTER));
    assert!(refused.text().await.unwrap().contains("about this order today"));

    // Per address: five an hour, counting every attempt.
    sqlx::query("UPDATE support_settings SET per_ip_per_hour = 5 WHERE id = 1").execute(app.db.writer()).await.unwrap();
    sqlx::query("DELETE FROM sign_in_throttle").execute(app.db.writer()).await.unwrap();
    for _ in 0..5 {
        assert_status(
            &post_ticket(&app, &submission("1", "nobody@example.com")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let (status, code) = error_code(post_ticket(&app, &submission(&number, &email)).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 3);
    app.stop().await;
}

async fn the_plain_form_works_without_scripts_and_embeds_only_where_allowed(engine: Engine) {
    let app = shop(engine, None).await;
    let (_, number, email) = an_order(&app).await;
    let page = app.get("/support").await;
    assert_status(&page, StatusCode::OK);
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'self'") && csp.contains("script-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\" action=\"/support\"") && html.contains("name=\"website\""));

    // A refused post shows the form again, with what was typed — escaped.
    let form = [
        ("order_number", number.as_str()),
        ("email", "wrong@example.com"),
        ("subject", "\"><script>x()</script>"),
        ("message", "hi"),
    ];
    let refused = app.client.post(app.url("/support")).form(&form).send().await.unwrap();
    assert_status(&refused, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains(NO_MATCH)
            && html.contains("&quot;&gt;&lt;script&gt;x()&lt;/script&gt;")
            && !html.contains("<script>x()")
    );

    let form = [
        ("order_number", number.as_str()),
        ("email", email.as_str()),
        ("subject", "İade"),
        ("message", "Ürün kırık geldi."),
    ];
    let done = app.client.post(app.url("/support")).form(&form).send().await.unwrap();
    assert_status(&done, StatusCode::OK);
    let html = done.text().await.unwrap();
    let reference: String = sqlx::query_scalar("SELECT reference FROM tickets").fetch_one(app.db.pool()).await.unwrap();
    assert!(html.contains(&reference), "{html}");

    // The embed: framed by the listed origins only; posts from elsewhere refused.
    sqlx::query("UPDATE support_settings SET embed_origins = 'https://shop.example' WHERE id = 1")
        .execute(app.db.writer())
        .await
        .unwrap();
    let embed = app.get("/support/embed").await;
    let csp = embed.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    assert!(csp.ends_with("frame-ancestors 'self' https://shop.example"), "{csp}");
    let foreign = app
        .client
        .post(app.url("/support/embed"))
        .header(header::ORIGIN, "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_status(&foreign, StatusCode::FORBIDDEN);
    let (status, code) = error_code(
        app.client
            .post(app.url("/api/v1/support/tickets"))
            .header(header::ORIGIN, "https://evil.example")
            .json(&submission(&number, &email))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "origin_not_allowed"));
    let listed = app
        .client
        .post(app.url("/api/v1/support/tickets"))
        .header(header::ORIGIN, "https://shop.example")
        .json(&submission(&number, &email))
        .send()
        .await
        .unwrap();
    assert_status(&listed, StatusCode::CREATED);
    app.stop().await;
}

async fn the_mobile_app_works_tickets_through_the_api(engine: Engine) {
    let app = shop(engine, None).await;
    let (order_id, number, email) = an_order(&app).await;
    assert_status(&post_ticket(&app, &submission(&number, &email)).await, StatusCode::CREATED);
    let key = app.key(Scope::Write).await;
    let read = app.key(Scope::Read).await;

    let list: Value =
        app.api(Method::GET, "/api/v1/tickets?status=open", &read).send().await.unwrap().json().await.unwrap();
    let id = list["items"][0]["id"].as_i64().unwrap();
    assert_eq!(list["items"][0]["order_number"], number.as_str());
    assert_eq!(list["items"][0]["unread"], true);
    let ticket: Value =
        app.api(Method::GET, &format!("/api/v1/tickets/{id}"), &read).send().await.unwrap().json().await.unwrap();
    assert_eq!(ticket["order"]["id"], order_id);
    assert_eq!(ticket["messages"][0]["kind"], "customer");

    let response = app
        .api(Method::POST, &format!("/api/v1/tickets/{id}/replies"), &key)
        .json(&json!({ "body": "Kargonuz yarın teslim edilecek." }))
        .send()
        .await
        .unwrap();
    assert_status(&response, StatusCode::CREATED);
    let response = app
        .api(Method::POST, &format!("/api/v1/tickets/{id}/notes"), &key)
        .json(&json!({ "body": "Kargo firmasını aradım." }))
        .send()
        .await
        .unwrap();
    assert_status(&response, StatusCode::CREATED);
    let replies =
        app.count(&format!("SELECT COUNT(*) FROM mail_outbox WHERE ticket_id = {id} AND kind = 'ticket.reply'")).await;
    assert_eq!(replies, 1, "the reply is emailed, the note is not");
    let ticket: Value =
        app.api(Method::GET, &format!("/api/v1/tickets/{id}"), &read).send().await.unwrap().json().await.unwrap();
    assert_eq!(ticket["status"], "pending", "after a reply the ticket waits for the customer");
    assert_eq!(ticket["messages"].as_array().unwrap().len(), 3);

    let owner = app.owner().await;
    let changed: Value = app
        .api(Method::PATCH, &format!("/api/v1/tickets/{id}"), &key)
        .json(&json!({ "status": "resolved", "assignee_user_id": owner.id }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((changed["status"].as_str(), changed["assignee_user_id"].as_i64()), (Some("resolved"), Some(owner.id)));
    let unassigned: Value = app
        .api(Method::PATCH, &format!("/api/v1/tickets/{id}"), &key)
        .json(&json!({ "assignee_user_id": null }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unassigned["assignee_user_id"], Value::Null);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'ticket.%'").await, 5);

    for (method, path, body, expected) in [
        (Method::GET, "/api/v1/tickets?status=lost".to_owned(), None, (StatusCode::BAD_REQUEST, "invalid_query")),
        (Method::GET, "/api/v1/tickets/999999".to_owned(), None, (StatusCode::NOT_FOUND, "not_found")),
        (
            Method::PATCH,
            format!("/api/v1/tickets/{id}"),
            Some(json!({ "status": "lost" })),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ),
        (
            Method::PATCH,
            format!("/api/v1/tickets/{id}"),
            Some(json!({})),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ),
        (
            Method::PATCH,
            format!("/api/v1/tickets/{id}"),
            Some(json!({ "assignee_user_id": 424242 })),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ),
        (
            Method::POST,
            format!("/api/v1/tickets/{id}/replies"),
            Some(json!({ "body": "" })),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ),
        (
            Method::POST,
            format!("/api/v1/tickets/{id}/replies"),
            Some(json!({ "body": "x", "cc": "a@b.c" })),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ),
    ] {
        let mut request = app.api(method, &path, &key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let (status, code) = error_code(request.send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), expected, "{path}");
    }
    let (status, code) = error_code(
        app.api(Method::POST, &format!("/api/v1/tickets/{id}/notes"), &read)
            .json(&json!({ "body": "x" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "insufficient_scope"));
    app.stop().await;
}

on_both_databases!(
    a_matching_pair_makes_a_ticket_and_any_mismatch_gets_one_answer,
    bad_input_gets_a_clear_answer_and_makes_nothing,
    the_honeypot_and_the_limits_hold,
    the_plain_form_works_without_scripts_and_embeds_only_where_allowed,
    the_mobile_app_works_tickets_through_the_api,
);
