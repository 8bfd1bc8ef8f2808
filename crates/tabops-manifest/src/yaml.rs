//! Turning a manifest file's bytes into a [`Node`] tree, safely: size, encoding, nesting depth and alias
//! expansion are all bounded before or while parsing, so a hostile or broken file fails fast with a clear message.

use serde_saphyr::budget::BudgetBreach;

use crate::node::Node;

/// Largest manifest file accepted.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Deepest nesting of maps and lists accepted.
pub const MAX_DEPTH: usize = 64;
/// Stack of the parser thread: MAX_DEPTH levels of recursive deserialisation need several MiB in debug builds.
const PARSE_STACK_BYTES: usize = 64 * 1024 * 1024;
/// Most events that aliases may replay in one file (stops "billion laughs" alias bombs).
const MAX_REPLAYED_EVENTS: usize = 10_000;

/// Why a file could not be parsed. Positions are 1-based; 0 means unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseProblem {
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl ParseProblem {
    fn new(line: usize, column: usize, message: impl Into<String>, hint: Option<&str>) -> Self {
        Self { line, column, message: message.into(), hint: hint.map(str::to_owned) }
    }
}

/// The message for a file over [`MAX_FILE_BYTES`].
pub fn too_large(size: u64) -> ParseProblem {
    ParseProblem::new(
        0,
        0,
        format!(
            "manifest file is {:.1} MiB; the limit is {} MiB",
            size as f64 / (1024.0 * 1024.0),
            MAX_FILE_BYTES / (1024 * 1024)
        ),
        Some("split the manifest into a directory of smaller files"),
    )
}

/// Parse one manifest file. `None` for an empty document.
pub fn parse(bytes: &[u8]) -> Result<Option<Node>, ParseProblem> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let valid = &bytes[..err.valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&valid[line_start..]).chars().count() + 1;
            return Err(ParseProblem::new(
                line,
                column,
                format!("invalid UTF-8 (byte offset {})", err.valid_up_to()),
                Some("manifests must be UTF-8 text; re-save the file as UTF-8"),
            ));
        }
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    // Deserialising a `Node` recurses once per nesting level with large frames (serde + span tracking), so a file
    // nested just under MAX_DEPTH overflowed a 2 MiB thread stack (tokio's workers) before the depth budget
    // refused it. Parse on a thread whose stack fits MAX_DEPTH levels with room to spare.
    let parsed = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("manifest-yaml".to_owned())
            .stack_size(PARSE_STACK_BYTES)
            .spawn_scoped(scope, || parse_text(text))
            .map(|handle| handle.join())
    });
    match parsed {
        Ok(Ok(result)) => result,
        Ok(Err(_panic)) => Err(ParseProblem::new(0, 0, "the YAML parser failed on this file", None)),
        Err(spawn) => Err(ParseProblem::new(0, 0, format!("cannot start the YAML parser: {spawn}"), None)),
    }
}

/// The budgeted parse itself (runs on the parser thread).
fn parse_text(text: &str) -> Result<Option<Node>, ParseProblem> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_documents: 1,
            max_reader_input_bytes: Some(MAX_FILE_BYTES as usize),
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_EVENTS,
        },
    };
    match serde_saphyr::from_str_with_options::<Option<Node>>(text, options) {
        Ok(node) => Ok(node.filter(|n| n.value != crate::node::Value::Null)),
        Err(err) => Err(describe(&err)),
    }
}

fn describe(err: &serde_saphyr::Error) -> ParseProblem {
    let (line, column) = err
        .location()
        .map(|l| (usize::try_from(l.line()).unwrap_or(0), usize::try_from(l.column()).unwrap_or(0)))
        .unwrap_or((0, 0));
    let inner = err.without_snippet();
    if let serde_saphyr::Error::Budget { breach, .. } = inner {
        return match breach {
            BudgetBreach::Depth { .. } => too_deep(line, column),
            BudgetBreach::Aliases { .. }
            | BudgetBreach::AliasAnchorRatio { .. }
            | BudgetBreach::RecordedAnchorEvents { .. }
            | BudgetBreach::RecordedAnchorBytes { .. } => alias_bomb(line, column),
            BudgetBreach::Documents { .. } => ParseProblem::new(
                line,
                column,
                "more than one YAML document in one file",
                Some("put each document in its own file of a directory manifest"),
            ),
            other => ParseProblem::new(line, column, format!("YAML input exceeds a safety limit ({other:?})"), None),
        };
    }
    let message = first_line(&inner.to_string());
    if message.contains("alias") && (message.contains("limit") || message.contains("exceed")) {
        return alias_bomb(line, column);
    }
    // Deep flow nesting (`[[[[...`) trips the parser's own recursion guard before the depth budget sees it.
    if message.contains("recursion limit") {
        return too_deep(line, column);
    }
    ParseProblem::new(line, column, format!("invalid YAML: {message}"), None)
}

fn too_deep(line: usize, column: usize) -> ParseProblem {
    ParseProblem::new(
        line,
        column,
        format!("nesting is deeper than {MAX_DEPTH} levels"),
        Some("manifests never need this much nesting; is the file generated by mistake?"),
    )
}

fn alias_bomb(line: usize, column: usize) -> ParseProblem {
    ParseProblem::new(
        line,
        column,
        "YAML aliases expand to too much data (alias bomb)",
        Some("anchors and aliases (`&a` / `*a`) may only repeat small fragments"),
    )
}

/// serde-saphyr messages may carry a location suffix and a snippet; keep just the message.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    match line.find(" at line ") {
        Some(i) => line[..i].to_owned(),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Value;

    #[test]
    fn nodes_carry_positions() {
        let node = parse(b"version: 1\nprojects:\n  - name: Sales\n").unwrap().unwrap();
        let Value::Map(entries) = &node.value else { panic!("expected a map") };
        let (key, value) = &entries[1];
        assert_eq!((key.line, key.column), (2, 1));
        let Value::Seq(items) = &value.value else { panic!("expected a list") };
        let Value::Map(project) = &items[0].value else { panic!("expected a map") };
        assert_eq!((project[0].1.line, project[0].1.column), (3, 11));
        assert_eq!(project[0].1.value, Value::Str("Sales".into()));
    }

    #[test]
    fn rejects_deep_nesting_and_bad_utf8() {
        let deep = format!("{}1{}", "[".repeat(80), "]".repeat(80));
        assert!(parse(deep.as_bytes()).unwrap_err().message.contains("deeper than 64"));
        let err = parse(b"version: 1\nname: caf\xe9\n").unwrap_err();
        assert_eq!((err.line, err.column), (2, 10));
    }

    #[test]
    fn rejects_alias_bombs_fast() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = (b'a' + i - 1) as char;
            let cur = (b'a' + i) as char;
            text.push_str(&format!("{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let started = std::time::Instant::now();
        let err = parse(text.as_bytes()).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{err:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
