//! How results and errors are printed: [`hits`] for search results, [`stats`] for the store's
//! figures, and errors as one line.

pub mod hits;
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
