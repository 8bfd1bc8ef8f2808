//! What the README's Install section promises, checked on the built binary: the install command names the package
//! that builds the `tabops` binary, the binary runs a whole session (validate, apply to the embedded site, plan,
//! audit verify) with an empty environment (no PATH, so no git, Python or other program; no HOME, no
//! configuration), and on Linux it links no shared library beyond the ones the README lists.

use std::path::Path;
use std::process::Command;

use tabops_testkit as support;

use support::{Run, regex_escape, tabops_bin, transcript_step, workspace};

/// `tabops ARGS` in `cwd` with nothing at all in its environment.
fn bare(cwd: &Path, args: &[&str]) -> Run {
    Run::of(Command::new(tabops_bin()).current_dir(cwd).env_clear().args(args))
}

/// The README's Install section.
fn install_section() -> String {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let start = readme.find("## Install\n").expect("README has an Install section");
    let rest = &readme[start + 3..];
    rest[..rest.find("\n## ").unwrap_or(rest.len())].to_owned()
}

#[test]
fn the_install_command_names_the_binary_package() {
    let section = install_section();
    assert!(section.contains("cargo install --locked --path crates/tabops"), "{section}");
    let manifest = std::fs::read_to_string(workspace().join("crates/tabops/Cargo.toml")).unwrap();
    assert!(manifest.contains("[[bin]]\nname = \"tabops\""), "crates/tabops does not build the `tabops` binary");
}

/// An apply's stderr as the count of its per-action lines (their order and times vary), anything else as it is.
fn action_lines(run: &Run) -> String {
    let actions = run.stderr.lines().filter(|l| l.starts_with(['+', '~', '-', '!'])).count();
    let rest: String =
        run.stderr.lines().filter(|l| !l.starts_with(['+', '~', '-', '!'])).map(|l| format!("{l}\n")).collect();
    if actions == 0 { rest } else { format!("[{actions} action lines]\n{rest}") }
}

/// A command line, and which of its stdout lines the transcript shows.
type Step = (&'static [&'static str], fn(&str) -> bool);

#[test]
fn the_binary_needs_nothing_but_itself() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    support::copy_dir(&workspace().join("examples/quickstart"), &cwd.join("tabops"));
    let mut transcript = String::from("# environment: empty (no PATH, no HOME)\n\n");
    let steps: [Step; 4] = [
        (&["validate", "-f", "tabops"], |_| true),
        (&["apply", "-f", "tabops", "--auto-approve"], |l| l.starts_with("Apply complete") || l.starts_with("Audit")),
        (&["plan", "-f", "tabops", "--detailed-exitcode"], |l| l.starts_with("No changes")),
        (&["audit", "verify"], |l| l.starts_with("ok:")),
    ];
    for (args, keep) in steps {
        let run = bare(cwd, args);
        let shown: String = run.stdout.lines().filter(|l| keep(l)).map(|l| format!("{l}\n")).collect();
        transcript.push_str(&transcript_step(args, &Run { code: run.code, stdout: shown, stderr: action_lines(&run) }));
        assert_eq!(run.code, 0, "tabops {args:?} needs something from the environment:\n{}{}", run.stdout, run.stderr);
    }
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&cwd.display().to_string()), "[TMP]");
    settings.add_filter(r"\d+ lines, \d+ runs?", "[N] lines, [N] runs");
    settings.bind(|| insta::assert_snapshot!("the_binary_needs_nothing_but_itself", transcript));
}

/// The shared libraries `ldd` lists for the binary, by name (`libz.so.1`), without the kernel's vDSO and the loader.
fn shared_libraries(binary: &Path) -> Option<Vec<String>> {
    let output = Command::new("ldd").arg(binary).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| !name.starts_with("linux-vdso") && !name.contains("ld-linux"))
        .map(|name| name.rsplit('/').next().unwrap_or(name).to_owned())
        .collect();
    names.sort();
    Some(names)
}

#[test]
fn on_linux_the_binary_links_only_the_libraries_the_readme_names() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Some(libraries) = shared_libraries(&tabops_bin()) else {
        panic!("`ldd` is part of every glibc Linux; it is needed to check the binary's shared libraries");
    };
    let section = install_section();
    assert!(!libraries.is_empty(), "ldd listed nothing");
    for library in &libraries {
        assert!(
            section.contains(&format!("`{library}`")),
            "the binary links {library}, which the README does not name"
        );
    }
}
