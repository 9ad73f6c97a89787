//! The support form customers see: `/support` (a page of its own) and `/support/embed`
//! (for an iframe on the shop's pages: no header, frames allowed only from the origins the
//! shop lists, via `Content-Security-Policy: frame-ancestors`). Plain HTML rendered here,
//! a few kilobytes, complete before any script runs; it works as a plain form post, and
//! `public/support-form.js` makes it nicer (sends without leaving the page, tells the
//! embedding page its height). The rules live in `backend::support::form`.

use axum::{
    Form, Router,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use backend::{
    mail::templates::escape,
    support::{
        form::{self, MAX_EMAIL, MAX_MESSAGE, MAX_ORDER_NUMBER, MAX_SUBJECT, Outcome, Submission},
        settings,
    },
};

use crate::{
    AppState,
    api::{error::ApiError, guard::ClientAddress},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/support", get(page).post(submit_page)).route("/support/embed", get(embed).post(submit_embed))
}

/// Which of the two the request is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Page,
    Embed,
}

impl Mode {
    fn action(self) -> &'static str {
        match self {
            Mode::Page => "/support",
            Mode::Embed => "/support/embed",
        }
    }
}

/// The words on the form, in the shop's language.
struct Words {
    lang: &'static str,
    title: &'static str,
    intro: &'static str,
    order_number: &'static str,
    order_hint: &'static str,
    email: &'static str,
    email_hint: &'static str,
    subject: &'static str,
    message: &'static str,
    up_to: &'static str,
    characters: &'static str,
    send: &'static str,
    sent_title: &'static str,
    sent: &'static str,
    another: &'static str,
    honeypot: &'static str,
}

const EN: Words = Words {
    lang: "en",
    title: "Contact us about an order",
    intro: "Give your order number and the email address you ordered with, and we will answer by email.",
    order_number: "Order number",
    order_hint: "The digits on your order confirmation, e.g. 1042.",
    email: "Email address",
    email_hint: "The one you used for the order.",
    subject: "Subject",
    message: "Message",
    up_to: "Up to",
    characters: "characters",
    send: "Send",
    sent_title: "Thank you — we have your message",
    sent: "Your ticket reference is",
    another: "Write another message",
    honeypot: "Leave this empty",
};

const TR: Words = Words {
    lang: "tr",
    title: "Siparişiniz hakkında bize yazın",
    intro: "Sipariş numaranızı ve sipariş verirken kullandığınız e-posta adresini yazın; size e-postayla yanıt verelim.",
    order_number: "Sipariş numarası",
    order_hint: "Sipariş onayınızdaki rakamlar, ör. 1042.",
    email: "E-posta adresi",
    email_hint: "Siparişte kullandığınız adres.",
    subject: "Konu",
    message: "Mesaj",
    up_to: "En fazla",
    characters: "karakter",
    send: "Gönder",
    sent_title: "Teşekkürler — mesajınızı aldık",
    sent: "Talep numaranız:",
    another: "Yeni bir mesaj yazın",
    honeypot: "Bunu boş bırakın",
};

async fn page(State(state): State<AppState>) -> Response {
    render(&Frame::read(&state, Mode::Page).await, &Submission::default(), None, StatusCode::OK)
}

async fn embed(State(state): State<AppState>) -> Response {
    render(&Frame::read(&state, Mode::Embed).await, &Submission::default(), None, StatusCode::OK)
}

async fn submit_page(state: State<AppState>, ip: ClientAddress, form: Form<Submission>) -> Response {
    submit(state, ip, form, Mode::Page).await
}

async fn submit_embed(state: State<AppState>, ip: ClientAddress, form: Form<Submission>) -> Response {
    submit(state, ip, form, Mode::Embed).await
}

