//! Running the team (owners and admins, see [`Role::manages_team`]): inviting people by
//! email, changing roles, handing the ownership over. Every change is audited. The rules
//! on who may act on whom live in [`crate::users`].

use secrecy::SecretString;

use crate::{
    Error, Result,
    access::authenticate::CredentialCache,
    account_links::{self, INVITATION_LIFETIME_SECS, NewLink, Purpose},
    audit,
    db::Db,
    mail::{outbox, templates},
    passwords, settings,
    users::{self, Email, Role, User},
};

/// An invitation not yet accepted, cancelled or expired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Invites `email` to the team as `role`: an email with a single-use link, sent through
/// the outbox in the same transaction, for the person to choose their name and password.
/// A newer invitation to the same address replaces the older. Fails with `Forbidden` for
/// a role the actor may not give, and `Conflict` when the address has an account.
pub async fn invite(db: &Db, base_url: &str, actor: &User, email: &Email, role: Role, ip: Option<&str>) -> Result<()> {
    if !actor.role.may_manage(role) {
        return Err(Error::Forbidden);
    }
    if users::find_by_email(db, email).await?.is_some() {
        return Err(Error::Conflict("a user with this email already exists".into()));
    }
    let store = settings::get(db).await?;
    let mut tx = db.begin().await?;
    account_links::close(&mut tx, Purpose::Invitation, email.as_str(), None).await?;
    let new =
        NewLink { purpose: Purpose::Invitation, email, user_id: None, role: Some(role), created_by: Some(actor.id) };
    let link = account_links::issue(&mut tx, base_url, &new).await?;
    let inviter = if actor.name.trim().is_empty() { &actor.email } else { &actor.name };
    let content = templates::invitation((&store).into(), inviter, role, &link, INVITATION_LIFETIME_SECS / (24 * 3600));
    let mail = outbox::NewMail {
        kind: "user.invitation",
        to_address: email.as_str(),
        to_name: "",
        content: &content,
        reply_to: Some(actor.email.as_str()),
        order_id: None,
        ticket_id: None,
    };
    outbox::queue(&mut tx, &mail).await?;
    audit::record(
        &mut *tx,
        &audit::Event { details: role.as_str(), ..audit::Event::by(actor, "user.invite", email.as_str(), ip) },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The invitations still open, newest first.
pub async fn pending(db: &Db) -> Result<Vec<Invitation>> {
    Ok(account_links::all_open(db, Purpose::Invitation)
        .await?
        .into_iter()
        .map(|link| Invitation {
            id: link.id,
            email: link.email,
            role: link.role.unwrap_or(Role::Agent),
            created_at: link.created_at,
            expires_at: link.expires_at,
        })
        .collect())
}

/// Cancels an open invitation: its link no longer works.
pub async fn cancel(db: &Db, actor: &User, id: i64, ip: Option<&str>) -> Result<()> {
    let invitation = pending(db).await?.into_iter().find(|i| i.id == id).ok_or(Error::NotFound)?;
    if !actor.role.may_manage(invitation.role) {
        return Err(Error::Forbidden);
    }
    let mut tx = db.begin().await?;
    account_links::close(&mut tx, Purpose::Invitation, &invitation.email, Some(id)).await?;
    audit::record(&mut *tx, &audit::Event::by(actor, "user.invitation_cancel", &invitation.email, ip)).await?;
    tx.commit().await?;
    Ok(())
}

/// What an invitation's page shows before it is accepted: the address and the role.
pub async fn open(db: &Db, token: &str) -> Result<Option<(String, Role)>> {
    Ok(account_links::open(db, Purpose::Invitation, token).await?.map(|l| (l.email, l.role.unwrap_or(Role::Agent))))
}

/// Accepts an invitation: the account is made with the invited role, the person's name
/// and password. Fails with `Invalid` for a link that is no longer open (used, cancelled,
/// expired), a weak password or a long name.
pub async fn accept(db: &Db, token: &str, name: &str, password: SecretString, ip: Option<&str>) -> Result<User> {
    let name = users::checked_name(name)?;
    if name.is_empty() {
        return Err(Error::invalid("enter your name"));
    }
    let password_hash = passwords::hash(password).await?;
    let mut tx = db.begin().await?;
    let link = account_links::take(&mut tx, Purpose::Invitation, token).await?.ok_or_else(|| {
        Error::invalid("this invitation has expired, was cancelled or was already used; ask for a new one")
    })?;
    let email = Email::parse(&link.email)?;
    let role = link.role.unwrap_or(Role::Agent);
    let user = users::insert_hashed(&mut tx, &email, &name, role, &password_hash, false)
        .await?
        .ok_or_else(|| Error::internal("insert returned no row"))?;
    audit::record(
        &mut *tx,
        &audit::Event { details: role.as_str(), ..audit::Event::by(&user, "user.invitation_accept", &user.email, ip) },
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Gives a person another role ([`users::set_role`] says who may); the new role counts
/// at once, in the panel and for the API.
pub async fn change_role(
    db: &Db,
    remembered: &CredentialCache,
    actor: &User,
    user_id: i64,
    role: Role,
    ip: Option<&str>,
) -> Result<User> {
    let (before, user) = users::set_role(db, actor, user_id, role).await?;
    remembered.forget_all();
    let details = format!("{before} → {}", user.role);
    audit::record(
        db.writer(),
        &audit::Event { details: &details, ..audit::Event::by(actor, "user.role_change", &user.email, ip) },
    )
    .await?;
    Ok(user)
}

/// Hands the ownership over to `user_id`: they become an owner and `actor` an admin.
pub async fn hand_over_ownership(
    db: &Db,
    remembered: &CredentialCache,
    actor: &User,
    user_id: i64,
    ip: Option<&str>,
) -> Result<User> {
    let user = users::hand_over_ownership(db, actor, user_id).await?;
    remembered.forget_all();
    audit::record(db.writer(), &audit::Event::by(actor, "user.ownership_hand_over", &user.email, ip)).await?;
    Ok(user)
}
