//! Markdown chunking: one segment per section, a section being an ATX heading (`#` to
//! `######`) and the text up to the next heading of any level. Headings inside fenced code
//! blocks do not count; setext headings (underlined with `===`/`---`) are not recognised.
//! Text before the first heading is a [`ChunkKind::Block`].

use crate::lines::Lines;
use crate::types::{ChunkKind, Segment};

/// The sections of a Markdown text with at least one line.
pub(crate) fn segments(lines: &Lines<'_>) -> Vec<Segment> {
    let mut segments: Vec<Segment> = Vec::new();
    let mut fence: Option<(u8, usize)> = None;
    for index in 0..lines.len() {
        let line = lines.line(index);
        if let Some((marker, len)) = fence {
            if closes_fence(line, marker, len) {
                fence = None;
            }
            continue;
        }
        fence = opens_fence(line);
        if fence.is_some() {
            continue;
        }
        if let Some(title) = heading(line) {
            if let Some(previous) = segments.last_mut() {
                previous.last = index - 1;
            } else if index > 0 {
                segments.push(Segment::new(0, index - 1, ChunkKind::Block, Vec::new()));
            }
            let symbols = if title.is_empty() { Vec::new() } else { vec![title.to_owned()] };
            segments.push(Segment::new(index, index, ChunkKind::Section, symbols));
        }
    }
    match segments.last_mut() {
        Some(last) => last.last = lines.len() - 1,
        None => segments.push(Segment::new(0, lines.len() - 1, ChunkKind::Block, Vec::new())),
    }
    segments
}

/// `line` without up to three leading spaces (more make it an indented code block).
fn unindent(line: &str) -> Option<&str> {
    let trimmed = line.trim_start_matches(' ');
    (line.len() - trimmed.len() <= 3).then_some(trimmed)
}

/// The title of an ATX heading line, without its closing `#`s.
fn heading(line: &str) -> Option<&str> {
    let rest = unindent(line)?;
    let level = rest.bytes().take_while(|&b| b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &rest[level..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let title = rest.trim();
    // A closing sequence of `#`s counts only when preceded by a space (or is all there is).
    let without_closing = title.trim_end_matches('#');
    Some(if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
        without_closing.trim_end()
    } else {
        title
    })
}

/// The marker byte and length of a line opening a fenced code block.
fn opens_fence(line: &str) -> Option<(u8, usize)> {
    let rest = unindent(line)?;
    let marker = *rest.as_bytes().first().filter(|&&b| b == b'`' || b == b'~')?;
    let len = rest.bytes().take_while(|&b| b == marker).count();
    // A backtick fence's info string may not contain backticks.
    let info_ok = marker == b'~' || !rest[len..].contains('`');
    (len >= 3 && info_ok).then_some((marker, len))
}

fn closes_fence(line: &str, marker: u8, len: usize) -> bool {
    unindent(line).is_some_and(|rest| {
        let run = rest.bytes().take_while(|&b| b == marker).count();
        run >= len && rest[run..].trim().is_empty()
    })
}

#[cfg(test)]
mod tests {
    use super::heading;

    #[test]
    fn recognises_atx_headings() {
        assert_eq!(heading("# Title"), Some("Title"));
        assert_eq!(heading("   ### Deep ###"), Some("Deep"));
        assert_eq!(heading("## C# tips"), Some("C# tips"));
        assert_eq!(heading("#"), Some(""));
        assert_eq!(heading("#hashtag"), None);
        assert_eq!(heading("    # indented code"), None);
        assert_eq!(heading("####### seven"), None);
    }
}
