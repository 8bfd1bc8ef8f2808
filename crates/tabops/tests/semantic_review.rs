//! The semantic workbook diff of a pull request in every format, through the real binary: `plan --base` shows the
//! same worksheet, dashboard and calculation changes in text, Markdown and JSON (`.review.changes[].content.semantic`),
//! and a renamed worksheet (same `<simple-id uuid>`, new name) reads as a rename, not as a removal and an addition.
//! The workbook is the project's own fixture `fixtures/content/diff/calc_formula_changed.twb` against `base.twb`,
//! with its `Scratch` sheet renamed the way `worksheet_renamed.twb` does. One transcript snapshot.

use tabops_testkit as support;

use support::{Harness, Run, commit_all, init_repo, transcript_step, workspace};

const MANIFEST: &str = "version: 1
site: { server: local, content_url: acme }
projects:
  - name: Sales
workbooks:
  - name: Revenue
    project: Sales
    file: content/revenue.twb
";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(workspace().join("fixtures/content/diff").join(name)).unwrap()
}

/// `calc_formula_changed.twb` with the sheet `Scratch` renamed `Scratch Pad` (sheet, window and thumbnail).
fn head_workbook() -> String {
    let mut text = fixture("calc_formula_changed.twb");
    for (from, to) in [
        ("<worksheet name='Scratch'>", "<worksheet name='Scratch Pad'>"),
        ("<window class='worksheet' name='Scratch'>", "<window class='worksheet' name='Scratch Pad'>"),
        (
            "<thumbnail height='192' name='Scratch' width='192'>",
            "<thumbnail height='192' name='Scratch Pad' width='192'>",
        ),
    ] {
        assert_eq!(text.matches(from).count(), 1, "{from}");
        text = text.replace(from, to);
    }
    text
}

fn filters() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\b[0-9a-f]{12,64}\b", "[HEX]");
    settings.add_filter(r"[0-9a-f]{12}…", "[HEX]…");
    settings.add_filter(r"\(\d+ bytes -> \d+ bytes\)", "([SIZE] -> [SIZE])");
    settings
}

/// The review part of a `plan --base` output: everything before the live plan.
fn review_part(output: &str, format: &str) -> String {
    match format {
        "markdown" => output[..output[1..].find("\n## ").map(|i| i + 2).unwrap_or(output.len())].to_owned(),
        _ => output.split("\n\n").next().unwrap_or_default().to_owned() + "\n",
    }
}

#[test]
fn the_semantic_review_shows_in_text_markdown_and_json_and_a_renamed_sheet_is_a_rename() {
    let site = Harness::start();
    let repo_dir = site.dir.path().join("repo");
    std::fs::create_dir_all(repo_dir.join("tabops/content")).unwrap();
    std::fs::write(repo_dir.join("tabops/manifest.yaml"), MANIFEST).unwrap();
    std::fs::write(repo_dir.join("tabops/content/revenue.twb"), fixture("base.twb")).unwrap();
    let repo = init_repo(&repo_dir);
    commit_all(&repo, &["tabops"], "base");
    repo.branch("base", &repo.head().unwrap().peel_to_commit().unwrap(), false).unwrap();
    std::fs::write(repo_dir.join("tabops/content/revenue.twb"), head_workbook()).unwrap();
    commit_all(&repo, &["tabops"], "rename a sheet, change a formula");

    let mut transcript = String::new();
    let run_in = |args: &[&str]| -> Run {
        let run = site.tabops_in(&repo_dir, args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run
    };
    for format in ["text", "markdown"] {
        let args = ["plan", "-f", "tabops", "--base", "base", "--format", format];
        let run = run_in(&args);
        let review = review_part(&run.stdout, format);
        assert!(review.contains("Worksheet renamed: ") && review.contains("Scratch Pad"), "{review}");
        assert!(!review.contains("Worksheet added") && !review.contains("Worksheet removed"), "{review}");
        assert!(review.contains("Calculated field changed"), "{review}");
        transcript.push_str(&transcript_step(&args, &Run { code: run.code, stdout: review, stderr: run.stderr }));
    }

    let args = ["plan", "-f", "tabops", "--base", "base", "--format", "json"];
    let run = run_in(&args);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let change = json["review"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "workbook:Sales/Revenue")
        .expect("the workbook's change");
    let semantic = &change["content"]["semantic"];
    assert_eq!(
        semantic["worksheets"],
        serde_json::json!([{"name": "Scratch Pad", "change": "renamed", "renamed_from": "Scratch"}])
    );
    assert_eq!(semantic["calculated_fields"][0]["name"], "Profit Ratio", "{semantic}");
    assert_eq!(semantic["calculated_fields"][0]["formula_after"], "ZN(SUM([Profit]))/SUM([Sales])");
    let shown = serde_json::to_string_pretty(&change["content"]).unwrap() + "\n";
    transcript.push_str(&transcript_step(
        &args,
        &Run {
            code: run.code,
            stdout: format!("[.review.changes[] for workbook:Sales/Revenue, .content]\n{shown}"),
            stderr: run.stderr,
        },
    ));

    filters().bind(|| insta::assert_snapshot!("semantic_review_in_every_format", transcript));
}
