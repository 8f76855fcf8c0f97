//! Line arithmetic over a file's text: where each line starts, and the exact text of a range
//! of lines. A line ends after its `\n` (the last line may have none); a `\r` before the `\n`
//! belongs to the line, so CRLF files round-trip exactly.

/// The line index of one text.
pub(crate) struct Lines<'a> {
    text: &'a str,
    /// Byte offset of the start of every line.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = Vec::with_capacity(text.len() / 32 + 1);
        if !text.is_empty() {
            starts.push(0);
        }
        starts.extend(text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i + 1));
        // A final `\n` ends the last line; it does not start an empty one.
        if starts.last() == Some(&text.len()) {
            starts.pop();
        }
        Self { text, starts }
    }

    /// Number of lines (0 for an empty text).
    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }

    fn end_of(&self, line: usize) -> usize {
        self.starts.get(line + 1).copied().unwrap_or(self.text.len())
    }

    /// The text of lines `first..=last` (0-based), each with its line terminator.
    pub(crate) fn span(&self, first: usize, last: usize) -> &'a str {
        &self.text[self.starts[first]..self.end_of(last)]
    }

    /// Byte length of lines `first..=last`.
    pub(crate) fn bytes(&self, first: usize, last: usize) -> usize {
        self.end_of(last) - self.starts[first]
    }

    /// Whether the line holds only whitespace.
    pub(crate) fn is_blank(&self, line: usize) -> bool {
        self.span(line, line).trim().is_empty()
    }

    /// One line without its terminator (`\n` or `\r\n`).
    pub(crate) fn line(&self, line: usize) -> &'a str {
        let text = self.span(line, line);
        let text = text.strip_suffix('\n').unwrap_or(text);
        text.strip_suffix('\r').unwrap_or(text)
    }
}

#[cfg(test)]
mod tests {
    use super::Lines;

    #[test]
    fn counts_lines_like_an_editor() {
        assert_eq!(Lines::new("").len(), 0);
        assert_eq!(Lines::new("a").len(), 1);
        assert_eq!(Lines::new("a\n").len(), 1);
        assert_eq!(Lines::new("\n").len(), 1);
        assert_eq!(Lines::new("a\n\nb").len(), 3);
        let lines = Lines::new("a\r\nbb\n\nc");
        assert_eq!(lines.len(), 4);
        assert_eq!(lines.span(0, 1), "a\r\nbb\n");
        assert_eq!(lines.span(3, 3), "c");
        assert_eq!(lines.line(0), "a");
        assert_eq!(lines.bytes(1, 3), 5);
        assert!(lines.is_blank(2));
        assert!(!lines.is_blank(3));
    }
}
