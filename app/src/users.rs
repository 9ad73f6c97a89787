//! The users page (owners and admins): invite someone by email or add them with a first
//! password, change a person's role, disable or enable an account, cancel an invitation;
//! and, for an owner, hand the ownership over. An admin acts on no owner.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use vocabulary::people::{Email, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, Role};

use crate::{
    error::PanelError,
    forms::action_error,
    loaded::{DataTable, LoadedLatest},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub is_me: bool,
    /// Whether the person asking may change this one's role or disable them.
    pub managed: bool,
}

/// The team as the person asking sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub users: Vec<UserRow>,
    pub invitations: Vec<InvitationRow>,
    /// The roles the person asking may give.
    pub roles: Vec<Role>,
    /// The person asking is an owner, who may hand the ownership over.
    pub owner: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRow {
    pub id: i64,
    pub email: String,
    pub role_label: String,
    pub expires: String,
    pub managed: bool,
}

#[server(endpoint = "list_team")]
pub async fn list_team() -> Result<Team, PanelError> {
    let me = crate::context::acting(Role::manages_team).await?;
    let role = me.user.role;
    let tz = backend::settings::get(&me.ctx.db).await?.tz();
    let users = backend::users::list(&me.ctx.db)
        .await?
        .into_iter()
        .map(|u| UserRow {
            is_me: u.id == me.user.id,
            managed: u.id != me.user.id && role.may_manage(u.role),
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            disabled: u.disabled,
        })
        .collect();
    let invitations = backend::team::pending(&me.ctx.db)
        .await?
        .into_iter()
        .map(|i| InvitationRow {
            id: i.id,
            managed: role.may_manage(i.role),
            email: i.email,
            role_label: i.role.label().to_owned(),
            expires: backend::clock::local_minute(i.expires_at, tz),
        })
        .collect();
    let roles = Role::ALL.into_iter().filter(|r| role.may_manage(*r)).collect();
    Ok(Team { users, invitations, roles, owner: role == Role::Owner })
}

#[server(endpoint = "add_user")]
pub async fn add_user(email: String, name: String, role: String, password: String) -> Result<(), PanelError> {
    use backend::{audit, users};
    let me = crate::context::acting(Role::manages_team).await?;
    let role: Role = role.parse()?;
    if !me.user.role.may_manage(role) {
        return Err(PanelError::Forbidden);
    }
    let new = users::NewUser { email: Email::parse(&email)?, name, role, password: password.into() };
    let user = users::create(&me.ctx.db, new).await?;
    audit::record(
        me.ctx.db.writer(),
        &audit::Event {
            details: user.role.as_str(),
            ..audit::Event::by(&me.user, "user.create", &user.email, me.ip.as_deref())
        },
    )
    .await?;
    Ok(())
}

#[server(endpoint = "invite_user")]
pub async fn invite_user(email: String, role: String) -> Result<String, PanelError> {
    let me = crate::context::acting(Role::manages_team).await?;
    let email = Email::parse(&email)?;
    backend::team::invite(&me.ctx.db, &me.ctx.base_url, &me.user, &email, role.parse()?, me.ip.as_deref()).await?;
    Ok(format!("The invitation is on its way to {email}; its link works once, for 7 days."))
}

#[server(endpoint = "cancel_invitation")]
pub async fn cancel_invitation(id: i64) -> Result<(), PanelError> {
    let me = crate::context::acting(Role::manages_team).await?;
    backend::team::cancel(&me.ctx.db, &me.user, id, me.ip.as_deref()).await?;
    Ok(())
}

#[server(endpoint = "change_role")]
pub async fn change_role(user_id: i64, role: String) -> Result<(), PanelError> {
    let me = crate::context::acting(Role::manages_team).await?;
    let role = role.parse()?;
    backend::team::change_role(&me.ctx.db, &me.ctx.credentials, &me.user, user_id, role, me.ip.as_deref()).await?;
    Ok(())
}

