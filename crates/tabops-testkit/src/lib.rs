//! The one test harness of the workspace, a dev-dependency of every crate's tests and a dependency of
//! `tabops-bench` (never of a shipped crate):
//!
//! - [`site`]: the emulator started in the test's own runtime on loopback, and a REST client signed in to it
//!   (async tests of the client and the executor);
//! - [`harness`]: the same emulator on a runtime of its own, for tests that block on the real `tabops` binary,
//!   with temp-dir state and audit log ([`Harness`]), raw test-hook calls, and spawned applies;
//! - [`run`]: running the binary and capturing a [`Run`], transcript and snapshot helpers, file and git fixtures;
//! - [`receiver`]: a webhook destination on loopback that records what it receives;
//! - [`model`]: builders of desired states and live inventories for the pure planner tests;
//! - [`synthetic`]: the seeded synthetic site (manifest, content files and the emulator's state, or the desired
//!   state in memory), the same bytes for the same seed, used by the benchmark and by the tests that need a big
//!   site, and the fixture site the reliability scenarios apply.

pub mod harness;
pub mod model;
pub mod receiver;
pub mod rng;
pub mod run;
pub mod site;
pub mod synthetic;

pub use harness::{DB_PASSWORDS, Harness, action, changes, content_writes, route};
pub use run::{
    Run, commit_all, copy_dir, edit, init_repo, path_str, regex_escape, tabops_bin, transcript_filters,
    transcript_step, workspace,
};
