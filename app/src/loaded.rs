//! Showing a server function's result: a loading line while it runs, then either the
//! content or the error, said plainly (shown again on a reload, or kept until the new
//! result arrives); one record's page, which may find no record; and the card table most
//! results are shown in.

use leptos::{
    prelude::*,
    server::codee::{Decoder, Encoder},
};
use leptos_meta::Title;
use serde::{Serialize, de::DeserializeOwned};

use crate::error::PanelError;

/// How the panel's resources travel with the page: as JSON, which the browser reads with
/// the same reader (over bytes) as a server function's answer. Leptos' default reads the
/// page's copy as text, so the browser build would carry two JSON readers for every type
/// the panel loads — about a sixth of the panel's WebAssembly.
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(text.as_bytes())
    }
}

/// What a page loads from a server function: its result or the panel's error.
pub type Load<T> = Resource<Result<T, PanelError>, Json>;

/// [`Resource::new`] for the panel: `fetcher` runs again whenever `source` changes, and
/// the first result comes with the server-rendered page.
#[track_caller]
pub fn load<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, Json>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

/// The result `show`n, with the loading line again each time the resource reloads.
#[component]
pub fn Loaded<T, F, V>(resource: Load<T>, show: F) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Suspense fallback=loading>
            {move || {
                let show = show.clone();
                Suspend::new(async move { answer(resource.await, show) })
            }}
        </Suspense>
    }
}

/// The result `show`n, kept on screen while the resource reloads until the new one
/// arrives: for a listing that follows its address or live updates, which would
/// otherwise blink to the loading line on each change.
#[component]
pub fn LoadedLatest<T, F, V>(resource: Load<T>, show: F) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=loading>
            {move || {
                let show = show.clone();
                Suspend::new(async move { answer(resource.await, show) })
            }}
        </Transition>
    }
}

/// One record's page (an order, a ticket; `thing` names it): a loading line at first,
/// then the record, a page saying there is none at this address (with a link to `back`,
/// `back_label`), or the error. Reloading the record keeps it on screen until the new one
/// arrives, so its forms stay in place.
#[component]
pub fn LoadedRecord<T, F, V>(
    resource: Load<Option<T>>,
    show: F,
    thing: &'static str,
    back: &'static str,
    back_label: &'static str,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=loading>
            {move || {
                let show = show.clone();
                Suspend::new(async move {
                    answer(resource.await, |record| match record {
                        Some(record) => show(record).into_any(),
                        None => view! { <NotFound thing back back_label/> }.into_any(),
                    })
                })
            }}
        </Transition>
    }
}

/// The line shown until a first result arrives.
fn loading() -> impl IntoView {
    view! { <p class="loading">"Loading…"</p> }
}

/// What a server function answered: `show`n, or its error said plainly.
fn answer<T, V: IntoView + 'static>(result: Result<T, PanelError>, show: impl FnOnce(T) -> V) -> AnyView {
    match result {
        Ok(data) => show(data).into_any(),
        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
    }
}

#[component]
fn NotFound(thing: &'static str, back: &'static str, back_label: &'static str) -> impl IntoView {
    let mut heading: String = thing.chars().take(1).flat_map(char::to_uppercase).chain(thing.chars().skip(1)).collect();
    heading.push_str(" not found");
    view! {
        <Title text=format!("{heading} · Backroom")/>
        <h1>{heading}</h1>
        <div class="card">
            <p>{format!("There is no {thing} at this address. It may have been mistyped.")}</p>
            <p><a href=back>{back_label}</a></p>
        </div>
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
