//! The setup wizard's live checks and its test send. Each check says precisely what is
//! wrong: the token refused, the WABA id unknown to it, the Phone Number ID not in that
//! account, the app secret missing, the webhook not verified yet. The test send uses an
//! approved template (free text is refused by Meta outside the 24-hour window), goes
//! through the message log like every message, and reports Meta's answer.

use serde::{Deserialize, Serialize};
use vocabulary::{
    phone::Phone,
    whatsapp::{MAX_PARAMETER_CHARS, MAX_PHONE_CHARS},
};

use super::{
    WhatsApp,
    graph::GraphError,
    send::{self, Delivered, Outgoing},
    settings, templates,
};
use crate::{Error, Result, audit, users::User};

/// One line of the live checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub message: String,
}

fn check(name: &str, ok: bool, message: impl Into<String>) -> Check {
    Check { name: name.to_owned(), ok, message: message.into() }
}

/// Runs the checks against Meta and the stored settings.
pub async fn checks(whatsapp: &WhatsApp) -> Result<Vec<Check>> {
    let stored = settings::get(&whatsapp.db).await?;
    let mut found = Vec::new();
    match whatsapp.stored_account().await? {
        None => found.push(check("credentials", false, "The Phone Number ID, WABA ID and access token are not all saved yet.")),
        Some(account) => match whatsapp.client(&account).phone_numbers().await {
            Ok(numbers) => {
                found.push(check("access token", true, "Meta accepted the access token."));
                match numbers.iter().find(|n| n.id == account.phone_number_id) {
                    Some(number) => found.push(check("phone number", true, format!("{} ({}) is in this account.", number.display, number.verified_name))),
                    None => {
                        let theirs = numbers.iter().map(|n| format!("{} ({})", n.id, n.display)).collect::<Vec<_>>().join(", ");
                        found.push(check(
                            "phone number",
                            false,
                            format!("The Phone Number ID {} is not in this WhatsApp Business Account; its numbers are: {}.", account.phone_number_id, if theirs.is_empty() { "none".into() } else { theirs }),
                        ));
                    }
                }
            }
            Err(e) if e.is_auth() => found.push(check("access token", false, format!("Meta refused the access token: it is invalid, expired or lacks the whatsapp_business_messaging permission ({}).", e.plain_words()))),
            Err(e @ GraphError::Meta { code: 100, .. }) => {
                found.push(check("access token", true, "Meta accepted the access token."));
                found.push(check("account", false, format!("The WABA ID {} is not an account this token can see ({}).", account.waba_id, e.plain_words())));
            }
            Err(e) => found.push(check("connection", false, e.plain_words())),
        },
    }
    found.push(if stored.has_app_secret {
        check("app secret", true, "The app secret is saved; webhook deliveries are checked with it.")
    } else {
        check(
            "app secret",
            false,
            "The app secret is not saved: webhook deliveries cannot be checked, so they are refused.",
        )
    });
    found.push(match stored.webhook_verified_at {
        Some(_) => check("webhook", true, "Meta verified the webhook."),
        None => check("webhook", false, "The webhook is not verified yet: paste the URL and verify token below into the app's WhatsApp → Configuration at Meta, and subscribe to “messages”."),
    });
    Ok(found)
}

/// A test send: the template, its language and the values of its parameters.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TestSend {
    pub to: String,
    pub template: String,
    pub language: String,
    pub parameters: Vec<String>,
    /// For a template with a link button: the suffix to fill.
    #[serde(default)]
    pub url_suffix: Option<String>,
}

impl TestSend {
    /// Refuses a phone number or a parameter's value longer than the form takes.
    fn check_lengths(&self) -> Result<()> {
        if self.to.chars().count() > MAX_PHONE_CHARS {
            return Err(Error::invalid(format!("the phone number is at most {MAX_PHONE_CHARS} characters")));
        }
        if self.parameters.iter().any(|p| p.chars().count() > MAX_PARAMETER_CHARS) {
            return Err(Error::invalid(format!("a parameter's value is at most {MAX_PARAMETER_CHARS} characters")));
        }
        Ok(())
    }
}

/// Sends a test message now; `Ok` carries Meta's id, `Err` says why it did not go.
pub async fn test_send(whatsapp: &WhatsApp, actor: &User, ip: Option<&str>, test: TestSend) -> Result<String> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    test.check_lengths()?;
    let config = settings::config(whatsapp.db.pool()).await?;
    let to = String::from(Phone::parse(&test.to, &config.default_country)?);
    let known = templates::list(whatsapp.db.pool()).await?;
    let Some(template) = known.iter().find(|t| t.name == test.template && t.language == test.language) else {
        return Err(Error::invalid("choose one of the account's templates (refresh the list if it is new)"));
    };
    if !template.is_approved() {
        return Err(Error::invalid(format!(
            "the template {} is {}; only approved templates can be sent",
            template.name,
            template.status.to_lowercase()
        )));
    }
    if test.parameters.len() as i64 != template.body_params || test.parameters.iter().any(|p| p.trim().is_empty()) {
        return Err(Error::invalid(format!(
            "the template {} needs exactly {} non-empty parameter value(s)",
            template.name, template.body_params
        )));
    }
    let suffix = template
        .url_button
        .then(|| test.url_suffix.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| "test".to_owned()));
    let out = Outgoing {
        purpose: "test".into(),
        to_phone: to,
        template: template.name.clone(),
        language: template.language.clone(),
        parameters: test.parameters,
        url_suffix: suffix,
        cart_id: None,
        step: None,
        order_id: None,
        idempotency_key: format!("test:{}", uuid::Uuid::new_v4()),
    };
    let mut tx = whatsapp.db.begin().await?;
    let id = send::queue(&mut tx, &out).await?.id;
    audit::record(&mut *tx, &audit::Event::by(actor, "whatsapp.test_send", "whatsapp", ip)).await?;
    tx.commit().await?;
    match send::deliver(whatsapp, config.hourly_cap, id).await {
        Ok(Delivered::Sent(wamid)) => Ok(wamid),
        Ok(Delivered::Failed { reason, .. }) => Err(Error::Conflict(format!("Meta did not send it: {reason}"))),
        Err(failure) => {
            // A test is not retried: it is failed now, with the reason.
            let reason = failure_words(&failure);
            send::fail(whatsapp, id, None, &reason, "").await?;
            Err(Error::Conflict(format!("Meta did not send it: {reason}")))
        }
    }
}

fn failure_words(failure: &crate::jobs::Failure) -> String {
    match failure {
        crate::jobs::Failure::Retry(reason)
        | crate::jobs::Failure::Dead(reason)
        | crate::jobs::Failure::RetryAt { reason, .. } => reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_or_a_value_longer_than_the_form_takes_is_refused() {
        // Characters are counted, not bytes: a value of Turkish letters may be as long.
        let test = TestSend {
            to: "+90 (532) 123-45-67".into(),
            parameters: vec!["ş".repeat(MAX_PARAMETER_CHARS)],
            ..TestSend::default()
        };
        assert!(test.check_lengths().is_ok());
        let long_phone = TestSend { to: "5".repeat(MAX_PHONE_CHARS + 1), ..test.clone() };
        assert_eq!(long_phone.check_lengths().unwrap_err().to_string(), "the phone number is at most 30 characters");
        let long_value = TestSend { parameters: vec!["x".into(), "ş".repeat(MAX_PARAMETER_CHARS + 1)], ..test };
        assert_eq!(
            long_value.check_lengths().unwrap_err().to_string(),
            "a parameter's value is at most 200 characters"
        );
    }
}
