//! A progress bar on stderr (hidden when stderr is not a terminal) for the archive
//! operations' [`nexus_archive::Progress`].

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

/// An indicatif bar fed by an export, import or backup.
#[derive(Debug, Clone)]
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar on stderr when it is a terminal, else a hidden one.
    pub fn new() -> Arc<Self> {
        let bar = if std::io::stderr().is_terminal() { ProgressBar::new(0) } else { ProgressBar::hidden() };
        Arc::new(Self(bar))
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl nexus_archive::Progress for Bar {
    fn phase(&self, name: &str, total: u64) {
        let template = if total == 0 {
            "{spinner} {msg} {pos}"
        } else {
            "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} ({eta})"
        };
        self.0.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        self.0.set_message(name.to_owned());
        self.0.set_length(total);
        self.0.set_position(0);
    }

    fn advance(&self, done: u64) {
        self.0.inc(done);
    }
}
