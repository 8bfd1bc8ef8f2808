//! Hostile content files and local paths through the real binary (issue 19, "Security II"): zip bombs through
//! `validate`, `plan`, `plan --base` and `export`; site content URLs that climb out of the state directory; an
//! audit log that is a symlink, a FIFO or `/dev/zero`; an emulator state file planted to make `apply` delete a file
//! of the user's; the emulator asked to listen beyond loopback with the default token. Each is refused with exit 1
//! in bounded memory and time, writes nothing outside its place and makes no write to the site.

use tabops_testkit as support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tabops_testkit::run::tabops_command;

use support::{Harness, Run, content_writes, path_str};

/// Peak resident memory a refused (or bounded) run may reach. Before the fixes, the 1 GiB bomb took `export` to
/// 2.1 GB and the overlapping-entries bomb ran `validate` until it was killed.
const MAX_PEAK_KB: u64 = 300 * 1024;
/// Wall time a refused run may take (debug build, shared machine).
const MAX_SECONDS: u64 = 60;
const GIB: u64 = 1024 * 1024 * 1024;

/// One run of the binary with its peak resident memory (VmHWM, sampled every few ms from /proc) and wall time.
struct Measured {
    run: Run,
    peak_kb: u64,
    elapsed: Duration,
}

impl Measured {
    #[track_caller]
    #[allow(clippy::print_stderr)] // the figures RELIABILITY.md quotes, with --nocapture
    fn bounded(self, what: &str) -> Run {
        eprintln!("{what}: exit {}, peak {} MB, {:?}", self.run.code, self.peak_kb / 1024, self.elapsed);
        assert!(self.peak_kb < MAX_PEAK_KB, "{what}: peak memory {} MB\n{}", self.peak_kb / 1024, self.run.stderr);
        assert!(self.elapsed < Duration::from_secs(MAX_SECONDS), "{what}: took {:?}", self.elapsed);
        self.run
    }
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `cmd` to completion (killing it after twice [`MAX_SECONDS`]), sampling its peak memory.
fn measured(cmd: &mut Command) -> Measured {
    let started = Instant::now();
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    let mut peak_kb = 0;
    let status = loop {
        if let Some(kb) = vm_hwm_kb(child.id()) {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(2 * MAX_SECONDS) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} still running after {:?}", started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(3));
    };
    let elapsed = started.elapsed();
    let run = Run { code: status.code().unwrap_or(-1), stdout: out.join().unwrap(), stderr: err.join().unwrap() };
    Measured { run, peak_kb, elapsed }
}

/// `tabops ARGS` in `cwd` with a clean environment (the embedded site unless `--server` is passed).
fn tabops(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = tabops_command(cwd);
    cmd.env("TABLEAU_PAT_NAME", tabops_emulator::DEFAULT_PAT_NAME)
        .env("TABLEAU_PAT_SECRET", tabops_emulator::DEFAULT_PAT_SECRET)
        .args(args);
    cmd
}

/// A deflate stream of 1 GiB of zeros (about 1 MB), made once, with its CRC-32.
fn gib_of_zeros() -> &'static (Vec<u8>, u32) {
    static STREAM: OnceLock<(Vec<u8>, u32)> = OnceLock::new();
    STREAM.get_or_init(|| {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        zip.start_file("zeros", options).unwrap();
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..GIB / chunk.len() as u64 {
            zip.write_all(&chunk).unwrap();
        }
        let bytes = zip.finish().unwrap().into_inner();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        let entry = archive.by_index_raw(0).unwrap();
        let start = usize::try_from(entry.data_start()).unwrap();
        let len = usize::try_from(entry.compressed_size()).unwrap();
        (bytes[start..start + len].to_vec(), entry.crc32())
    })
}

