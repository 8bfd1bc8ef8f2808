//! The reliability and security suite (RELIABILITY.md): faults, crashes, concurrency, hostile input, secrets and the
//! emulator as a trust boundary. Every scenario runs against a real emulator on loopback and the real `tabops`
//! binary; RELIABILITY.md at the repository root describes each one, how to run the soak, and the figures.

#![allow(clippy::print_stderr, reason = "the scenarios print their figures (runs, faults, retries) for RELIABILITY.md")]

use tabops_testkit as support;

mod reliability {
    pub mod common;
    mod concurrency;
    mod crashes;
    mod faults;
    mod hostile;
    mod secrets;
}
