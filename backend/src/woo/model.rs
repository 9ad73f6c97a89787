//! WooCommerce's objects as its REST API (and its webhooks) send them, read leniently:
//! money as decimal strings (sometimes JSON numbers with long fractions), ids that may come
//! as strings, `null` or `""` where a value is missing, dates in `*_gmt` fields without a
//! zone, and HTML entities in names. Fields Backroom does not use are not read.

use serde::{Deserialize, Deserializer, de};

/// A decimal amount exactly as sent ("249.90", "-41.65", "8.316", 458.25 → "458.25").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decimal(pub String);

impl Decimal {
    /// In minor units of a currency with `digits` decimals, rounded half away from zero
    /// (as WooCommerce rounds for display); empty is zero. `None` for text that is not a
    /// number.
    pub fn minor(&self, digits: u32) -> Option<i64> {
        minor_units(&self.0, digits)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        Ok(Decimal(match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(text) => text.trim().to_owned(),
            serde_json::Value::Number(number) => number.to_string(),
            serde_json::Value::Null => String::new(),
            other => return Err(de::Error::custom(format!("{other} is not an amount"))),
        }))
    }
}

/// "12.345" in minor units of `digits` decimals; see [`Decimal::minor`].
pub fn minor_units(text: &str, digits: u32) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    // JSON numbers may come in exponent form; such amounts are not money WooCommerce sends.
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 15
    {
        return None;
    }
    let scale = 10i64.checked_pow(digits)?;
    let mut value = whole.parse::<i64>().unwrap_or(0).checked_mul(scale)?;
    let kept: String = fraction.chars().chain(std::iter::repeat('0')).take(digits as usize).collect();
    value += kept.parse::<i64>().unwrap_or(0);
    if fraction.as_bytes().get(digits as usize).is_some_and(|b| *b >= b'5') {
        value += 1;
    }
    Some(if negative { -value } else { value })
}

/// A `*_gmt` date ("2026-12-05T21:22:07", no zone: UTC) as Unix seconds.
pub fn gmt(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() || text.starts_with("0000") {
        return None;
    }
    chrono::NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|d| d.and_utc().timestamp())
}

/// Unix seconds as a `*_gmt` date, as the date filters take it (with `dates_are_gmt=true`).
pub fn gmt_text(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0).map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string()).unwrap_or_default()
}

fn date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.as_deref().and_then(gmt))
}

/// Text as a person reads it: WordPress's HTML entities decoded, tags and NUL characters
/// (which PostgreSQL refuses) left out.
pub fn plain_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['&', '<', '\0']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('\0') {
            rest = &rest[1..];
        } else if rest.starts_with('<') {
            match rest.find('>') {
                Some(end) if rest[1..end].chars().all(|c| c != '<') && end > 1 => rest = &rest[end + 1..],
                _ => {
                    out.push('<');
                    rest = &rest[1..];
                }
            }
        } else {
            let end = rest[1..].find(';').map(|e| e + 1).filter(|e| *e <= 10);
            let decoded = end.and_then(|e| entity(&rest[1..e]));
            match (end, decoded) {
                (Some(e), Some(c)) => {
                    out.push(c);
                    rest = &rest[e + 1..];
                }
                _ => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "times" => '×',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        _ => {
            let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => name.strip_prefix('#')?.parse().ok()?,
            };
            char::from_u32(code).filter(|c| *c != '\0')?
        }
    })
}

fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(s) => plain_text(&s),
        serde_json::Value::Null => String::new(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => String::new(),
    })
}

/// `null` read as the type's default (WooCommerce sends `null` for missing addresses and
/// lists now and then).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(deserializer: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    Ok(optional_int(deserializer)?.unwrap_or(0))
}

