//! The store's settings: name, public URL, currency, time zone and locale.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use vocabulary::{
    money::is_currency_code,
    people::MAX_NAME_CHARS,
    settings::{MAX_PUBLIC_URL_CHARS, MAX_TIME_ZONE_CHARS},
};

use crate::{Error, Result, audit, clock::now, db::Db, jobs, users::User};

pub const LOCALES: [(&str, &str); 2] = [("en", "English"), ("tr", "Türkçe")];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreSettings {
    pub name: String,
    /// Overrides `BACKROOM_PUBLIC_URL` when set.
    pub public_url: Option<String>,
    pub currency: String,
    pub time_zone: String,
    pub locale: String,
}

impl StoreSettings {
    /// The shop's time zone; the settings are validated on save, so this cannot fail
    /// except on a hand-edited database, where UTC is the safe reading.
    pub fn tz(&self) -> Tz {
        self.time_zone.parse().unwrap_or(Tz::UTC)
    }

    /// Checks and normalises every field; fails with a message naming the field.
    pub fn validated(mut self) -> Result<StoreSettings> {
        self.name = self.name.trim().to_owned();
        if self.name.is_empty() || self.name.chars().count() > MAX_NAME_CHARS {
            return Err(Error::invalid(format!("the store name needs 1 to {MAX_NAME_CHARS} characters")));
        }
        self.public_url = match self.public_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) => {
                let ok = (url.starts_with("https://") || url.starts_with("http://"))
                    && url.len() <= MAX_PUBLIC_URL_CHARS
                    && !url.chars().any(|c| c.is_whitespace() || c.is_control());
                if !ok {
                    return Err(Error::invalid("the public URL must start with https:// or http://"));
                }
                Some(url.trim_end_matches('/').to_owned())
            }
        };
        self.currency = self.currency.trim().to_uppercase();
        if !is_currency_code(&self.currency) {
            return Err(Error::invalid("the currency must be a three-letter ISO code such as TRY or EUR"));
        }
        self.time_zone = self.time_zone.trim().to_owned();
        if self.time_zone.chars().count() > MAX_TIME_ZONE_CHARS || self.time_zone.parse::<Tz>().is_err() {
            return Err(Error::invalid("the time zone must be an IANA name such as Europe/Istanbul"));
        }
        if !LOCALES.iter().any(|(code, _)| *code == self.locale) {
            return Err(Error::invalid("the language must be English (en) or Turkish (tr)"));
        }
        Ok(self)
    }
}

pub async fn get(db: &Db) -> Result<StoreSettings> {
    get_in(db.pool()).await
}

/// As [`get`], inside the caller's transaction when given one.
pub async fn get_in<'e, E>(executor: E) -> Result<StoreSettings>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query("SELECT name, public_url, currency, time_zone, locale FROM store_settings WHERE id = 1")
        .fetch_one(executor)
        .await?;
    Ok(StoreSettings {
        name: row.try_get("name")?,
        public_url: row.try_get("public_url")?,
        currency: row.try_get("currency")?,
        time_zone: row.try_get("time_zone")?,
        locale: row.try_get("locale")?,
    })
}

/// Takes a connected store's currency and time zone (the person confirmed it); a change of
/// time zone queues a rebuild of the daily sales, as [`update`] does.
pub async fn adopt_store(db: &Db, currency: &str, time_zone: &str) -> Result<()> {
    let old = get(db).await?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE store_settings SET currency = $1, time_zone = $2, updated_at = $3 WHERE id = 1")
        .bind(currency)
        .bind(time_zone)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    if old.time_zone != time_zone {
        jobs::enqueue(&mut *tx, &jobs::NewJob::of(&crate::sales_daily::Rebuild {})).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Saves new settings. A change of time zone queues a rebuild of the daily sales, in the
/// same transaction, since "a day" has moved.
pub async fn update(db: &Db, actor: &User, ip: Option<&str>, new: StoreSettings) -> Result<StoreSettings> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    let new = new.validated()?;
    let old = get(db).await?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE store_settings SET name = $1, public_url = $2, currency = $3, time_zone = $4, locale = $5, \
         updated_at = $6 WHERE id = 1",
    )
    .bind(&new.name)
    .bind(&new.public_url)
    .bind(&new.currency)
    .bind(&new.time_zone)
    .bind(&new.locale)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    if old.time_zone != new.time_zone {
        jobs::enqueue(&mut *tx, &jobs::NewJob::of(&crate::sales_daily::Rebuild {})).await?;
    }
    audit::record(&mut *tx, &audit::Event::by(actor, "settings.update", "store", ip)).await?;
    tx.commit().await?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(time_zone: &str) -> StoreSettings {
        StoreSettings {
            name: "Shop".into(),
            public_url: None,
            currency: "try".into(),
            time_zone: time_zone.into(),
            locale: "en".into(),
        }
    }

    #[test]
    fn a_time_zone_is_an_iana_name_of_at_most_64_characters() {
        let fine = settings(" Europe/Istanbul ").validated().unwrap();
        assert_eq!((fine.time_zone.as_str(), fine.currency.as_str()), ("Europe/Istanbul", "TRY"));
        let too_long = format!("Europe/{}", "x".repeat(MAX_TIME_ZONE_CHARS));
        for zone in ["Mars/Olympus", too_long.as_str()] {
            let e = settings(zone).validated().unwrap_err();
            assert!(e.to_string().contains("an IANA name"), "{zone}: {e}");
        }
    }
}
