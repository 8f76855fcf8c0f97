//! How results and errors are printed: [`hits`] for search results, [`progress`] for bars, [`stats`] for the store's
//! figures, [`bytes`] for sizes, and errors as one line.

pub mod hits;
pub mod progress;
pub mod stats;

/// An error as one line: its message, then its causes where they add something.
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    line.replace('\n', " ")
}

/// A byte count for a person: `512 B`, `4.0 KiB`, `1.3 MiB`, `2.1 GiB`.
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}