/// A zip whose one deflated stream (1 GiB of zeros) is listed under every name of `names`, all entries pointing at
/// the same local header and declaring `declared` bytes. One name and a small `declared`: a root document that
/// lies about its size. Many names: the overlapping-entries bomb.
fn zip_bomb(names: &[String], declared: u32) -> Vec<u8> {
    let (stream, crc) = gib_of_zeros();
    let compressed = u32::try_from(stream.len()).unwrap();
    let mut out = Vec::new();
    let first = names[0].as_bytes();
    // Local file header of the first name.
    out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    out.extend_from_slice(&20u16.to_le_bytes()); // version needed
    out.extend_from_slice(&0u16.to_le_bytes()); // flags
    out.extend_from_slice(&8u16.to_le_bytes()); // deflated
    out.extend_from_slice(&0u16.to_le_bytes()); // time
    out.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&compressed.to_le_bytes());
    out.extend_from_slice(&declared.to_le_bytes());
    out.extend_from_slice(&u16::try_from(first.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // extra length
    out.extend_from_slice(first);
    out.extend_from_slice(stream);
    let directory_start = u32::try_from(out.len()).unwrap();
    for name in names {
        out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes()); // made by
        out.extend_from_slice(&20u16.to_le_bytes()); // needed
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&8u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&0x21u16.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&compressed.to_le_bytes());
        out.extend_from_slice(&declared.to_le_bytes());
        out.extend_from_slice(&u16::try_from(name.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&[0u8; 2 + 2 + 2 + 2 + 4]); // extra, comment, disk, internal, external attributes
        out.extend_from_slice(&0u32.to_le_bytes()); // every entry: the one local header at offset 0
        out.extend_from_slice(name.as_bytes());
    }
    let directory_len = u32::try_from(out.len()).unwrap() - directory_start;
    let count = u16::try_from(names.len()).unwrap();
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0u8; 4]); // disk numbers
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&directory_len.to_le_bytes());
    out.extend_from_slice(&directory_start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// The 1 GiB `.twb` that declares 1,000 bytes.
fn lying_root_document() -> Vec<u8> {
    zip_bomb(&["Book.twb".to_owned()], 1000)
}

/// 2,000 entries (the root `.twb` first) over the one 1 GiB stream, each honestly declaring 1 GiB.
fn overlapping_entries() -> Vec<u8> {
    let mut names = vec!["Book.twb".to_owned()];
    names.extend((1..2000).map(|i| format!("Data/Extracts/part{i:04}.hyper")));
    zip_bomb(&names, u32::try_from(GIB).unwrap())
}

/// A one-workbook manifest for `file` in `dir` (the embedded site unless `--server` is given).
fn manifest_with(dir: &Path, content_url: &str, file: &str) -> PathBuf {
    let manifest = dir.join("manifest.yaml");
    std::fs::write(
        &manifest,
        format!(
            "version: 1\nsite:\n  server: local\n  content_url: {content_url}\nprojects:\n  - name: Sales\n\
             workbooks:\n  - name: Bomb\n    project: Sales\n    file: {file}\n"
        ),
    )
    .unwrap();
    manifest
}

#[test]
fn zip_bomb_lying_root_document_is_refused_by_validate_and_plan() {
    let harness = Harness::start();
    let dir = harness.dir.path().join("repo");
    std::fs::create_dir_all(dir.join("content")).unwrap();
    std::fs::write(dir.join("content/bomb.twbx"), lying_root_document()).unwrap();
    let manifest = manifest_with(&dir, "acme", "content/bomb.twbx");
    let run = measured(&mut tabops(&dir, &["validate", "-f", path_str(&manifest)])).bounded("validate");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("inflates to more than the 1000 bytes it declares"), "{}", run.stderr);

    let url = harness.url();
    let state = harness.state_dir();
    let args = ["plan", "-f", path_str(&manifest), "--server", &url, "--state-dir", path_str(&state)];
    let run = measured(&mut tabops(&dir, &args)).bounded("plan");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("inflates to more than the 1000 bytes it declares"), "{}", run.stderr);
    // The plan hashes work-tree files while it reads the site: the problem names the manifest file (not `.`) and
    // the error says what did happen (a read) and what did not (a write).
    assert!(
        run.stderr.contains("manifest.yaml: error: cannot hash the content file of workbook:Sales/Bomb"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("cannot be read; the site was read, nothing was written to it"), "{}", run.stderr);
    assert_eq!(content_writes(&harness.stats()), 0, "refused before any write");
}

