//! How the shop talks to its ledger: where (base URL, company code, API key sealed at
//! rest), how orders become invoices (series prefix, numbering, which statuses trigger,
//! refunds, shipping and fees, VAT codes), and how hard to try (attempts, log retention).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use vocabulary::accounting::{MAX_API_KEY_CHARS, MAX_BASE_URL_CHARS, MAX_COMPANY_CODE_CHARS, MAX_INVOICE_PREFIX_CHARS};

use crate::{
    Error, Result, audit,
    clock::now,
    db::Db,
    jobs,
    orders::OrderStatus,
    sealed::{Place, Sealer},
    users::User,
};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Numbering {
    /// The prefix and the order's number: WEB1042.
    #[default]
    OrderNumber,
    /// The prefix and our own counter for that prefix, handed out once each: WEB000001.
    Sequence,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundHandling {
    /// A refund on a synced order sends the ledger a credit note.
    #[default]
    CreditNote,
    /// A refund on a synced order is listed for the bookkeeper to handle.
    Manual,
}

/// What the panel shows and edits. The API key itself is never in here: only whether one
/// is stored and its last four characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountingSettings {
    pub enabled: bool,
    pub base_url: String,
    pub company_code: String,
    pub has_api_key: bool,
    pub api_key_hint: String,
    pub invoice_prefix: String,
    pub numbering: Numbering,
    pub trigger_statuses: Vec<String>,
    pub refunds: RefundHandling,
    pub shipping_as_line: bool,
    pub fees_as_line: bool,
    /// `20=KDV20, 10=KDV10, 1=KDV1, 0=KDV0`: our VAT rate in percent = the ledger's code.
    pub vat_codes: String,
    /// Attempts before a document goes to the dead-letter list.
    pub max_attempts: i64,
    pub log_retention_days: i64,
    /// Names, addresses, emails, phones and tax ids are replaced in the request log.
    pub redact_personal_data: bool,
    /// Why syncing is paused (the ledger refused the credentials); `None` when it runs.
    pub paused_reason: Option<String>,
}

/// A change to the settings. `api_key`: `None` or empty keeps the stored key.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SettingsUpdate {
    pub enabled: bool,
    pub base_url: String,
    pub company_code: String,
    pub api_key: Option<String>,
    pub invoice_prefix: String,
    pub numbering: Numbering,
    pub trigger_statuses: Vec<String>,
    pub refunds: RefundHandling,
    pub shipping_as_line: bool,
    pub fees_as_line: bool,
    pub vat_codes: String,
    pub max_attempts: i64,
    pub log_retention_days: i64,
    pub redact_personal_data: bool,
}

/// The settings with the API key opened, for the adapter; never serialised.
#[derive(Clone, Debug)]
pub struct Connection {
    pub base_url: String,
    pub company_code: String,
    pub api_key: SecretString,
}

/// One VAT rate and the ledger's code for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VatCode {
    pub percent: i64,
    pub code: String,
}

impl AccountingSettings {
    pub fn triggers_on(&self, status: &str) -> bool {
        self.trigger_statuses.iter().any(|s| s == status)
    }

    /// Whether enough is filled in to talk to the ledger.
    pub fn is_configured(&self) -> bool {
        !self.base_url.is_empty() && !self.company_code.is_empty() && self.has_api_key
    }

    pub fn vat_table(&self) -> Vec<VatCode> {
        parse_vat_codes(&self.vat_codes).unwrap_or_default()
    }
}

/// Reads `20=KDV20, 10=KDV10`; fails naming the entry that is wrong.
pub fn parse_vat_codes(text: &str) -> Result<Vec<VatCode>> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let wrong = || Error::invalid(format!("“{entry}” is not a VAT rate and code such as 20=KDV20"));
            let (rate, code) = entry.split_once('=').ok_or_else(wrong)?;
            let percent: i64 = rate.trim().trim_end_matches('%').parse().map_err(|_| wrong())?;
            let code = code.trim();
            if !(0..=100).contains(&percent) || code.is_empty() || code.len() > 40 {
                return Err(wrong());
            }
            Ok(VatCode { percent, code: code.to_owned() })
        })
        .collect()
}

