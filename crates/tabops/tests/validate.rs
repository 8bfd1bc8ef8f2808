//! `tabops validate` end to end, through the real binary: one insta snapshot of the full output for every broken
//! manifest under `fixtures/manifests/invalid/`, plus the valid fixture and the examples.

use std::path::Path;

use tabops_testkit::run::tabops_command;
use tabops_testkit::{Run, workspace};

/// Run `tabops validate` from the workspace root with a clean environment; returns (exit code, stdout, stderr).
fn validate(args: &[&str]) -> (i32, String, String) {
    validate_with(args, &[])
}

fn validate_with(args: &[&str], env: &[(String, String)]) -> (i32, String, String) {
    let root = workspace();
    let run = Run::of(
        tabops_command(&root)
            .env("ORDERS_DB_PASSWORD", "orders-secret")
            .env("PROD_DB_PASSWORD", "prod-secret")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .arg("validate")
            .args(args),
    );
    let clean = |text: &str| text.replace(root.to_str().unwrap_or("\u{0}"), "[ROOT]");
    (run.code, clean(&run.stdout), clean(&run.stderr))
}

#[test]
fn invalid_manifests_snapshot() {
    let dir = workspace().join("fixtures/manifests/invalid");
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert!(names.len() >= 30, "only {} invalid fixtures", names.len());
    for name in names {
        let path = format!("fixtures/manifests/invalid/{name}");
        let extra = std::fs::read_to_string(dir.join(&name).join("args.txt")).unwrap_or_default();
        let mut args = vec!["-f", path.as_str()];
        args.extend(extra.split_whitespace());
        let (code, stdout, stderr) = validate(&args);
        assert_eq!(code, 1, "{name}: expected exit 1\n{stderr}");
        assert_eq!(stdout, "", "{name}: nothing on stdout");
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_suffix(name.clone());
        settings.set_prepend_module_to_snapshot(false);
        settings.set_description(format!("tabops validate {}", args.join(" ")));
        settings.bind(|| insta::assert_snapshot!("invalid", stderr));
    }
}

#[test]
fn valid_manifest_prints_a_summary() {
    let (code, stdout, stderr) = validate(&["-f", "fixtures/manifests/valid/full"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(stdout, "ok: 4 projects, 2 groups, 3 users, 1 data source, 2 workbooks, 3 refresh tasks\n");
}

#[test]
fn verbose_prints_content_digests() {
    let (code, stdout, _) = validate(&["-v", "-f", "fixtures/manifests/valid/full/manifest.yaml", "--env", "prod"]);
    assert_eq!(code, 0);
    let pipeline = workspace().join("fixtures/manifests/valid/full/content/pipeline.twb");
    let (size, sha) = tabops_manifest::hash::file_digest(&pipeline).unwrap();
    let line = stdout.lines().find(|l| l.contains("pipeline.twb")).expect("a line per content file");
    assert!(line.starts_with(&sha) && line.contains(&size.to_string()), "{line}");
    assert!(!line.contains("package"), "a plain file has one digest: {line}");
    // A package's line starts with what `sha256sum` prints too, then names the digest plans compare.
    let revenue = workspace().join("fixtures/manifests/valid/full/content/revenue.twbx");
    let (_, file_sha) = tabops_manifest::hash::file_digest(&revenue).unwrap();
    let canonical = tabops_manifest::hash::package_digest(&revenue).unwrap();
    assert_ne!(file_sha, canonical);
    let line = stdout.lines().find(|l| l.contains("revenue.twbx")).expect("a line per content file");
    assert!(line.starts_with(&file_sha), "{line}");
    assert!(line.ends_with(&format!("  (package content sha256 {canonical})")), "{line}");
    assert!(stdout.contains("workbook:Sales/EMEA/Revenue"));
    assert!(!stdout.contains("prod-secret"));
}

#[test]
fn examples_validate() {
    for example in ["examples/quickstart", "examples/enterprise"] {
        assert!(workspace().join(example).exists(), "{example} is missing");
        // The examples read connection passwords from `${env:NAME}`; provide a dummy for each one they name.
        let env = env_references(&workspace().join(example)).into_iter().map(|name| (name, "dummy".to_owned()));
        let (code, stdout, stderr) = validate_with(&["-f", example], &env.collect::<Vec<_>>());
        assert_eq!(code, 0, "{example}:\n{stderr}");
        assert!(stdout.starts_with("ok: "), "{stdout}");
    }
}

/// Every `${env:NAME}` named in the YAML files under `dir`.
fn env_references(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            names.extend(env_references(&path));
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("${env:").skip(1) {
                if let Some(end) = part.find('}') {
                    names.push(part[..end].to_owned());
                }
            }
        }
    }
    names
}
