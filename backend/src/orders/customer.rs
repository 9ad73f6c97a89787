//! The customer's details on an order, edited in Backroom: the billing name, company,
//! address, e-mail and phone, and the shipping address. Only the fields given change; each
//! is kept as typed (a phone stays the text the customer or the manager wrote, and
//! WhatsApp normalises it where it sends). An edit leaves an audit entry and an
//! `order.customer_edited` event with each field's old and new text, so an order the store
//! keeps is edited there too, unless the store changed the same field meanwhile.

use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row};
use vocabulary::{orders::MAX_CUSTOMER_FIELD_CHARS, people::Email};

use super::{
    events::{OrderEvent, Subscribers},
    trail::{self, Actor},
};
use crate::{Error, Result, clock::now, db::Db};

/// The fields of an address, as WooCommerce names them.
pub const FIELDS: [&str; 11] = [
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
    "email",
    "phone",
];

/// An address's fields to change; those left out stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddressEdit {
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub first_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub last_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub company: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub address_1: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub address_2: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub city: Option<String>,
    /// The state or province (WooCommerce's code, such as `TR34` for İstanbul, or its name).
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub state: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub postcode: Option<String>,
    /// Two letters (ISO 3166-1), such as `TR`; empty for none.
    #[cfg_attr(feature = "openapi", schema(pattern = "^([A-Za-z]{2})?$"))]
    pub country: Option<String>,
    /// Billing only: the address the store's emails go to.
    #[cfg_attr(feature = "openapi", schema(max_length = 254))]
    pub email: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub phone: Option<String>,
}

impl AddressEdit {
    /// The fields given, by name, in [`FIELDS`] order.
    fn given(&self) -> Vec<(&'static str, &str)> {
        let values = [
            &self.first_name,
            &self.last_name,
            &self.company,
            &self.address_1,
            &self.address_2,
            &self.city,
            &self.state,
            &self.postcode,
            &self.country,
            &self.email,
            &self.phone,
        ];
        FIELDS.into_iter().zip(values).filter_map(|(name, value)| value.as_deref().map(|v| (name, v))).collect()
    }
}

/// The order's billing and shipping details to change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CustomerEdit {
    #[serde(default)]
    pub billing: Option<AddressEdit>,
    /// The shipping address has no e-mail.
    #[serde(default)]
    pub shipping: Option<AddressEdit>,
}

/// One field an edit changed: `billing.phone`, its text before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

impl FieldChange {
    /// The address (`billing` or `shipping`) and the field's name in it.
    pub fn split(&self) -> (&str, &str) {
        self.field.split_once('.').unwrap_or(("billing", &self.field))
    }

    /// The field in words: `billing phone`, `shipping address 1`.
    pub fn words(&self) -> String {
        self.field.replace(['.', '_'], " ")
    }
}

/// A field's text as it is kept: trimmed, on one line, within [`MAX_CUSTOMER_FIELD_CHARS`]; a country
/// in capitals, an e-mail checked.
fn checked(address: &str, field: &str, text: &str) -> Result<String> {
    let text = text.trim();
    let what = format!("{address} {}", field.replace('_', " "));
    let max = if field == "email" { Email::MAX_LENGTH } else { MAX_CUSTOMER_FIELD_CHARS };
    if text.chars().count() > max || text.chars().any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}') {
        return Err(Error::invalid(format!("{what}: at most {max} characters, on one line")));
    }
    match field {
        "country" if !(text.is_empty() || text.len() == 2 && text.chars().all(|c| c.is_ascii_alphabetic())) => {
            Err(Error::invalid(format!("{what}: two letters, such as TR")))
        }
        "country" => Ok(text.to_ascii_uppercase()),
        "email" if address == "shipping" => Err(Error::invalid("the shipping address has no e-mail")),
        "email" if text.is_empty() => Ok(String::new()),
        "email" => {
            Email::parse(text).map(|e| e.as_str().to_owned()).map_err(|e| Error::invalid(format!("{what}: {e}")))
        }
        _ => Ok(text.to_owned()),
    }
}