#[test]
fn zip_bomb_overlapping_entries_is_refused_by_validate_plan_and_plan_base() {
    let harness = Harness::start();
    let dir = harness.dir.path().join("repo");
    std::fs::create_dir_all(dir.join("content")).unwrap();
    manifest_with(&dir, "acme", "content/book.twbx");
    // The base revision holds an honest package; the change replaces it with the bomb.
    let mut honest = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    honest.start_file("Book.twb", zip::write::SimpleFileOptions::default()).unwrap();
    honest
        .write_all(b"<?xml version='1.0'?><workbook><worksheets><worksheet name='A'/></worksheets></workbook>")
        .unwrap();
    std::fs::write(dir.join("content/book.twbx"), honest.finish().unwrap().into_inner()).unwrap();
    let repo = support::init_repo(&dir);
    support::commit_all(&repo, &["*"], "honest workbook");
    let bomb = overlapping_entries();
    assert!(bomb.len() < 2 * 1024 * 1024, "the bomb is a small file: {} bytes", bomb.len());
    std::fs::write(dir.join("content/book.twbx"), &bomb).unwrap();
    support::commit_all(&repo, &["*"], "bomb");

    let url = harness.url();
    let state = harness.state_dir();
    let server = ["--server", url.as_str(), "--state-dir", path_str(&state)];
    let runs: [(&str, Vec<&str>); 3] = [
        ("validate", vec!["validate", "-f", "manifest.yaml"]),
        ("plan", [&["plan", "-f", "manifest.yaml"][..], &server[..]].concat()),
        ("plan --base", [&["plan", "-f", "manifest.yaml", "--base", "HEAD~1"][..], &server[..]].concat()),
    ];
    for (what, args) in runs {
        let run = measured(&mut tabops(&dir, &args)).bounded(what);
        assert_eq!(run.code, 1, "{what}: {run:?}");
        assert!(
            run.stderr.contains("bytes in total") || run.stderr.contains("share compressed data"),
            "{what}: {}",
            run.stderr
        );
    }
    assert_eq!(content_writes(&harness.stats()), 0, "refused before any write");
}

#[test]
fn zip_bomb_on_the_site_is_refused_by_export_in_bounded_memory() {
    let harness = Harness::start();
    let bomb = harness.dir.path().join("bomb.twbx");
    std::fs::write(&bomb, lying_root_document()).unwrap();
    let client = harness.client();
    harness.block_on(async {
        let projects = client.projects().await.unwrap();
        let default = projects.iter().find(|p| p.name == "default").unwrap();
        let request = tabops_tableau::PublishRequest {
            file: bomb.clone(),
            file_type: None,
            name: "Bomb".into(),
            project_id: default.id.clone(),
            show_tabs: false,
            description: None,
            hidden_views: Vec::new(),
            connections: Vec::new(),
            mode: tabops_tableau::PublishMode::CreateNew,
            as_job: false,
            expected: None,
        };
        client.publish_workbook(&request).await.unwrap();
        let _ = client.sign_out().await;
    });
    let out = harness.dir.path().join("export");
    let url = harness.url();
    let state = harness.state_dir();
    let audit = harness.audit_log();
    let args = [
        "export",
        "--out",
        path_str(&out),
        "--server",
        &url,
        "--state-dir",
        path_str(&state),
        "--audit-log",
        path_str(&audit),
        // Asked to adopt: a refused export still tags nothing.
        "--adopt",
    ];
    let writes = content_writes(&harness.stats());
    let run = measured(&mut tabops(harness.dir.path(), &args)).bounded("export");
    // The download is kept as served, but the exported manifest must load back, and its hash refuses the bomb.
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("does not load back"), "{}", run.stderr);
    assert_eq!(content_writes(&harness.stats()), writes, "export adopted nothing");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Every file under `dir`, for "nothing was written" checks.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = walk(dir);
    files.sort();
    files
}

#[test]
fn content_url_traversal_and_absolute_paths_write_no_state_file() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().canonicalize().unwrap();
    let repo = root.join("a/b/c/repo");
    std::fs::create_dir_all(repo.join("content")).unwrap();
    std::fs::copy(support::workspace().join("examples/quickstart/content/pipeline.twb"), repo.join("content/p.twb"))
        .unwrap();
    let absolute = root.join("abs").display().to_string();
    for content_url in ["../../../x", "'../../../../../../tmp/tabops-hostile-x'", absolute.as_str(), "a/b", "a b"] {
        let manifest = manifest_with(&repo, content_url, "content/p.twb");
        let before = files_under(&root);
        for command in ["validate", "plan"] {
            let run = measured(&mut tabops(&repo, &[command, "-f", path_str(&manifest)])).bounded(command);
            assert_eq!(run.code, 1, "{command} with content_url {content_url}: {run:?}");
            assert!(run.stderr.contains("may contain only ASCII letters, digits"), "{}", run.stderr);
            assert_eq!(files_under(&root), before, "{command} with content_url {content_url} wrote a file");
        }
    }
    // The flag and the environment variable bypass the manifest's checks: the CLI refuses them itself.
    let manifest = manifest_with(&repo, "acme", "content/p.twb");
    let before = files_under(&root);
    let run =
        measured(&mut tabops(&repo, &["plan", "-f", path_str(&manifest), "--site", "../../../x"])).bounded("--site");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("invalid site content URL"), "{}", run.stderr);
    let run = measured(tabops(&repo, &["plan", "-f", path_str(&manifest)]).env("TABLEAU_SITE", &absolute))
        .bounded("TABLEAU_SITE");
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(files_under(&root), before, "a refused --site wrote a file");
    assert!(!Path::new("/tmp/tabops-hostile-x.json").exists());
    assert!(!root.join("abs.json").exists() && !root.join("a/x.json").exists());
}

