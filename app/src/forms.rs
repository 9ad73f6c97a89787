//! What the panel's action forms share: the error of an action's last run, forms emptied
//! once they succeed, the actions of one page (an order, a ticket) that each reload it and
//! say what they did, a choice of several as radio buttons, and the field that asks for
//! a person's own password before a change to their account.

use leptos::{prelude::*, server_fn::ServerFn};

use crate::error::PanelError;

/// The error of the last run of an action, as text.
pub fn action_error<I, O>(action: ServerAction<I>) -> impl Fn() -> Option<String> + Copy
where
    I: ServerFn<Output = O, Error = PanelError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    move || action.value().get().and_then(|result| result.err()).map(|e| e.to_string())
}

/// Forgets the last run of `action` if it failed, so its form no longer shows the error.
pub fn forget_error<I>(action: ServerAction<I>)
where
    I: ServerFn<Output = String, Error = PanelError> + Clone + Send + Sync + 'static,
{
    if action.value().with_untracked(|result| matches!(result, Some(Err(_)))) {
        action.clear();
    }
}

/// Empties `form` each time `action` succeeds: a page that reloads after an action draws
/// its forms again in place, which would keep what was typed into a message already sent.
pub fn reset_on_success<I>(action: ServerAction<I>, form: NodeRef<leptos::html::Form>)
where
    I: ServerFn<Output = String, Error = PanelError> + Clone + Send + Sync + 'static,
{
    Effect::new(move |seen: Option<()>| {
        let succeeded = action.value().with(|result| matches!(result, Some(Ok(_))));
        // The first run is the form appearing, not an answer arriving.
        if seen.is_some()
            && succeeded
            && let Some(form) = form.get_untracked()
        {
            form.reset();
        }
    });
}

/// The actions of a page that shows one record: each that succeeds says what it did (in
/// `done`, for the page's status line) and reloads the record (`reloads` counts them);
/// one that fails leaves the forms as they are, with the error next to its form.
#[derive(Clone, Copy)]
pub struct PageActions {
    pub done: RwSignal<String>,
    pub reloads: RwSignal<u32>,
}

impl Default for PageActions {
    fn default() -> PageActions {
        PageActions { done: RwSignal::new(String::new()), reloads: RwSignal::new(0) }
    }
}

impl PageActions {
    /// Follows `action`'s answers.
    pub fn follow<I>(self, action: ServerAction<I>)
    where
        I: ServerFn<Output = String, Error = PanelError> + Clone + Send + Sync + 'static,
    {
        Effect::new(move |_| match action.value().get() {
            Some(Ok(message)) => {
                self.done.set(message);
                self.reloads.update(|n| *n += 1);
            }
            Some(Err(_)) => self.done.set(String::new()),
            None => {}
        });
        // An error of an earlier attempt does not apply to the record as it now is.
        self.after_success(move || forget_error(action));
    }

    /// Runs `then` after each action of the page that succeeds.
    pub fn after_success(self, then: impl Fn() + 'static) {
        Effect::new(move |seen: Option<()>| {
            self.reloads.track();
            // The first run is the page appearing, not an action succeeding.
            if seen.is_some() {
                then();
            }
        });
    }
}

/// One choice of several, as radio buttons: (value, id, label) each, `current` checked.
#[component]
pub fn RadioChoices(
    legend: &'static str,
    name: &'static str,
    current: String,
    options: &'static [(&'static str, &'static str, &'static str)],
) -> impl IntoView {
    view! {
        <fieldset class="choices">
            <legend>{legend}</legend>
            {options.iter().map(|&(value, id, label)| view! {
                <span class="choice">
                    <input type="radio" id=id name=name value=value checked=current == value/>
                    <label for=id>{label}</label>
                </span>
            }).collect_view()}
        </fieldset>
    }
}

/// The person's own password, asked before a change to their account (the form field is
/// `name`, `password` unless said).
#[component]
pub fn CurrentPassword(
    id: &'static str,
    label: &'static str,
    #[prop(default = "password")] name: &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name=name type="password" required autocomplete="current-password"
                maxlength=vocabulary::people::MAX_PASSWORD_CHARS.to_string()/>
        </div>
    }
}
