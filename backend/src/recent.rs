//! A value read a moment ago, reused for a short while: a burst of webhook deliveries
//! reads and opens the secret that signs them once, not once each. Its absence is not
//! kept: a secret saved a moment ago counts at once.

use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::Result;

#[derive(Clone)]
pub struct Recent<T> {
    last: Arc<Mutex<Option<(Instant, T)>>>,
    fresh_for: Duration,
}

impl<T: Clone> Recent<T> {
    pub fn new(fresh_for: Duration) -> Self {
        Recent { last: Arc::new(Mutex::new(None)), fresh_for }
    }

    /// The value read within `fresh_for`, or what `read` reads now.
    pub async fn get<F, Fut>(&self, read: F) -> Result<Option<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        if let Some((at, value)) = self.last.lock().expect("not poisoned").as_ref()
            && at.elapsed() < self.fresh_for
        {
            return Ok(Some(value.clone()));
        }
        let value = read().await?;
        *self.last.lock().expect("not poisoned") = value.clone().map(|v| (Instant::now(), v));
        Ok(value)
    }

    /// Forgets the value (it changed): the next `get` reads it.
    pub fn forget(&self) {
        *self.last.lock().expect("not poisoned") = None;
    }
}
