//! The users page (owner only): add a user with a role, disable or enable one.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use vocabulary::people::{Email, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, Role};

use crate::{
    error::PanelError,
    forms::action_error,
    loaded::{DataTable, Loaded},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role_label: String,
    pub disabled: bool,
    pub is_me: bool,
}

#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserRow>, PanelError> {
    let ctx = crate::context::services()?;
    let me = crate::context::require_role(Role::manages_users).await?;
    Ok(backend::users::list(&ctx.db)
        .await?
        .into_iter()
        .map(|u| UserRow {
            is_me: u.id == me.id,
            id: u.id,
            email: u.email,
            name: u.name,
            role_label: u.role.label().to_owned(),
            disabled: u.disabled,
        })
        .collect())
}

#[server(endpoint = "add_user")]
pub async fn add_user(email: String, name: String, role: String, password: String) -> Result<(), PanelError> {
    use backend::{audit, users};
    let ctx = crate::context::services()?;
    let me = crate::context::require_role(Role::manages_users).await?;
    let (_, ip) = crate::context::request_info().await?;
    let new = users::NewUser { email: Email::parse(&email)?, name, role: role.parse()?, password: password.into() };
    let user = users::create(&ctx.db, new).await?;
    audit::record(
        ctx.db.writer(),
        &audit::Event {
            actor_user_id: Some(me.id),
            actor: &me.email,
            action: "user.create",
            target: &user.email,
            ip: ip.as_deref(),
            details: user.role.as_str(),
            ..audit::Event::default()
        },
    )
    .await?;
    Ok(())
}

#[server(endpoint = "set_user_disabled")]
pub async fn set_user_disabled(user_id: i64, disabled: bool) -> Result<(), PanelError> {
    use backend::audit;
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let (_, ip) = crate::context::request_info().await?;
    let user = backend::access::set_user_disabled(&ctx.db, &ctx.credentials, &me, user_id, disabled).await?;
    audit::record(
        ctx.db.writer(),
        &audit::Event {
            actor_user_id: Some(me.id),
            actor: &me.email,
            action: if disabled { "user.disable" } else { "user.enable" },
            target: &user.email,
            ip: ip.as_deref(),
            ..audit::Event::default()
        },
    )
    .await?;
    Ok(())
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let toggle = ServerAction::<SetUserDisabled>::new();
    let users = crate::loaded::load(move || (add.version().get(), toggle.version().get()), |_| list_users());
    let add_error = action_error(add);
    let toggle_error = action_error(toggle);
    view! {
        <Title text="Users · Backroom"/>
        <h1>"Users"</h1>
        <Loaded resource=users show={move |rows: Vec<UserRow>| view! {
            <DataTable headings={&["Name", "Email", "Role", "Status", "Action"]}>
                {rows.into_iter().map(|u| view! {
                    <tr>
                        <td>{u.name.clone()}</td>
                        <td>{u.email.clone()}</td>
                        <td>{u.role_label.clone()}</td>
                        <td>{if u.disabled { "Disabled" } else { "Active" }}</td>
                        <td>
                            {(!u.is_me).then(|| view! {
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
                }).collect_view()}
            </DataTable>
        }}/>
        {move || toggle_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <section class="card">
            <h2>"Add a user"</h2>
            <ActionForm action=add>
                <div class="field"><label for="new-name">"Name"</label><input id="new-name" name="name" type="text" maxlength=MAX_NAME_CHARS.to_string() required/></div>
                <div class="field"><label for="new-email">"Email"</label><input id="new-email" name="email" type="email" maxlength=Email::MAX_LENGTH.to_string() required/></div>
                <div class="field">
                    <label for="new-role">"Role"</label>
                    <select id="new-role" name="role">
                        {Role::ALL.map(|role| view! { <option value=role.as_str() selected=role == Role::Manager>{role.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field"><label for="new-password">{format!("First password (at least {MIN_PASSWORD_CHARS} characters)")}</label><input id="new-password" name="password" type="password" minlength=MIN_PASSWORD_CHARS.to_string() maxlength=MAX_PASSWORD_CHARS.to_string() autocomplete="new-password" required/></div>
                {move || add_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="primary">"Add user"</button>
            </ActionForm>
        </section>
    }
}
