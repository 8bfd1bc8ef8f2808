//! The tabops benchmark suite (BENCHMARKS.md): a seeded generator of a large synthetic site (manifest + emulator state),
//! and a harness that measures plan, no-op apply, a 1% change, hashing, a large upload and the emulator itself
//! against injected latency, side by side with a tableauserverclient baseline.

pub mod baseline;
pub mod generate;
pub mod harness;
pub mod hashing;
pub mod listpage;
pub mod measure;
pub mod reconcile;
pub mod report;
pub mod rng;
pub mod upload;
pub mod verdict;
