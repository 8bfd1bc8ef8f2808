//! Settings: each command's arguments, environment and defaults resolved once, before any work, into the plain
//! values the command and the library take (uv's `settings.rs` is the model). Commands read neither clap structs
//! nor the environment; where a value comes from (flag, variable, manifest, default) is decided here, once.
//!
//! The manifest's own part (its `site:` block under the flags) is merged by the pipeline after loading it; the
//! state directory and audit log are resolved here the same way for every command that reads or writes them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tabops_manifest::model::ProjectPath;
use tabops_plan::plan::file::PlanKey;
use tabops_reconcile::{ManifestSource, Safety, SiteOptions};

use crate::args::Format;
use crate::cli::GlobalArgs;
use crate::commands::apply::ApplyArgs;
use crate::commands::drift::DriftArgs;
use crate::commands::plan::PlanArgs;
use crate::commands::show::ShowArgs;
use crate::commands::validate::ValidateArgs;

/// The audit log's file name inside the state directory.
const AUDIT_LOG_FILE: &str = "audit.jsonl";

/// The audit log: `--audit-log` or `TABOPS_AUDIT_LOG`, else `audit.jsonl` in the state directory (`--state-dir`,
/// `TABOPS_DIR`, else `.tabops` at the manifest's repository root or beside it: [`crate::args::state_dir`]). One
/// rule for `apply`, `export` and `audit verify`.
pub fn audit_log(explicit: Option<PathBuf>, state_dir: &Path) -> PathBuf {
    explicit.unwrap_or_else(|| state_dir.join(AUDIT_LOG_FILE))
}

/// The key that signs and verifies plan files, from `TABOPS_PLAN_KEY` (unset or empty: none); a weak one is an
/// error whose hint says how to make a good one.
pub fn plan_key() -> Result<Option<PlanKey>, tabops_plan::plan::PlanFileError> {
    match std::env::var("TABOPS_PLAN_KEY") {
        Ok(text) if !text.trim().is_empty() => PlanKey::new(&text).map(Some),
        _ => Ok(None),
    }
}

/// `tabops validate`.
pub struct ValidateSettings {
    pub manifest: ManifestSource,
    pub strict: bool,
    pub verbose: bool,
}

impl ValidateSettings {
    pub fn resolve(args: ValidateArgs, global: &GlobalArgs) -> Self {
        ValidateSettings { manifest: args.manifest.source(), strict: args.strict, verbose: global.verbose > 0 }
    }
}

/// `tabops plan`.
pub struct PlanSettings {
    pub manifest: ManifestSource,
    pub site: SiteOptions,
    pub safety: Safety,
    pub format: Format,
    /// Where to save the plan, and the key to sign it with (checked before anything is sent).
    pub out: Option<(PathBuf, Option<PlanKey>)>,
    pub detailed_exitcode: bool,
    pub verbose: bool,
    /// How much of the plan Markdown shows (`--max-bytes`, `--unmanaged`).
    pub markdown: tabops_plan::render::MarkdownOptions,
}

impl PlanSettings {
    pub fn resolve(args: PlanArgs, global: &GlobalArgs) -> anyhow::Result<Self> {
        let markdown = args.markdown();
        let out = match args.out {
            Some(out) => Some((out, plan_key()?)),
            None => None,
        };
        Ok(PlanSettings {
            manifest: args.manifest.source(),
            site: args.site.options(&args.manifest.file, args.manifest.repo.as_deref()),
            safety: args.safety.safety(),
            format: args.format,
            out,
            detailed_exitcode: args.detailed_exitcode,
            verbose: global.verbose > 0,
            markdown,
        })
    }
}

/// `tabops show`.
pub struct ShowSettings {
    /// The saved plan.
    pub plan: PathBuf,
    /// The key a signed plan is checked with (`TABOPS_PLAN_KEY`).
    pub key: Option<PlanKey>,
    pub format: Format,
    pub detailed_exitcode: bool,
    pub verbose: bool,
    pub markdown: tabops_plan::render::MarkdownOptions,
}

