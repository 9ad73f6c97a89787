//! The connect wizard: where to make a key in WooCommerce, the store's address and the
//! key, the live checks with what to do about each failure, the questions connecting
//! asks (taking the store's currency and time zone, clearing demo data), and, once
//! connected, the import started and its progress page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;
use serde::{Deserialize, Serialize};
use vocabulary::store::{MAX_KEY_CHARS, MAX_URL_CHARS};

use super::{CheckView, IMPORT_PATH, STORE_PATH};
use crate::{error::PanelError, forms::action_error};

/// The wizard's form. Ticks are present when ticked; the secret is never shown again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectForm {
    pub url: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    #[serde(default)]
    pub adopt_store_settings: Option<String>,
    #[serde(default)]
    pub clear_demo_data: Option<String>,
}

/// A question connecting asks; ticking `confirms` answers yes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionView {
    pub confirms: String,
    pub text: String,
}

/// What connecting came to: the checks, and either the questions to answer first or,
/// once connected, how many webhooks Backroom made in the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectOutcome {
    pub connected: bool,
    pub checks: Vec<CheckView>,
    pub questions: Vec<QuestionView>,
    pub webhooks: usize,
}

/// Checks the store and the key and connects to it; once connected, starts the import.
/// A store that fails a check, or a question to answer, is an outcome, not an error.
#[server(endpoint = "connect_store")]
pub async fn connect_store(form: ConnectForm) -> Result<ConnectOutcome, PanelError> {
    use backend::woo::{connection, import};
    let me = crate::context::acting(backend::users::Role::manages_store).await?;
    let woo = &me.ctx.woo;
    let request = connection::ConnectRequest {
        url: form.url,
        consumer_key: form.consumer_key,
        consumer_secret: form.consumer_secret.into(),
        adopt_store_settings: form.adopt_store_settings.is_some(),
        clear_demo_data: form.clear_demo_data.is_some(),
    };
    Ok(match connection::connect(woo, &me.user, me.ip.as_deref(), request).await? {
        connection::Connected::Done { report, webhooks } => {
            import::restart(woo, &me.user, me.ip.as_deref()).await?;
            ConnectOutcome { connected: true, checks: super::checks(&report), questions: Vec::new(), webhooks }
        }
        connection::Connected::NeedsConfirmation { report, questions } => ConnectOutcome {
            connected: false,
            checks: super::checks(&report),
            questions: questions.into_iter().map(|q| QuestionView { confirms: q.confirms, text: q.text }).collect(),
            webhooks: 0,
        },
        connection::Connected::Failed { report } => {
            ConnectOutcome { connected: false, checks: super::checks(&report), questions: Vec::new(), webhooks: 0 }
        }
    })
}

#[component]
pub fn StoreConnectPage() -> impl IntoView {
    let connect = ServerAction::<ConnectStore>::new();
    let error = action_error(connect);
    let outcome = move || connect.value().get().and_then(Result::ok);
    let questions = move || outcome().map(|o| o.questions).unwrap_or_default();
    // Once connected the import is under way: its page is where to be.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if outcome().is_some_and(|o| o.connected) {
            navigate(IMPORT_PATH, Default::default());
        }
    });
    view! {
        <Title text="Connect your store · Backroom"/>
        <p class="back-link"><a href=STORE_PATH>"← The store's connection"</a></p>
        <h1>"Connect your WooCommerce store"</h1>
        <section class="card" aria-labelledby="key-heading">
            <h2 id="key-heading">"1. Make a key in WooCommerce"</h2>
            <ol class="steps">
                <li>"In your WordPress admin, open WooCommerce → Settings → Advanced → REST API."</li>
                <li>"Choose Add key. Describe it as Backroom, pick a user who manages the shop, and set Permissions to Read/Write."</li>
                <li>"Choose Generate API key, and copy the consumer key and the consumer secret: WooCommerce shows the secret only once."</li>
            </ol>
        </section>
        <section class="card" aria-labelledby="connect-heading">
            <h2 id="connect-heading">"2. Connect"</h2>
            <ActionForm action=connect>
                <div class="field">
                    <label for="store-url">"The store's address"</label>
                    <input id="store-url" name="form[url]" type="url" required maxlength=MAX_URL_CHARS.to_string() spellcheck="false"
                        autocomplete="url" placeholder="https://shop.example.com" aria-describedby="store-url-hint"/>
                    <p class="hint" id="store-url-hint">"Its home page, with https:// where the store has it."</p>
                </div>
                <div class="field">
                    <label for="consumer-key">"Consumer key"</label>
                    <input id="consumer-key" name="form[consumer_key]" type="text" required maxlength=MAX_KEY_CHARS.to_string() spellcheck="false"
                        autocomplete="off" placeholder="ck_…"/>
                </div>
                <div class="field">
                    <label for="consumer-secret">"Consumer secret"</label>
                    <input id="consumer-secret" name="form[consumer_secret]" type="password" required maxlength=MAX_KEY_CHARS.to_string()
                        spellcheck="false" autocomplete="new-password" placeholder="cs_…" aria-describedby="consumer-secret-hint"/>
                    <p class="hint" id="consumer-secret-hint">"Kept sealed in Backroom's database, never shown again."</p>
                </div>
                {move || {
                    let asked = questions();
                    (!asked.is_empty()).then(|| view! {
                        <fieldset class="choices" data-testid="connect-questions">
                            <legend>"Before the store's data comes in"</legend>
                            {asked.into_iter().map(|q| {
                                let id = format!("confirm-{}", q.confirms);
                                view! {
                                    <span class="choice">
                                        <input type="checkbox" id=id.clone() name=format!("form[{}]", q.confirms) required/>
                                        <label for=id>{q.text}</label>
                                    </span>
                                }
                            }).collect_view()}
                        </fieldset>
                    })
                }}
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="primary" disabled=move || connect.pending().get()>
                    {move || if connect.pending().get() { "Checking the store…" } else { "Check and connect" }}
                </button>
            </ActionForm>
            <div aria-live="polite" data-testid="connect-outcome">
                {move || outcome().map(|o| view! { <Outcome outcome=o/> })}
            </div>
        </section>
    }
}

/// The checks, each passed or failed with what was found or what to do.
#[component]
fn Outcome(outcome: ConnectOutcome) -> impl IntoView {
    let summary = if outcome.connected {
        format!("Connected, with {} webhooks made in the store. The import has started.", outcome.webhooks)
    } else if !outcome.questions.is_empty() {
        "Every check passed. Answer the questions above, then connect again.".to_owned()
    } else {
        "Not connected: fix what failed, then check again. Nothing was changed.".to_owned()
    };
    let class = if outcome.connected {
        "success"
    } else if outcome.questions.is_empty() {
        "error"
    } else {
        ""
    };
    view! {
        <h3>"What the checks found"</h3>
        <ul class="checks">
            {outcome.checks.into_iter().map(|c| view! {
                <li class=if c.passed { "check passed" } else { "check failed" }>
                    <strong>{if c.passed { "Passed: " } else { "Failed: " }}{c.name}</strong>
                    " — "{c.detail}
                </li>
            }).collect_view()}
        </ul>
        <p class=class>{summary}</p>
    }
}
