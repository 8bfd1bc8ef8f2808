//! Running the real `tabops` binary and capturing what it did ([`Run`]), the transcript and snapshot helpers,
//! and the file and git fixtures the end-to-end tests share.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The result of one run of a program.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Runs `cmd` to completion and captures its exit code and output.
    pub fn of(cmd: &mut Command) -> Run {
        Run::from_output(cmd.output().unwrap())
    }

    /// The exit code and output of a finished process.
    pub fn from_output(output: std::process::Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The run with the lines `apply` prints on stderr per finished action (`+ project:Sales: created (85 ms)`)
    /// left out: concurrent actions finish in any order, and the transcripts that use this are about something else.
    pub fn without_action_lines(self) -> Run {
        let action = |line: &str| {
            ["+ ", "~ ", "- ", "-/+ ", "= "].iter().any(|glyph| line.starts_with(glyph))
                && line.contains(": ")
                && (line.ends_with(" ms)") || line.ends_with(" s)"))
        };
        let stderr = self.stderr.lines().filter(|l| !action(l)).map(|l| format!("{l}\n")).collect();
        Run { stderr, ..self }
    }

    /// Panics with both streams when the exit code is not `code`.
    #[track_caller]
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(self.code, code, "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }
}

/// The `tabops` binary cargo built for the running integration test: `CARGO_BIN_EXE_tabops` when cargo set it for
/// the run, otherwise `tabops` beside the test executable's `deps/` directory (where cargo puts the package's
/// binaries before it runs an integration test of the `tabops` crate).
pub fn tabops_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("CARGO_BIN_EXE_tabops") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    let dir = exe.parent().expect("the test executable's directory");
    let dir = if dir.ends_with("deps") { dir.parent().expect("the target profile directory") } else { dir };
    let bin = dir.join(format!("tabops{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} does not exist: run the tests of the `tabops` crate, which build it", bin.display());
    bin
}

/// `tabops` with a clean environment (only `PATH`, and `NO_COLOR=1`), started in `cwd`.
pub fn tabops_command(cwd: &Path) -> Command {
    let mut cmd = Command::new(tabops_bin());
    cmd.current_dir(cwd).env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default()).env("NO_COLOR", "1");
    cmd
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Replaces exactly one occurrence of `from` in the file (panics when it is missing, so edits cannot go stale).
#[track_caller]
pub fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert_eq!(text.matches(from).count(), 1, "`{from}` must occur exactly once in {}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// A git repository at `dir` (created if needed) with a pinned identity, so commits never depend on the machine's
/// git configuration.
pub fn init_repo(dir: &Path) -> git2::Repository {
    let repo = git2::Repository::open(dir).or_else(|_| git2::Repository::init(dir)).unwrap();
    let mut config = repo.config().unwrap();
    config.set_str("user.name", "Test Author").unwrap();
    config.set_str("user.email", "author@example.com").unwrap();
    repo
}

/// Commits everything under `pathspecs` (additions, changes and removals) on HEAD.
pub fn commit_all(repo: &git2::Repository, pathspecs: &[&str], message: &str) -> git2::Oid {
    let mut index = repo.index().unwrap();
    index.add_all(pathspecs, git2::IndexAddOption::DEFAULT, None).unwrap();
    index.update_all(pathspecs, None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = git2::Signature::now("Test Author", "author@example.com").unwrap();
    let parents: Vec<git2::Commit<'_>> = repo.head().ok().and_then(|h| h.peel_to_commit().ok()).into_iter().collect();
    let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents).unwrap()
}

/// One step of a transcript test: the command line, its exit code, and the streams that are not empty.
pub fn transcript_step(args: &[&str], run: &Run) -> String {
    let mut out = format!("$ tabops {}\n[exit {}]\n", args.join(" "), run.code);
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        if !text.is_empty() {
            out.push_str(&format!("--- {name}\n{text}"));
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out.push('\n');
    out
}

/// The insta settings every transcript snapshot starts from: the test's temp dir as `[TMP]`, and the values that
/// change from run to run (UUIDs, digests and other hex of 12 or more digits, the emulator's port) as placeholders.
/// A test adds the filters only it needs on top.
pub fn transcript_filters(root: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&root.display().to_string()), "[TMP]");
    settings.add_filter(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "[UUID]");
    settings.add_filter(r"\b[0-9a-f]{12,64}\b", "[HEX]");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings
}

/// `text` as a regular expression that matches it literally (for insta filters).
pub fn regex_escape(text: &str) -> String {
    text.chars().fold(String::new(), |mut out, c| {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_escape_matches_paths_literally() {
        assert_eq!(regex_escape("/tmp/a.b(1)"), r"/tmp/a\.b\(1\)");
    }

    #[test]
    fn transcript_step_ends_each_stream_with_a_newline() {
        let run = Run { code: 2, stdout: "plan".into(), stderr: String::new() };
        assert_eq!(transcript_step(&["plan"], &run), "$ tabops plan\n[exit 2]\n--- stdout\nplan\n\n");
    }
}
