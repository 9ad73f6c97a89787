//! Following something that runs on the server (a bulk sync, an import): its page asks
//! how far it got about every second while it runs, and changes the figures in place, so
//! a button keeps the focus.

use std::time::Duration;

use leptos::prelude::*;

use crate::error::PanelError;

/// How often a page asks how far a run got.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// The latest answer about a run, and a problem asking for it, if the last attempt had one.
pub struct Followed<T: Send + Sync + 'static> {
    pub value: RwSignal<T>,
    pub problem: RwSignal<Option<String>>,
    timer: StoredValue<Option<TimeoutHandle>>,
}

impl<T: Send + Sync + 'static> Clone for Followed<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Followed<T> {}

impl<T: Send + Sync + 'static> Followed<T> {
    /// Starts from `first` (the answer the page came with); stops asking when the page goes.
    pub fn new(first: T) -> Self {
        let followed =
            Followed { value: RwSignal::new(first), problem: RwSignal::new(None), timer: StoredValue::new(None) };
        on_cleanup(move || {
            if let Some(handle) = followed.timer.try_get_value().flatten() {
                handle.clear();
            }
        });
        followed
    }

    /// Asks `ask` after `wait`, and again a moment after each answer while `running` says
    /// the run goes on. One question is waiting at a time (a new one replaces it); an
    /// answer that arrives after the page has gone is dropped, and `Ok(None)` (the run is
    /// gone) ends the following.
    pub fn follow<F, Fut>(self, wait: Duration, running: fn(&T) -> bool, ask: F)
    where
        F: Fn() -> Fut + Copy + 'static,
        Fut: Future<Output = Result<Option<T>, PanelError>> + 'static,
    {
        if let Some(waiting) = self.timer.try_get_value().flatten() {
            waiting.clear();
        }
        let question = move || {
            leptos::task::spawn_local(async move {
                let answer = ask().await;
                if self.value.is_disposed() {
                    return;
                }
                match answer {
                    Ok(Some(latest)) => {
                        self.problem.set(None);
                        self.value.set(latest);
                    }
                    Ok(None) => return,
                    Err(e) => self.problem.set(Some(e.to_string())),
                }
                if self.value.with_untracked(running) {
                    self.follow(POLL_EVERY, running, ask);
                }
            });
        };
        self.timer.try_set_value(set_timeout_with_handle(question, wait).ok());
    }
}