/// A plain form post (cross-origin posts never get here: the panel's cross-origin guard
/// refuses them): the confirmation, or the form again with what was typed and why it was
/// refused.
async fn submit(
    State(state): State<AppState>,
    ClientAddress(ip): ClientAddress,
    Form(sub): Form<Submission>,
    mode: Mode,
) -> Response {
    let frame = Frame::read(&state, mode).await;
    let ctx = form::Context { ip: ip.as_deref(), panel_url: &state.services.base_url };
    match form::submit(&state.services.db, ctx, &sub).await {
        Ok(Outcome::Created { reference } | Outcome::Ignored { decoy: reference }) => confirmation(&frame, &reference),
        Err(e) => {
            // The API's reading of the error (status, message, logging); only our own
            // faults are said in the form's words.
            let refused = ApiError::from(e);
            let message = if refused.status == StatusCode::INTERNAL_SERVER_ERROR {
                "Something went wrong on our side; please try again shortly.".to_owned()
            } else {
                refused.message
            };
            render(&frame, &sub, Some(message), refused.status)
        }
    }
}

/// What every answer of one request shares, read once: which page, the shop's name and
/// language, and who may frame it.
struct Frame {
    mode: Mode,
    shop_name: String,
    words: &'static Words,
    /// The `frame-ancestors` sources.
    ancestors: String,
}

impl Frame {
    async fn read(state: &AppState, mode: Mode) -> Frame {
        let (shop_name, words) = match backend::settings::get(&state.services.db).await {
            Ok(store) => {
                let words = if store.locale == "tr" { &TR } else { &EN };
                (store.name, words)
            }
            Err(_) => (String::new(), &EN),
        };
        let ancestors = match mode {
            Mode::Page => "'self'".to_owned(),
            Mode::Embed => {
                let origins = settings::get(&state.services.db).await.map(|s| s.embed_origins).unwrap_or_default();
                std::iter::once("'self'".to_owned()).chain(origins).collect::<Vec<_>>().join(" ")
            }
        };
        Frame { mode, shop_name, words, ancestors }
    }
}