#[server(endpoint = "hand_over_ownership")]
pub async fn hand_over_ownership(user_id: i64) -> Result<(), PanelError> {
    let me = crate::context::acting(|role| role == Role::Owner).await?;
    backend::team::hand_over_ownership(&me.ctx.db, &me.ctx.credentials, &me.user, user_id, me.ip.as_deref()).await?;
    Ok(())
}

#[server(endpoint = "set_user_disabled")]
pub async fn set_user_disabled(user_id: i64, disabled: bool) -> Result<(), PanelError> {
    use backend::audit;
    let me = crate::context::acting(Role::manages_team).await?;
    let user = backend::access::set_user_disabled(&me.ctx.db, &me.ctx.credentials, &me.user, user_id, disabled).await?;
    let action = if disabled { "user.disable" } else { "user.enable" };
    audit::record(me.ctx.db.writer(), &audit::Event::by(&me.user, action, &user.email, me.ip.as_deref())).await?;
    Ok(())
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let invite = ServerAction::<InviteUser>::new();
    let cancel = ServerAction::<CancelInvitation>::new();
    let toggle = ServerAction::<SetUserDisabled>::new();
    let change = ServerAction::<ChangeRole>::new();
    let hand_over = ServerAction::<HandOverOwnership>::new();
    let team = crate::loaded::load(
        move || {
            (
                add.version().get(),
                invite.version().get(),
                cancel.version().get(),
                toggle.version().get(),
                change.version().get(),
                hand_over.version().get(),
            )
        },
        |_| list_team(),
    );
    let add_error = action_error(add);
    let invite_error = action_error(invite);
    let invited = move || invite.value().get().and_then(Result::ok);
    let (toggle_error, change_error, cancel_error) = (action_error(toggle), action_error(change), action_error(cancel));
    let hand_over_error = action_error(hand_over);
    let row_error = move || toggle_error().or_else(change_error).or_else(cancel_error).or_else(hand_over_error);
    // Kept on screen while the team reloads after an action, so focus stays in place; the
    // forms are drawn again with it, empty.
    view! {
        <Title text="Users · Backroom"/>
        <h1>"Users"</h1>
        <LoadedLatest resource=team show={move |team: Team| {
            let Team { users, invitations, roles, owner } = team;
            let hand_over_form = owner.then(|| view! { <HandOver action=hand_over users=users.clone()/> });
            let rows = users.into_iter().map(|u| {
                let roles = roles.clone();
                view! {
                    <tr>
                        <td>{u.name.clone()}{u.is_me.then(|| view! { " " <strong>"(you)"</strong> })}</td>
                        <td>{u.email.clone()}</td>
                        <td>
                            {if u.managed {
                                view! { <RoleChange action=change user=u.clone() roles/> }.into_any()
                            } else {
                                view! { {u.role.label()} }.into_any()
                            }}
                        </td>
                        <td>{if u.disabled { "Disabled" } else { "Active" }}</td>
                        <td>
                            {u.managed.then(|| view! {
                                <ActionForm action=toggle>
                                    <input type="hidden" name="user_id" value=u.id/>
                                    <input type="hidden" name="disabled" value=(!u.disabled).to_string()/>
                                    <button type="submit" aria-label=format!("{} {}", if u.disabled { "Enable" } else { "Disable" }, u.email)>
                                        {if u.disabled { "Enable" } else { "Disable" }}
                                    </button>
                                </ActionForm>
                            })}
                        </td>
                    </tr>
                }
            }).collect_view();
            let pending = (!invitations.is_empty()).then(|| view! {
                <h2>"Invitations not yet accepted"</h2>
                <DataTable headings={&["Email", "Role", "Link works until", "Action"]}>
                    {invitations.into_iter().map(|i| view! {
                        <tr>
                            <td>{i.email.clone()}</td>
                            <td>{i.role_label}</td>
                            <td>{i.expires}</td>
                            <td>
                                {i.managed.then(|| view! {
                                    <ActionForm action=cancel>
                                        <input type="hidden" name="id" value=i.id/>
                                        <button type="submit" aria-label=format!("Cancel the invitation to {}", i.email)>"Cancel"</button>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }).collect_view()}
                </DataTable>
            });
            let invite_roles = roles.clone();
            view! {
                <DataTable headings={&["Name", "Email", "Role", "Status", "Action"]}>{rows}</DataTable>
                {move || row_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                {pending}
                <section class="card">
                    <h2>"Invite someone"</h2>
                    <p class="muted">"They get an email with a link to make their account and choose their password; the link works once, for 7 days."</p>
                    <ActionForm action=invite>
                        <div class="field"><label for="invite-email">"Email"</label><input id="invite-email" name="email" type="email" maxlength=Email::MAX_LENGTH.to_string() required/></div>
                        <RoleSelect id="invite-role" roles=invite_roles/>
                        {move || invite_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                        <p role="status">{invited}</p>
                        <button type="submit" class="primary" disabled=move || invite.pending().get()>"Send the invitation"</button>
                    </ActionForm>
                </section>
                <section class="card">
                    <h2>"Add a user"</h2>
                    <p class="muted">"For a shop without email set up: you choose their first password and give it to them."</p>
                    <ActionForm action=add>
                        <div class="field"><label for="new-name">"Name"</label><input id="new-name" name="name" type="text" maxlength=MAX_NAME_CHARS.to_string() required/></div>
                        <div class="field"><label for="new-email">"Email"</label><input id="new-email" name="email" type="email" maxlength=Email::MAX_LENGTH.to_string() required/></div>
                        <RoleSelect id="new-role" roles/>
                        <div class="field"><label for="new-password">{format!("First password (at least {MIN_PASSWORD_CHARS} characters)")}</label><input id="new-password" name="password" type="password" minlength=MIN_PASSWORD_CHARS.to_string() maxlength=MAX_PASSWORD_CHARS.to_string() autocomplete="new-password" required/></div>
                        {move || add_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                        <button type="submit" class="primary">"Add user"</button>
                    </ActionForm>
                </section>
                {hand_over_form}
            }
        }}/>
    }
}

/// The roles the person asking may give, shop manager chosen first.
#[component]
fn RoleSelect(id: &'static str, roles: Vec<Role>) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>"Role"</label>
            <select id=id name="role">
                {roles.into_iter().map(|role| view! { <option value=role.as_str() selected=role == Role::Manager>{role.label()}</option> }).collect_view()}
            </select>
        </div>
    }
}

/// A person's role, changed in place.
#[component]
fn RoleChange(action: ServerAction<ChangeRole>, user: UserRow, roles: Vec<Role>) -> impl IntoView {
    let id = format!("role-{}", user.id);
    view! {
        <ActionForm action=action>
            <input type="hidden" name="user_id" value=user.id/>
            <select id=id.clone() name="role" aria-label=format!("Role of {}", user.email)>
                {roles.into_iter().map(|role| view! { <option value=role.as_str() selected=role == user.role>{role.label()}</option> }).collect_view()}
            </select>
            " "
            <button type="submit" aria-label=format!("Change the role of {}", user.email)>"Change"</button>
        </ActionForm>
    }
}

/// An owner hands the ownership over: the one chosen becomes an owner, and they an admin.
#[component]
fn HandOver(action: ServerAction<HandOverOwnership>, users: Vec<UserRow>) -> impl IntoView {
    let candidates: Vec<UserRow> =
        users.into_iter().filter(|u| !u.is_me && !u.disabled && u.role != Role::Owner).collect();
    (!candidates.is_empty()).then(|| view! {
        <section class="card">
            <h2>"Hand the ownership over"</h2>
            <p class="muted">"The person you choose becomes an owner, and you become an admin."</p>
            <ActionForm action=action>
                <div class="field">
                    <label for="new-owner">"New owner"</label>
                    <select id="new-owner" name="user_id">
                        {candidates.into_iter().map(|u| view! { <option value=u.id>{format!("{} ({})", u.name, u.email)}</option> }).collect_view()}
                    </select>
                </div>
                <button type="submit" disabled=move || action.pending().get()>"Hand the ownership over"</button>
            </ActionForm>
        </section>
    })
}
