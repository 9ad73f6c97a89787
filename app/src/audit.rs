//! The audit log page: the latest events, newest first.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{error::PanelError, loaded::{DataTable, Loaded}};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub outcome: String,
}

#[server(endpoint = "recent_audit")]
pub async fn recent_audit() -> Result<Vec<AuditRow>, PanelError> {
    let ctx = crate::context::panel()?;
    crate::context::require_role(backend::users::Role::manages_store).await?;
    let tz = backend::settings::get(&ctx.db).await?.tz();
    Ok(backend::audit::recent(&ctx.db, 200)
        .await?
        .into_iter()
        .map(|e| AuditRow {
            id: e.id,
            at: backend::clock::format_local(e.at, tz, "%Y-%m-%d %H:%M:%S"),
            actor: e.actor,
            action: e.action,
            target: e.target,
            ip: e.ip.unwrap_or_default(),
            outcome: e.outcome,
        })
        .collect())
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let rows = Resource::new(|| (), |_| recent_audit());
    view! {
        <Title text="Audit log · Backroom"/>
        <h1>"Audit log"</h1>
        <p class="muted">"Every sign-in and every change, newest first. Filters and CSV export come with the access capability."</p>
        <Loaded resource=rows show={|rows: Vec<AuditRow>| view! {
            <DataTable headings={&["When", "Who", "What", "Target", "From", "Outcome"]}>
                {rows.into_iter().map(|e| view! {
                    <tr>
                        <td>{e.at}</td><td>{e.actor}</td><td>{e.action}</td><td>{e.target}</td><td>{e.ip}</td>
                        <td><span class=format!("badge outcome-{}", e.outcome)>{e.outcome.clone()}</span></td>
                    </tr>
                }).collect_view()}
            </DataTable>
        }}/>
    }
}
