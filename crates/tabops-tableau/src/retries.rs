//! Retry notices for callers that keep their own record of what happened (the executor's audit log): the
//! transport reports every retry and every re-sign-in to the [`record_retries`] scope its call runs in, so a
//! caller can attribute them to the logical operation that caused them without sharing state between tasks.

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

tokio::task_local! {
    static NOTICES: RefCell<Vec<RetryNotice>>;
}

/// One request the client repeated (or one re-sign-in it did) on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryNotice {
    /// The logical operation, e.g. `create group 'Sales'`.
    pub operation: String,
    /// Why: the failure of the attempt that is repeated (never contains a secret).
    pub reason: String,
    /// The wait before the next attempt (zero for a re-sign-in).
    pub delay: Duration,
}

/// Runs `future` and returns its output with the retries the client made while running it. Requests made from
/// tasks spawned inside `future` are not attributed (the client spawns none).
pub async fn record_retries<F: Future>(future: F) -> (F::Output, Vec<RetryNotice>) {
    NOTICES
        .scope(RefCell::new(Vec::new()), async move {
            let output = future.await;
            let notices = NOTICES.with(|cell| cell.take());
            (output, notices)
        })
        .await
}

/// Records a notice in the current [`record_retries`] scope, if there is one.
pub(crate) fn notify(operation: &str, reason: String, delay: Duration) {
    let _ = NOTICES.try_with(|cell| {
        cell.borrow_mut().push(RetryNotice { operation: operation.to_owned(), reason, delay });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn notices_stay_in_their_scope() {
        notify("outside", "ignored".to_owned(), Duration::ZERO);
        let ((), inner) = record_retries(async {
            notify("read users", "HTTP 503".to_owned(), Duration::from_millis(5));
        })
        .await;
        assert_eq!(inner.len(), 1);
        assert_eq!(inner[0].operation, "read users");
        let ((), empty) = record_retries(async {}).await;
        assert!(empty.is_empty());
    }
}
