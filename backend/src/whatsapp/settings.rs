//! The WhatsApp Business account the shop sends from: Phone Number ID, WABA ID, the
//! system-user access token and the app secret (both sealed at rest, never shown again),
//! the Graph API version and base URL, and the webhook's verify token (random, made by
//! the migration).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use vocabulary::whatsapp::{
    MAX_ACCESS_TOKEN_CHARS, MAX_APP_SECRET_CHARS, MAX_GRAPH_BASE_URL_CHARS, MAX_GRAPH_VERSION_CHARS, MAX_ID_DIGITS,
};

use super::{config::Config, graph::Account};
use crate::{
    Error, Result, audit,
    clock::now,
    db::Db,
    sealed::{Place, Sealer},
    users::User,
};

/// What the panel shows: no secret, only whether each is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsAppSettings {
    pub phone_number_id: String,
    pub waba_id: String,
    pub has_access_token: bool,
    pub has_app_secret: bool,
    pub graph_version: String,
    pub graph_base_url: String,
    /// To paste at Meta beside the webhook URL: 32 random hex digits.
    pub verify_token: String,
    pub webhook_verified_at: Option<i64>,
}

/// A change; a secret left `None` or empty is kept.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Credentials {
    pub phone_number_id: String,
    pub waba_id: String,
    pub access_token: Option<String>,
    pub app_secret: Option<String>,
    pub graph_version: String,
    pub graph_base_url: String,
}

pub async fn get(db: &Db) -> Result<WhatsAppSettings> {
    let row = sqlx::query(
        "SELECT phone_number_id, waba_id, access_token_sealed, app_secret_sealed, graph_version, graph_base_url, verify_token, \
         webhook_verified_at FROM whatsapp_settings WHERE id = 1",
    )
    .fetch_one(db.pool())
    .await?;
    Ok(WhatsAppSettings {
        phone_number_id: row.try_get("phone_number_id")?,
        waba_id: row.try_get("waba_id")?,
        has_access_token: row.try_get::<Option<String>, _>("access_token_sealed")?.is_some(),
        has_app_secret: row.try_get::<Option<String>, _>("app_secret_sealed")?.is_some(),
        graph_version: row.try_get("graph_version")?,
        graph_base_url: row.try_get("graph_base_url")?,
        verify_token: row.try_get("verify_token")?,
        webhook_verified_at: row.try_get("webhook_verified_at")?,
    })
}

/// The app secret, opened, for checking webhook signatures; `None` until one is stored.
pub async fn app_secret(db: &Db, sealer: &Sealer) -> Result<Option<SecretString>> {
    let sealed: Option<String> =
        sqlx::query_scalar("SELECT app_secret_sealed FROM whatsapp_settings WHERE id = 1").fetch_one(db.pool()).await?;
    sealed.map(|s| sealer.open(Place::WhatsAppAppSecret, &s)).transpose()
}

/// The account to call Meta as; `None` until its ids and token are stored. `open` opens
/// the sealed token.
pub async fn account(db: &Db, open: impl FnOnce(&str) -> Result<SecretString>) -> Result<Option<Account>> {
    let row = sqlx::query("SELECT phone_number_id, waba_id, access_token_sealed, graph_version, graph_base_url FROM whatsapp_settings WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    let (phone_number_id, waba_id): (String, String) = (row.try_get("phone_number_id")?, row.try_get("waba_id")?);
    let Some(sealed) = row.try_get::<Option<String>, _>("access_token_sealed")? else { return Ok(None) };
    if phone_number_id.is_empty() || waba_id.is_empty() {
        return Ok(None);
    }
    Ok(Some(Account {
        base_url: row.try_get("graph_base_url")?,
        version: row.try_get("graph_version")?,
        phone_number_id,
        waba_id,
        token: open(&sealed)?,
    }))
}

/// What the shop configured (recovery, notifications, mapping, widget, limits), read
/// inside the caller's transaction when given one.
pub async fn config<'e, E>(executor: E) -> Result<Config>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let text: String =
        sqlx::query_scalar("SELECT config FROM whatsapp_settings WHERE id = 1").fetch_one(executor).await?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

/// Saves the configuration after [`Config::validate`]; short delays only when this server
/// allows them (tests, staging).
pub async fn update_config(
    db: &Db,
    actor: &User,
    ip: Option<&str>,
    new: Config,
    allow_short_delays: bool,
) -> Result<Config> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    let new = new.validate(allow_short_delays)?;
    let mut tx = db.begin().await?;
    super::templates::check_mapping(&new, &super::templates::list(&mut *tx).await?)?;
    if new.recovery.coupon_step.is_some() && !crate::woo::connection::stored(&mut *tx).await?.connected {
        return Err(Error::invalid(
            "recovery coupons are made in the WooCommerce store: connect the store first, or send no coupon",
        ));
    }
    sqlx::query("UPDATE whatsapp_settings SET config = $1, updated_at = $2 WHERE id = 1")
        .bind(serde_json::to_string(&new).expect("the configuration serialises"))
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit::record(&mut *tx, &audit::Event::by(actor, "whatsapp.config.update", "whatsapp", ip)).await?;
    tx.commit().await?;
    Ok(new)
}

