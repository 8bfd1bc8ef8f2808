//! Talking to a site on the reconciler's behalf: read the live inventory ([`inventory::fetch`]), apply a plan
//! ([`executor::execute`]) and record every write in the hash-chained audit log ([`audit`]).
//!
//! Deciding *what* to change is the planner's job (`tabops-plan`); this crate only carries it out.

pub mod audit;
mod error;
pub mod executor;
pub mod inventory;
pub mod refresh_now;
mod refresh_tasks;
pub mod trail;
pub mod wire;

pub use error::{ActionError, ApplyError};
pub use executor::{ExecuteOptions, Hook, Outcome, execute, execute_with_hook};
