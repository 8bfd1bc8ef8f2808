//! A saved plan crosses a trust boundary: whoever can write the artifact between the plan job and the apply job
//! must not be able to make `apply PLAN` do anything but the reviewed plan. Each test edits a plan file the way an
//! attacker would and drives the real binary against the emulator: the plan is refused, exit 1, nothing written.
//! SECURITY.md ("Saved plans") lists these attacks.

use tabops_testkit as support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::{Harness, content_writes, edit, path_str, route};

/// A 64-character key, as `openssl rand -hex 32` prints one.
const KEY: &str = "5f1c0f3f2b7e4c9a8d6e1b0a3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f809";

/// The quick start applied, then its EMEA description edited, and that one-update plan saved to `plan.json`.
fn planned_update(h: &Harness) -> (PathBuf, PathBuf) {
    let manifest = h.copy_example("quickstart", "qs");
    h.apply(&manifest);
    edit(&manifest.join("manifest.yaml"), "description: Europe, Middle East and Africa", "description: EMEA, reviewed");
    let plan_file = h.dir.path().join("plan.json");
    h.tabops(&["plan", "-f", path_str(&manifest), "--out", path_str(&plan_file)]).expect(0);
    (manifest, plan_file)
}

fn read(plan_file: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(plan_file).unwrap()).unwrap()
}

fn write(plan_file: &Path, plan: &Value) {
    std::fs::write(plan_file, serde_json::to_string_pretty(plan).unwrap()).unwrap();
}

fn action_mut<'a>(plan: &'a mut Value, id: &str) -> &'a mut Value {
    plan["actions"].as_array_mut().unwrap().iter_mut().find(|a| a["id"] == id).unwrap()
}

/// Applies `plan_file` and asserts it is refused with nothing written; returns stderr.
#[track_caller]
fn refused(h: &Harness, manifest: &Path, plan_file: &Path, env: &[(&str, &str)]) -> String {
    refused_with(h, manifest, plan_file, env, &[])
}

#[track_caller]
fn refused_with(h: &Harness, manifest: &Path, plan_file: &Path, env: &[(&str, &str)], flags: &[&str]) -> String {
    let before = h.stats();
    let mut args = vec!["apply", path_str(plan_file), "-f", path_str(manifest)];
    args.extend_from_slice(flags);
    let run = h.tabops_env(&args, env).expect(1);
    assert_eq!(content_writes(&h.stats()), content_writes(&before), "a refused plan must write nothing");
    run.stderr
}

fn project_names(h: &Harness) -> Vec<String> {
    let client = h.client();
    let projects = h.block_on(client.projects()).unwrap();
    projects.into_iter().map(|p| p.name).collect()
}

#[test]
fn an_update_edited_into_a_project_delete_is_refused() {
    let h = Harness::start();
    let (manifest, plan_file) = planned_update(&h);
    let mut plan = read(&plan_file);
    let update = action_mut(&mut plan, "project:Sales/EMEA");
    let live_id = update["live_id"].clone();
    update["operation"] = json!({ "op": "delete_project", "project": live_id });
    write(&plan_file, &plan);

    let stderr = refused(&h, &manifest, &plan_file, &[]);
    assert!(stderr.contains("refusing the plan"), "{stderr}");
    assert!(stderr.contains("project:Sales/EMEA") && stderr.contains("operation"), "names the edit: {stderr}");
    assert!(project_names(&h).contains(&"EMEA".to_owned()), "the project must still exist");
}

#[test]
fn an_injected_group_delete_is_refused() {
    let h = Harness::start();
    let (manifest, plan_file) = planned_update(&h);
    let group_id = h
        .block_on(h.client().groups())
        .unwrap()
        .into_iter()
        .find(|g| g.name == "Sales Analysts")
        .map(|g| g.id)
        .unwrap();
    let mut plan = read(&plan_file);
    let mut injected = plan["actions"][0].clone();
    injected["id"] = json!("group:Sales Analysts");
    injected["kind"] = json!("group");
    injected["action"] = json!("delete");
    injected["reason"] = json!("not in manifest");
    injected["changes"] = json!([]);
    injected["depends_on"] = json!([]);
    injected["live_id"] = json!(group_id);
    injected["operation"] = json!({ "op": "delete_group", "group": group_id });
    plan["actions"].as_array_mut().unwrap().push(injected);
    write(&plan_file, &plan);

    let stderr = refused(&h, &manifest, &plan_file, &[]);
    assert!(stderr.contains("group:Sales Analysts"), "names the injected action: {stderr}");
    let groups = h.block_on(h.client().groups()).unwrap();
    assert!(groups.iter().any(|g| g.name == "Sales Analysts"), "the group must still exist");
}

