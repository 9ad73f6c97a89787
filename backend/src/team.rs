//! Running the team (owners and admins, see [`Role::manages_team`]): inviting people by
//! email, changing roles, handing the ownership over. Every change is audited, in its own
//! transaction, which holds the team's lock ([`users::lock_team`]) where owners are
//! counted or a role is given.

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
/// and password — if the person who invited them may still give that role (an admin
/// demoted or disabled since, or an owner no longer one, may not). Fails with `Invalid`
/// for a link that is no longer open (used, cancelled, expired) or no longer valid, a
/// weak password or a long name.
pub async fn accept(db: &Db, token: &str, name: &str, password: SecretString, ip: Option<&str>) -> Result<User> {
    let closed = || Error::invalid("this invitation has expired, was cancelled or was already used; ask for a new one");
    let name = users::checked_name(name)?;
    if name.is_empty() {
        return Err(Error::invalid("enter your name"));
    }
    // A cheap look first: the password is hashed (slow on purpose) only for an open link.
    account_links::open(db, Purpose::Invitation, token).await?.ok_or_else(closed)?;
    let password_hash = passwords::hash(password).await?;
    let mut tx = db.begin().await?;
    users::lock_team(&mut tx).await?;
    let link = account_links::take(&mut tx, Purpose::Invitation, token).await?.ok_or_else(closed)?;
    let email = Email::parse(&link.email)?;
    let role = link.role.unwrap_or(Role::Agent);
    let inviter = match link.created_by {
        Some(id) => Some(users::find_in(&mut tx, id).await?),
        None => None,
    };
    if !inviter.is_some_and(|inviter| !inviter.disabled && inviter.role.may_manage(role)) {
        return Err(Error::invalid(
            "this invitation is no longer valid: the person who sent it can no longer give this role; ask for a new one",
        ));
    }
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

/// Gives a person another role. Only someone who may manage both the person's role and
/// the new one does it ([`Role::may_manage`]); nobody changes their own (an owner hands
/// the ownership over instead); the last enabled owner stays one. The new role counts at
/// once, in the panel and for the API. Audited in the same transaction.
pub async fn change_role(
    db: &Db,
    remembered: &CredentialCache,
    actor: &User,
    user_id: i64,
    role: Role,
    ip: Option<&str>,
) -> Result<User> {
    if !actor.role.manages_team() {
        return Err(Error::Forbidden);
    }
    let (mut tx, actor, target) =
        users::begin_team_change(db, actor, user_id, "you cannot change your own role").await?;
    if !actor.role.may_manage(target.role) || !actor.role.may_manage(role) {
        return Err(Error::Forbidden);
    }
    if target.role == Role::Owner && role != Role::Owner {
        users::another_owner_remains(&mut tx, user_id).await?;
    }
    users::store_role(&mut tx, user_id, role).await?;
    let details = format!("{} → {role}", target.role);
    audit::record(
        &mut *tx,
        &audit::Event { details: &details, ..audit::Event::by(&actor, "user.role_change", &target.email, ip) },
    )
    .await?;
    tx.commit().await?;
    remembered.forget_all();
    users::find(db, user_id).await
}

/// Hands the ownership over to `user_id`, an enabled account other than the actor's:
/// they become an owner and the owner `actor` an admin, in one step. Audited in the same
/// transaction.
pub async fn hand_over_ownership(
    db: &Db,
    remembered: &CredentialCache,
    actor: &User,
    user_id: i64,
    ip: Option<&str>,
) -> Result<User> {
    if actor.role != Role::Owner {
        return Err(Error::Forbidden);
    }
    let (mut tx, actor, target) =
        users::begin_team_change(db, actor, user_id, "choose someone else to hand the ownership over to").await?;
    if actor.role != Role::Owner {
        return Err(Error::Forbidden);
    }
    if target.disabled {
        return Err(Error::invalid("enable the account before handing the ownership over to it"));
    }
    users::store_role(&mut tx, user_id, Role::Owner).await?;
    users::store_role(&mut tx, actor.id, Role::Admin).await?;
    audit::record(&mut *tx, &audit::Event::by(&actor, "user.ownership_hand_over", &target.email, ip)).await?;
    tx.commit().await?;
    remembered.forget_all();
    users::find(db, user_id).await
}
