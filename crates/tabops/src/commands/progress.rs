//! What `apply` shows while it runs, on stderr: one line per action as it finishes (its address, what was done,
//! the result and how long it took), so a CI log records every change; on a terminal a progress bar as well,
//! which the same lines are printed above, so it leaves that record behind when it is cleared.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tabops_apply::Hook;
use tabops_apply::executor::{ActionOutcome, Status};
use tabops_plan::{Action, PlannedAction};

/// Counts actions as the executor finishes them and shows the one just started.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn new() -> Progress {
        let bar = if std::io::stderr().is_terminal() { ProgressBar::new(0) } else { ProgressBar::hidden() };
        if let Ok(style) = ProgressStyle::with_template("{spinner} applying [{bar:30}] {pos}/{len} {wide_msg}") {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress { bar }
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Hook for Progress {
    fn apply_started(&self, actions: usize) {
        self.bar.set_length(actions as u64);
    }

    fn action_started(&self, action: &PlannedAction) {
        self.bar.set_message(action.id.clone());
    }

    fn action_finished(&self, outcome: &ActionOutcome) {
        let line = action_line(outcome);
        if self.bar.is_hidden() {
            let _ = writeln!(std::io::stderr(), "{line}");
        } else {
            self.bar.println(line);
        }
        self.bar.inc(1);
    }
}

/// `+ project:Sales/EMEA: created (85 ms)`, `~ workbook:Sales/Revenue: updated, 1.2 MB uploaded (1.4 s)`,
/// `! datasource:Sales/Orders: update failed after 2.0 s: …`, `skipped datasource:…: …`.
fn action_line(outcome: &ActionOutcome) -> String {
    let address = tabops_plan::render::visible(&outcome.address);
    let took = human(Duration::from_millis(outcome.duration_ms));
    match &outcome.status {
        Status::Completed => {
            let done = match outcome.action {
                Action::Create => "created",
                Action::Update => "updated",
                Action::Republish => "republished",
                Action::Delete => "deleted",
                Action::NoOp => "unchanged",
            };
            let uploaded = match outcome.uploaded_bytes {
                0 => String::new(),
                bytes => format!(", {} uploaded", human_bytes(bytes)),
            };
            format!("{} {address}: {done}{uploaded} ({took})", outcome.action.glyph())
        }
        Status::Failed(why) => {
            format!(
                "! {address}: {} failed after {took}: {}",
                outcome.action.as_str(),
                tabops_plan::render::visible(why)
            )
        }
        Status::Skipped(why) => format!("skipped {address}: {}", tabops_plan::render::visible(why)),
    }
}

/// `85 ms`, `1.4 s`.
fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) { format!("{} ms", d.as_millis()) } else { format!("{:.1} s", d.as_secs_f64()) }
}

/// `512 B`, `1.2 MB`.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
