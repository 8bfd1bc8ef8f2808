//! Issue 12, item 11: the shell and the package, through the real binary. Completions and the man page come from
//! clap's own generators (clap_complete, clap_mangen), so each must name every command `--help` lists; `--version`
//! names the commit the binary was built from and the build date; `tabops schema` prints exactly the committed
//! `schemas/tabops.schema.json`; the emulator says at start which site, token names and state file it serves, and
//! warns when it listens beyond loopback.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use tabops_testkit as support;

use support::Run;
use support::run::tabops_command;

fn tabops(cwd: &Path, args: &[&str]) -> Run {
    Run::of(tabops_command(cwd).args(args))
}

/// The subcommands `tabops --help` lists, `help` included (clap completes it too).
fn subcommands(cwd: &Path) -> Vec<String> {
    let help = tabops(cwd, &["--help"]).expect(0);
    help.stdout
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn completions_for_every_shell_name_every_command_and_bash_parses_its_script() {
    let dir = tempfile::tempdir().unwrap();
    let commands = subcommands(dir.path());
    for expected in ["plan", "apply", "completions", "man", "schema"] {
        assert!(commands.iter().any(|c| c == expected), "`{expected}` missing from --help: {commands:?}");
    }
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = tabops(dir.path(), &["completions", shell]).expect(0);
        assert!(run.stderr.is_empty(), "{shell}: {}", run.stderr);
        for command in &commands {
            assert!(run.stdout.contains(command.as_str()), "{shell} completion lacks `{command}`");
        }
        // Flags of a subcommand are completed too, not only the command names (fish writes `-l detailed-exitcode`).
        assert!(run.stdout.contains("detailed-exitcode"), "{shell} completion lacks plan's flags");
    }
    let script = dir.path().join("tabops.bash");
    std::fs::write(&script, tabops(dir.path(), &["completions", "bash"]).stdout).unwrap();
    let bash = Run::of(Command::new("bash").arg("-n").arg(&script));
    assert_eq!(bash.code, 0, "bash rejects the completion script: {}", bash.stderr);
    // A shell clap does not generate for is a usage error (exit 1) naming the ones it does.
    let run = tabops(dir.path(), &["completions", "tcsh"]).expect(1);
    assert!(run.stderr.contains("bash") && run.stderr.contains("powershell"), "{}", run.stderr);
}

#[test]
fn man_page_documents_every_command_and_out_dir_writes_one_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let commands = subcommands(dir.path());
    let run = tabops(dir.path(), &["man"]).expect(0);
    assert!(run.stdout.contains(".TH tabops 1"), "not a roff man page: {}", &run.stdout[..200.min(run.stdout.len())]);
    assert!(run.stdout.contains(".SH SUBCOMMANDS"), "no SUBCOMMANDS section");
    for command in commands.iter().filter(|c| *c != "help") {
        assert!(
            run.stdout.contains(&format!("tabops\\-{}", command.replace('-', "\\-"))),
            "man page lacks `{command}`"
        );
    }
    let out = dir.path().join("man");
    tabops(dir.path(), &["man", "--out-dir", support::path_str(&out)]).expect(0);
    for command in commands.iter().filter(|c| *c != "help") {
        let page = out.join(format!("tabops-{command}.1"));
        let text = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        assert!(text.contains(".TH tabops-"), "{} is not a man page", page.display());
    }
    assert!(out.join("tabops.1").is_file());
}

/// The commit HEAD names in the workspace's checkout (12 hex digits), or "unknown" outside one.
fn expected_commit() -> String {
    match git2::Repository::discover(support::workspace()) {
        Ok(repo) => repo.head().unwrap().peel_to_commit().unwrap().id().to_string()[..12].to_owned(),
        Err(_) => "unknown".to_owned(),
    }
}

#[test]
fn version_names_the_commit_built_from_and_the_build_date() {
    let dir = tempfile::tempdir().unwrap();
    let run = tabops(dir.path(), &["--version"]).expect(0);
    let line = run.stdout.trim_end();
    let rest = line
        .strip_prefix(&format!("tabops {} (commit ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{line}"));
    let (commit, date) =
        rest.strip_suffix(')').and_then(|r| r.split_once(", built ")).unwrap_or_else(|| panic!("{line}"));
    assert_eq!(commit, expected_commit(), "--version names another commit than the checkout's HEAD: {line}");
    let parts: Vec<&str> = date.split('-').collect();
    assert!(
        parts.len() == 3
            && parts.iter().zip([4, 2, 2]).all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_digit())),
        "build date is not YYYY-MM-DD: {line}"
    );
    assert!(date >= "2026-01-01", "build date before this code existed: {line}");
    // `-V` says the same, and so does a subcommand's `--version`.
    assert_eq!(tabops(dir.path(), &["-V"]).expect(0).stdout, run.stdout);
    assert!(tabops(dir.path(), &["plan", "--version"]).expect(0).stdout.contains(rest));
}

#[test]
fn schema_prints_the_committed_json_schema_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let run = tabops(dir.path(), &["schema"]).expect(0);
    let committed = std::fs::read_to_string(support::workspace().join("schemas/tabops.schema.json")).unwrap();
    assert!(run.stdout == committed, "`tabops schema` differs from schemas/tabops.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(schema["$id"], "https://github.com/tabops/tabops/schemas/tabops.schema.json");
}

/// Starts `tabops emulator ARGS`, waits for its `listening on` line and its notes, stops that child (its own
/// handle), and returns the first stdout line and what it wrote on stderr.
fn emulator_start(dir: &Path, args: &[&str]) -> (String, String) {
    let mut child =
        tabops_command(dir).arg("emulator").args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // The notes follow the `listening on` line; read stderr up to the state line (and the warning, if any).
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut notes = String::new();
    let beyond_loopback = !args.iter().any(|a| a.starts_with("127.0.0.1"));
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        notes.push_str(&line);
        if line.starts_with(if beyond_loopback { "warning:" } else { "state:" }) {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest);
    (first, notes + &rest)
}

#[test]
fn emulator_says_its_site_token_and_state_at_start_and_warns_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("site.json");
    let mut transcript = String::new();
    let cases: [Vec<&str>; 3] = [
        vec!["--listen", "127.0.0.1:0"],
        vec![
            "--listen",
            "127.0.0.1:0",
            "--site",
            "finance",
            "--pat",
            "ci:s3cret-one",
            "--state",
            support::path_str(&state),
        ],
        vec!["--listen", "0.0.0.0:0", "--pat", "ci:s3cret-two", "--pat", "ops:s3cret-three"],
    ];
    for args in &cases {
        let (first, notes) = emulator_start(dir.path(), args);
        assert!(first.starts_with("listening on http://"), "first stdout line: {first:?}");
        assert!(!notes.contains("s3cret"), "a token secret was printed: {notes}");
        transcript.push_str(&format!("$ tabops emulator {}\n--- stderr\n{notes}\n", args.join(" ")));
    }
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&support::regex_escape(support::path_str(dir.path())), "[TMP]");
    // The emulator library's own log line (the CLI's warning below it says the same for people).
    settings.add_filter(r"\d{4}-\d\d-\d\dT[\d:.]+Z ", "[TIME] ");
    settings.bind(|| insta::assert_snapshot!("emulator_start_notes", transcript));
}
