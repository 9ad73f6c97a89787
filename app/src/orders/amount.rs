//! How an order's amounts are written, in the browser as well as on the server.

use vocabulary::money;

/// How the order's amounts are written: its currency and the shop's locale.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MoneyFormat {
    pub currency: String,
    pub locale: String,
}

impl MoneyFormat {
    /// `1,234.50 TRY`, as everywhere else in the panel.
    pub fn show(&self, amount: i64) -> String {
        money::format(amount, &self.currency, &self.locale)
    }

    /// Digits after the decimal point in this currency.
    pub fn digits(&self) -> u32 {
        money::minor_digits(&self.currency)
    }
}
