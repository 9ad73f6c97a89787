//! Email: who the shop sends as and where its own notifications go ([`MailSettings`]),
//! what each email says ([`templates`]), the durable [`outbox`] every email passes
//! through, and the [`transport`] that hands it to a mail server (or to a file).

pub mod outbox;
pub mod templates;
pub mod transport;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use vocabulary::people::MAX_NAME_CHARS;

use crate::{
    Error, Result, audit,
    clock::now,
    db::Db,
    settings::{self, StoreSettings},
    users::User,
};
use templates::{Shop, one_line};

/// Who sends the shop's email, and where email for the shop goes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSettings {
    /// Empty: the shop's name.
    pub from_name: String,
    /// Empty: `no-reply@` the shop's host (fine for trying out; a real mail server will
    /// want an address of a domain it may send for).
    pub from_address: String,
    /// Where new tickets and other news for the shop are sent, and where customers'
    /// replies go. Empty: nowhere.
    pub notify_address: String,
}

/// The name and address email goes out as: the settings, or their defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sender {
    pub name: String,
    pub address: String,
}

impl MailSettings {
    /// Where a customer's reply to the shop's email goes: the notification address, when
    /// there is one.
    pub fn reply_to(&self) -> Option<&str> {
        Some(self.notify_address.as_str()).filter(|a| !a.is_empty())
    }

    pub fn sender(&self, store: &StoreSettings) -> Sender {
        let name = if self.from_name.is_empty() { store.name.clone() } else { self.from_name.clone() };
        let address = if self.from_address.is_empty() {
            let host = store
                .public_url
                .as_deref()
                .and_then(|url| url.split("://").nth(1))
                .and_then(|rest| rest.split(['/', ':']).next())
                .filter(|host| host.contains('.') && !host.chars().all(|c| c.is_ascii_digit() || c == '.'))
                .unwrap_or("localhost");
            format!("no-reply@{host}")
        } else {
            self.from_address.clone()
        };
        Sender { name, address }
    }
}

pub async fn settings(db: &Db) -> Result<MailSettings> {
    let row = sqlx::query("SELECT from_name, from_address, notify_address FROM mail_settings WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    Ok(MailSettings {
        from_name: row.try_get("from_name")?,
        from_address: row.try_get("from_address")?,
        notify_address: row.try_get("notify_address")?,
    })
}

/// Saves the sender and the notification address; fails naming the field that is wrong.
pub async fn update_settings(db: &Db, actor: &User, ip: Option<&str>, new: MailSettings) -> Result<MailSettings> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    let from_name = one_line(&new.from_name);
    if from_name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(format!("the sender name is at most {MAX_NAME_CHARS} characters")));
    }
    let address = |text: &str, what: &str| -> Result<String> {
        match text.trim() {
            "" => Ok(String::new()),
            text => outbox::parse_address(text)
                .map(|a| a.to_string())
                .map_err(|_| Error::invalid(format!("the {what} is not an email address"))),
        }
    };
    let from_address = address(&new.from_address, "sender address")?;
    let notify_address = address(&new.notify_address, "notification address")?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE mail_settings SET from_name = $1, from_address = $2, notify_address = $3, updated_at = $4 WHERE id = 1",
    )
    .bind(&from_name)
    .bind(&from_address)
    .bind(&notify_address)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    audit::record(&mut *tx, &audit::Event::by(actor, "mail.settings.update", "mail", ip)).await?;
    tx.commit().await?;
    Ok(MailSettings { from_name, from_address, notify_address })
}

/// Queues the test email to `to` (or, when empty, the notification address, else the
/// person asking); returns where it goes.
pub async fn send_test(db: &Db, actor: &User, ip: Option<&str>, to: &str) -> Result<String> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    let current = settings(db).await?;
    let to = match (to.trim(), current.notify_address.as_str()) {
        ("", "") => actor.email.to_string(),
        ("", notify) => notify.to_owned(),
        (to, _) => to.to_owned(),
    };
    let store = settings::get(db).await?;
    let content = templates::test_message(Shop::from(&store));
    let mut tx = db.begin().await?;
    outbox::queue(
        &mut tx,
        &outbox::NewMail {
            kind: "mail.test",
            to_address: &to,
            to_name: "",
            content: &content,
            reply_to: None,
            order_id: None,
            ticket_id: None,
        },
    )
    .await?;
    audit::record(&mut *tx, &audit::Event::by(actor, "mail.test", &to, ip)).await?;
    tx.commit().await?;
    Ok(to)
}
