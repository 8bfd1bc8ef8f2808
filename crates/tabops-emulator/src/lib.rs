//! A local emulator of the Tableau Cloud REST API (XML wire format) on real HTTP, used by every integration test,
//! by benchmarks and as the `local` site of the tabops CLI. It parses requests with its own types (never the
//! client crate's), so client mistakes surface as the errors Tableau would return.

mod auth;
mod blob;
mod config;
mod error;
mod faults;
mod handlers;
mod metadata;
mod multipart;
mod query;
mod schedule;
mod server;
mod site_settings;
mod stats;
mod store;
mod twb;
mod webhooks;
pub mod wire_log;
pub mod wire_shapes;
mod xml;

pub use config::{DEFAULT_PAT_NAME, DEFAULT_PAT_SECRET, DEFAULT_SITE, EmulatorConfig};
pub use server::{Emulator, EmulatorError};
pub use stats::Stats;