#[test]
fn applyable_written_into_a_plan_refused_by_max_deletes_is_refused() {
    let h = Harness::start();
    let manifest = h.copy_example("quickstart", "qs");
    h.apply(&manifest);
    // Users are pruned only with settings.prune_users; removing Carol from the manifest plans one delete.
    let file = manifest.join("manifest.yaml");
    edit(&file, "site:\n", "settings:\n  prune_users: true\n\nsite:\n");
    edit(&file, "  - name: carol@acme.com\n    site_role: Viewer\n    full_name: Carol Chen\n", "");
    edit(&file, "members: [bob@acme.com, carol@acme.com]", "members: [bob@acme.com]");
    // Carol's subscription goes with her (the manifest may not subscribe a user it does not list).
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, &text[..text.find("\n# Carol gets").unwrap() + 1]).unwrap();
    let plan_file = h.dir.path().join("plan.json");
    // The plan job refuses it (exit 1) but still saves it for review.
    h.tabops(&["plan", "-f", path_str(&manifest), "--max-deletes", "0", "--out", path_str(&plan_file)]).expect(1);
    let mut plan = read(&plan_file);
    assert_eq!(plan["applyable"], false);
    assert_eq!(plan["inputs"]["safety"]["max_deletes"], 0);
    plan["applyable"] = json!(true);
    plan["errored"] = json!(false);
    plan["errors"] = json!([]);
    plan["summary"]["errors"] = json!(0);
    write(&plan_file, &plan);

    // The apply job passes no --max-deletes (default 10): the plan's own limit still holds.
    let stderr = refused(&h, &manifest, &plan_file, &[]);
    assert!(stderr.contains("more than the limit of 0"), "{stderr}");
    // An unsigned file can loosen its recorded limit too; the apply job's own flags still hold (SECURITY.md: sign
    // plans so the recorded limits are the plan job's).
    plan["inputs"]["safety"]["max_deletes"] = json!(10);
    write(&plan_file, &plan);
    let stderr = refused_with(&h, &manifest, &plan_file, &[], &["--max-deletes", "0"]);
    assert!(stderr.contains("more than the limit of 0"), "{stderr}");
}

#[test]
fn a_publish_path_edited_to_another_local_file_is_refused() {
    let h = Harness::start();
    let manifest = h.copy_example("quickstart", "qs");
    h.apply(&manifest);
    std::fs::write(manifest.join("content/pipeline.twb"), pipeline_with_comment(&manifest, "reviewed change")).unwrap();
    let plan_file = h.dir.path().join("plan.json");
    h.tabops(&["plan", "-f", path_str(&manifest), "--out", path_str(&plan_file)]).expect(0);
    // A file outside the manifest, as an attacker would pick to exfiltrate it to the site.
    let secret = h.dir.path().join("secret.twb");
    std::fs::write(&secret, "<workbook><secret>ssh key</secret></workbook>").unwrap();
    let mut plan = read(&plan_file);
    let publish = action_mut(&mut plan, "workbook:Sales/Pipeline");
    assert_eq!(publish["operation"]["op"], "publish");
    publish["operation"]["file"]["path"] = json!(path_str(&secret));
    write(&plan_file, &plan);

    let before = h.stats();
    let stderr = refused(&h, &manifest, &plan_file, &[]);
    assert!(stderr.contains("workbook:Sales/Pipeline"), "{stderr}");
    assert_eq!(route(&h.stats(), "POST /sites/{id}/workbooks"), route(&before, "POST /sites/{id}/workbooks"));
}

#[test]
fn a_content_file_changed_after_planning_is_refused() {
    let h = Harness::start();
    let manifest = h.copy_example("quickstart", "qs");
    h.apply(&manifest);
    let pipeline = manifest.join("content/pipeline.twb");
    std::fs::write(&pipeline, pipeline_with_comment(&manifest, "reviewed change")).unwrap();
    let plan_file = h.dir.path().join("plan.json");
    h.tabops(&["plan", "-f", path_str(&manifest), "--out", path_str(&plan_file)]).expect(0);
    std::fs::write(&pipeline, pipeline_with_comment(&manifest, "unreviewed change")).unwrap();

    let stderr = refused(&h, &manifest, &plan_file, &[]);
    assert!(stderr.contains("content file of workbook:Sales/Pipeline changed"), "{stderr}");
}

