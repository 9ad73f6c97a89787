//! The import's page: how far each kind of thing got, the rate and the time left,
//! followed about every second while it runs.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{ProgressView, STORE_PATH, store_import_progress};
use crate::{
    following::{Followed, POLL_EVERY},
    loaded::{DataTable, Loaded},
};

#[component]
pub fn StoreImportPage() -> impl IntoView {
    let progress = crate::loaded::load(|| (), |_| store_import_progress());
    view! {
        <Title text="Import · Backroom"/>
        <p class="back-link"><a href=STORE_PATH>"← The store's connection"</a></p>
        <h1>"Importing the store"</h1>
        <Loaded resource=progress show=move |progress| view! { <ImportProgress progress/> }/>
    }
}

/// The progress, kept up to date while the import runs.
#[component]
fn ImportProgress(progress: ProgressView) -> impl IntoView {
    let followed = Followed::new(progress);
    let (progress, problem) = (followed.value, followed.problem);
    // Effects run in the browser only: that is where the page follows the import.
    Effect::new(move |_| {
        if progress.with_untracked(ProgressView::running) {
            followed.follow(POLL_EVERY, ProgressView::running, || async { store_import_progress().await.map(Some) });
        }
    });
    let total = move || progress.with(|p| p.total().unwrap_or(0).max(p.done()).max(1));
    view! {
        <section class="card" aria-labelledby="import-progress-heading">
            <h2 id="import-progress-heading">"Progress"</h2>
            <div class="field bulk-progress">
                <label for="import-progress">"Things imported"</label>
                <progress id="import-progress" max=total value=move || progress.with(ProgressView::done)>
                    {move || progress.with(|p| format!("{} of {}", p.done(), total()))}
                </progress>
            </div>
            <p aria-live="polite" data-testid="import-state">{move || progress.with(ProgressView::sentence)}</p>
            <p class="muted">
                {move || progress.with(|p| match (&p.started, &p.finished) {
                    (Some(started), Some(finished)) => format!("Started {started}, finished {finished}."),
                    (Some(started), None) => format!("Started {started}."),
                    _ => String::new(),
                })}
            </p>
            {move || problem.get().map(|e| view! { <p class="error">"The progress could not be refreshed: "{e}</p> })}
        </section>
        <h2>"By kind"</h2>
        <DataTable headings=&["What", "Imported", "Of", "State"]>
            {move || progress.with(|p| p.parts.iter().map(|part| view! {
                <tr>
                    <th scope="row">{part.label.clone()}</th>
                    <td class="num">{part.done}</td>
                    <td class="num">{part.total.map_or_else(|| "not yet counted".to_owned(), |t| t.to_string())}</td>
                    <td>{part_state(&part.state)}</td>
                </tr>
            }).collect_view())}
        </DataTable>
    }
}

fn part_state(state: &str) -> &'static str {
    match state {
        "pending" => "Waiting",
        "running" => "Importing",
        "done" => "Done",
        _ => "Stopped",
    }
}