/// Changes the order's customer details; returns the fields that changed (none when every
/// field given already had its text, and then nothing is recorded).
pub async fn edit(
    db: &Db,
    events: &Subscribers,
    actor: Actor<'_>,
    order_id: i64,
    edit: &CustomerEdit,
) -> Result<Vec<FieldChange>> {
    if !actor.user.role.manages_orders() {
        return Err(Error::Forbidden);
    }
    let mut asked = Vec::new();
    for (address, fields) in [("billing", &edit.billing), ("shipping", &edit.shipping)] {
        for (field, text) in fields.iter().flat_map(AddressEdit::given) {
            asked.push((address, field, checked(address, field, text)?));
        }
    }
    if asked.is_empty() {
        return Err(Error::invalid("give at least one billing or shipping field to change"));
    }
    let now = now();
    let mut tx = db.begin().await?;
    let columns: Vec<String> = asked.iter().map(|(address, field, _)| format!("{address}_{field}")).collect();
    // The columns are named from FIELDS, never from what was sent.
    let row = sqlx::query(AssertSqlSafe(format!("SELECT number, {} FROM orders WHERE id = $1", columns.join(", "))))
        .bind(order_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound)?;
    let mut changes = Vec::new();
    for ((address, field, to), column) in asked.into_iter().zip(&columns) {
        let from: String = row.try_get(column.as_str())?;
        // Spaces around what the store sent are no change.
        if from.trim() != to {
            changes.push(FieldChange { field: format!("{address}.{field}"), from, to });
        }
    }
    if changes.is_empty() {
        return Ok(changes);
    }
    // Each field changes only from the text read: an edit made meanwhile (another person,
    // the store's copy arriving) is not overwritten unseen.
    let n = changes.len();
    let column = |c: &FieldChange| c.field.replace('.', "_");
    let set: Vec<String> = changes.iter().enumerate().map(|(i, c)| format!("{} = ${}", column(c), i + 1)).collect();
    let unchanged: Vec<String> =
        changes.iter().enumerate().map(|(i, c)| format!("{} = ${}", column(c), n + 3 + i)).collect();
    let sql = format!(
        "UPDATE orders SET {}, updated_at = ${} WHERE id = ${} AND {}",
        set.join(", "),
        n + 1,
        n + 2,
        unchanged.join(" AND ")
    );
    let mut update = sqlx::query(AssertSqlSafe(sql));
    for change in &changes {
        update = update.bind(change.to.clone());
    }
    update = update.bind(now).bind(order_id);
    for change in &changes {
        update = update.bind(change.from.clone());
    }
    if update.execute(&mut *tx).await?.rows_affected() == 0 {
        return Err(Error::Conflict("the customer's details changed meanwhile; reload the order and try again".into()));
    }
    events.publish(&mut tx, order_id, &OrderEvent::CustomerEdited { changes: changes.clone() }, now).await?;
    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    let number: String = row.try_get("number")?;
    trail::audit(&mut tx, actor, "order.customer_edited", order_id, &number, &fields.join(", ")).await?;
    tx.commit().await?;
    events.committed();
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_kept_as_typed_on_one_line_and_within_their_limits() {
        assert_eq!(checked("billing", "phone", " 0532 123 45 67 ").unwrap(), "0532 123 45 67");
        assert_eq!(checked("billing", "country", "tr").unwrap(), "TR");
        assert_eq!(checked("billing", "country", "").unwrap(), "");
        assert!(checked("billing", "country", "Türkiye").is_err());
        assert_eq!(checked("billing", "email", "Ayse@Example.com").unwrap(), "ayse@example.com");
        assert!(checked("billing", "email", "ayse").is_err());
        assert!(checked("shipping", "email", "ayse@example.com").is_err());
        assert!(checked("billing", "first_name", "Ayşe\r\nBcc: x@example.com").is_err());
        assert!(checked("shipping", "city", &"İ".repeat(MAX_CUSTOMER_FIELD_CHARS + 1)).is_err());
        assert!(checked("billing", "address_1", "Bağdat Cad.\u{2028}No: 5").is_err());
        assert_eq!(checked("billing", "email", &format!("ayse@{}.com", "a".repeat(192))).unwrap().len(), 201);
        assert_eq!(
            checked("shipping", "city", &"İ".repeat(MAX_CUSTOMER_FIELD_CHARS)).unwrap().chars().count(),
            MAX_CUSTOMER_FIELD_CHARS
        );
    }

    #[test]
    fn only_the_fields_given_are_changed() {
        let edit = AddressEdit { last_name: Some("Öz".into()), phone: Some(String::new()), ..AddressEdit::default() };
        assert_eq!(edit.given(), vec![("last_name", "Öz"), ("phone", "")]);
    }
}
