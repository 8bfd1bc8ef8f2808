//! The tabops manifest: YAML desired state for a Tableau Cloud site.
//!
//! `model` holds the resolved desired state ([`model::Desired`]) that the planner consumes.

pub mod model;
