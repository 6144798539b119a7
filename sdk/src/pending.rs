//! Calls waiting for their answers, by request id: the node's table of
//! requests to a plugin, and a plugin's table of calls to the node.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::spin::{Answer, SpinPolicy};

/// Calls in flight, each with the sender its answer goes to.
#[derive(Debug)]
pub(crate) struct PendingCalls<T>(Mutex<HashMap<String, oneshot::Sender<T>>>);

impl<T> Default for PendingCalls<T> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<T> PendingCalls<T> {
    /// Register `id`, `send` the request, and wait at most `timeout` for
    /// the answer (polling first, see [`SpinPolicy`]). The entry is removed
    /// however the wait ends, also when the caller's future is dropped.
    /// `send` returns `false` when the pipe is closed; the call then ends
    /// as [`Answer::Closed`] at once.
    pub(crate) async fn call(
        &self,
        id: String,
        send: impl FnOnce() -> bool,
        spin: &SpinPolicy,
        timeout: Duration,
    ) -> Answer<T> {
        let (tx, rx) = oneshot::channel();
        match self.0.lock() {
            Ok(mut p) => p.insert(id.clone(), tx),
            Err(_) => return Answer::Closed,
        };
        let _guard = Guard { calls: self, id };
        if !send() {
            return Answer::Closed;
        }
        spin.answer(rx, timeout).await
    }

    /// The sender waiting for `id`, taken out of the table; `None` for a
    /// late answer (its call timed out) or an unknown id.
    pub(crate) fn take(&self, id: &str) -> Option<oneshot::Sender<T>> {
        self.0.lock().ok()?.remove(id)
    }

    /// Fail every waiting call at once (the pipe closed): each sees its
    /// sender dropped.
    pub(crate) fn clear(&self) {
        if let Ok(mut p) = self.0.lock() {
            p.clear();
        }
    }
}

/// Removes a call's entry when its wait ends or is dropped.
struct Guard<'a, T> {
    calls: &'a PendingCalls<T>,
    id: String,
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        if let Ok(mut p) = self.calls.0.lock() {
            p.remove(&self.id);
        }
    }
}
