//! The browsers signed in to the panel: each person sees their own, an owner everyone's,
//! with where and when each was last used; any of them can be signed out from here (the
//! phones and tools signed in through OAuth are the Access page's "Devices").

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    error::PanelError,
    forms::action_error,
    loaded::{DataTable, Loaded},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    pub id: String,
    pub user: String,
    pub browser: String,
    pub signed_in: String,
    pub last_seen: String,
    /// The browser asking.
    pub current: bool,
}

/// A browser's name from its user agent, short enough for a table.
#[cfg(feature = "ssr")]
fn browser_name(user_agent: Option<&str>) -> String {
    let Some(agent) = user_agent.filter(|a| !a.trim().is_empty()) else { return "unknown browser".to_owned() };
    let browser = [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
        .into_iter()
        .find(|(token, _)| agent.contains(token))
        .map(|(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(token, _)| agent.contains(token))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(name), None) | (None, Some(name)) => name.to_owned(),
        (None, None) => agent.chars().take(60).collect(),
    }
}

#[server(endpoint = "list_sessions")]
pub async fn list_sessions() -> Result<Vec<SessionRow>, PanelError> {
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let mine = crate::session::current_fingerprint().await?;
    let tz = backend::settings::get(&ctx.db).await?.tz();
    let whose = if me.role.oversees_sign_ins() { None } else { Some(me.id) };
    Ok(backend::sessions::active(&ctx.db, ctx.sessions, whose)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            current: mine.as_deref() == Some(s.id.as_str()),
            browser: browser_name(s.user_agent.as_deref()),
            user: s.user_email,
            signed_in: backend::clock::local_minute(s.created_at, tz),
            last_seen: super::last_used_text(Some(s.last_seen_at), s.ip, tz),
            id: s.id,
        })
        .collect())
}

#[server(endpoint = "end_session")]
pub async fn end_session(id: String) -> Result<(), PanelError> {
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let (_, ip) = crate::context::request_info().await?;
    backend::sessions::end_by_id(&ctx.db, &me, ip.as_deref(), &id).await?;
    Ok(())
}

/// The list; it is read again after one is signed out here, and whenever
/// `ended_elsewhere` changes (a password change that signed the others out).
#[component]
pub fn Sessions(everyone: bool, ended_elsewhere: RwSignal<usize>) -> impl IntoView {
    let end = ServerAction::<EndSession>::new();
    let sessions = crate::loaded::load(move || (end.version().get(), ended_elsewhere.get()), |_| list_sessions());
    let error = action_error(end);
    view! {
        <section class="access-section" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Signed-in browsers"</h2>
            <p class="muted">
                {if everyone { "Every browser signed in to this panel, whoever it belongs to." } else { "The browsers you are signed in with." }}
                " Signing one out ends its session at once."
            </p>
            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <Loaded resource=sessions show={move |sessions: Vec<SessionRow>| view! {
                <DataTable headings={&["Browser", "User", "Signed in", "Last seen", "Action"]}>
                    {sessions.into_iter().map(|s| view! {
                        <tr>
                            <td>{s.browser.clone()}{s.current.then(|| view! { " " <strong>"(this browser)"</strong> })}</td>
                            <td>{s.user.clone()}</td>
                            <td>{s.signed_in.clone()}</td>
                            <td>{s.last_seen}</td>
                            <td>
                                <ActionForm action=end>
                                    <input type="hidden" name="id" value=s.id/>
                                    <button type="submit" aria-label=format!("Sign out {} for {}, signed in {}", s.browser, s.user, s.signed_in)>"Sign out"</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }).collect_view()}
                </DataTable>
            }}/>
        </section>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::browser_name;

    #[test]
    fn browsers_are_named_briefly() {
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
        assert_eq!(browser_name(Some(chrome)), "Chrome on Linux");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile Safari/604.1";
        assert_eq!(browser_name(Some(iphone)), "Safari on iPhone");
        assert_eq!(browser_name(Some("curl/8.5")), "curl/8.5");
        assert_eq!(browser_name(None), "unknown browser");
    }
}
