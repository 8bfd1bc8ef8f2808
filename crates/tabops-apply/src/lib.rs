//! Applying a plan to a site: the audit log today; the inventory fetcher and the executor build on it.

pub mod audit;