const COLUMNS: &str = "enabled, base_url, company_code, api_key_sealed, api_key_hint, invoice_prefix, numbering, \
     trigger_statuses, refunds, shipping_as_line, fees_as_line, vat_codes, max_attempts, log_retention_days, \
     redact_personal_data, paused_reason";

pub async fn get(db: &Db) -> Result<AccountingSettings> {
    Ok(read(db.pool()).await?.0)
}

/// The settings and the sealed API key, through any executor (a transaction too).
pub(crate) async fn read<'e, E>(executor: E) -> Result<(AccountingSettings, Option<String>)>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM accounting_settings WHERE id = 1")))
        .fetch_one(executor)
        .await?;
    let sealed: Option<String> = row.try_get("api_key_sealed")?;
    let numbering = match row.try_get::<String, _>("numbering")?.as_str() {
        "sequence" => Numbering::Sequence,
        _ => Numbering::OrderNumber,
    };
    let refunds = match row.try_get::<String, _>("refunds")?.as_str() {
        "manual" => RefundHandling::Manual,
        _ => RefundHandling::CreditNote,
    };
    let triggers: String = row.try_get("trigger_statuses")?;
    let settings = AccountingSettings {
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        base_url: row.try_get("base_url")?,
        company_code: row.try_get("company_code")?,
        has_api_key: sealed.is_some(),
        api_key_hint: row.try_get("api_key_hint")?,
        invoice_prefix: row.try_get("invoice_prefix")?,
        numbering,
        trigger_statuses: triggers.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        refunds,
        shipping_as_line: row.try_get::<i64, _>("shipping_as_line")? != 0,
        fees_as_line: row.try_get::<i64, _>("fees_as_line")? != 0,
        vat_codes: row.try_get("vat_codes")?,
        max_attempts: row.try_get("max_attempts")?,
        log_retention_days: row.try_get("log_retention_days")?,
        redact_personal_data: row.try_get::<i64, _>("redact_personal_data")? != 0,
        paused_reason: row.try_get("paused_reason")?,
    };
    Ok((settings, sealed))
}

/// The settings and the opened API key, when one is stored.
pub async fn connection(db: &Db, sealer: &Sealer) -> Result<(AccountingSettings, Option<Connection>)> {
    let (settings, sealed) = read(db.pool()).await?;
    let connection = match sealed {
        Some(sealed) => Some(Connection {
            base_url: settings.base_url.trim_end_matches('/').to_owned(),
            company_code: settings.company_code.clone(),
            api_key: sealer.open(Place::AccountingApiKey, &sealed)?,
        }),
        None => None,
    };
    Ok((settings, connection))
}

