//! The apply progress bar: on stderr, and only when stderr is a terminal (CI logs get the summary lines instead).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use tabops_apply::Hook;
use tabops_apply::executor::ActionOutcome;
use tabops_plan::PlannedAction;

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

    fn action_finished(&self, _outcome: &ActionOutcome) {
        self.bar.inc(1);
    }
}
