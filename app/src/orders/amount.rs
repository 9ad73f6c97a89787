//! Amounts in the orders area, in the browser as well as on the server: the backend's
//! money code, and how an order's amounts are written.

/// `backend::money`, compiled into the browser's bundle too: the backend crate cannot be
/// built for WebAssembly, but this one file depends on nothing, so the refund form's
/// preview formats amounts with the very code the server uses.
#[cfg(not(feature = "ssr"))]
#[path = "../../../backend/src/money.rs"]
pub mod money;
#[cfg(feature = "ssr")]
pub use backend::money;

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
