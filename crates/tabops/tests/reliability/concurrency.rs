//! Scenario 3, concurrency: two `tabops apply` of the same manifest at the same time against the same site. There
//! is no site-wide lock in Tableau's API to take, so neither refuses: both run, creates that race are resolved by
//! the loser's 409 and read-back (it adopts the winner's object), overwrite publishes land on the same item, and
//! memberships/permissions are idempotent. Asserted: no duplicates, and the site converges (a following plan has no
//! changes), in one run each or after a re-run of one that reported failures.

use super::common::{self, Census, MEDIUM};
use crate::support::Harness;

fn race(harness: &Harness, pats: [(&str, &str); 2]) {
    let manifest = common::generate_manifest(harness.dir.path(), MEDIUM);
    let children: Vec<_> =
        pats.iter().map(|(name, secret)| common::spawn_apply_as(harness, &manifest, &[], name, secret)).collect();
    let runs: Vec<_> = children.into_iter().map(common::finish).collect();
    for run in &runs {
        // A run completes, reports per-action failures (exit 1 with a summary), or refuses with a clear error
        // naming the cause (a token taken over by the other job); it never crashes.
        let refused = run.stderr.starts_with("error:") && run.stderr.contains("one session per personal access token");
        assert!(
            run.code == 0 || run.stdout.contains("Apply finished with errors") || refused,
            "{}\n{}",
            run.stdout,
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    if runs.iter().any(|r| r.code != 0) {
        common::apply_until_converged(harness, &manifest, 3);
    }
    common::assert_no_changes(harness, &manifest);
    let census = Census::take(harness);
    census.assert_no_duplicates();
    census.assert_complete(MEDIUM);
    let verify = common::audit_verify(harness);
    assert_eq!(
        verify.code, 0,
        "both runs share one audit log (appends are locked):\n{}\n{}",
        verify.stdout, verify.stderr
    );
}

/// Two CI jobs with two tokens.
#[test]
fn concurrency_two_applies_two_tokens() {
    let config = tabops_emulator::EmulatorConfig {
        pats: vec![("tabops".into(), "secret-a".into()), ("ci-b".into(), "secret-b".into())],
        ..Default::default()
    };
    let harness = Harness::start_with(config, "secret-a");
    race(&harness, [("tabops", "secret-a"), ("ci-b", "secret-b")]);
}

/// Two CI jobs sharing one token: each sign-in ends the other's session (one session per PAT on Tableau Cloud), so
/// they keep re-signing in; the runs may fail actions but never duplicate anything, and a re-run converges.
#[test]
fn concurrency_two_applies_one_token() {
    let harness = Harness::start();
    let (name, secret) = (tabops_emulator::DEFAULT_PAT_NAME, tabops_emulator::DEFAULT_PAT_SECRET);
    race(&harness, [(name, secret), (name, secret)]);
}
