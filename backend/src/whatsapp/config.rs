//! What the shop decided about WhatsApp beyond the account: cart recovery (delays,
//! follow-ups, the coupon, quiet hours, how long a cart is worth chasing), order
//! notifications, which template each message uses, opt-out words, the hourly cap, the
//! click-to-chat widget. Stored as one JSON document; every field has a default, so a
//! document written by an older build still reads.

use serde::{Deserialize, Serialize};
use vocabulary::whatsapp::{
    MAX_CALLING_CODE_DIGITS, MAX_OPENING_HOURS_CHARS, MAX_OPT_OUT_WORD_CHARS, MAX_OPT_OUT_WORDS,
    MAX_OUTSIDE_MESSAGE_CHARS, MAX_PHONE_CHARS, MAX_WIDGET_LABEL_CHARS, MAX_WIDGET_TEXT_CHARS,
};

use crate::{Error, Result};

/// The smallest first-message delay outside tests: a shopper still typing is not gone.
pub const MIN_FIRST_DELAY_MINUTES: i64 = 10;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The calling code (without +) for numbers typed nationally, such as 90.
    pub default_country: String,
    /// Where the storefront lives (`https://shop.example`): these origins may call the
    /// capture endpoint and load the widget from a browser.
    pub shop_origins: Vec<String>,
    pub recovery: Recovery,
    pub notifications: Notifications,
    /// Which approved template each message uses.
    pub mapping: Vec<Mapping>,
    /// Inbound texts that opt the sender out (compared ignoring case and spaces).
    pub opt_out_words: Vec<String>,
    /// At most this many messages leave in any hour; 0 = no cap.
    pub hourly_cap: i64,
    pub widget: Widget,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Recovery {
    pub enabled: bool,
    /// Minutes after the shopper's last change before the first message.
    pub first_delay_minutes: i64,
    /// The follow-ups, in hours after the first message; each can be switched off.
    pub second_enabled: bool,
    pub second_delay_hours: i64,
    pub third_enabled: bool,
    pub third_delay_hours: i64,
    /// A single-use coupon in this follow-up (2 or 3), or none.
    pub coupon_step: Option<i64>,
    pub coupon_percent: i64,
    /// A fixed amount off the cart instead of the percent, in the shop's currency's minor
    /// units (0: the percent).
    pub coupon_amount_minor: i64,
    pub coupon_valid_days: i64,
    pub coupon_min_minor: i64,
    /// Carts older than this are no longer chased.
    pub max_age_days: i64,
    /// How long a recovery link works after its message was sent.
    pub link_valid_days: i64,
    /// No message leaves between these local times (shop time zone, "HH:MM"); one that
    /// falls due waits for the end. Equal times switch quiet hours off.
    pub quiet_start: String,
    pub quiet_end: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Notifications {
    pub processing: bool,
    pub completed: bool,
    pub cancelled: bool,
}

/// Our message → their template, and what fills each of its body parameters, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub purpose: Purpose,
    pub template: String,
    pub language: String,
    pub parameters: Vec<Field>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    #[serde(rename = "recovery_1")]
    Recovery1,
    #[serde(rename = "recovery_2")]
    Recovery2,
    #[serde(rename = "recovery_3")]
    Recovery3,
    OrderProcessing,
    OrderCompleted,
    OrderCancelled,
}

