//! Order notifications: when an order moves to processing, completed or cancelled (each
//! switchable), its mapped template is queued — in the order change's transaction, with
//! exactly the template's parameters, once per order and status, only to a phone that
//! agreed to messages — and a job sends it through [`super::send`] like every message.

use futures_util::future::BoxFuture;
use sqlx::Row;
use vocabulary::{money, phone::Phone};

use super::{
    SEND_JOB, WhatsApp, carts,
    config::{Field, Purpose},
    send::{self, Outgoing},
    settings,
};
use crate::{
    Result,
    jobs::{self, NewJob},
    orders::events::{self, OrderEvent, Subscriber},
};

type Tx<'t> = sqlx::Transaction<'t, sqlx::Any>;

impl Subscriber for WhatsApp {
    fn on_order_event<'a>(
        &'a self,
        tx: &'a mut events::Tx,
        order_id: i64,
        event: &'a OrderEvent,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            match event.entered() {
                Some(status) => notify(tx, order_id, status).await,
                None => Ok(()),
            }
        })
    }
}

/// Queues the notification of an order that moved to `status`, when one is switched on
/// and mapped to a template, and the customer's phone agreed to messages.
async fn notify(tx: &mut Tx<'_>, order_id: i64, status: &str) -> Result<()> {
    let Some(purpose) = Purpose::for_order_status(status) else { return Ok(()) };
    let config = settings::config(&mut **tx).await?;
    let Some(mapping) = config.mapping_for(purpose).filter(|_| config.notifies(purpose)) else { return Ok(()) };
    let order = sqlx::query("SELECT number, billing_first_name, billing_last_name, billing_phone, total, currency FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_one(&mut **tx)
        .await?;
    let Ok(to_phone) =
        Phone::parse(&order.try_get::<String, _>("billing_phone")?, &config.default_country).map(String::from)
    else {
        return Ok(());
    };
    if !carts::consented(&mut **tx, &to_phone).await? {
        return Ok(());
    }
    let store = crate::settings::get_in(&mut **tx).await?;
    let first: String = order.try_get("billing_first_name")?;
    let last: String = order.try_get("billing_last_name")?;
    let value = |field: &Field| -> Result<String> {
        Ok(match field {
            Field::FirstName => first.clone(),
            Field::FullName => format!("{first} {last}").trim().to_owned(),
            Field::ShopName => store.name.clone(),
            Field::OrderNumber => order.try_get("number")?,
            Field::OrderTotal => {
                money::format(order.try_get("total")?, &order.try_get::<String, _>("currency")?, &store.locale)
            }
            Field::CartTotal
            | Field::CouponCode
            | Field::CouponPercent
            | Field::CouponDiscount
            | Field::CouponExpiry => String::new(),
        })
    };
    let parameters = mapping.parameters.iter().map(|f| value(f).map(send::non_empty)).collect::<Result<Vec<_>>>()?;
    let out = Outgoing {
        purpose: purpose.as_str().to_owned(),
        to_phone,
        template: mapping.template.clone(),
        language: mapping.language.clone(),
        parameters,
        url_suffix: None,
        cart_id: None,
        step: None,
        order_id: Some(order_id),
        idempotency_key: format!("order:{order_id}:{status}"),
    };
    let message_id = send::queue(tx, &out).await?.id;
    let job = NewJob {
        idempotency_key: Some(format!("{SEND_JOB}:{message_id}")),
        ..NewJob::of(&send::SendMessage { message_id })
    };
    jobs::enqueue(&mut **tx, &job).await?;
    Ok(())
}
