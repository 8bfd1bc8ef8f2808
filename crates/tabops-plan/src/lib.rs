//! tabops-plan: the pure core of tabops.
//!
//! - [`inventory`]: the live site snapshot the executor's fetcher fills;
//! - [`planner::plan`]: desired state × inventory → [`Plan`], with no I/O;
//! - [`mod@plan`]: the plan model (actions, operations, inputs, waves, stale check), serialisable as versioned JSON;
//! - [`marker`]: publish fingerprints and the `tabops.sha256.*` marker tags;
//! - [`render`]: text, Markdown and JSON renderers;
//! - [`review`]: the pull-request review, a diff of the desired state at two revisions, and its renderers;
//! - [`impact`]: the workbooks that use the data sources a plan changes or deletes (lineage read by the caller);
//! - [`drift`]: classification of a plan into changes pending from git, changes made on the site, unmanaged objects.

pub mod connections;
pub mod drift;
pub mod impact;
pub mod inventory;
pub mod marker;
pub mod origin;
pub mod plan;
pub mod planner;
pub mod preview;
pub mod render;
pub mod review;

pub use inventory::Inventory;
pub use marker::{marker_tag, publish_fingerprint};
pub use plan::{Action, Plan, PlannedAction};
pub use planner::{DEFAULT_MAX_DELETES, PlanOptions, plan, protected_addresses};