impl Purpose {
    pub const ALL: [Purpose; 6] = [
        Purpose::Recovery1,
        Purpose::Recovery2,
        Purpose::Recovery3,
        Purpose::OrderProcessing,
        Purpose::OrderCompleted,
        Purpose::OrderCancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Recovery1 => "recovery_1",
            Purpose::Recovery2 => "recovery_2",
            Purpose::Recovery3 => "recovery_3",
            Purpose::OrderProcessing => "order_processing",
            Purpose::OrderCompleted => "order_completed",
            Purpose::OrderCancelled => "order_cancelled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Purpose::Recovery1 => "Cart recovery, first message",
            Purpose::Recovery2 => "Cart recovery, second message",
            Purpose::Recovery3 => "Cart recovery, third message",
            Purpose::OrderProcessing => "Order is processing",
            Purpose::OrderCompleted => "Order is completed",
            Purpose::OrderCancelled => "Order is cancelled",
        }
    }

    pub fn recovery_step(step: i64) -> Option<Purpose> {
        match step {
            1 => Some(Purpose::Recovery1),
            2 => Some(Purpose::Recovery2),
            3 => Some(Purpose::Recovery3),
            _ => None,
        }
    }

    pub fn for_order_status(status: &str) -> Option<Purpose> {
        match status {
            "processing" => Some(Purpose::OrderProcessing),
            "completed" => Some(Purpose::OrderCompleted),
            "cancelled" => Some(Purpose::OrderCancelled),
            _ => None,
        }
    }

    pub fn is_recovery(self) -> bool {
        matches!(self, Purpose::Recovery1 | Purpose::Recovery2 | Purpose::Recovery3)
    }
}

/// What can fill a template parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    FirstName,
    FullName,
    ShopName,
    CartTotal,
    CouponCode,
    CouponPercent,
    /// The coupon's discount as the shopper reads it: "15%" or "50.00 TRY".
    CouponDiscount,
    CouponExpiry,
    OrderNumber,
    OrderTotal,
}

