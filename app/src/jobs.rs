//! The background jobs page: queued, running, failed and dead jobs, with a retry button.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{
    error::PanelError,
    forms::action_error,
    loaded::{DataTable, Loaded},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub attempts: String,
    pub run_at: String,
    pub last_error: String,
}

#[server(endpoint = "list_jobs")]
pub async fn list_jobs() -> Result<Vec<JobRow>, PanelError> {
    let ctx = crate::context::services()?;
    crate::context::require_role(backend::users::Role::manages_store).await?;
    let tz = backend::settings::get(&ctx.db).await?.tz();
    Ok(backend::jobs::unfinished(&ctx.db, 200)
        .await?
        .into_iter()
        .map(|j| JobRow {
            id: j.id,
            kind: j.kind,
            status: j.status,
            attempts: format!("{} of {}", j.attempts, j.max_attempts),
            run_at: backend::clock::local_minute(j.run_at, tz),
            last_error: j.last_error.unwrap_or_default(),
        })
        .collect())
}

#[server(endpoint = "retry_job")]
pub async fn retry_job(job_id: i64) -> Result<(), PanelError> {
    let ctx = crate::context::services()?;
    crate::context::require_role(backend::users::Role::manages_store).await?;
    backend::jobs::retry(ctx.db.writer(), job_id).await?;
    Ok(())
}

#[component]
pub fn JobsPage() -> impl IntoView {
    let retry = ServerAction::<RetryJob>::new();
    let jobs = crate::loaded::load(move || retry.version().get(), |_| list_jobs());
    let error = action_error(retry);
    view! {
        <Title text="Background jobs · Backroom"/>
        <h1>"Background jobs"</h1>
        <p class="muted">"Work that runs outside requests: emails, messages, syncs, clean-ups. Finished jobs are not listed."</p>
        {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <Loaded resource=jobs show={move |rows: Vec<JobRow>| {
            if rows.is_empty() {
                return view! { <p class="card">"Nothing queued, nothing failed."</p> }.into_any();
            }
            view! {
                <DataTable headings={&["Job", "Status", "Attempts", "Next run", "Last error", "Action"]}>
                    {rows.into_iter().map(|j| {
                        let retryable = j.status == "failed" || j.status == "dead";
                        view! {
                            <tr>
                                <td>{j.kind.clone()}" #"{j.id}</td>
                                <td><span class=format!("badge job-{}", j.status)>{j.status.clone()}</span></td>
                                <td>{j.attempts}</td>
                                <td>{j.run_at}</td>
                                <td class="wrap">{j.last_error}</td>
                                <td>{retryable.then(|| view! {
                                    <ActionForm action=retry>
                                        <input type="hidden" name="job_id" value=j.id/>
                                        <button type="submit" aria-label=format!("Retry job {}", j.id)>"Retry"</button>
                                    </ActionForm>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </DataTable>
            }.into_any()
        }}/>
    }
}
