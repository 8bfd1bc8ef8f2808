//! The tabops benchmark suite (BENCHMARKS.md): a seeded generator of a large synthetic site (manifest + emulator state),
//! and a harness that measures plan, no-op apply, a 1% change, hashing, a large upload and the emulator itself
//! against injected latency, side by side with a tableauserverclient baseline, and the curve of plan cost over
//! scales (`curve`), and the write path: the manifest applied to an empty site by the real `tabops` binary, against a
//! TSC script that publishes the same site serially (`bootstrap`), and the export of the whole synthetic site by the
//! real `tabops export` against its own bound (`export`).

pub mod baseline;
pub mod bootstrap;
pub mod curve;
pub mod export;
pub mod harness;
pub mod hashing;
pub mod listpage;
pub mod measure;
pub mod reconcile;
pub mod report;
pub mod tabops_process;
pub mod upload;
pub mod verdict;

pub use tabops_testkit::rng;
/// The seeded synthetic site lives in the test kit, shared with the tests that need a big site; `generate` keeps
/// its old path here.
pub use tabops_testkit::synthetic as generate;
