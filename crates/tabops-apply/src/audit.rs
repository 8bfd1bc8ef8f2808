//! The append-only audit log: one JSON object per line, each carrying the sha256 of the line before it.
//!
//! Why a hash chain: the log is the record of what tabops did to a production site. Editing or deleting a line in
//! the middle breaks every later link, and `tabops audit verify` reports the first line where the chain fails.
//!
//! Durability and concurrency: every append takes an exclusive lock on the file, reads the last line to link to
//! it, writes the new line and syncs it to disk before returning. So an `action_start` record is on disk before the
//! request it announces is sent, and two applies writing to the same log interleave whole, linked lines.
//!
//! A crash can leave a torn last line (no newline), and a kill during the append that recovers it can tear that
//! one too. The next writer does not rewrite history: it ends the last line with a newline and appends one
//! `log_recovered` record that names every unreadable line since the last whole record (by sha256) and links to
//! that record. `verify` reports such lines as recovered rather than as a broken chain. (A crash between a whole
//! record and its newline lost nothing: the next writer only ends that line and links to it.)
//!
//! Secrets: records are built by the executor from plan data that never holds secret values, and as a second line
//! of defence every value registered with [`AuditLog::redact`] is replaced by `<redacted>` inside the record's string
//! values before a line is written (never across the JSON syntax, so the line stays valid whatever the secret is).

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev` of the first line of a log.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How far back from the end of the file to look for the last line (records are far smaller than this).
const TAIL_WINDOW: u64 = 1 << 20;

/// Longest line `verify` reads: records are a few hundred bytes, a long error message a few KiB. Without a cap a
/// file without newlines (or `/dev/zero`) would be read into memory until the process aborts.
const MAX_LINE_BYTES: u64 = 16 << 20;

/// Furthest back from the end the writer looks for the last whole record (four line caps: torn fragments after
/// the last record included). Past it the file is refused rather than read whole.
const MAX_TAIL_WINDOW: u64 = 4 * MAX_LINE_BYTES;

/// Opens the log itself and nothing else: not through a symlink in its last component (`O_NOFOLLOW`), and only
/// a regular file (a FIFO would hang the apply, `/dev/zero` would never end). `O_NONBLOCK` makes opening a FIFO
/// fail or return at once instead of waiting for a reader; it changes nothing for a regular file.
/// The flags close the race between the check on the path (for a clear message) and the open.
fn open_regular(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    let symlink = || io::Error::new(io::ErrorKind::InvalidInput, "it is a symbolic link, not a regular file");
    let irregular = || io::Error::new(io::ErrorKind::InvalidInput, "it is not a regular file");
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => return Err(symlink()),
        Ok(meta) if !meta.is_file() => return Err(irregular()),
        _ => {}
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|err| {
        #[cfg(unix)]
        if err.raw_os_error() == Some(libc::ELOOP) {
            return symlink();
        }
        err
    })?;
    if !file.metadata()?.is_file() {
        return Err(irregular());
    }
    Ok(file)
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot open audit log {}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot write to audit log {}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot read audit log {}", path.display())]
    Read { path: PathBuf, source: io::Error },
}

/// One line of the log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// Event type: `apply_start`, `action_start`, `action_retry`, `action_complete`, `action_errored`,
    /// `action_skipped`, `action_settled` (a refresh task of this run that gave way to an equal one with a lower id),
    /// `apply_complete`, `log_recovered`; for `tabops refresh`: `refresh_start` (before the request),
    /// `refresh_started` (with the job id), `refresh_refused` (Tableau's answer) and `refresh_complete` (the job's
    /// outcome).
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339 UTC time of the event.
    pub time: String,
    /// The apply run this event belongs to.
    pub run_id: String,
    /// sha256 (hex) of the previous line's bytes, or [`GENESIS`].
    pub prev: String,
    pub data: serde_json::Value,
}

/// A handle for appending to one audit log file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
    run_id: String,
    redactions: Vec<String>,
}

impl AuditLog {
    /// Opens (creating the file and its directory if needed) the log at `path` for the run `run_id`.
    pub fn open(path: impl Into<PathBuf>, run_id: impl Into<String>) -> Result<AuditLog, AuditError> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| AuditError::Open { path: path.clone(), source })?;
        }
        open_regular(&path, OpenOptions::new().create(true).append(true))
            .map_err(|source| AuditError::Open { path: path.clone(), source })?;
        Ok(AuditLog { path, run_id: run_id.into(), redactions: Vec::new() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Never write `secret` to the log: occurrences in a record's string values are replaced by `<redacted>` (see
    /// `MIN_SUBSTRING_SECRET` for very short secrets).
    pub fn redact(&mut self, secret: impl Into<String>) {
        let secret = secret.into();
        if !secret.is_empty() {
            self.redactions.push(secret);
        }
    }

    /// Appends one event and syncs it to disk before returning.
    pub fn append(&self, kind: &str, data: serde_json::Value) -> Result<(), AuditError> {
        let write_err = |source| AuditError::Write { path: self.path.clone(), source };
        let mut file = open_regular(&self.path, OpenOptions::new().read(true).append(true)).map_err(write_err)?;
        file.lock().map_err(write_err)?;
        let result = self.append_locked(&mut file, kind, data);
        let _ = file.unlock();
        result.map_err(write_err)
    }

    fn append_locked(&self, file: &mut File, kind: &str, data: serde_json::Value) -> io::Result<()> {
        let tail = read_tail(file)?;
        let mut prev = tail.anchor.unwrap_or_else(|| GENESIS.to_string());
        // Everything this call writes goes out in one `write`. The kernel may still cut it short when the process is
        // killed, but only as a prefix: whatever it leaves unreadable, the next append acknowledges.
        let mut out = String::new();
        if tail.unterminated {
            out.push('\n');
        }
        if !tail.unreadable.is_empty() {
            // Lines a crash left unreadable (a torn record, or a torn recovery record after it) stay as they are:
            // one recovery record names them all and links to the last intact record, so history is never rewritten.
            let digests: Vec<String> = tail.unreadable.iter().map(|line| hex::encode(Sha256::digest(line))).collect();
            let bytes: usize = tail.unreadable.iter().map(Vec::len).sum();
            let recovered = self.line(
                "log_recovered",
                serde_json::json!({ "torn_lines": digests.len(), "torn_bytes": bytes, "torn_sha256": digests }),
                &prev,
            );
            prev = hex::encode(Sha256::digest(recovered.as_bytes()));
            out.push_str(&recovered);
            out.push('\n');
        }
        out.push_str(&self.line(kind, data, &prev));
        out.push('\n');
        file.write_all(out.as_bytes())?;
        file.sync_data()
    }

    fn line(&self, kind: &str, mut data: serde_json::Value, prev: &str) -> String {
        self.redact_value(&mut data);
        let record = Record {
            kind: kind.to_string(),
            time: now_rfc3339(),
            run_id: self.run_id.clone(),
            prev: prev.to_string(),
            data,
        };
        serde_json::to_string(&record).unwrap_or_default()
    }

    /// Redacts inside string values only, so the record stays valid JSON whatever the secret looks like.
    fn redact_value(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) => {
                for secret in &self.redactions {
                    if secret.chars().count() >= MIN_SUBSTRING_SECRET {
                        if text.contains(secret.as_str()) {
                            *text = text.replace(secret.as_str(), "<redacted>");
                        }
                    } else if text == secret {
                        *text = "<redacted>".to_owned();
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|item| self.redact_value(item)),
            serde_json::Value::Object(fields) => fields.values_mut().for_each(|field| self.redact_value(field)),
            _ => {}
        }
    }
}

/// Secrets at least this long are redacted wherever they appear inside a string; shorter ones only where a whole
/// string equals them. Replacing every `a` of a record because some password is `a` would destroy the record
/// (and protect nothing: such a secret is not recognisable in text anyway).
const MIN_SUBSTRING_SECRET: usize = 6;

struct Tail {
    /// sha256 of the last line that is a whole record: what the next record links to.
    anchor: Option<String>,
    /// Lines after the anchor that are not records (torn by a crash), oldest first, the unterminated one included.
    unreadable: Vec<Vec<u8>>,
    /// The file does not end with a newline.
    unterminated: bool,
}

fn is_record(line: &[u8]) -> bool {
    serde_json::from_slice::<Record>(line).is_ok()
}

/// Reads the end of the log: the last whole record and whatever a crash left after it. A whole record that only
/// lacks its newline (a writer killed right before it) counts as whole: nothing of it was lost. Reads
/// [`TAIL_WINDOW`] bytes, and more (four times as much each round, up to the whole file) while that holds no
/// whole record: a very long error message or a large torn fragment must not make the next record link to nothing.
fn read_tail(file: &mut File) -> io::Result<Tail> {
    let len = file.seek(SeekFrom::End(0))?;
    let mut window = TAIL_WINDOW;
    loop {
        let start = len.saturating_sub(window);
        // One byte before the window says whether it starts on a line boundary.
        let from = start.saturating_sub(1);
        file.seek(SeekFrom::Start(from))?;
        let mut buf = Vec::with_capacity((len - from) as usize);
        file.read_to_end(&mut buf)?;
        let starts_mid_line = start > 0 && buf.first() != Some(&b'\n');
        let buf = if start > 0 { &buf[1..] } else { &buf[..] };
        let tail = parse_tail(buf, starts_mid_line);
        if tail.anchor.is_some() || start == 0 {
            file.seek(SeekFrom::End(0))?;
            return Ok(tail);
        }
        if window >= MAX_TAIL_WINDOW {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the last {MAX_TAIL_WINDOW} bytes of the log hold no whole record (not an audit log?)"),
            ));
        }
        window = window.saturating_mul(4);
    }
}

/// [`read_tail`] on the bytes read; `starts_mid_line`: the first line is the end of one that began earlier.
fn parse_tail(buf: &[u8], starts_mid_line: bool) -> Tail {
    let unterminated = buf.last().is_some_and(|&b| b != b'\n');
    // The lines as `verify` reads them: an empty file has none, "\n" has one (empty) line.
    let body = buf.strip_suffix(b"\n").unwrap_or(buf);
    let mut lines: Vec<&[u8]> = if buf.is_empty() { Vec::new() } else { body.split(|&b| b == b'\n').collect() };
    if starts_mid_line && !lines.is_empty() {
        lines.remove(0);
    }
    let mut unreadable = Vec::new();
    let mut anchor = None;
    while let Some(line) = lines.pop() {
        if is_record(line) {
            anchor = Some(hex::encode(Sha256::digest(line)));
            break;
        }
        unreadable.push(line.to_vec());
    }
    unreadable.reverse();
    Tail { anchor, unreadable, unterminated }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    /// Lines read (including torn ones).
    pub lines: usize,
    /// Distinct run ids seen.
    pub runs: usize,
    /// 1-based line numbers of torn lines that a later `log_recovered` record acknowledges.
    pub recovered: Vec<usize>,
    /// The first line where the chain fails, with the reason.
    pub first_error: Option<(usize, String)>,
    /// sha256 of the last record checked ([`GENESIS`] for an empty log). A chain cannot vouch for its own end:
    /// truncating the log at a line, or rewriting its last record, leaves a valid chain. Kept somewhere else (the
    /// CI job's output), the head shows that the log still ends where it did.
    pub head: String,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.first_error.is_none()
    }
}

/// Whether a `log_recovered` record names exactly these unreadable lines, in order.
fn acknowledges(record: &Record, pending: &[(usize, String)]) -> bool {
    let Some(serde_json::Value::Array(digests)) = record.data.get("torn_sha256") else { return false };
    !pending.is_empty()
        && record.data.get("torn_lines").and_then(|n| n.as_u64()) == Some(pending.len() as u64)
        && digests.len() == pending.len()
        && digests.iter().zip(pending).all(|(digest, (_, expected))| digest.as_str() == Some(expected.as_str()))
}

/// Checks the hash chain of the log at `path`.
pub fn verify(path: &Path) -> Result<VerifyReport, AuditError> {
    let read_err = |source| AuditError::Read { path: path.to_path_buf(), source };
    let file = open_regular(path, OpenOptions::new().read(true)).map_err(read_err)?;
    verify_from(BufReader::new(file), GENESIS).map_err(read_err)
}

/// [`verify`] on any reader, the first record linking to `start` instead of [`GENESIS`]: one run's file in the git
/// trail ([`crate::trail`]) continues the chain of the run before it.
pub fn verify_from(mut reader: impl BufRead, start: &str) -> io::Result<VerifyReport> {
    let mut report =
        VerifyReport { lines: 0, runs: 0, recovered: Vec::new(), first_error: None, head: start.to_owned() };
    let mut runs = std::collections::BTreeSet::new();
    let mut prev_digest = start.to_string();
    // Unreadable lines since the last record (a crash mid-write): the next record must acknowledge them all.
    let mut pending: Vec<(usize, String)> = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if (&mut reader).take(MAX_LINE_BYTES + 1).read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        report.lines += 1;
        let line_no = report.lines;
        if buf.len() as u64 > MAX_LINE_BYTES {
            report.first_error.get_or_insert((line_no, format!("line is longer than {MAX_LINE_BYTES} bytes")));
            break;
        }
        let terminated = buf.last() == Some(&b'\n');
        let line = if terminated { &buf[..buf.len() - 1] } else { &buf[..] };
        let record: Record = match serde_json::from_slice(line) {
            Ok(record) if terminated => record,
            _ => {
                pending.push((line_no, hex::encode(Sha256::digest(line))));
                continue;
            }
        };
        // Unreadable lines must be followed by a recovery record naming exactly them, and a recovery record must
        // name exactly the unreadable lines before it (so deleting a recovered line is caught too).
        let is_recovery = record.kind == "log_recovered";
        if (is_recovery || !pending.is_empty()) && !(is_recovery && acknowledges(&record, &pending)) {
            let reason = if pending.is_empty() {
                (line_no, "recovery record without the unreadable lines it names (deleted?)".to_owned())
            } else {
                (pending[0].0, "line is not valid JSON (torn or edited)".to_owned())
            };
            report.first_error.get_or_insert(reason);
            break;
        }
        report.recovered.extend(pending.drain(..).map(|(line, _)| line));
        if record.prev != prev_digest {
            report.first_error.get_or_insert((
                line_no,
                format!("its prev is {} but the previous line hashes to {}", record.prev, prev_digest),
            ));
            break;
        }
        runs.insert(record.run_id.clone());
        prev_digest = hex::encode(Sha256::digest(line));
    }
    if let Some((first, _)) = pending.first() {
        // The writer crashed mid-line and nothing has been appended since. Reported, not fatal: the next append
        // records the recovery.
        report.first_error.get_or_insert((*first, "last line is torn (the writer stopped mid-line)".into()));
    }
    report.runs = runs.len();
    report.head = prev_digest;
    Ok(report)
}

/// Whether the log at `path` holds a record line whose sha256 is `head` (hex, any case): a head kept from an
/// earlier `verify` or apply is still in the log.
pub fn contains_record(path: &Path, head: &str) -> Result<bool, AuditError> {
    let read_err = |source| AuditError::Read { path: path.to_path_buf(), source };
    let file = open_regular(path, OpenOptions::new().read(true)).map_err(read_err)?;
    let head = head.to_ascii_lowercase();
    let mut reader = BufReader::new(file);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if (&mut reader).take(MAX_LINE_BYTES + 1).read_until(b'\n', &mut buf).map_err(read_err)? == 0 {
            return Ok(false);
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if is_record(line) && hex::encode(Sha256::digest(line)) == head {
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn log_in(dir: &tempfile::TempDir, run: &str) -> AuditLog {
        AuditLog::open(dir.path().join("audit.jsonl"), run).expect("open log")
    }

    #[test]
    fn a_fresh_chain_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_in(&dir, "run-1");
        log.append("apply_start", json!({"actions": 2})).unwrap();
        log.append("action_start", json!({"address": "project:Sales"})).unwrap();
        log.append("apply_complete", json!({"ok": true})).unwrap();
        let second = log_in(&dir, "run-2");
        second.append("apply_start", json!({})).unwrap();
        let report = verify(log.path()).unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!((report.lines, report.runs), (4, 2));
        let first: Record =
            serde_json::from_str(std::fs::read_to_string(log.path()).unwrap().lines().next().unwrap()).unwrap();
        assert_eq!(first.prev, GENESIS);
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert_eq!(report.head, hex::encode(Sha256::digest(text.lines().last().unwrap())));
        // Cutting the last record off leaves a valid chain: only a head kept elsewhere shows it.
        let shorter: String = text.lines().take(3).map(|line| format!("{line}\n")).collect();
        std::fs::write(log.path(), shorter).unwrap();
        let truncated = verify(log.path()).unwrap();
        assert!(truncated.is_ok());
        assert_ne!(truncated.head, report.head);
    }

    #[test]
    fn an_edited_line_breaks_the_chain_at_the_next_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_in(&dir, "run-1");
        for i in 0..4 {
            log.append("action_complete", json!({"n": i})).unwrap();
        }
        let text = std::fs::read_to_string(log.path()).unwrap().replace(r#""n":1"#, r#""n":9"#);
        std::fs::write(log.path(), text).unwrap();
        let report = verify(log.path()).unwrap();
        assert_eq!(report.first_error.map(|(line, _)| line), Some(3));
    }

    #[test]
    fn a_deleted_line_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_in(&dir, "run-1");
        for i in 0..3 {
            log.append("action_complete", json!({"n": i})).unwrap();
        }
        let text = std::fs::read_to_string(log.path()).unwrap();
        let kept: Vec<&str> = text.lines().enumerate().filter(|(i, _)| *i != 1).map(|(_, l)| l).collect();
        std::fs::write(log.path(), kept.join("\n") + "\n").unwrap();
        assert_eq!(verify(log.path()).unwrap().first_error.map(|(line, _)| line), Some(2));
    }

    #[test]
    fn a_torn_last_line_is_reported_then_recovered_by_the_next_append() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_in(&dir, "run-1");
        log.append("action_start", json!({"address": "workbook:Sales/Revenue"})).unwrap();
        let mut file = OpenOptions::new().append(true).open(log.path()).unwrap();
        file.write_all(br#"{"type":"action_complete","time":"2026-"#).unwrap();
        drop(file);

        let torn = verify(log.path()).unwrap();
        assert_eq!(torn.first_error.as_ref().map(|(line, _)| *line), Some(2));

        log_in(&dir, "run-2").append("apply_start", json!({})).unwrap();
        let healed = verify(log.path()).unwrap();
        assert!(healed.is_ok(), "{healed:?}");
        assert_eq!(healed.recovered, vec![2]);
        assert_eq!(healed.lines, 4);
    }

    /// A writer killed after a whole record but before its newline: the next writer ends the line and chains from
    /// it (it was never torn), instead of linking past it and breaking the chain.
    #[test]
    fn a_whole_record_missing_only_its_newline_joins_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_in(&dir, "run-1");
        log.append("apply_start", json!({})).unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        std::fs::write(log.path(), text.trim_end_matches('\n')).unwrap();
        assert!(verify(log.path()).unwrap().first_error.is_some(), "an unterminated last line is reported");

        log_in(&dir, "run-2").append("apply_start", json!({})).unwrap();
        let healed = verify(log.path()).unwrap();
        assert!(healed.is_ok(), "{healed:?}");
        assert_eq!((healed.lines, healed.runs, healed.recovered.len()), (2, 2, 0));
    }

    /// A kill can cut the recovering append short too (the kernel stops a write at a page boundary for a fatal
    /// signal), leaving a second unreadable line after the first: the next append acknowledges both.
    #[test]
    fn a_torn_recovery_is_recovered_with_the_line_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_in(&dir, "run-1");
        log.append("apply_start", json!({})).unwrap();
        let mut file = OpenOptions::new().append(true).open(log.path()).unwrap();
        file.write_all(b"{\"type\":\"action_start\",\"ti\n{\"type\":\"log_recov").unwrap();
        drop(file);
        let torn = verify(log.path()).unwrap();
        assert_eq!(torn.first_error.as_ref().map(|(line, _)| *line), Some(2), "{torn:?}");

        log_in(&dir, "run-2").append("apply_start", json!({})).unwrap();
        let healed = verify(log.path()).unwrap();
        assert!(healed.is_ok(), "{healed:?}");
        assert_eq!((healed.lines, healed.recovered.clone()), (5, vec![2, 3]));
        log_in(&dir, "run-3").append("apply_start", json!({})).unwrap();
        assert!(verify(log.path()).unwrap().is_ok());
    }

    /// Lines longer than the tail window (a huge error message, large torn fragments) and a window starting
    /// exactly on a line: the next record still links to the last whole one and names every torn line.
    #[test]
    fn lines_longer_than_the_tail_window_keep_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_in(&dir, "run-1");
        log.append("apply_start", json!({})).unwrap();
        log.append("action_errored", json!({ "error": "e".repeat(TAIL_WINDOW as usize + 10) })).unwrap();
        log.append("apply_complete", json!({})).unwrap();
        assert!(verify(log.path()).unwrap().is_ok());

        for _ in 0..4 {
            append_raw(log.path(), &[b'x'; 300 * 1024]);
            append_raw(log.path(), b"\n");
        }
        append_raw(log.path(), &[b'{'; 1_200_000]);
        log.append("apply_start", json!({})).unwrap();
        let report = verify(log.path()).unwrap();
        assert!(report.is_ok(), "{:?}", report.first_error);
        assert_eq!(report.recovered.len(), 5);

        // The last record plus its newline exactly fills the window.
        let dir = tempfile::tempdir().unwrap();
        let log = log_in(&dir, "run-1");
        log.append("apply_start", json!({})).unwrap();
        let before = std::fs::metadata(log.path()).unwrap().len();
        log.append("action_errored", json!({ "error": "" })).unwrap();
        let empty_line = std::fs::metadata(log.path()).unwrap().len() - before;
        let dir = tempfile::tempdir().unwrap();
        let log = log_in(&dir, "run-1");
        log.append("apply_start", json!({})).unwrap();
        let filler = "e".repeat((TAIL_WINDOW - empty_line) as usize);
        log.append("action_errored", json!({ "error": filler })).unwrap();
        let last = std::fs::read(log.path()).unwrap().split(|&b| b == b'\n').rev().nth(1).unwrap().len() as u64;
        assert_eq!(last + 1, TAIL_WINDOW, "the test builds a line that fills the window");
        log.append("apply_complete", json!({})).unwrap();
        assert!(verify(log.path()).unwrap().is_ok());
    }

    /// A recovered torn line is part of the record: deleting it is caught like any deletion.
    #[test]
    fn deleting_a_recovered_line_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_in(&dir, "run-1");
        log.append("apply_start", json!({})).unwrap();
        append_raw(log.path(), b"{\"type\":\"action_sta");
        log.append("apply_start", json!({})).unwrap();
        assert!(verify(log.path()).unwrap().is_ok());
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(log.path(), format!("{}\n{}\n{}\n", lines[0], lines[2], lines[3])).unwrap();
        let report = verify(log.path()).unwrap();
        assert_eq!(report.first_error.as_ref().map(|(line, _)| *line), Some(2), "{report:?}");
    }

    /// Blank lines are unreadable lines like any other, also as the whole content of the file.
    #[test]
    fn blank_lines_are_acknowledged() {
        for content in ["\n", "\n\n", " ", "\r\n"] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("audit.jsonl");
            std::fs::write(&path, content).unwrap();
            let log = AuditLog::open(&path, "run-1").unwrap();
            log.append("apply_start", json!({})).unwrap();
            let report = verify(&path).unwrap();
            assert!(report.is_ok(), "{content:?}: {report:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let log = log_in(&dir, "run-1");
        log.append("apply_start", json!({})).unwrap();
        append_raw(log.path(), b"\n");
        log.append("apply_complete", json!({})).unwrap();
        let report = verify(log.path()).unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.recovered, vec![2]);
    }

    fn append_raw(path: &Path, bytes: &[u8]) {
        OpenOptions::new().append(true).open(path).unwrap().write_all(bytes).unwrap();
    }

    /// Valid JSON that is not a record is not part of the chain either: acknowledged like any torn line.
    #[test]
    fn json_that_is_not_a_record_is_acknowledged_not_chained() {
        for fragment in [&b"{\"a\":1}"[..], b"\"x\"", b"123", b""] {
            let dir = tempfile::tempdir().unwrap();
            let log = log_in(&dir, "run-1");
            log.append("apply_start", json!({})).unwrap();
            let mut file = OpenOptions::new().append(true).open(log.path()).unwrap();
            file.write_all(fragment).unwrap();
            file.write_all(b"\n").unwrap();
            drop(file);
            assert!(!verify(log.path()).unwrap().is_ok(), "{fragment:?} is reported until recovered");
            log_in(&dir, "run-2").append("apply_start", json!({})).unwrap();
            let healed = verify(log.path()).unwrap();
            assert!(healed.is_ok(), "{fragment:?}: {healed:?}");
            assert_eq!(healed.recovered, vec![2]);
        }
    }

    /// Only a recovery record that names exactly the unreadable lines heals them: garbage inserted in the middle
    /// of a log (an edit, not a crash) stays an error.
    #[test]
    fn an_unacknowledged_unreadable_line_in_the_middle_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_in(&dir, "run-1");
        log.append("apply_start", json!({})).unwrap();
        log.append("apply_complete", json!({})).unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        let (first, rest) = text.split_once('\n').unwrap();
        std::fs::write(log.path(), format!("{first}\nnot a record\n{rest}")).unwrap();
        let report = verify(log.path()).unwrap();
        assert_eq!(report.first_error.as_ref().map(|(line, _)| *line), Some(2), "{report:?}");
    }

    #[test]
    fn redacted_values_never_reach_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = log_in(&dir, "run-1");
        log.redact("hunter2-secret");
        log.append("action_errored", json!({"error": "login failed for password hunter2-secret"})).unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert!(!text.contains("hunter2-secret"));
        assert!(text.contains("<redacted>"));
        assert!(verify(log.path()).unwrap().is_ok());
    }

    #[test]
    fn short_secrets_keep_every_line_valid_and_the_chain_intact() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = log_in(&dir, "run-1");
        for secret in ["a", "1", "\"", ":"] {
            log.redact(secret);
        }
        log.redact("s3cret-sales-XYZ");
        log.append("apply_start", json!({"actions": 118, "site": "acme"})).unwrap();
        log.append("action_errored", json!({"error": "login failed with s3cret-sales-XYZ", "password": "a"})).unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        for line in text.lines() {
            serde_json::from_str::<Record>(line).unwrap_or_else(|e| panic!("invalid line {line}: {e}"));
        }
        assert!(text.contains(r#""type":"apply_start""#) && text.contains(r#""actions":118"#), "{text}");
        assert!(text.contains(r#""password":"<redacted>""#) && !text.contains("s3cret-sales-XYZ"), "{text}");
        assert!(verify(log.path()).unwrap().is_ok());
    }

    #[test]
    fn concurrent_writers_keep_one_valid_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let log = AuditLog::open(&path, format!("run-{t}")).unwrap();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        log.append("action_complete", json!({"thread": t, "n": i})).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let report = verify(&path).unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!((report.lines, report.runs), (100, 4));
    }
}
