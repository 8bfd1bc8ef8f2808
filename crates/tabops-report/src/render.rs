//! The reports as text (a terminal), Markdown (a pull request or wiki page), JSON (versioned, `format_version`) and
//! CSV (a spreadsheet: one header row, RFC 4180 quoting). Every form carries the same rows; text and Markdown end
//! with a summary line that says how many requests the read made. Names come from the site, so text and Markdown
//! show control characters and bidirectional overrides as escapes (`tabops_plan::render::visible`); JSON and CSV
//! carry them as they are, quoted by their format.

use serde::Serialize;
use tabops_plan::render::visible;

use crate::access::AccessReport;
use crate::usage::UsageReport;

/// The version of the reports' JSON documents.
pub const FORMAT_VERSION: u32 = 1;

const ACCESS_COLUMNS: [&str; 7] = ["object", "user", "site_role", "capability", "effect", "reason", "rules_from"];
const USAGE_COLUMNS: [&str; 10] =
    ["kind", "address", "view", "project", "owner", "size", "created_at", "updated_at", "total_views", "managed"];

impl AccessReport {
    fn cells(&self) -> Vec<[String; 7]> {
        self.rows
            .iter()
            .map(|r| {
                [
                    r.object.clone(),
                    r.user.clone(),
                    r.site_role.clone(),
                    r.capability.as_str().to_owned(),
                    r.effect.as_str().to_owned(),
                    r.reason.to_string(),
                    r.rules_from.clone().unwrap_or_default(),
                ]
            })
            .collect()
    }

    fn summary(&self) -> String {
        format!(
            "{} row(s): {} user(s) on {} object(s); the site was read with {} request(s).",
            self.rows.len(),
            self.users,
            self.objects,
            self.requests
        )
    }

    pub fn render_text(&self) -> String {
        text_table(&ACCESS_COLUMNS, &self.cells(), &self.summary())
    }

    pub fn render_markdown(&self) -> String {
        markdown_table("Effective access", &ACCESS_COLUMNS, &self.cells(), &self.summary())
    }

    pub fn render_csv(&self) -> String {
        csv_table(&ACCESS_COLUMNS, &self.cells())
    }

    pub fn render_json(&self) -> String {
        json("access", self)
    }
}

impl UsageReport {
    fn cells(&self) -> Vec<[String; 10]> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let num = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
        self.rows
            .iter()
            .map(|r| {
                [
                    r.kind.as_str().to_owned(),
                    r.address.clone(),
                    opt(&r.view),
                    r.project.clone(),
                    opt(&r.owner),
                    num(r.size),
                    opt(&r.created_at),
                    opt(&r.updated_at),
                    num(r.total_views),
                    if r.managed { "yes" } else { "no" }.to_owned(),
                ]
            })
            .collect()
    }

    fn summary(&self) -> String {
        let what = match self.stale_days {
            Some(days) => format!("not updated in {days} day(s) before {}, or views never viewed", self.as_of),
            None => format!("as of {}", self.as_of),
        };
        format!("{} row(s), {what}; the site was read with {} request(s).", self.rows.len(), self.requests)
    }

    pub fn render_text(&self) -> String {
        text_table(&USAGE_COLUMNS, &self.cells(), &self.summary())
    }

    pub fn render_markdown(&self) -> String {
        markdown_table("Usage", &USAGE_COLUMNS, &self.cells(), &self.summary())
    }

    pub fn render_csv(&self) -> String {
        csv_table(&USAGE_COLUMNS, &self.cells())
    }

    pub fn render_json(&self) -> String {
        json("usage", self)
    }
}

fn json<T: Serialize>(report: &str, body: &T) -> String {
    #[derive(Serialize)]
    struct Document<'a, T> {
        format_version: u32,
        report: &'a str,
        #[serde(flatten)]
        body: &'a T,
    }
    let document = Document { format_version: FORMAT_VERSION, report, body };
    // Plain data with string keys: serialising cannot fail.
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

fn csv_table<const N: usize>(columns: &[&str; N], rows: &[[String; N]]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing into memory cannot fail.
    let _ = writer.write_record(columns);
    for row in rows {
        let _ = writer.write_record(row);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn text_table<const N: usize>(columns: &[&str; N], rows: &[[String; N]], summary: &str) -> String {
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    let rows: Vec<Vec<String>> = rows.iter().map(|row| row.iter().map(|c| visible(c).into_owned()).collect()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let padded: Vec<String> = cells.zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        let mut text = padded.join("  ").trim_end().to_owned();
        text.push('\n');
        text
    };
    let mut out = line(&mut columns.iter().copied());
    for row in &rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out.push('\n');
    out.push_str(summary);
    out.push('\n');
    out
}

fn markdown_table<const N: usize>(title: &str, columns: &[&str; N], rows: &[[String; N]], summary: &str) -> String {
    let escape = |cell: &str| visible(cell).replace('|', "\\|");
    let mut out = format!("### {title}\n\n| {} |\n|{}\n", columns.join(" | "), "---|".repeat(N));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push_str(&format!("\n{summary}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_names_cannot_act_on_a_terminal_or_break_a_table() {
        let rows = [["a\u{1b}[31mred|pipe".to_owned(), "line\nbreak".to_owned()]];
        let text = text_table(&["name", "other"], &rows, "done");
        assert!(text.contains("a\\u{1b}[31mred|pipe"), "{text}");
        assert!(!text.contains('\u{1b}') && text.contains("line\\u{a}break"), "{text}");
        let markdown = markdown_table("T", &["name", "other"], &rows, "done");
        assert!(markdown.contains("| a\\u{1b}[31mred\\|pipe | line\\u{a}break |"), "{markdown}");
        let csv = csv_table(&["name", "other"], &rows);
        // Quoted only where RFC 4180 needs it (the line break); the bytes are the site's.
        assert_eq!(csv, "name,other\na\u{1b}[31mred|pipe,\"line\nbreak\"\n");
    }
}