fn optional_int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::Number(n) => n.as_i64().is_some_and(|n| n != 0),
        serde_json::Value::String(s) => matches!(s.as_str(), "yes" | "true" | "1" | "parent"),
        _ => false,
    })
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Address {
    #[serde(deserialize_with = "text")]
    pub first_name: String,
    #[serde(deserialize_with = "text")]
    pub last_name: String,
    #[serde(deserialize_with = "text")]
    pub company: String,
    #[serde(deserialize_with = "text")]
    pub address_1: String,
    #[serde(deserialize_with = "text")]
    pub address_2: String,
    #[serde(deserialize_with = "text")]
    pub city: String,
    #[serde(deserialize_with = "text")]
    pub state: String,
    #[serde(deserialize_with = "text")]
    pub postcode: String,
    #[serde(deserialize_with = "text")]
    pub country: String,
    #[serde(deserialize_with = "text")]
    pub email: String,
    #[serde(deserialize_with = "text")]
    pub phone: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Meta {
    #[serde(deserialize_with = "text")]
    pub key: String,
    pub value: serde_json::Value,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct LineItem {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(deserialize_with = "text")]
    pub name: String,
    #[serde(deserialize_with = "int")]
    pub product_id: i64,
    #[serde(deserialize_with = "int")]
    pub variation_id: i64,
    #[serde(deserialize_with = "int")]
    pub quantity: i64,
    #[serde(deserialize_with = "text")]
    pub tax_class: String,
    pub subtotal: Decimal,
    pub subtotal_tax: Decimal,
    pub total: Decimal,
    pub total_tax: Decimal,
    #[serde(deserialize_with = "text")]
    pub sku: String,
    pub price: Decimal,
    /// The line's tax by the store's tax rate.
    #[serde(deserialize_with = "nullable")]
    pub taxes: Vec<LineTax>,
    #[serde(deserialize_with = "nullable")]
    pub meta_data: Vec<Meta>,
}

impl Address {
    /// A field by its WooCommerce name (`first_name`, `address_1`, `email`), as read: the
    /// store's markup taken out, as Backroom keeps it.
    pub fn field(&self, name: &str) -> &str {
        match name {
            "first_name" => &self.first_name,
            "last_name" => &self.last_name,
            "company" => &self.company,
            "address_1" => &self.address_1,
            "address_2" => &self.address_2,
            "city" => &self.city,
            "state" => &self.state,
            "postcode" => &self.postcode,
            "country" => &self.country,
            "email" => &self.email,
            "phone" => &self.phone,
            _ => "",
        }
    }
}

/// A line's tax at one of the store's tax rates.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct LineTax {
    /// The tax rate's id.
    #[serde(deserialize_with = "int")]
    pub id: i64,
    pub total: Decimal,
}

