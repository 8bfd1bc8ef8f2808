//! Manifests from git (`--git-ref`), pull-request review (`plan --base`) and provenance (plan JSON, audit log,
//! commit markers named by `drift`), end to end: real git repositories built with git2 in temp dirs (hermetic: no
//! system or global config, explicit signatures), the real binary, and an emulator on 127.0.0.1.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

use tabops_testkit as support;

use support::{Harness, Run};

fn quickstart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/quickstart")
}

/// A repository with the quickstart under `tabops/`, hermetic config.
fn init_repo(dir: &Path) -> Repository {
    let repo = support::init_repo(dir);
    support::copy_dir(&quickstart(), &dir.join("tabops"));
    repo
}

/// Commits the manifest directory (additions, changes, removals) on HEAD.
fn commit_all(repo: &Repository, message: &str) -> Oid {
    support::commit_all(repo, &["tabops"], message)
}

/// The pull request's change: a description, a new group, a changed workbook file, a removed user.
fn change_manifest(dir: &Path) {
    let manifest = dir.join("tabops/manifest.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text = text
        .replace("description: Open opportunities by stage", "description: Open opportunities by stage and owner")
        .replace(
            "groups:\n",
            "groups:\n  - name: Finance Readers\n    minimum_site_role: Viewer\n    members: [carol@acme.com]\n",
        );
    std::fs::write(&manifest, text).unwrap();
    let twb = dir.join("tabops/content/pipeline.twb");
    let mut bytes = std::fs::read(&twb).unwrap();
    bytes.extend_from_slice(b"\n<!-- a change in this pull request -->\n");
    std::fs::write(&twb, bytes).unwrap();
}

/// Two commits: `base` (the quickstart) and HEAD (the change); the branch `base` points at the first.
fn two_commits(dir: &Path) -> (Repository, Oid, Oid) {
    let repo = init_repo(dir);
    let first = commit_all(&repo, "quickstart");
    repo.branch("base", &repo.find_commit(first).unwrap(), false).unwrap();
    change_manifest(dir);
    let second = commit_all(&repo, "change the pipeline");
    (repo, first, second)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON: {e}\n{text}"))
}

#[test]
fn git_ref_plans_exactly_like_the_work_tree_at_that_commit() {
    let site = Harness::start();
    let repo_dir = site.dir.path().join("repo");
    let (_repo, first, _) = two_commits(&repo_dir);
    // The work tree is at the second commit, plus an uncommitted edit `--git-ref` must not see.
    std::fs::write(repo_dir.join("tabops/content/orders.tds"), b"<datasource uncommitted='1'/>").unwrap();

    let from_git = json(&site.ok_in(&repo_dir, &["plan", "-f", "tabops", "--git-ref", "base", "--format", "json"]));
    let checkout = site.dir.path().join("checkout");
    support::copy_dir(&quickstart(), &checkout);
    let from_disk = json(&site.ok_in(&checkout, &["plan", "-f", ".", "--format", "json"]));

    assert_eq!(from_git["inputs"]["manifest_digest"], from_disk["inputs"]["manifest_digest"]);
    assert_eq!(from_git["inputs"]["content"], from_disk["inputs"]["content"]);
    assert_eq!(from_git["summary"], from_disk["summary"]);
    assert_eq!(from_git["inputs"]["git"]["commit"], first.to_string());
    assert_eq!(from_git["inputs"]["git"]["branch"], "base");
    assert_eq!(from_git["inputs"]["git"]["author"], "Test Author <author@example.com>");
    assert_eq!(from_git["inputs"]["git"]["dirty"], false);
    assert!(from_disk["inputs"]["git"].is_null(), "a manifest outside any repository has no provenance");

    // Same text plan, line for line (file paths are not part of the text).
    let text_git = site.ok_in(&repo_dir, &["plan", "-f", "tabops", "--git-ref", "base"]);
    let text_disk = site.ok_in(&checkout, &["plan", "-f", "."]);
    assert_eq!(text_git, text_disk);
    // Content was published from materialised blobs, never from the (edited) work tree.
    let blobs = repo_dir.join(".tabops/git-blobs");
    assert!(std::fs::read_dir(&blobs).unwrap().count() >= 3, "content blobs materialised under {blobs:?}");
}

#[test]
fn work_tree_provenance_reports_branch_author_and_dirty() {
    let site = Harness::start();
    let repo_dir = site.dir.path().join("repo");
    let (repo, _, second) = two_commits(&repo_dir);
    let branch = repo.head().unwrap().shorthand().unwrap().to_owned();
    let clean = json(&site.ok_in(&repo_dir, &["plan", "-f", "tabops", "--format", "json"]));
    assert_eq!(clean["inputs"]["git"]["commit"], second.to_string());
    assert_eq!(clean["inputs"]["git"]["branch"], branch.as_str());
    assert_eq!(clean["inputs"]["git"]["dirty"], false);
    // A file outside the manifest's directory does not make it dirty; an untracked content file does.
    std::fs::write(repo_dir.join("NOTES.md"), "unrelated").unwrap();
    let still = json(&site.ok_in(&repo_dir, &["plan", "-f", "tabops", "--format", "json"]));
    assert_eq!(still["inputs"]["git"]["dirty"], false);
    std::fs::write(repo_dir.join("tabops/content/new.twb"), "<workbook/>").unwrap();
    let dirty = json(&site.ok_in(&repo_dir, &["plan", "-f", "tabops", "--format", "json"]));
    assert_eq!(dirty["inputs"]["git"]["dirty"], true);
}

fn filters() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\b[0-9a-f]{12,64}\b", "[HEX]");
    settings.add_filter(r"[0-9a-f]{12}…", "[HEX]…");
    settings.add_filter(r"/tmp/[^\s)`']+", "[TMP]");
    settings.add_filter(r"\(\d+ bytes -> \d+ bytes\)", "([SIZE] -> [SIZE])");
    settings
}

