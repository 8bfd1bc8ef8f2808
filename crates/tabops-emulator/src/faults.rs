//! Seeded fault injection: per API request, a seeded RNG decides whether to answer 429 (with `Retry-After`),
//! 500, 503, drop the connection, or apply a write and then drop the connection. The same seed and request
//! sequence give the same faults. Tests can also stall the next requests on demand (`POST /_emulator/stall`) to
//! make a client time out at a chosen moment, or lose the responses of the next writes
//! (`POST /_emulator/responses/lose`) to put a client in front of an ambiguous write at a chosen moment.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    TooManyRequests,
    Internal,
    Unavailable,
    /// Close the connection without a response, before doing anything.
    Reset,
    /// Apply the request, then close the connection without a response.
    LostResponse,
}

#[derive(Debug)]
pub struct Faults {
    rate: f64,
    rng: Mutex<StdRng>,
    /// API requests still to be stalled, and for how long each.
    stall_remaining: AtomicU64,
    stall_ms: AtomicU64,
    /// API writes (not sign-ins) still to be applied with their response lost.
    lose_remaining: AtomicU64,
}

impl Faults {
    pub fn new(rate: f64, seed: u64) -> Faults {
        Faults {
            rate: rate.clamp(0.0, 1.0),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            stall_remaining: AtomicU64::new(0),
            stall_ms: AtomicU64::new(0),
            lose_remaining: AtomicU64::new(0),
        }
    }

    /// Stall each of the next `requests` API requests by `delay` before answering it.
    pub fn arm_stall(&self, requests: u64, delay: Duration) {
        self.stall_ms.store(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), Ordering::SeqCst);
        self.stall_remaining.store(requests, Ordering::SeqCst);
    }

    /// The stall for the next request, if one is armed.
    pub fn take_stall(&self) -> Option<Duration> {
        self.stall_remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .ok()
            .map(|_| Duration::from_millis(self.stall_ms.load(Ordering::SeqCst)))
    }

    /// Apply each of the next `writes` API writes (sign-ins excepted), then drop its connection unanswered.
    pub fn arm_lost_responses(&self, writes: u64) {
        self.lose_remaining.store(writes, Ordering::SeqCst);
    }

    /// Whether this request's response is to be lost by an armed [`Faults::arm_lost_responses`].
    pub fn take_lost_response(&self, is_write: bool, is_sign_in: bool) -> bool {
        is_write
            && !is_sign_in
            && self.lose_remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    }

    /// Decide the fault for the next request. Always draws the same amount of randomness per request so the
    /// sequence only depends on the seed and the order of requests.
    pub fn decide(&self, is_write: bool, is_sign_in: bool) -> Option<Fault> {
        if self.rate <= 0.0 {
            return None;
        }
        let (roll, kind) = {
            let mut rng = self.rng.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            (rng.random::<f64>(), rng.random_range(0..5u8))
        };
        if roll >= self.rate {
            return None;
        }
        let fault = match kind {
            0 => Fault::TooManyRequests,
            1 => Fault::Internal,
            2 => Fault::Unavailable,
            3 => Fault::Reset,
            _ if is_write => Fault::LostResponse,
            _ => Fault::Reset,
        };
        // Sign-in only ever sees throttling or unavailability.
        Some(match fault {
            Fault::TooManyRequests | Fault::Unavailable => fault,
            _ if is_sign_in => Fault::Unavailable,
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let run = |seed| {
            let faults = Faults::new(0.5, seed);
            (0..200).map(|i| faults.decide(i % 3 == 0, false)).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let hits = run(7).iter().filter(|f| f.is_some()).count();
        assert!((60..140).contains(&hits), "about half the requests fail, got {hits}");
    }

    #[test]
    fn stalls_are_counted_down() {
        let faults = Faults::new(0.0, 1);
        assert_eq!(faults.take_stall(), None);
        faults.arm_stall(2, Duration::from_millis(30));
        assert_eq!(faults.take_stall(), Some(Duration::from_millis(30)));
        assert_eq!(faults.take_stall(), Some(Duration::from_millis(30)));
        assert_eq!(faults.take_stall(), None);
    }

    #[test]
    fn armed_lost_responses_take_the_next_writes_but_never_a_read_or_a_sign_in() {
        let faults = Faults::new(0.0, 1);
        assert!(!faults.take_lost_response(true, false), "nothing armed");
        faults.arm_lost_responses(2);
        assert!(!faults.take_lost_response(false, false), "a read keeps its response");
        assert!(!faults.take_lost_response(true, true), "a sign-in keeps its response");
        assert!(faults.take_lost_response(true, false));
        assert!(faults.take_lost_response(true, false));
        assert!(!faults.take_lost_response(true, false), "only the armed number of writes");
    }

    #[test]
    fn zero_rate_never_faults_and_sign_in_never_loses_writes() {
        let none = Faults::new(0.0, 1);
        assert!((0..100).all(|_| none.decide(true, false).is_none()));
        let all = Faults::new(1.0, 1);
        for _ in 0..100 {
            let fault = all.decide(true, true);
            assert!(matches!(fault, Some(Fault::TooManyRequests | Fault::Unavailable)), "{fault:?}");
        }
    }
}
