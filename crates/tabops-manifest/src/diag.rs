//! Diagnostics: every problem found in a manifest, with file, line, column, field path and an optional hint.
//!
//! The loader never stops at the first semantic error; it collects them all here so one `tabops validate` run
//! shows everything that needs fixing.

use std::fmt;
use std::path::PathBuf;

/// One problem in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The manifest file, as shown to the user (relative to the current directory when possible).
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no single position (e.g. a whole file is unreadable).
    pub line: usize,
    /// 1-based; 0 when unknown.
    pub column: usize,
    /// Where in the document, e.g. `projects[0].projects[1].permissions[0].template`; empty for the whole file.
    pub field: String,
    pub message: String,
    pub hint: Option<String>,
}

/// All problems found in one load, sorted by file, line and column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
    pub(crate) fn sorted(mut self) -> Self {
        self.0.sort_by(|a, b| {
            (&a.file, a.line, a.column, &a.field, &a.message).cmp(&(&b.file, b.line, b.column, &b.field, &b.message))
        });
        self.0.dedup();
        self
    }
}

impl Diagnostic {
    /// The diagnostic labelled `warning:` instead of `error:` (the same layout otherwise).
    pub fn as_warning(&self) -> impl fmt::Display + '_ {
        Labelled(self, "warning")
    }
}

struct Labelled<'a>(&'a Diagnostic, &'static str);

impl fmt::Display for Labelled<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(f, self.1)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, "error")
    }
}

impl Diagnostic {
    fn write(&self, f: &mut fmt::Formatter<'_>, label: &str) -> fmt::Result {
        let file = self.file.display();
        match (self.line, self.column) {
            (0, _) => write!(f, "{file}: {label}: {}", self.message)?,
            (line, 0) => write!(f, "{file}:{line}: {label}: {}", self.message)?,
            (line, column) => write!(f, "{file}:{line}:{column}: {label}: {}", self.message)?,
        }
        if !self.field.is_empty() {
            write!(f, "\n  field: {}", self.field)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            writeln!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

/// The closest candidate to `input`, for "did you mean" hints. Compares case-insensitively.
pub(crate) fn suggest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let needle = input.to_lowercase();
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(&needle, &candidate.to_lowercase()), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// `Some("did you mean `x`?")` when a candidate is close enough.
pub(crate) fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    suggest(input, candidates).map(|s| format!("did you mean `{s}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        assert_eq!(suggest("show_tab", ["show_tabs", "tags", "owner"]), Some("show_tabs"));
        assert_eq!(suggest("zzz", ["show_tabs", "tags"]), None);
    }

    #[test]
    fn renders_one_block_per_error() {
        let d = Diagnostics(vec![Diagnostic {
            file: PathBuf::from("m/a.yaml"),
            line: 3,
            column: 5,
            field: "projects[0].nme".into(),
            message: "unknown key `nme` in project".into(),
            hint: Some("did you mean `name`?".into()),
        }]);
        assert_eq!(
            d.to_string(),
            "m/a.yaml:3:5: error: unknown key `nme` in project\n  field: projects[0].nme\n  hint: did you mean `name`?\n"
        );
    }
}
