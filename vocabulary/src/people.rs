//! The people who run the shop: their roles, their email addresses, and the limits on
//! their names and passwords.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// The most characters of a person's name (and the shop's).
pub const MAX_NAME_CHARS: usize = 100;
/// The fewest characters of a new password.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The most characters of a password.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// What a person may do in the shop; ordered from the least to the most, so `>=` reads
/// "at least".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Manager,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Manager, Role::Agent];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Manager => "Shop manager",
            Role::Agent => "Support agent",
        }
    }

    /// Who runs the team: adds and invites people, changes their roles, disables them.
    pub fn manages_team(self) -> bool {
        self >= Role::Admin
    }

    /// Whether this role may give `role` to someone or act on a person who has it (add,
    /// invite, change a role to or from it, disable): an owner any role, an admin any
    /// below owner.
    pub fn may_manage(self, role: Role) -> bool {
        self.manages_team() && (self == Role::Owner || role != Role::Owner)
    }

    /// Who sees and ends everyone's sessions, application passwords and devices.
    pub fn oversees_sign_ins(self) -> bool {
        self == Role::Owner
    }

    /// Who may change orders: their status, notes and refunds.
    pub fn manages_orders(self) -> bool {
        self >= Role::Manager
    }

    /// Who may change the store's settings and see background jobs.
    pub fn manages_store(self) -> bool {
        self >= Role::Admin
    }
}

impl FromStr for Role {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Role, Invalid> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| Invalid::new("the role must be owner, admin, manager or agent"))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An email address, trimmed and lowercased; checked for a plausible shape only. Read
/// from JSON through [`Email::parse`] too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub const MAX_LENGTH: usize = 254;

    /// Fails when the text is not shaped like `local@domain.tld` or is too long. Letters
    /// typed in another width or form (`ａｄｍｉｎ`) are read as the plain letters they
    /// stand for (NFKC); what is left must be plain ASCII, so no address can pass for
    /// another with invisible characters or letters from other scripts that look alike.
    pub fn parse(raw: &str) -> Result<Email, Invalid> {
        use unicode_normalization::UnicodeNormalization;
        let email: String = raw.trim().nfkc().collect::<String>().to_lowercase();
        let invalid = || Invalid::new("enter a valid email address");
        if !email.is_ascii() {
            return Err(Invalid::new("enter the email address in plain letters (a-z), digits and symbols"));
        }
        if email.len() > Self::MAX_LENGTH || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        if local.is_empty() || local.len() > 64 || domain.len() < 3 || !domain.contains('.') {
            return Err(invalid());
        }
        if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") || domain.contains('@') {
            return Err(invalid());
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = Invalid;
    fn try_from(raw: String) -> Result<Email, Invalid> {
        Email::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse("  Ayse@Example.COM ").unwrap().as_str(), "ayse@example.com");
        for bad in ["", "no-at-sign", "a@b", "a@.com", "a b@example.com", "a@example..com", "@example.com"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(300))).is_err());
        // Fullwidth letters are the letters they stand for; invisible characters and
        // lookalikes from other scripts are refused.
        assert_eq!(Email::parse("ａｄｍｉｎ@ｓｈｏｐ.example").unwrap().as_str(), "admin@shop.example");
        for lookalike in [
            "ad\u{200b}min@shop.example",
            "\u{430}dmin@shop.example",
            "admin@sh\u{43e}p.example",
            "admin\u{feff}@shop.example",
        ] {
            assert!(Email::parse(lookalike).is_err(), "{lookalike}");
        }
    }

    #[test]
    fn roles_parse_from_their_names() {
        assert_eq!("manager".parse::<Role>().unwrap(), Role::Manager);
        assert!("root".parse::<Role>().is_err());
        assert!(Role::Owner.oversees_sign_ins() && !Role::Admin.oversees_sign_ins());
        assert!(Role::Admin.manages_team() && !Role::Manager.manages_team());
        assert!(Role::Admin.manages_store() && !Role::Manager.manages_store());
    }

    #[test]
    fn only_an_owner_gives_or_takes_ownership() {
        assert!(Role::Owner.may_manage(Role::Owner) && Role::Owner.may_manage(Role::Agent));
        assert!(Role::Admin.may_manage(Role::Admin) && Role::Admin.may_manage(Role::Agent));
        assert!(!Role::Admin.may_manage(Role::Owner));
        assert!(!Role::Manager.may_manage(Role::Agent) && !Role::Agent.may_manage(Role::Agent));
    }

    #[test]
    fn an_email_read_from_json_is_parsed() {
        let email: Email = serde_json::from_str(r#"" Ayse@Example.COM""#).unwrap();
        assert_eq!(email.as_str(), "ayse@example.com");
        assert_eq!(serde_json::to_string(&email).unwrap(), r#""ayse@example.com""#);
        let refused = serde_json::from_str::<Email>(r#""no-at-sign""#).unwrap_err();
        assert!(refused.to_string().contains("enter a valid email address"), "{refused}");
    }
}