#[test]
fn an_untouched_saved_plan_applies_and_the_audit_log_records_the_bytes_sent() {
    let h = Harness::start();
    let manifest = h.copy_example("quickstart", "qs");
    h.apply(&manifest);
    let pipeline = manifest.join("content/pipeline.twb");
    let bytes = pipeline_with_comment(&manifest, "reviewed change");
    std::fs::write(&pipeline, &bytes).unwrap();
    let plan_file = h.dir.path().join("plan.json");
    h.tabops(&["plan", "-f", path_str(&manifest), "--out", path_str(&plan_file)]).expect(0);
    // Writing the plan file into the work tree (a dirty tree, another commit) does not make it differ.
    h.tabops(&["apply", path_str(&plan_file), "-f", path_str(&manifest)]).expect(0);
    h.assert_converged(&manifest);

    let audit = std::fs::read_to_string(h.audit_log()).unwrap();
    let complete = audit
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .rfind(|record| record["type"] == "action_complete" && record["data"]["address"] == "workbook:Sales/Pipeline")
        .unwrap_or_else(|| panic!("no action_complete for the publish in:\n{audit}"));
    let sent = &complete["data"]["sent"];
    assert_eq!(sent["file_sha256"], hex::encode(Sha256::digest(&bytes)), "{complete}");
    assert_eq!(sent["bytes"], bytes.len() as u64);
}

#[test]
fn a_signed_plan_applies_only_with_its_key_and_unedited() {
    let h = Harness::start();
    let manifest = h.copy_example("quickstart", "qs");
    h.apply(&manifest);
    let file = manifest.join("manifest.yaml");
    edit(&file, "description: Europe, Middle East and Africa", "description: signed");
    let plan_file = h.dir.path().join("plan.json");
    let with_key = [("TABOPS_PLAN_KEY", KEY)];
    let run = h.tabops_env(&["plan", "-f", path_str(&manifest), "--out", path_str(&plan_file)], &with_key).expect(0);
    assert!(run.stderr.contains("signed with TABOPS_PLAN_KEY"), "{}", run.stderr);
    let signed = read(&plan_file);
    assert_eq!(signed["signature"]["algorithm"], "hmac-sha256");

    // Without the key, a signed plan cannot be checked, so it is refused.
    let stderr = refused(&h, &manifest, &plan_file, &[]);
    assert!(stderr.contains("TABOPS_PLAN_KEY is not set"), "{stderr}");
    // With another key, the signature does not hold.
    let other = [("TABOPS_PLAN_KEY", "0000000000000000000000000000000000000000000000000000000000000000")];
    let stderr = refused(&h, &manifest, &plan_file, &other);
    assert!(stderr.contains("signature does not match"), "{stderr}");
    // An edit that would otherwise be invisible to the re-plan (a reason is only shown) breaks the signature.
    let mut edited = signed.clone();
    action_mut(&mut edited, "project:Sales/EMEA")["reason"] = json!("nothing to see here");
    write(&plan_file, &edited);
    let stderr = refused(&h, &manifest, &plan_file, &with_key);
    assert!(stderr.contains("signature does not match"), "{stderr}");
    // An unsigned plan is refused where a key is required.
    let mut unsigned = signed.clone();
    unsigned.as_object_mut().unwrap().remove("signature");
    write(&plan_file, &unsigned);
    let stderr = refused(&h, &manifest, &plan_file, &with_key);
    assert!(stderr.contains("not signed"), "{stderr}");
    // Re-indented but unchanged, it verifies and applies.
    std::fs::write(&plan_file, serde_json::to_string(&signed).unwrap()).unwrap();
    h.tabops_env(&["apply", path_str(&plan_file), "-f", path_str(&manifest)], &with_key).expect(0);
    h.assert_converged(&manifest);
}

#[test]
fn a_weak_plan_key_is_refused_before_anything_is_sent() {
    let h = Harness::start();
    let manifest = h.copy_example("quickstart", "qs");
    let plan_file = h.dir.path().join("plan.json");
    let before = h.stats();
    let run = h
        .tabops_env(
            &["plan", "-f", path_str(&manifest), "--out", path_str(&plan_file)],
            &[("TABOPS_PLAN_KEY", "hunter2")],
        )
        .expect(1);
    assert!(run.stderr.contains("at least 32"), "{}", run.stderr);
    assert_eq!(h.stats().requests_total, before.requests_total, "nothing may be sent");
    assert!(!plan_file.exists());
}

/// The quick start's pipeline workbook with an XML comment appended: a content change the planner must publish.
fn pipeline_with_comment(manifest: &Path, comment: &str) -> Vec<u8> {
    let original = std::fs::read_to_string(support::workspace().join("examples/quickstart/content/pipeline.twb"))
        .unwrap_or_else(|_| std::fs::read_to_string(manifest.join("content/pipeline.twb")).unwrap());
    format!("{original}<!-- {comment} -->\n").into_bytes()
}
