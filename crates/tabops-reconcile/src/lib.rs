//! tabops-reconcile: the pipeline `tabops plan`, `apply` and `drift` run, and the benchmark times.
//!
//! - [`pipeline::prepare`]: load the manifest → connect to the site → read its inventory → plan, with content
//!   hashing and git provenance overlapping the reads, phases reported to an [`Observer`];
//! - [`site`]: which site (flags over the manifest's `site:` block), signing in, the embedded `local` site;
//! - [`git`]: manifests at a git revision (`--git-ref`, `--base`), provenance for plans, the pull-request review;
//! - [`audit`]: the audit log an apply writes, opened with the redaction policy;
//! - [`preview`]: `tabops preview`: a pull request's changed content planned into a preview project, previews
//!   removed (only what carries the preview marker);
//! - [`secrets`]: the connection passwords an apply needs that the environment does not set.
//!
//! Options are plain structs; the binary resolves its flags and environment into them.

pub mod audit;
mod error;
pub mod git;
pub mod lineage;
pub mod pipeline;
pub mod preview;
mod preview_sources;
pub mod secrets;
pub mod site;

pub use error::{Error, ErrorKind, SignInMethod, load_error, unreadable};
pub use pipeline::{ManifestSource, Observer, Phase, Prepared, Safety, Session, load, prepare};
pub use site::{STATE_DIR, Site, SiteOptions, connect, default_state_dir, ensure_state_dir, resolve_target};