impl ShowSettings {
    pub fn resolve(args: ShowArgs, global: &GlobalArgs) -> anyhow::Result<Self> {
        // A Markdown comment that leaves something out points at the file it was rendered from.
        let markdown = args.markdown.options(Some(format!("{} (the saved plan)", args.plan.display())));
        Ok(ShowSettings {
            key: plan_key()?,
            plan: args.plan,
            format: args.format,
            detailed_exitcode: args.detailed_exitcode,
            verbose: global.verbose > 0,
            markdown,
        })
    }
}

/// `tabops apply`.
pub struct ApplySettings {
    /// A saved plan to apply exactly, and the key to verify it with.
    pub saved: Option<(PathBuf, Option<PlanKey>)>,
    pub manifest: ManifestSource,
    pub site: SiteOptions,
    pub safety: Safety,
    pub auto_approve: bool,
    /// A file, or `git:REF` for the audit trail in git.
    pub audit_log: PathBuf,
    /// Where the git audit trail is pushed (`--audit-push`; `None`: the default remote).
    pub audit_push: Option<String>,
    /// Actions the executor runs at once: `--concurrency`, capped at the executor's own limit.
    pub actions_in_flight: usize,
    pub format: Format,
    pub verbose: bool,
    /// The process environment, read once: connection passwords resolve from it, and the audit log redacts it.
    pub environment: BTreeMap<String, String>,
    /// `--refresh changed`: refresh what the apply published or repointed, waiting like this.
    pub refresh_after: Option<tabops_apply::refresh_now::RefreshOptions>,
}

impl ApplySettings {
    pub fn resolve(args: ApplyArgs, global: &GlobalArgs) -> anyhow::Result<Self> {
        let refresh_after = args.refresh_after();
        let saved = match args.plan {
            Some(file) => Some((file, plan_key()?)),
            None => None,
        };
        let site = args.site.options(&args.manifest.file, args.manifest.repo.as_deref());
        Ok(ApplySettings {
            refresh_after,
            saved,
            manifest: args.manifest.source(),
            actions_in_flight: site.concurrency.min(tabops_apply::ExecuteOptions::default().concurrency),
            audit_log: audit_log(args.audit_log, &site.state_dir),
            audit_push: args.audit_push,
            site,
            safety: args.safety.safety(),
            auto_approve: args.auto_approve,
            format: args.format,
            verbose: global.verbose > 0,
            // Variables that are not UTF-8 cannot hold a value tabops reads; they are left out instead of panicking.
            environment: std::env::vars_os()
                .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
                .collect(),
        })
    }
}

/// `tabops drift`: the planner's deletion limits are off (drift reports, it never applies).
pub struct DriftSettings {
    pub manifest: ManifestSource,
    pub site: SiteOptions,
    pub safety: Safety,
    pub format: Format,
}

impl DriftSettings {
    pub fn resolve(args: DriftArgs) -> Self {
        DriftSettings {
            manifest: args.manifest.source(),
            site: args.site.options(&args.manifest.file, args.manifest.repo.as_deref()),
            safety: Safety {
                max_deletes: None,
                allow_empty_project: true,
                allow_empty_site: true,
                base: args.base,
                ceiling: None,
                targets: Default::default(),
                allow_breaking_deletes: true,
            },
            format: args.format,
        }
    }
}

/// `tabops audit verify`.
pub struct AuditVerifySettings {
    /// The log to check: the path given, else the one `apply` writes with the same environment.
    pub file: PathBuf,
    /// A head kept earlier that the chain must still contain (`--expect-head`).
    pub expect_head: Option<String>,
}

impl AuditVerifySettings {
    pub fn resolve(file: Option<PathBuf>, state_dir: &Path, expect_head: Option<String>) -> Self {
        AuditVerifySettings { file: audit_log(file, state_dir), expect_head }
    }
}

/// `tabops export` (resolved by `ExportArgs::settings`).
pub struct ExportSettings {
    pub site: SiteOptions,
    /// Where the adoption's tag writes are recorded.
    pub audit_log: PathBuf,
    pub out: PathBuf,
    /// The project subtrees to export (empty: every project).
    pub projects: Vec<ProjectPath>,
    pub with_permissions: bool,
    pub with_refresh: bool,
    pub with_subscriptions: bool,
    /// Tag exported items with their checksum markers.
    pub adopt: bool,
    pub force: bool,
}
