//! `apply --audit-log git:REF`: the CLI side of the audit trail in git (`tabops_apply::trail`): opening it and
//! recovering earlier runs before the apply, the run's spool log, and what is printed after.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use tabops_apply::audit::AuditLog;
use tabops_apply::trail::{Published, Trail, TrailError};
use tabops_plan::Plan;

use crate::errors::Hint;
use crate::settings::ApplySettings;

/// The trail `--audit-log git:REF` names (`None` for a file log), with what earlier runs left published.
pub fn open(settings: &ApplySettings) -> anyhow::Result<Option<Trail>> {
    let Some(target) = settings.audit_log.to_str() else { return Ok(None) };
    let Some(reference) = tabops_apply::trail::parse_target(target) else { return Ok(None) };
    let reference = reference.map_err(|err| {
        Hint::error(err.to_string(), "name a full ref (git:refs/tabops/audit/<site>) or a branch (git:audit-log)")
    })?;
    let trail = Trail::open(
        &repository(&settings.manifest),
        &reference,
        settings.audit_push.as_deref(),
        &settings.site.state_dir,
    )
    .map_err(|err| match err {
        TrailError::CheckedOut { .. } => {
            Hint::error(err.to_string(), "keep the trail on its own ref, e.g. --audit-log git:refs/tabops/audit/<site>")
        }
        TrailError::NoRemote { .. } => {
            Hint::error(err.to_string(), "name a remote of the repository (`git remote -v`) or a URL")
        }
        TrailError::Repository { .. } => Hint::error(
            describe(&err),
            "run apply inside the manifest's git checkout (or pass --repo), or use a file --audit-log",
        ),
        other => other.into(),
    })?;
    let mut err = anstream::stderr().lock();
    if trail.remote().is_none() {
        writeln!(
            err,
            "warning: the audit trail {reference} is kept in this repository only: no --audit-push, no upstream \
             remote and no `origin` to push it to"
        )?;
    }
    let recovered = trail.recover().map_err(|err| {
        Hint::error(
            format!("refusing to apply: the audit trail cannot be published: {}", describe(&err)),
            "the job needs write access to the repository (GitHub: `permissions: contents: write`; GitLab: a \
             token with write_repository); nothing was sent to the site",
        )
    })?;
    if recovered.interrupted_runs > 0 {
        writeln!(
            err,
            "note: {} interrupted earlier run(s) recovered from the spool and committed to the audit trail {reference}",
            recovered.interrupted_runs
        )?;
    }
    Ok(Some(trail))
}

/// The repository the trail lives in: `--repo`, else the one holding the manifest.
fn repository(manifest: &tabops_reconcile::ManifestSource) -> PathBuf {
    if let Some(repo) = &manifest.repo {
        return repo.clone();
    }
    let manifest = &manifest.file;
    let dir = if manifest.is_dir() { Some(manifest.as_path()) } else { manifest.parent() };
    match dir {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// This run's audit log: the trail's spool, with the same redactions as a file log.
pub fn begin(trail: &mut Trail, plan: &Plan, environment: &BTreeMap<String, String>) -> anyhow::Result<AuditLog> {
    let mut audit = trail.begin(&uuid::Uuid::new_v4().to_string())?;
    for secret in tabops_reconcile::audit::secrets(plan, environment) {
        audit.redact(secret);
    }
    Ok(audit)
}

/// After the run: where its records went, and the head to keep for `audit verify --expect-head`.
pub fn report(reference: &str, published: Result<Published, TrailError>) -> anyhow::Result<()> {
    let published = pushed(published)?;
    let mut out = anstream::stdout().lock();
    let place = match &published.remote {
        Some(remote) => format!("pushed to {remote}"),
        None => "local only".to_owned(),
    };
    let runs = if published.runs == 1 { "1 run".to_owned() } else { format!("{} runs", published.runs) };
    writeln!(out, "Audit log: git:{reference} ({runs}, {place})")?;
    writeln!(out, "Audit head: {}", published.head)?;
    Ok(())
}

/// The trail's head after this run, for `apply --format json` (a push that failed is the command's error).
pub fn published_head(published: Result<Published, TrailError>) -> anyhow::Result<String> {
    Ok(pushed(published)?.head)
}

fn pushed(published: Result<Published, TrailError>) -> anyhow::Result<Published> {
    published.map_err(|err| {
        Hint::error(
            format!("the apply ran, but its audit trail was not pushed: {}", describe(&err)),
            "the run is committed on the local ref; the next apply from this checkout pushes it. Give the job \
             write access to the repository (GitHub: `permissions: contents: write`)",
        )
    })
}

/// An error with its causes on one line (the apply's own error takes the `error:` block).
pub fn describe(err: &TrailError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// `tabops audit verify git:REF [--expect-head HEX]`.
pub fn verify(reference: &str, expect_head: Option<&str>) -> anyhow::Result<super::ExitStatus> {
    let report = tabops_apply::trail::verify_ref(Path::new("."), reference, expect_head).map_err(|err| match err {
        TrailError::NotFound { .. } => {
            Hint::error(err.to_string(), format!("fetch it first: git fetch origin {reference}:{reference}"))
        }
        other => other.into(),
    })?;
    let mut out = anstream::stdout().lock();
    if report.recovered_lines > 0 {
        writeln!(
            out,
            "note: {} torn line(s) from interrupted writes, each acknowledged by a recovery record",
            report.recovered_lines
        )?;
    }
    if let Some((commit, reason)) = &report.first_error {
        writeln!(out, "git:{reference}: commit {commit} {reason}")?;
        return Ok(super::ExitStatus::Error);
    }
    if report.expected_head_found == Some(false) {
        writeln!(
            out,
            "git:{reference}: the head {} recorded earlier is not in the chain (the trail was rewritten or reset to \
             an older head)",
            expect_head.unwrap_or_default()
        )?;
        return Ok(super::ExitStatus::Error);
    }
    writeln!(out, "ok: {} runs, {} records, hash chain intact across runs", report.runs, report.records)?;
    writeln!(out, "head: {} (commit {})", report.head, report.commit)?;
    Ok(super::ExitStatus::Success)
}