impl LineItem {
    /// For a refund's line: the order line it refunds (`_refunded_item_id`).
    pub fn refunded_item(&self) -> Option<i64> {
        self.meta_data.iter().find(|m| m.key == "_refunded_item_id").and_then(|m| match &m.value {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShippingLine {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(deserialize_with = "text")]
    pub method_title: String,
    #[serde(deserialize_with = "text")]
    pub method_id: String,
    pub total: Decimal,
    pub total_tax: Decimal,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct FeeLine {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(deserialize_with = "text")]
    pub name: String,
    pub total: Decimal,
    pub total_tax: Decimal,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct CouponLine {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(deserialize_with = "text")]
    pub code: String,
    pub discount: Decimal,
    pub discount_tax: Decimal,
}

/// An order's summary of one of its refunds.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RefundSummary {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    /// Negative, as WooCommerce writes it ("-10.00").
    pub total: Decimal,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Order {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(deserialize_with = "text")]
    pub number: String,
    #[serde(deserialize_with = "text")]
    pub status: String,
    #[serde(deserialize_with = "text")]
    pub currency: String,
    #[serde(deserialize_with = "date")]
    pub date_created_gmt: Option<i64>,
    #[serde(deserialize_with = "date")]
    pub date_modified_gmt: Option<i64>,
    #[serde(deserialize_with = "date")]
    pub date_paid_gmt: Option<i64>,
    #[serde(deserialize_with = "date")]
    pub date_completed_gmt: Option<i64>,
    pub discount_total: Decimal,
    pub discount_tax: Decimal,
    pub shipping_total: Decimal,
    pub shipping_tax: Decimal,
    pub cart_tax: Decimal,
    pub total: Decimal,
    pub total_tax: Decimal,
    #[serde(deserialize_with = "int")]
    pub customer_id: i64,
    #[serde(deserialize_with = "nullable")]
    pub billing: Address,
    #[serde(deserialize_with = "nullable")]
    pub shipping: Address,
    #[serde(deserialize_with = "text")]
    pub payment_method: String,
    #[serde(deserialize_with = "text")]
    pub payment_method_title: String,
    #[serde(deserialize_with = "text")]
    pub transaction_id: String,
    #[serde(deserialize_with = "text")]
    pub customer_note: String,
    #[serde(deserialize_with = "nullable")]
    pub meta_data: Vec<Meta>,
    #[serde(deserialize_with = "nullable")]
    pub line_items: Vec<LineItem>,
    #[serde(deserialize_with = "nullable")]
    pub shipping_lines: Vec<ShippingLine>,
    #[serde(deserialize_with = "nullable")]
    pub fee_lines: Vec<FeeLine>,
    #[serde(deserialize_with = "nullable")]
    pub coupon_lines: Vec<CouponLine>,
    #[serde(deserialize_with = "nullable")]
    pub refunds: Vec<RefundSummary>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Refund {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    /// Not in WooCommerce's refund objects (its `_links.up` names the order); filled in
    /// from there, or from the order a refund was asked for under.
    #[serde(deserialize_with = "int")]
    pub parent_id: i64,
    #[serde(deserialize_with = "date")]
    pub date_created_gmt: Option<i64>,
    pub amount: Decimal,
    #[serde(deserialize_with = "text")]
    pub reason: String,
    #[serde(deserialize_with = "flag")]
    pub refunded_payment: bool,
    #[serde(deserialize_with = "nullable")]
    pub line_items: Vec<LineItem>,
    #[serde(deserialize_with = "nullable")]
    pub meta_data: Vec<Meta>,
    #[serde(rename = "_links", deserialize_with = "nullable")]
    pub links: Links,
}

impl Refund {
    /// The order it belongs to: `parent_id` when sent, else the id ending its `up` link.
    pub fn order_id(&self) -> Option<i64> {
        if self.parent_id > 0 {
            return Some(self.parent_id);
        }
        let href = &self.links.up.first()?.href;
        href.trim_end_matches('/').rsplit('/').next()?.parse().ok()
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Links {
    #[serde(deserialize_with = "nullable")]
    pub up: Vec<Link>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Link {
    pub href: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Note {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(deserialize_with = "text")]
    pub author: String,
    #[serde(deserialize_with = "date")]
    pub date_created_gmt: Option<i64>,
    #[serde(deserialize_with = "text")]
    pub note: String,
    #[serde(deserialize_with = "flag")]
    pub customer_note: bool,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Term {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(deserialize_with = "text")]
    pub name: String,
    #[serde(deserialize_with = "text")]
    pub slug: String,
    #[serde(deserialize_with = "optional_int")]
    pub parent: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProductAttribute {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(deserialize_with = "text")]
    pub name: String,
    #[serde(deserialize_with = "text")]
    pub option: String,
    #[serde(deserialize_with = "nullable")]
    pub options: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Product {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(deserialize_with = "text")]
    pub name: String,
    #[serde(deserialize_with = "text")]
    pub slug: String,
    #[serde(rename = "type", deserialize_with = "text")]
    pub kind: String,
    #[serde(deserialize_with = "text")]
    pub status: String,
    #[serde(deserialize_with = "text")]
    pub sku: String,
    pub regular_price: Decimal,
    pub sale_price: Decimal,
    pub price: Decimal,
    #[serde(deserialize_with = "text")]
    pub tax_class: String,
    #[serde(deserialize_with = "flag")]
    pub manage_stock: bool,
    #[serde(deserialize_with = "optional_int")]
    pub stock_quantity: Option<i64>,
    #[serde(deserialize_with = "text")]
    pub stock_status: String,
    #[serde(deserialize_with = "date")]
    pub date_created_gmt: Option<i64>,
    #[serde(deserialize_with = "date")]
    pub date_modified_gmt: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    pub categories: Vec<Term>,
    #[serde(deserialize_with = "nullable")]
    pub tags: Vec<Term>,
    #[serde(deserialize_with = "nullable")]
    pub attributes: Vec<ProductAttribute>,
    /// For a variable product, its variations' ids.
    #[serde(deserialize_with = "nullable")]
    pub variations: Vec<serde_json::Value>,
    /// A variation sent as a product (webhooks do): its product's id.
    #[serde(deserialize_with = "int")]
    pub parent_id: i64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Customer {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(deserialize_with = "text")]
    pub email: String,
    #[serde(deserialize_with = "text")]
    pub first_name: String,
    #[serde(deserialize_with = "text")]
    pub last_name: String,
    #[serde(deserialize_with = "text")]
    pub username: String,
    #[serde(deserialize_with = "text")]
    pub role: String,
    #[serde(deserialize_with = "nullable")]
    pub billing: Address,
    #[serde(deserialize_with = "date")]
    pub date_created_gmt: Option<i64>,
    #[serde(deserialize_with = "date")]
    pub date_modified_gmt: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Coupon {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(deserialize_with = "text")]
    pub code: String,
    pub amount: Decimal,
    #[serde(deserialize_with = "text")]
    pub discount_type: String,
    #[serde(deserialize_with = "text")]
    pub description: String,
    #[serde(deserialize_with = "text")]
    pub status: String,
    #[serde(deserialize_with = "date")]
    pub date_created_gmt: Option<i64>,
    #[serde(deserialize_with = "date")]
    pub date_modified_gmt: Option<i64>,
    #[serde(deserialize_with = "date")]
    pub date_expires_gmt: Option<i64>,
    #[serde(deserialize_with = "int")]
    pub usage_count: i64,
    #[serde(deserialize_with = "optional_int")]
    pub usage_limit: Option<i64>,
    #[serde(deserialize_with = "optional_int")]
    pub usage_limit_per_user: Option<i64>,
    #[serde(deserialize_with = "flag")]
    pub individual_use: bool,
    #[serde(deserialize_with = "flag")]
    pub free_shipping: bool,
    pub minimum_amount: Decimal,
    pub maximum_amount: Decimal,
    #[serde(deserialize_with = "nullable")]
    pub email_restrictions: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Webhook {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(deserialize_with = "text")]
    pub status: String,
    #[serde(deserialize_with = "text")]
    pub topic: String,
    #[serde(deserialize_with = "text")]
    pub delivery_url: String,
}

/// An object of any kind whose id and change date are all a check needs.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Stamp {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(deserialize_with = "date")]
    pub date_modified_gmt: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_becomes_minor_units_by_the_currencys_decimals() {
        assert_eq!(minor_units("249.90", 2), Some(24990));
        assert_eq!(minor_units("99.666667", 2), Some(9967), "six-decimal tax totals round");
        assert_eq!(minor_units("8.315", 2), Some(832), "half away from zero");
        assert_eq!(minor_units("-41.65", 2), Some(-4165));
        assert_eq!(minor_units("-0.005", 2), Some(-1));
        assert_eq!(minor_units("1500", 0), Some(1500));
        assert_eq!(minor_units("1.2345", 3), Some(1235));
        assert_eq!(minor_units("", 2), Some(0));
        assert_eq!(minor_units("12", 2), Some(1200));
        assert_eq!(minor_units(".5", 2), Some(50));
        assert_eq!(minor_units("abc", 2), None);
        assert_eq!(minor_units("1e5", 2), None);
        assert_eq!(minor_units("99999999999999999999", 2), None);
        let price: LineItem = serde_json::from_str(r#"{"price": 249.1666665}"#).unwrap();
        assert_eq!(price.price.minor(2), Some(24917), "prices that include tax come as long JSON numbers");
    }

    #[test]
    fn gmt_dates_are_utc_seconds() {
        assert_eq!(gmt("2026-12-05T21:22:07"), Some(1_796_505_727));
        assert_eq!(gmt_text(1_796_505_727), "2026-12-05T21:22:07");
        assert_eq!(gmt(""), None);
        assert_eq!(gmt("0000-00-00T00:00:00"), None);
    }

    #[test]
    fn text_is_read_as_people_read_it() {
        assert_eq!(plain_text("Keten Gömlek - Bej, XL &times; 1"), "Keten Gömlek - Bej, XL × 1");
        assert_eq!(plain_text("Çay &amp; Kahve &#8211; <strong>200 g</strong>"), "Çay & Kahve – 200 g");
        assert_eq!(plain_text("a < b & c\0"), "a < b & c");
        let order: Order =
            serde_json::from_str(r#"{"id":"12","number":1042,"customer_id":null,"billing":null}"#).unwrap();
        assert_eq!((order.id, order.number.as_str(), order.customer_id), (12, "1042", 0));
    }

    #[test]
    fn a_refund_finds_its_order_in_its_up_link() {
        let refund: Refund = serde_json::from_str(
            r#"{"id":1067,"_links":{"up":[{"href":"https://shop.example/wp-json/wc/v3/orders/1066"}]}}"#,
        )
        .unwrap();
        assert_eq!(refund.order_id(), Some(1066));
    }
}
