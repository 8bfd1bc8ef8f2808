//! The client's request slots: at most `concurrency` requests in flight, and the remaining pages of a list
//! already under way served before calls that start something new.
//!
//! Why: a plan's inventory read starts hundreds of small per-object reads (permissions, group members) as soon as
//! the project and group lists arrive, while the big content lists are still paging. With one FIFO queue the
//! remaining pages of those lists wait behind every per-object read and come last, so the read ends on a tail of
//! slow 1,000-item pages with most slots idle. Served first, they overlap with the small reads.
//!
//! How, with two tokio semaphores instead of a hand-written priority queue: `slots` bounds what is in flight;
//! ordinary calls must first pass `gate` (as many permits as slots), so at most `concurrency` of them ever wait in
//! the `slots` queue. A continuation queues on `slots` directly and so waits for at most the calls already
//! admitted, never for the hundreds behind the gate.

use std::sync::Arc;

use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};

/// Which queue a call waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Priority {
    #[default]
    Normal,
    /// Pages 2.. of a list read: they are few and large, and the list's caller is waiting for them.
    Continuation,
}

pub(crate) struct Slots {
    slots: Arc<Semaphore>,
    gate: Arc<Semaphore>,
}

/// One request slot; released when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    // Field order is drop order: the slot is freed (and handed to the head of the slots queue, where continuations
    // wait) before the gate lets the next ordinary call in to queue for one.
    _slot: OwnedSemaphorePermit,
    _gate: Option<OwnedSemaphorePermit>,
}

impl Slots {
    pub(crate) fn new(concurrency: usize) -> Slots {
        Slots { slots: Arc::new(Semaphore::new(concurrency)), gate: Arc::new(Semaphore::new(concurrency)) }
    }

    pub(crate) async fn acquire(&self, priority: Priority) -> Result<Slot, AcquireError> {
        let gate = match priority {
            Priority::Normal => Some(Arc::clone(&self.gate).acquire_owned().await?),
            Priority::Continuation => None,
        };
        let slot = Arc::clone(&self.slots).acquire_owned().await?;
        Ok(Slot { _slot: slot, _gate: gate })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    /// With every slot busy and many ordinary calls waiting, a continuation that arrives later runs next. On the
    /// paused clock, each sleep returns once every task has run as far as it can, so "the ordinary calls are all
    /// waiting" holds by construction rather than by how long 20 ms is on a loaded machine.
    #[tokio::test(start_paused = true)]
    async fn continuations_overtake_waiting_ordinary_calls() {
        let slots = Arc::new(Slots::new(2));
        let order = Arc::new(Mutex::new(Vec::new()));
        let busy = [slots.acquire(Priority::Normal).await.unwrap(), slots.acquire(Priority::Normal).await.unwrap()];
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (slots, order) = (Arc::clone(&slots), Arc::clone(&order));
            tasks.push(tokio::spawn(async move {
                let _slot = slots.acquire(Priority::Normal).await.unwrap();
                order.lock().unwrap().push(format!("normal-{i}"));
                tokio::time::sleep(Duration::from_millis(1)).await;
            }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (later_slots, later_order) = (Arc::clone(&slots), Arc::clone(&order));
        let later = tokio::spawn(async move {
            let _slot = later_slots.acquire(Priority::Continuation).await.unwrap();
            later_order.lock().unwrap().push("continuation".to_owned());
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(busy);
        later.await.unwrap();
        for task in tasks {
            task.await.unwrap();
        }
        let order = order.lock().unwrap();
        assert_eq!(order.len(), 21);
        let position = order.iter().position(|o| o == "continuation").unwrap();
        // Every ordinary call was still at the gate, so the continuation is first (through the gate, it would be
        // 21st).
        assert_eq!(position, 0, "the continuation ran at position {position}: {order:?}");
    }

    /// The bound holds across both kinds (paused clock: the tasks' sleeps overlap exactly, whatever the load).
    #[tokio::test(start_paused = true)]
    async fn never_more_in_flight_than_slots() {
        let slots = Arc::new(Slots::new(3));
        let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let (slots, in_flight, peak) = (Arc::clone(&slots), Arc::clone(&in_flight), Arc::clone(&peak));
                tokio::spawn(async move {
                    let priority = if i % 3 == 0 { Priority::Continuation } else { Priority::Normal };
                    let _slot = slots.acquire(priority).await.unwrap();
                    let now = in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    peak.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(peak.load(std::sync::atomic::Ordering::SeqCst), 3);
    }
}