impl Field {
    pub const ALL: [Field; 10] = [
        Field::FirstName,
        Field::FullName,
        Field::ShopName,
        Field::CartTotal,
        Field::CouponCode,
        Field::CouponPercent,
        Field::CouponDiscount,
        Field::CouponExpiry,
        Field::OrderNumber,
        Field::OrderTotal,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::FirstName => "First name",
            Field::FullName => "Full name",
            Field::ShopName => "Shop name",
            Field::CartTotal => "Cart total",
            Field::CouponCode => "Coupon code",
            Field::CouponPercent => "Coupon percent",
            Field::CouponDiscount => "Coupon discount",
            Field::CouponExpiry => "Coupon expiry date",
            Field::OrderNumber => "Order number",
            Field::OrderTotal => "Order total",
        }
    }

    /// Whether this message has a value for the field.
    pub fn fits(self, purpose: Purpose, coupon_step: Option<i64>) -> bool {
        match self {
            Field::FirstName | Field::FullName | Field::ShopName => true,
            Field::CartTotal => purpose.is_recovery(),
            Field::CouponCode | Field::CouponPercent | Field::CouponDiscount | Field::CouponExpiry => {
                coupon_step.and_then(Purpose::recovery_step) == Some(purpose)
            }
            Field::OrderNumber | Field::OrderTotal => !purpose.is_recovery(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Widget {
    pub enabled: bool,
    /// The number shoppers write to, digits with the country code.
    pub phone: String,
    pub text: String,
    pub label: String,
    /// "right" or "left".
    pub position: String,
    /// Path patterns (`*` = anything); empty = every page.
    pub show_on: Vec<String>,
    pub hide_on: Vec<String>,
    /// Opening hours per weekday (Monday first), "HH:MM-HH:MM", empty = closed that day.
    pub hours: [String; 7],
    /// Outside the hours: "hide" or "message".
    pub outside_hours: String,
    pub outside_message: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            default_country: "90".into(),
            shop_origins: Vec::new(),
            recovery: Recovery::default(),
            notifications: Notifications::default(),
            mapping: Vec::new(),
            opt_out_words: vec!["STOP".into(), "DUR".into()],
            hourly_cap: 0,
            widget: Widget::default(),
        }
    }
}

impl Default for Recovery {
    fn default() -> Recovery {
        Recovery {
            enabled: false,
            first_delay_minutes: 60,
            second_enabled: true,
            second_delay_hours: 24,
            third_enabled: true,
            third_delay_hours: 48,
            coupon_step: None,
            coupon_percent: 10,
            coupon_amount_minor: 0,
            coupon_valid_days: 3,
            coupon_min_minor: 0,
            max_age_days: 7,
            link_valid_days: 7,
            quiet_start: "22:00".into(),
            quiet_end: "09:00".into(),
        }
    }
}

impl Default for Notifications {
    fn default() -> Notifications {
        Notifications { processing: true, completed: true, cancelled: true }
    }
}

impl Default for Widget {
    fn default() -> Widget {
        Widget {
            enabled: false,
            phone: String::new(),
            text: String::new(),
            label: "Chat with us on WhatsApp".into(),
            position: "right".into(),
            show_on: Vec::new(),
            hide_on: Vec::new(),
            hours: Default::default(),
            outside_hours: "hide".into(),
            outside_message: String::new(),
        }
    }
}

impl Config {
    /// Whether `origin` (`https://shop.example`) is one of the shop's (case aside).
    pub fn is_shop_origin(&self, origin: &str) -> bool {
        self.shop_origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }

    pub fn mapping_for(&self, purpose: Purpose) -> Option<&Mapping> {
        self.mapping.iter().find(|m| m.purpose == purpose)
    }

    pub fn notifies(&self, purpose: Purpose) -> bool {
        match purpose {
            Purpose::OrderProcessing => self.notifications.processing,
            Purpose::OrderCompleted => self.notifications.completed,
            Purpose::OrderCancelled => self.notifications.cancelled,
            _ => false,
        }
    }

    /// Whether `text` (an inbound message) is one of the opt-out words, ignoring case —
    /// Turkish case too: "İPTAL", "IPTAL" and "iptal" are one word.
    pub fn is_opt_out(&self, text: &str) -> bool {
        let said = fold(text);
        !said.is_empty() && self.opt_out_words.iter().any(|w| fold(w) == said)
    }

    /// Tidies the document and refuses what cannot work, naming the field.
    /// `allow_short_delays` lets tests use delays under ten minutes.
    pub fn validate(mut self, allow_short_delays: bool) -> Result<Config> {
        self.default_country = self.default_country.trim().trim_start_matches('+').to_owned();
        if !(1..=MAX_CALLING_CODE_DIGITS).contains(&self.default_country.len())
            || !self.default_country.chars().all(|c| c.is_ascii_digit())
        {
            return Err(Error::invalid(format!(
                "the default country is a calling code of 1 to {MAX_CALLING_CODE_DIGITS} digits, such as 90"
            )));
        }
        self.shop_origins = self
            .shop_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        if let Some(bad) = self
            .shop_origins
            .iter()
            .find(|o| reqwest::Url::parse(o).ok().filter(|u| u.origin().ascii_serialization() == **o).is_none())
        {
            return Err(Error::invalid(format!("“{bad}” is not an origin such as https://shop.example")));
        }
        let r = &mut self.recovery;
        let shortest = if allow_short_delays { 0 } else { MIN_FIRST_DELAY_MINUTES };
        if r.first_delay_minutes < shortest || r.first_delay_minutes > 7 * 24 * 60 {
            return Err(Error::invalid(format!("the first message waits between {shortest} minutes and 7 days")));
        }
        if !(0..=720).contains(&r.second_delay_hours) || !(0..=720).contains(&r.third_delay_hours) {
            return Err(Error::invalid("a follow-up comes 0 to 720 hours after the first message"));
        }
        if r.second_enabled && r.third_enabled && r.third_delay_hours <= r.second_delay_hours {
            return Err(Error::invalid("the third message comes after the second"));
        }
        if let Some(step) = r.coupon_step {
            if !matches!(step, 2 | 3) {
                return Err(Error::invalid("the coupon goes in the second or the third message"));
            }
            if !(r.coupon_amount_minor > 0 || (1..=100).contains(&r.coupon_percent))
                || r.coupon_amount_minor < 0
                || !(1..=90).contains(&r.coupon_valid_days)
                || r.coupon_min_minor < 0
            {
                return Err(Error::invalid(
                    "a coupon is 1 to 100 percent or an amount off, valid 1 to 90 days, with a minimum spend of 0 or more",
                ));
            }
            let percent_used = self.mapping.iter().any(|m| m.parameters.contains(&Field::CouponPercent));
            if r.coupon_amount_minor > 0 && percent_used {
                return Err(Error::invalid(
                    "a coupon of a fixed amount has no percent: map “Coupon discount” instead of “Coupon percent”",
                ));
            }
        }
        if !(1..=90).contains(&r.max_age_days) || !(1..=90).contains(&r.link_valid_days) {
            return Err(Error::invalid("carts are chased and links work for 1 to 90 days"));
        }
        for time in [&r.quiet_start, &r.quiet_end] {
            if parse_time(time).is_none() {
                return Err(Error::invalid(format!("“{time}” is not a time such as 22:00")));
            }
        }
        for mapping in &self.mapping {
            if let Some(field) = mapping.parameters.iter().find(|f| !f.fits(mapping.purpose, self.recovery.coupon_step))
            {
                return Err(Error::invalid(format!(
                    "“{}” has no value in the message “{}”",
                    field.label(),
                    mapping.purpose.label()
                )));
            }
        }
        let mut purposes: Vec<_> = self.mapping.iter().map(|m| m.purpose).collect();
        purposes.sort();
        purposes.dedup();
        if purposes.len() != self.mapping.len() {
            return Err(Error::invalid("each message is mapped to one template"));
        }
        self.opt_out_words = self.opt_out_words.iter().map(|w| w.trim().to_owned()).filter(|w| !w.is_empty()).collect();
        if self.opt_out_words.len() > MAX_OPT_OUT_WORDS
            || self.opt_out_words.iter().any(|w| w.chars().count() > MAX_OPT_OUT_WORD_CHARS)
        {
            return Err(Error::invalid(format!(
                "up to {MAX_OPT_OUT_WORDS} opt-out words of up to {MAX_OPT_OUT_WORD_CHARS} characters"
            )));
        }
        if !(0..=1_000_000).contains(&self.hourly_cap) {
            return Err(Error::invalid("the hourly cap is 0 (none) to 1,000,000"));
        }
        let w = &mut self.widget;
        if w.phone.chars().count() > MAX_PHONE_CHARS {
            return Err(Error::invalid(format!("the widget's phone is at most {MAX_PHONE_CHARS} characters")));
        }
        w.phone = w.phone.chars().filter(char::is_ascii_digit).collect();
        if w.enabled && !(7..=15).contains(&w.phone.len()) {
            return Err(Error::invalid("the widget's phone is the full number with its country code"));
        }
        if !matches!(w.position.as_str(), "right" | "left") || !matches!(w.outside_hours.as_str(), "hide" | "message") {
            return Err(Error::invalid(
                "the widget sits right or left, and outside the hours hides or shows a message",
            ));
        }
        if w.text.chars().count() > MAX_WIDGET_TEXT_CHARS
            || w.label.chars().count() > MAX_WIDGET_LABEL_CHARS
            || w.outside_message.chars().count() > MAX_OUTSIDE_MESSAGE_CHARS
            || w.label.trim().is_empty()
        {
            return Err(Error::invalid(format!(
                "the widget's label (1 to {MAX_WIDGET_LABEL_CHARS} characters), text (up to {MAX_WIDGET_TEXT_CHARS}) \
                 and message (up to {MAX_OUTSIDE_MESSAGE_CHARS}) are too long or empty",
            )));
        }
        for day in &w.hours {
            let day = day.trim();
            if !day.is_empty() && (day.chars().count() > MAX_OPENING_HOURS_CHARS || opening_hours(day).is_none()) {
                return Err(Error::invalid(format!("“{day}” is not opening hours such as 09:00-18:00")));
            }
        }
        if w.show_on.len() + w.hide_on.len() > 100 {
            return Err(Error::invalid("up to 100 page patterns"));
        }
        Ok(self)
    }
}

/// Lower case without the dot of "İ" and with "ı" as "i", trimmed.
fn fold(text: &str) -> String {
    text.trim().to_lowercase().chars().filter(|c| *c != '\u{307}').map(|c| if c == 'ı' { 'i' } else { c }).collect()
}

/// "HH:MM" as minutes after midnight.
pub fn parse_time(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// "HH:MM-HH:MM" as minutes after midnight (the end may be 24:00).
pub fn opening_hours(text: &str) -> Option<(u32, u32)> {
    let (from, to) = text.trim().split_once('-')?;
    let to = if to.trim() == "24:00" { 24 * 60 } else { parse_time(to)? };
    let from = parse_time(from)?;
    (from < to).then_some((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_an_old_document_reads() {
        assert!(Config::default().validate(false).is_ok());
        let old: Config = serde_json::from_str(r#"{"hourly_cap": 5}"#).unwrap();
        assert_eq!((old.hourly_cap, old.recovery.first_delay_minutes), (5, 60));
    }

    #[test]
    fn a_first_delay_under_ten_minutes_is_for_tests_only() {
        let mut config = Config::default();
        config.recovery.first_delay_minutes = 1;
        assert!(config.clone().validate(false).is_err());
        assert!(config.validate(true).is_ok());
    }

    #[test]
    fn a_coupon_field_needs_the_message_with_the_coupon() {
        let mut config = Config {
            mapping: vec![Mapping {
                purpose: Purpose::Recovery1,
                template: "t".into(),
                language: "tr".into(),
                parameters: vec![Field::CouponCode],
            }],
            ..Config::default()
        };
        assert!(config.clone().validate(false).is_err());
        config.mapping[0].purpose = Purpose::Recovery2;
        config.recovery.coupon_step = Some(2);
        assert!(config.validate(false).is_ok());
    }

    #[test]
    fn a_coupon_of_an_amount_off_is_read_as_its_discount_not_a_percent() {
        let mut config = Config {
            mapping: vec![Mapping {
                purpose: Purpose::Recovery2,
                template: "t".into(),
                language: "tr".into(),
                parameters: vec![Field::CouponCode, Field::CouponPercent],
            }],
            ..Config::default()
        };
        config.recovery.coupon_step = Some(2);
        config.recovery.coupon_amount_minor = 5_000;
        assert!(config.clone().validate(false).unwrap_err().to_string().contains("Coupon discount"));
        config.mapping[0].parameters[1] = Field::CouponDiscount;
        assert!(config.clone().validate(false).is_ok());
        config.recovery.coupon_amount_minor = -1;
        assert!(config.validate(false).is_err());
    }

    #[test]
    fn a_widget_phone_or_opening_hours_longer_than_the_form_takes_are_refused() {
        let mut config = Config::default();
        config.widget.enabled = true;
        config.widget.phone = "+90 (555) 000-00-00".into();
        config.widget.hours[0] = "09:00-18:00".into();
        assert!(config.clone().validate(false).is_ok());
        // Both would read, but neither fits its field.
        let mut long_phone = config.clone();
        long_phone.widget.phone = format!("+90 555 000 00 00{}", " ".repeat(MAX_PHONE_CHARS));
        let e = long_phone.validate(false).unwrap_err().to_string();
        assert_eq!(e, "the widget's phone is at most 30 characters");
        let mut long_hours = config;
        long_hours.widget.hours[0] = "09:00 - 18:00".into();
        let e = long_hours.validate(false).unwrap_err().to_string();
        assert_eq!(e, "“09:00 - 18:00” is not opening hours such as 09:00-18:00");
    }

    #[test]
    fn purposes_are_stored_by_their_names() {
        for purpose in Purpose::ALL {
            assert_eq!(serde_json::to_value(purpose).unwrap(), purpose.as_str());
        }
    }

    #[test]
    fn opt_out_words_ignore_case_and_spaces() {
        let config = Config::default();
        assert!(config.is_opt_out(" stop "));
        assert!(config.is_opt_out("Dur"));
        assert!(!config.is_opt_out("stop please"));
        let turkish = Config { opt_out_words: vec!["İPTAL".into()], ..Config::default() };
        assert!(turkish.is_opt_out("iptal") && turkish.is_opt_out("IPTAL") && turkish.is_opt_out("İptal"));
    }
}