/// Checks and saves the settings; a new API key is sealed. Saving lifts a pause (the
/// manager has seen it and changed something) and wakes the jobs it held back.
pub async fn update(
    db: &Db,
    sealer: &Sealer,
    actor: &User,
    ip: Option<&str>,
    new: SettingsUpdate,
) -> Result<AccountingSettings> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    let base_url = new.base_url.trim().trim_end_matches('/').to_owned();
    if !(base_url.starts_with("https://") || base_url.starts_with("http://"))
        || base_url.len() > MAX_BASE_URL_CHARS
        || base_url.contains(char::is_whitespace)
    {
        return Err(Error::invalid("the base URL must be an http(s) address such as https://sistem.cari.com.tr/api"));
    }
    let company_code = new.company_code.trim().to_owned();
    if company_code.chars().count() > MAX_COMPANY_CODE_CHARS || company_code.chars().any(char::is_control) {
        return Err(Error::invalid(format!("the company code is at most {MAX_COMPANY_CODE_CHARS} characters")));
    }
    let prefix = new.invoice_prefix.trim().to_owned();
    if prefix.is_empty()
        || prefix.len() > MAX_INVOICE_PREFIX_CHARS
        || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(Error::invalid(format!(
            "the invoice prefix is 1 to {MAX_INVOICE_PREFIX_CHARS} letters, digits or dashes (e.g. WEB)"
        )));
    }
    let mut triggers = Vec::new();
    for status in &new.trigger_statuses {
        let status: OrderStatus = status.trim().parse()?;
        if !triggers.contains(&status.as_str()) {
            triggers.push(status.as_str());
        }
    }
    parse_vat_codes(&new.vat_codes)?;
    if !(1..=20).contains(&new.max_attempts) {
        return Err(Error::invalid("attempts before giving up are between 1 and 20"));
    }
    if !(1..=3650).contains(&new.log_retention_days) {
        return Err(Error::invalid("logs are kept between 1 and 3650 days"));
    }
    let api_key = new.api_key.as_deref().map(str::trim).filter(|k| !k.is_empty());
    if api_key.is_some_and(|k| k.len() > MAX_API_KEY_CHARS || k.chars().any(char::is_control)) {
        return Err(Error::invalid(format!("the API key is at most {MAX_API_KEY_CHARS} characters, on one line")));
    }
    let now = now();
    let mut tx = db.begin().await?;
    if let Some(key) = api_key {
        sqlx::query("UPDATE accounting_settings SET api_key_sealed = $1, api_key_hint = $2 WHERE id = 1")
            .bind(sealer.seal(Place::AccountingApiKey, key))
            .bind(crate::access::secret::last_four(key))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "UPDATE accounting_settings SET enabled = $1, base_url = $2, company_code = $3, invoice_prefix = $4, numbering = $5, \
         trigger_statuses = $6, refunds = $7, shipping_as_line = $8, fees_as_line = $9, vat_codes = $10, max_attempts = $11, \
         log_retention_days = $12, redact_personal_data = $13, paused_reason = NULL, updated_at = $14 WHERE id = 1",
    )
    .bind(i64::from(new.enabled))
    .bind(&base_url)
    .bind(&company_code)
    .bind(&prefix)
    .bind(match new.numbering {
        Numbering::OrderNumber => "order_number",
        Numbering::Sequence => "sequence",
    })
    .bind(triggers.join(","))
    .bind(match new.refunds {
        RefundHandling::CreditNote => "credit_note",
        RefundHandling::Manual => "manual",
    })
    .bind(i64::from(new.shipping_as_line))
    .bind(i64::from(new.fees_as_line))
    .bind(new.vat_codes.trim())
    .bind(new.max_attempts)
    .bind(new.log_retention_days)
    .bind(i64::from(new.redact_personal_data))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    jobs::run_now(&mut *tx, super::SYNC_JOB).await?;
    let details = if api_key.is_some() { "with a new API key" } else { "" };
    audit::record(
        &mut *tx,
        &audit::Event { details, ..audit::Event::by(actor, "accounting.settings.update", "accounting", ip) },
    )
    .await?;
    tx.commit().await?;
    get(db).await
}

/// Stops all sending until the settings are saved again: the ledger refused our
/// credentials, and retrying would only burn attempts.
pub async fn pause(db: &Db, reason: &str) -> Result<()> {
    sqlx::query("UPDATE accounting_settings SET paused_reason = $1, updated_at = $2 WHERE id = 1")
        .bind(reason)
        .bind(now())
        .execute(db.writer())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_codes_are_read_and_mistakes_named() {
        let codes = parse_vat_codes("20=KDV20, 10 = KDV10\n1%=KDV1").unwrap();
        assert_eq!(
            codes,
            vec![
                VatCode { percent: 20, code: "KDV20".into() },
                VatCode { percent: 10, code: "KDV10".into() },
                VatCode { percent: 1, code: "KDV1".into() },
            ]
        );
        let e = parse_vat_codes("20=KDV20, eighteen=KDV18").unwrap_err();
        assert!(e.to_string().contains("eighteen"), "{e}");
    }
}