fn render(frame: &Frame, sub: &Submission, error: Option<String>, status: StatusCode) -> Response {
    let w = frame.words;
    let error_html = error
        .map(|e| format!("<p class=\"error\" role=\"alert\" id=\"form-error\">{}</p>", escape(&e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>{title}</h1><p>{intro}</p>{error_html}\
         <form method=\"post\" action=\"{action}\" id=\"support-form\" novalidate>\
         <div class=\"field\"><label for=\"order_number\">{order_number}</label>\
         <input id=\"order_number\" name=\"order_number\" inputmode=\"numeric\" autocomplete=\"off\" required maxlength=\"{max_number}\" aria-describedby=\"order_number-hint\" value=\"{v_number}\">\
         <p class=\"hint\" id=\"order_number-hint\">{order_hint}</p></div>\
         <div class=\"field\"><label for=\"email\">{email}</label>\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" required maxlength=\"{max_email}\" aria-describedby=\"email-hint\" value=\"{v_email}\">\
         <p class=\"hint\" id=\"email-hint\">{email_hint}</p></div>\
         <div class=\"field\"><label for=\"subject\">{subject}</label>\
         <input id=\"subject\" name=\"subject\" required maxlength=\"{max_subject}\" aria-describedby=\"subject-hint\" value=\"{v_subject}\">\
         <p class=\"hint\" id=\"subject-hint\">{up_to} {max_subject} {characters}</p></div>\
         <div class=\"field\"><label for=\"message\">{message}</label>\
         <textarea id=\"message\" name=\"message\" rows=\"6\" required maxlength=\"{max_message}\" aria-describedby=\"message-hint\">{v_message}</textarea>\
         <p class=\"hint\" id=\"message-hint\">{up_to} {max_message} {characters}</p></div>\
         <div class=\"trap\" aria-hidden=\"true\"><label for=\"website\">{honeypot}</label>\
         <input id=\"website\" name=\"website\" tabindex=\"-1\" autocomplete=\"off\" value=\"\"></div>\
         <button type=\"submit\">{send}</button></form>",
        title = w.title,
        intro = w.intro,
        action = frame.mode.action(),
        order_number = w.order_number,
        order_hint = w.order_hint,
        email = w.email,
        email_hint = w.email_hint,
        subject = w.subject,
        message = w.message,
        up_to = w.up_to,
        characters = w.characters,
        send = w.send,
        honeypot = w.honeypot,
        max_number = MAX_ORDER_NUMBER,
        max_email = MAX_EMAIL,
        max_subject = MAX_SUBJECT,
        max_message = MAX_MESSAGE,
        v_number = escape(&sub.order_number),
        v_email = escape(&sub.email),
        v_subject = escape(&sub.subject),
        v_message = escape(&sub.message),
    );
    document(frame, &body, status)
}

fn confirmation(frame: &Frame, reference: &str) -> Response {
    let w = frame.words;
    let body = format!(
        "<div role=\"status\" id=\"confirmation\"><h1>{}</h1><p>{} <strong class=\"reference\">{}</strong></p></div><p><a href=\"{}\">{}</a></p>",
        w.sent_title,
        w.sent,
        escape(reference),
        frame.mode.action(),
        w.another
    );
    document(frame, &body, StatusCode::OK)
}

/// The page around `body`, with the headers that keep it safe: where it may be framed,
/// and what it may load (its own script and nothing from elsewhere).
fn document(frame: &Frame, body: &str, status: StatusCode) -> Response {
    let w = frame.words;
    let header_html = match frame.mode {
        Mode::Page => format!("<header><p class=\"shop\">{}</p></header>", escape(&frame.shop_name)),
        Mode::Embed => String::new(),
    };
    let html = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <title>{title} · {shop}</title><style>{STYLE}</style>\
         <script src=\"/support-form.js\" defer></script></head>\
         <body class=\"{class}\">{header_html}<main>{body}</main></body></html>",
        lang = w.lang,
        title = w.title,
        shop = escape(&frame.shop_name),
        class = if frame.mode == Mode::Embed { "embed" } else { "page" },
    );
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; \
         form-action 'self'; base-uri 'none'; frame-ancestors {}",
        frame.ancestors
    );
    let mut response =
        (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
            .into_response();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    // Not `no-referrer`: with it browsers send `Origin: null` on the form's own posts.
    response.headers_mut().insert("referrer-policy", HeaderValue::from_static("same-origin"));
    response.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

/// Small and self-contained: readable in either colour scheme, comfortable on a phone.
const STYLE: &str = "\
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff}\
@media(prefers-color-scheme:dark){body{color:#eee;background:#151515}input,textarea{background:#222;color:#eee}}\
main{max-width:36rem;margin:0 auto;padding:1rem}header{border-bottom:1px solid #ccc;padding:.5rem 1rem}\
.shop{font-weight:600;margin:0}h1{font-size:1.4rem;margin:.5rem 0}\
.field{margin:0 0 1rem}label{display:block;font-weight:600;margin-bottom:.25rem}\
input,textarea{width:100%;font:inherit;padding:.5rem;border:1px solid #888;border-radius:6px}\
input:focus,textarea:focus,button:focus,a:focus{outline:3px solid #2563eb;outline-offset:2px}\
.hint{margin:.25rem 0 0;font-size:.875rem;color:#555}@media(prefers-color-scheme:dark){.hint{color:#aaa}}\
button{font:inherit;font-weight:600;padding:.6rem 1.4rem;border:0;border-radius:6px;background:#1d4ed8;color:#fff;cursor:pointer}\
button[disabled]{opacity:.6}.error{border:1px solid #b91c1c;color:#b91c1c;padding:.5rem .75rem;border-radius:6px}\
.reference{font-size:1.2rem}.trap{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}\
.embed main{padding:.5rem}";
