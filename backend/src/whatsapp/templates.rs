//! The account's message templates: fetched from Meta and kept, listed with their
//! languages and parameter counts, and the rule that a message is mapped only to an
//! approved template whose parameters it fills exactly — Meta refuses a message with one
//! parameter too many or too few.

use sqlx::Row;

use super::{WhatsApp, config::Config, graph::Template};
use crate::{Error, Result, clock::now};

/// Fetches the account's templates from Meta and replaces the kept list.
pub async fn refresh(whatsapp: &WhatsApp) -> Result<Vec<Template>> {
    let account = whatsapp.account().await?;
    let found = whatsapp
        .client(&account)
        .templates()
        .await
        .map_err(|e| Error::Conflict(format!("the templates could not be read: {}", e.plain_words())))?;
    let mut tx = whatsapp.db.begin().await?;
    sqlx::query("DELETE FROM whatsapp_templates").execute(&mut *tx).await?;
    let at = now();
    for Template { name, language, status, category, body, body_params, url_button, unsupported } in found {
        sqlx::query(
            "INSERT INTO whatsapp_templates (name, language, status, category, body, body_params, url_button, unsupported, fetched_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (name, language) DO NOTHING",
        )
        .bind(name)
        .bind(language)
        .bind(status)
        .bind(category)
        .bind(body)
        .bind(body_params)
        .bind(i64::from(url_button))
        .bind(unsupported)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    list(whatsapp.db.pool()).await
}

/// The kept templates, approved ones first, by name.
pub async fn list<'e, E>(executor: E) -> Result<Vec<Template>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT name, language, status, category, body, body_params, url_button, unsupported FROM whatsapp_templates \
         ORDER BY CASE WHEN status = 'APPROVED' THEN 0 ELSE 1 END, name, language",
    )
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Template {
                name: r.try_get("name")?,
                language: r.try_get("language")?,
                status: r.try_get("status")?,
                category: r.try_get("category")?,
                body: r.try_get("body")?,
                body_params: r.try_get("body_params")?,
                url_button: r.try_get::<i64, _>("url_button")? != 0,
                unsupported: r.try_get("unsupported")?,
            })
        })
        .collect()
}

/// Refuses a mapping Meta would refuse at send time: an unknown or unapproved template,
/// one we cannot fill, a parameter count that differs from the template's, a recovery
/// message without the link button, a notification with one.
pub fn check_mapping(config: &Config, templates: &[Template]) -> Result<()> {
    for mapping in &config.mapping {
        let label = mapping.purpose.label();
        let Some(template) = templates.iter().find(|t| t.name == mapping.template && t.language == mapping.language)
        else {
            return Err(Error::invalid(format!(
                "“{label}”: the account has no template {} in {}",
                mapping.template, mapping.language
            )));
        };
        if !template.is_approved() {
            return Err(Error::invalid(format!(
                "“{label}”: the template {} is {}, not approved",
                template.name,
                template.status.to_lowercase()
            )));
        }
        if let Some(why) = &template.unsupported {
            return Err(Error::invalid(format!(
                "“{label}”: the template {} cannot be sent by Backroom: {why}",
                template.name
            )));
        }
        let given = mapping.parameters.len() as i64;
        if given != template.body_params {
            return Err(Error::invalid(format!(
                "“{label}”: the template {} has {} parameter(s) and {} were mapped",
                template.name, template.body_params, given
            )));
        }
        if mapping.purpose.is_recovery() && !template.url_button {
            return Err(Error::invalid(format!(
                "“{label}”: the template {} needs a link button ending in {{{{1}}}} for the recovery link",
                template.name
            )));
        }
        if !mapping.purpose.is_recovery() && template.url_button {
            return Err(Error::invalid(format!(
                "“{label}”: the template {} has a link button, which order messages do not fill",
                template.name
            )));
        }
    }
    Ok(())
}