#[test]
fn base_review_shows_manifest_and_content_changes() {
    let site = Harness::start();
    let repo_dir = site.dir.path().join("repo");
    let (_repo, first, _) = two_commits(&repo_dir);

    let markdown = site.ok_in(&repo_dir, &["plan", "-f", "tabops", "--base", "base", "--format", "markdown"]);
    let review_end = markdown.find("\n## ").map(|i| i + 1).unwrap_or(markdown.len());
    let (review, live) = markdown.split_at(markdown[1..].find("\n## ").map(|i| i + 2).unwrap_or(review_end));
    assert!(review.starts_with("## Changes in this pull request"), "{markdown}");
    assert!(!live.is_empty(), "the live plan follows the review:\n{markdown}");
    filters().bind(|| insta::assert_snapshot!("base_review_markdown", review));

    let text = site.ok_in(&repo_dir, &["plan", "-f", "tabops", "--base", "base"]);
    let review_text: String = text.split("\n\n").next().unwrap_or_default().to_owned();
    filters().bind(|| insta::assert_snapshot!("base_review_text", review_text));

    let both = json(&site.ok_in(&repo_dir, &["plan", "-f", "tabops", "--base", "base", "--format", "json"]));
    let plain = json(&site.ok_in(&repo_dir, &["plan", "-f", "tabops", "--format", "json"]));
    assert_eq!(both["plan"], plain, "the plan JSON is unchanged under `plan`");
    assert_eq!(both["review"]["base_commit"], first.to_string());
    let changes = both["review"]["changes"].as_array().unwrap();
    let find = |address: &str| changes.iter().find(|c| c["address"] == address).cloned();
    let pipeline = find("workbook:Sales/Pipeline").expect("pipeline changed");
    assert_eq!(pipeline["change"], "changed");
    assert_eq!(pipeline["fields"][0]["field"], "description");
    assert_eq!(pipeline["fields"][0]["after"], "Open opportunities by stage and owner");
    assert_eq!(pipeline["content"]["file"], "content/pipeline.twb");
    assert_ne!(pipeline["content"]["before_sha256"], pipeline["content"]["after_sha256"]);
    assert_eq!(find("group:Finance Readers").expect("group added")["change"], "added");
    assert!(find("workbook:Sales/EMEA/Revenue").is_none(), "unchanged content is not listed");
}

