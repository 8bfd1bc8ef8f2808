//! What the reliability scenarios share: the test kit's fixture site (a generated manifest big enough for a plan
//! of several hundred actions), raw test-hook calls to the emulator, a census of the live site by name (to find
//! duplicates and losses), and the audit log's events.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::{Harness, Run, path_str};
pub use tabops_testkit::harness::{
    audit_events, audit_lines, audit_verify, event_name, finish, hook, sign_in, spawn_apply, spawn_apply_as,
};
pub use tabops_testkit::synthetic::fixture::{LARGE, MEDIUM, Scale, generate_manifest};

/// How many live items of each kind carry each name, read with the real client.
#[derive(Debug, Default)]
pub struct Census {
    pub projects: BTreeMap<String, usize>,
    pub users: BTreeMap<String, usize>,
    pub groups: BTreeMap<String, usize>,
    pub workbooks: BTreeMap<String, usize>,
    pub datasources: BTreeMap<String, usize>,
    pub refresh_tasks: BTreeMap<String, usize>,
}

impl Census {
    /// Reads the site (signs in with the harness's PAT: run it only when no apply is in flight).
    pub fn take(harness: &Harness) -> Census {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let url = url::Url::parse(&harness.url()).unwrap();
            let credentials = tabops_tableau::Credentials::Pat {
                name: tabops_emulator::DEFAULT_PAT_NAME.to_owned(),
                secret: harness.pat_secret.clone().into(),
            };
            let mut config = tabops_tableau::ClientConfig::new(url, "acme", credentials);
            // The census reads through the same injected faults: retry more than the default five times so a read
            // that fails five times in a row (p ~ 0.2^5 per request) cannot fail the check.
            config.retry.max_attempts = 12;
            config.retry.base_delay = std::time::Duration::from_millis(50);
            let client = tabops_tableau::Client::sign_in(config).await.unwrap();
            let projects = client.projects().await.unwrap();
            let parents: BTreeMap<String, String> = projects.iter().map(|p| (p.id.clone(), p.name.clone())).collect();
            let mut census = Census::default();
            for p in &projects {
                // Child names repeat under different parents: count them by path.
                let parent = p.parent_id.as_deref().and_then(|id| parents.get(id)).cloned().unwrap_or_default();
                *census.projects.entry(format!("{parent}/{}", p.name)).or_default() += 1;
            }
            for u in client.users().await.unwrap() {
                *census.users.entry(u.name).or_default() += 1;
            }
            for g in client.groups().await.unwrap() {
                *census.groups.entry(g.name).or_default() += 1;
            }
            for w in client.workbooks().await.unwrap() {
                *census.workbooks.entry(w.name).or_default() += 1;
            }
            for d in client.datasources().await.unwrap() {
                *census.datasources.entry(d.name).or_default() += 1;
            }
            for t in client.refresh_tasks().await.unwrap() {
                *census.refresh_tasks.entry(task_key(&t)).or_default() += 1;
            }
            let _ = client.sign_out().await;
            census
        })
    }

    /// Panics when any name occurs more than once.
    #[track_caller]
    pub fn assert_no_duplicates(&self) {
        for (kind, map) in self.kinds() {
            let dups: Vec<_> = map.iter().filter(|(_, n)| **n > 1).collect();
            assert!(dups.is_empty(), "duplicate {kind}: {dups:?}");
        }
    }

    /// Panics unless at least the generated site is there (nothing lost).
    #[track_caller]
    pub fn assert_complete(&self, scale: Scale) {
        let count = |map: &BTreeMap<String, usize>, prefix: &str| map.keys().filter(|k| k.contains(prefix)).count();
        assert_eq!(count(&self.users, "@acme.com"), scale.users, "users: {:?}", self.users.keys());
        assert_eq!(count(&self.groups, "Group "), scale.groups, "groups");
        assert_eq!(
            count(&self.projects, "Project "),
            scale.top_projects * (1 + scale.children_per_project),
            "projects: {:?}",
            self.projects.keys()
        );
        assert_eq!(count(&self.workbooks, "Book "), scale.workbooks, "workbooks");
        assert_eq!(count(&self.datasources, "Source "), scale.datasources, "datasources");
        assert_eq!(self.refresh_tasks.values().sum::<usize>(), scale.datasources.div_ceil(3), "refresh tasks");
    }

    fn kinds(&self) -> [(&'static str, &BTreeMap<String, usize>); 6] {
        [
            ("projects", &self.projects),
            ("users", &self.users),
            ("groups", &self.groups),
            ("workbooks", &self.workbooks),
            ("datasources", &self.datasources),
            ("refresh tasks", &self.refresh_tasks),
        ]
    }
}

fn task_key(task: &tabops_tableau::RefreshTask) -> String {
    format!("{:?}", task.target)
}

/// Runs `apply` until it exits 0, at most `max_runs` times; returns every run.
#[track_caller]
pub fn apply_until_converged(harness: &Harness, manifest: &Path, max_runs: usize) -> Vec<Run> {
    let mut runs = Vec::new();
    for _ in 0..max_runs {
        let run = harness.tabops(&["apply", "-f", path_str(manifest), "--auto-approve", "--concurrency", "16"]);
        let done = run.code == 0;
        runs.push(run);
        if done {
            return runs;
        }
    }
    let last = runs.last().expect("at least one run");
    panic!(
        "apply did not converge in {max_runs} runs; last:\n--- stdout\n{}\n--- stderr\n{}",
        last.stdout, last.stderr
    );
}

/// `plan --detailed-exitcode` must say "No changes"; an error exit (1, e.g. a read that failed five times in a
/// row at a high fault rate) is repeated, a plan with changes (2) is a failure.
#[track_caller]
pub fn assert_no_changes(harness: &Harness, manifest: &Path) {
    let mut last = None;
    for _ in 0..4 {
        let run = harness.tabops(&["plan", "-f", path_str(manifest), "--detailed-exitcode"]);
        match run.code {
            0 => {
                assert!(run.stdout.contains("No changes."), "{}", run.stdout);
                return;
            }
            2 => panic!("the site did not converge; plan still has changes:\n{}", run.stdout),
            _ => last = Some(run),
        }
    }
    panic!("plan kept failing: {last:?}");
}