/// Saves the account's ids and (new) secrets; fails naming the field that is wrong.
pub async fn update(
    db: &Db,
    sealer: &Sealer,
    actor: &User,
    ip: Option<&str>,
    new: Credentials,
) -> Result<WhatsAppSettings> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    let id = |text: &str, what: &str| -> Result<String> {
        let text = text.trim();
        if text.len() > MAX_ID_DIGITS || !text.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::invalid(format!("the {what} is the number Meta shows for it (digits only)")));
        }
        Ok(text.to_owned())
    };
    let phone_number_id = id(&new.phone_number_id, "Phone Number ID")?;
    let waba_id = id(&new.waba_id, "WhatsApp Business Account ID")?;
    let version = new.graph_version.trim();
    if !(version.starts_with('v')
        && version.len() <= MAX_GRAPH_VERSION_CHARS
        && version[1..].split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())))
    {
        return Err(Error::invalid("the Graph API version looks like v23.0"));
    }
    let base = new.graph_base_url.trim().trim_end_matches('/');
    if !(base.starts_with("https://") || base.starts_with("http://"))
        || base.contains(char::is_whitespace)
        || base.len() > MAX_GRAPH_BASE_URL_CHARS
    {
        return Err(Error::invalid("the Graph API base URL is an http(s) address such as https://graph.facebook.com"));
    }
    let access_token = typed_secret(&new.access_token, "access token", MAX_ACCESS_TOKEN_CHARS)?;
    let app_secret = typed_secret(&new.app_secret, "app secret", MAX_APP_SECRET_CHARS)?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE whatsapp_settings SET phone_number_id = $1, waba_id = $2, graph_version = $3, graph_base_url = $4, \
         access_token_sealed = COALESCE($5, access_token_sealed), app_secret_sealed = COALESCE($6, app_secret_sealed), updated_at = $7 WHERE id = 1",
    )
    .bind(&phone_number_id)
    .bind(&waba_id)
    .bind(version)
    .bind(base)
    .bind(access_token.map(|v| sealer.seal(Place::WhatsAppAccessToken, v)))
    .bind(app_secret.map(|v| sealer.seal(Place::WhatsAppAppSecret, v)))
    .bind(now())
    .execute(&mut *tx)
    .await?;
    audit::record(&mut *tx, &audit::Event::by(actor, "whatsapp.settings.update", "whatsapp", ip)).await?;
    tx.commit().await?;
    get(db).await
}

/// A secret as typed: trimmed, and `None` when empty (the stored one is kept).
///
/// Fails, naming `what` it is, when it is longer than `max` characters.
fn typed_secret<'a>(value: &'a Option<String>, what: &str, max: usize) -> Result<Option<&'a str>> {
    let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty());
    if value.is_some_and(|v| v.chars().count() > max) {
        return Err(Error::invalid(format!("the {what} is at most {max} characters")));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_left_empty_is_kept_and_one_too_long_is_refused() {
        assert_eq!(typed_secret(&None, "access token", 5).unwrap(), None);
        assert_eq!(typed_secret(&Some("  ".into()), "access token", 5).unwrap(), None);
        assert_eq!(typed_secret(&Some(" abcde ".into()), "access token", 5).unwrap(), Some("abcde"));
        for (value, what, max) in [
            ("t".repeat(MAX_ACCESS_TOKEN_CHARS + 1), "access token", MAX_ACCESS_TOKEN_CHARS),
            ("s".repeat(MAX_APP_SECRET_CHARS + 1), "app secret", MAX_APP_SECRET_CHARS),
        ] {
            let e = typed_secret(&Some(value), what, max).unwrap_err();
            assert_eq!(e.to_string(), format!("the {what} is at most {max} characters"));
        }
    }
}