#[test]
fn base_protects_what_the_base_protects() {
    let site = Harness::start();
    let repo_dir = site.dir.path().join("repo");
    let repo = init_repo(&repo_dir);
    let manifest = repo_dir.join("tabops/manifest.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let protected = text
        .replace("  - name: Pipeline\n", "  - name: Pipeline\n    protect: true\n")
        .replace("  - name: Sales\n", "  - name: Sales\n    prune: true\n");
    assert_ne!(protected, text);
    std::fs::write(&manifest, &protected).unwrap();
    let first = commit_all(&repo, "protect the pipeline");
    repo.branch("base", &repo.find_commit(first).unwrap(), false).unwrap();
    site.ok_in(&repo_dir, &["apply", "-f", "tabops", "--auto-approve"]);
    // The pull request drops the protected workbook from the manifest.
    let start = protected.find("  - name: Pipeline\n").unwrap();
    let end = protected[start..].find("\n\n").map(|i| start + i + 2).unwrap();
    let dropped = format!("{}{}", &protected[..start], &protected[end..]);
    // The quick start's subscription names the pipeline: it goes too.
    let dropped = &dropped[..dropped.find("\n# Carol gets").map_or(dropped.len(), |i| i + 1)];
    std::fs::write(&manifest, dropped).unwrap();
    commit_all(&repo, "drop the pipeline");

    // A fresh state dir, as on a new CI runner: the protection comes from `--base` alone.
    let fresh = site.dir.path().join("fresh-state");
    let fresh = fresh.to_str().unwrap();
    let unprotected = json(&site.ok_in(&repo_dir, &["plan", "-f", "tabops", "--format", "json", "--state-dir", fresh]));
    assert_eq!(unprotected["summary"]["destroy"], 1, "without --base the pruned workbook would be deleted");
    let Run { code, stdout: out, .. } = site
        .tabops_in(&repo_dir, &["plan", "-f", "tabops", "--base", "base", "--format", "json", "--state-dir", fresh]);
    assert_eq!(code, 1, "a plan deleting a protected object is refused:\n{out}");
    let both = json(&out);
    assert_eq!(both["plan"]["applyable"], false);
    let errors = both["plan"]["errors"].to_string();
    assert!(errors.to_lowercase().contains("workbook:sales/pipeline"), "{errors}");
    let removed = both["review"]["changes"].as_array().unwrap().iter().any(|c| c["change"] == "removed");
    assert!(removed, "the review lists the removal");
}

#[test]
fn symlink_escaping_the_manifest_root_in_a_commit_is_refused() {
    let site = Harness::start();
    let repo_dir = site.dir.path().join("repo");
    let repo = init_repo(&repo_dir);
    std::fs::write(repo_dir.join("secret.twb"), "<workbook/>").unwrap();
    let link = repo_dir.join("tabops/content/pipeline.twb");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("../../secret.twb", &link).unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("secret.twb")).unwrap();
    index.write().unwrap();
    commit_all(&repo, "a symlink out of the manifest");
    let Run { code, stderr: err, .. } = site.tabops_in(&repo_dir, &["plan", "-f", "tabops", "--git-ref", "HEAD"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("pipeline.twb"), "{err}");
    assert!(err.to_lowercase().contains("outside"), "{err}");
}

#[test]
fn apply_records_the_commit_and_drift_names_it() {
    let site = Harness::start();
    let repo_dir = site.dir.path().join("repo");
    let (repo, _, second) = two_commits(&repo_dir);
    let audit = site.dir.path().join("audit.jsonl");
    let audit_arg = audit.to_str().unwrap();
    site.ok_in(&repo_dir, &["apply", "-f", "tabops", "--git-ref", "HEAD", "--auto-approve", "--audit-log", audit_arg]);
    let log = std::fs::read_to_string(&audit).unwrap();
    let start = log.lines().map(json).find(|l| l.to_string().contains("apply_start")).expect("apply_start record");
    assert!(start.to_string().contains(&second.to_string()), "apply_start carries the commit: {start}");
    assert_eq!(
        site.ok_in(&repo_dir, &["drift", "-f", "tabops"]).lines().next(),
        Some("No drift. The site matches the manifest.")
    );

    // A third commit changes the workbook's content: drift names the commit that last published it.
    let twb = repo_dir.join("tabops/content/pipeline.twb");
    let mut bytes = std::fs::read(&twb).unwrap();
    bytes.extend_from_slice(b"<!-- third -->\n");
    std::fs::write(&twb, bytes).unwrap();
    let third = commit_all(&repo, "third");
    let Run { code, stdout: out, stderr: err } =
        site.tabops_in(&repo_dir, &["drift", "-f", "tabops", "--format", "json"]);
    assert_eq!(code, 2, "{out}{err}");
    let report = json(&out);
    let pipeline = report["pending_from_git"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["address"] == "workbook:Sales/Pipeline")
        .cloned()
        .expect("pipeline pending");
    assert_eq!(pipeline["published_commit"], second.to_string()[..12]);
    let text = site.tabops_in(&repo_dir, &["drift", "-f", "tabops"]).stdout;
    assert!(text.contains(&format!("from commit {}", &second.to_string()[..12])), "{text}");

    // Publishing again replaces the commit marker rather than adding a second one.
    site.ok_in(&repo_dir, &["apply", "-f", "tabops", "--auto-approve", "--audit-log", audit_arg]);
    let tags = live_tags(&site, "Pipeline");
    let markers: Vec<&String> = tags.iter().filter(|t| t.starts_with("tabops.commit.")).collect();
    assert_eq!(markers, vec![&format!("tabops.commit.{}", &third.to_string()[..12])], "{tags:?}");
}

/// The tags of a live workbook, read through the REST client.
fn live_tags(site: &Harness, name: &str) -> Vec<String> {
    let client = site.client();
    site.block_on(async {
        let workbooks = client.workbooks().await.unwrap();
        workbooks.into_iter().find(|w| w.name == name).map(|w| w.tags).unwrap_or_default()
    })
}

/// `drift --base REF`: with the manifest as last applied, a difference in an object whose manifest changed since
/// is pending from git, and one in an object whose manifest did not change was made on the site.
#[test]
fn drift_with_a_base_tells_pull_request_changes_from_site_changes() {
    let site = Harness::start();
    let repo_dir = site.dir.path().join("repo");
    let _ = two_commits(&repo_dir);
    site.ok_in(&repo_dir, &["apply", "-f", "tabops", "--git-ref", "base", "--auto-approve"]);

    // Out of band: someone edits the data source's description on the site (the manifest never changed it).
    let client = site.client();
    site.block_on(async {
        let orders = client.datasources().await.unwrap().into_iter().find(|d| d.name == "Orders").unwrap();
        let update = tabops_tableau::DatasourceUpdate {
            description: Some("edited in the browser".into()),
            ..Default::default()
        };
        client.update_datasource(&orders.id, &update).await.unwrap();
        // And removes a member from a group the manifest manages.
        let group = client.groups().await.unwrap().into_iter().find(|g| g.name == "Sales Analysts").unwrap();
        let members = client.group_members(&group.id).await.unwrap();
        let carol = members.into_iter().find(|u| u.name == "carol@acme.com").unwrap();
        client.remove_group_member(&group.id, &carol.id).await.unwrap();
    });

    let Run { code, stdout: out, stderr: err } =
        site.tabops_in(&repo_dir, &["drift", "-f", "tabops", "--base", "base", "--format", "json"]);
    assert_eq!(code, 2, "{out}{err}");
    let report = json(&out);
    let addresses = |key: &str| -> Vec<String> {
        report[key].as_array().unwrap().iter().map(|i| i["address"].as_str().unwrap().to_owned()).collect()
    };
    let (pending, on_site) = (addresses("pending_from_git"), addresses("changed_on_site"));
    assert!(pending.contains(&"workbook:Sales/Pipeline".to_owned()), "pending: {pending:?}");
    assert!(on_site.contains(&"datasource:Sales/Orders".to_owned()), "on site: {on_site:?}");
    assert!(!on_site.contains(&"workbook:Sales/Pipeline".to_owned()), "on site: {on_site:?}");
    assert!(!pending.contains(&"datasource:Sales/Orders".to_owned()), "pending: {pending:?}");
    // A group the pull request adds is not content: only the base tells that it comes from git.
    assert!(pending.contains(&"group:Finance Readers".to_owned()), "pending: {pending:?}");
    let text = site.tabops_in(&repo_dir, &["drift", "-f", "tabops", "--base", "base"]).stdout;
    assert!(!text.contains("heuristic"), "with a base the split is exact:\n{text}");
    // Told from the site's side, with what each side has: not apply's verbs (`+ membership`) or plan wording.
    assert!(text.contains("Changed on the site outside tabops:"), "{text}");
    assert!(text.contains("- membership:Sales Analysts/carol@acme.com: removed on the site (git has it)"), "{text}");
    assert!(text.contains("~ datasource:Sales/Orders: changed on the site"), "{text}");
    assert!(text.contains("description: on the site \"edited in the browser\"; in git"), "{text}");
    assert!(text.contains("~ workbook:Sales/Pipeline: changed in git"), "{text}");
    assert!(!text.contains("skip publish") && !text.contains(" -> "), "{text}");
    let without = site.tabops_in(&repo_dir, &["drift", "-f", "tabops", "--format", "json"]).stdout;
    let without = json(&without);
    let listed = |key: &str| -> Vec<String> {
        without[key].as_array().unwrap().iter().filter_map(|i| i["address"].as_str().map(str::to_owned)).collect()
    };
    // Without a base the group's cause is unknown: it is reported as differing, blamed on neither side.
    assert!(listed("differs").contains(&"group:Finance Readers".to_owned()), "{without}");
    assert!(!listed("changed_on_site").contains(&"group:Finance Readers".to_owned()), "{without}");
    assert!(!listed("pending_from_git").contains(&"group:Finance Readers".to_owned()), "{without}");
}
