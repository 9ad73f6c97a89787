//! Where the support form may be embedded (origins for `frame-ancestors` and for
//! cross-origin posts), and its limits per address and per order.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Error, Result, audit, clock::now, db::Db, users::User};

/// At most this many embedding origins.
const MAX_ORIGINS: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportSettings {
    /// `https://shop.example`, one per entry, without paths.
    pub embed_origins: Vec<String>,
    pub per_ip_per_hour: i64,
    pub per_order_per_day: i64,
}

impl Default for SupportSettings {
    fn default() -> Self {
        SupportSettings { embed_origins: Vec::new(), per_ip_per_hour: 5, per_order_per_day: 3 }
    }
}

impl SupportSettings {
    /// Whether `origin` (an `Origin` header's value) may embed the form or post to it.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.embed_origins.iter().any(|o| o.eq_ignore_ascii_case(origin.trim_end_matches('/')))
    }
}

/// Reads an origin as a person might type it; fails naming it.
pub fn parse_origin(text: &str) -> Result<String> {
    let text = text.trim().trim_end_matches('/');
    let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    let ok = rest.is_some_and(|host| {
        !host.is_empty()
            && !host.contains('/')
            && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
    });
    if ok {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(Error::invalid(format!("“{text}” is not an origin such as https://shop.example")))
    }
}

pub async fn get(db: &Db) -> Result<SupportSettings> {
    let row =
        sqlx::query("SELECT embed_origins, per_ip_per_hour, per_order_per_day FROM support_settings WHERE id = 1")
            .fetch_one(db.pool())
            .await?;
    let origins: String = row.try_get("embed_origins")?;
    Ok(SupportSettings {
        embed_origins: origins.lines().map(str::to_owned).filter(|o| !o.is_empty()).collect(),
        per_ip_per_hour: row.try_get("per_ip_per_hour")?,
        per_order_per_day: row.try_get("per_order_per_day")?,
    })
}

pub async fn update(db: &Db, actor: &User, ip: Option<&str>, new: SupportSettings) -> Result<SupportSettings> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    let origins = new
        .embed_origins
        .iter()
        .filter(|o| !o.trim().is_empty())
        .map(|o| parse_origin(o))
        .collect::<Result<Vec<_>>>()?;
    if origins.len() > MAX_ORIGINS {
        return Err(Error::invalid(format!("at most {MAX_ORIGINS} origins")));
    }
    if !(1..=1000).contains(&new.per_ip_per_hour) || !(1..=1000).contains(&new.per_order_per_day) {
        return Err(Error::invalid("the limits are between 1 and 1,000"));
    }
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE support_settings SET embed_origins = $1, per_ip_per_hour = $2, per_order_per_day = $3, updated_at = $4 WHERE id = 1")
        .bind(origins.join("\n"))
        .bind(new.per_ip_per_hour)
        .bind(new.per_order_per_day)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut *tx,
        &audit::Event {
            details: &origins.join(" "),
            ..audit::Event::by(actor, "support.settings.update", "support", ip)
        },
    )
    .await?;
    tx.commit().await?;
    Ok(SupportSettings { embed_origins: origins, ..new })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_and_host_only() {
        assert_eq!(parse_origin(" https://Shop.example/ ").unwrap(), "https://shop.example");
        assert_eq!(parse_origin("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        for bad in ["shop.example", "https://shop.example/path", "javascript:alert(1)", "https://", "https://a b"] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
        let settings =
            SupportSettings { embed_origins: vec!["https://shop.example".into()], ..SupportSettings::default() };
        assert!(settings.allows_origin("https://SHOP.example"));
        assert!(!settings.allows_origin("https://evil.example"));
    }
}
