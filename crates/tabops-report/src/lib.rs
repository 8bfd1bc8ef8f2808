//! `tabops report`: governance reports over a live site.
//!
//! - [`access`]: the effective permissions of every user on every project, workbook and data source, evaluated in
//!   Tableau's order (site role, administrators, owners and project leaders, user rules, group rules), filtered by
//!   user, group, project, item and capability ("who can see X", "what can Y do").
//! - [`usage`]: every workbook, view and data source with view counts, owner, project, size, times and whether
//!   tabops manages it; with a staleness cut-off, what nobody updated or viewed.
//!
//! Both are pure computations over plain values; [`read`] fills them from a site with the client plan uses and
//! counts the requests it made. [`render`] turns a report into text, Markdown, JSON or CSV.

pub mod access;
mod error;
pub mod read;
pub mod render;
mod site_roles;
mod tree;
pub mod usage;

pub use error::ReportError;
pub use site_roles::Ceiling;
