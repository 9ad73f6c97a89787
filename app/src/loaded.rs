//! Showing a server function's result: a loading line while it runs, then either the
//! content or the error, said plainly; and the card table most results are shown in.

use leptos::prelude::*;
use serde::{Serialize, de::DeserializeOwned};

use crate::error::PanelError;

#[component]
pub fn Loaded<T, F, V>(resource: Resource<Result<T, PanelError>>, show: F) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let show = show.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(data) => show(data).into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// A table in a card that scrolls sideways on narrow screens; `children` are its rows.
/// The card takes keyboard focus, so a table wider than the screen can be scrolled
/// without a mouse.
#[component]
pub fn DataTable(headings: &'static [&'static str], children: Children) -> impl IntoView {
    view! {
        <div class="card table-wrap" tabindex="0">
            <table>
                <thead>
                    <tr>{headings.iter().map(|h| view! { <th scope="col">{*h}</th> }).collect_view()}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}