/// The quick-start manifest copied into the harness, planned against its emulator.
fn apply_args<'a>(harness: &'a Harness, manifest: &'a str, url: &'a str, audit: &'a str) -> Vec<String> {
    let state = harness.state_dir();
    ["apply", "-f", manifest, "--auto-approve", "--server", url, "--site", "acme", "--audit-log", audit, "--state-dir"]
        .iter()
        .map(|s| s.to_string())
        .chain([path_str(&state).to_owned()])
        .collect()
}

#[test]
fn audit_log_symlink_fifo_and_dev_zero_are_refused() {
    let harness = Harness::start();
    let manifest = harness.copy_example("quickstart", "quickstart");
    let manifest = path_str(&manifest).to_owned();
    let url = harness.url();
    let dir = harness.dir.path();

    // A symlink to a file of the user's: not followed, not appended to.
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let link = dir.join("audit-link.jsonl");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let args = apply_args(&harness, &manifest, &url, path_str(&link));
    let run = measured(&mut tabops(dir, &args.iter().map(String::as_str).collect::<Vec<_>>())).bounded("symlink");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(content_writes(&harness.stats()), 0, "no write to the site without an audit log");

    // A FIFO: refused at once instead of hanging until a reader comes.
    let fifo = dir.join("audit.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let args = apply_args(&harness, &manifest, &url, path_str(&fifo));
    let run = measured(&mut tabops(dir, &args.iter().map(String::as_str).collect::<Vec<_>>())).bounded("fifo");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    assert_eq!(content_writes(&harness.stats()), 0);

    // `audit verify` on a device that never ends, and on a symlink, and on a huge file without a newline.
    let run = measured(&mut tabops(dir, &["audit", "verify", "/dev/zero"])).bounded("verify /dev/zero");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    let run = measured(&mut tabops(dir, &["audit", "verify", path_str(&link)])).bounded("verify symlink");
    assert_eq!(run.code, 1, "{run:?}");
    let endless = dir.join("endless.jsonl");
    std::fs::File::create(&endless).unwrap().set_len(GIB).unwrap();
    let run = measured(&mut tabops(dir, &["audit", "verify", path_str(&endless)])).bounded("verify 1 GiB line");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("line is longer than"), "{run:?}");
}

#[test]
fn planted_emulator_state_cannot_make_apply_delete_a_file() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    support::copy_dir(&support::workspace().join("examples/quickstart"), &cwd.join("site"));
    // A first apply to the embedded site creates `.tabops/local/acme.json` and its blob files.
    let run = measured(&mut tabops(cwd, &["apply", "-f", "site", "--auto-approve"])).bounded("first apply");
    assert_eq!(run.code, 0, "{run:?}");
    let state_file = cwd.join(".tabops/local/acme.json");
    let state = std::fs::read_to_string(&state_file).unwrap();
    let blob_dir = cwd.join(".tabops/local/acme.json.blobs");
    let blobs = files_under(&blob_dir);
    assert!(!blobs.is_empty(), "the embedded site keeps content files in {}", blob_dir.display());

    // Point every content file of the state at a file of the user's, then change a workbook so apply replaces it
    // (replacing deletes the old content file).
    let victim = cwd.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let mut planted = state.clone();
    for blob in &blobs {
        planted = planted
            .replace(&path_str(blob).replace(path_str(cwd), "").trim_start_matches('/').to_owned(), path_str(&victim));
    }
    assert_ne!(planted, state, "the state names its blob files");
    std::fs::write(&state_file, &planted).unwrap();
    support::edit(&cwd.join("site/content/pipeline.twb"), "</workbook>", "<!-- changed --></workbook>");
    let run = measured(&mut tabops(cwd, &["apply", "-f", "site", "--auto-approve"])).bounded("apply on planted state");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("refusing emulator state file"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n", "the planted path was not touched");
    assert_eq!(std::fs::read_to_string(&state_file).unwrap(), planted, "the refused state is left as it was");
}

#[test]
fn emulator_refuses_a_public_listen_with_the_default_token() {
    let work = tempfile::tempdir().unwrap();
    let mut cmd = tabops(work.path(), &["emulator", "--listen", "0.0.0.0:0"]);
    let run = measured(&mut cmd).bounded("emulator --listen 0.0.0.0");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("not a loopback address"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "never listened: {}", run.stdout);
}
