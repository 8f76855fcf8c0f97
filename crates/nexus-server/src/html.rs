//! HTML reduced to text for knowledge items of kind `url` ([`to_text`]): html2text lays the
//! document out as plain text (scripts and styles dropped, no link footnotes, no table
//! borders), on a blocking thread. Its layout recurses over the document's tree and grows with
//! the square of its depth, so a page nested deeper than [`MAX_DEPTH`] (estimated by a linear
//! scan, [`nesting_depth`]) is refused rather than laid out.

/// Deepest element nesting laid out (real pages stay well under a hundred).
pub const MAX_DEPTH: usize = 512;

/// Width the text is laid out at (wide: lines are wrapped for people, not for the chunker).
const TEXT_WIDTH: usize = 200;

/// Elements that never have content.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
    "wbr",
];

/// Elements whose start tag ends an open element of the same name (`<p>a<p>b`).
const IMPLIED_END: &[&str] = &["p", "li", "dt", "dd", "tr", "td", "th", "option"];

/// Elements whose content is text up to their end tag.
const RAW_TEXT: &[&str] = &["script", "style", "textarea", "title"];

/// The text of an HTML document, or why it cannot be read.
pub async fn to_text(html: Vec<u8>) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        if nesting_depth(&html) > MAX_DEPTH {
            return Err(format!("the HTML is nested more than {MAX_DEPTH} elements deep"));
        }
        html2text::config::plain_no_decorate()
            .link_footnotes(false)
            .no_table_borders()
            .allow_width_overflow()
            .string_from_read(html.as_slice(), TEXT_WIDTH)
            .map_err(|e| format!("cannot read the HTML: {e}"))
    })
    .await
    .map_err(|e| format!("cannot read the HTML: {e}"))?
}

/// An estimate of the deepest element nesting of `html`, in one pass (stops counting past
/// [`MAX_DEPTH`]): end tags close the nearest open element of their name and what it holds,
/// void and self-closed elements open nothing, comments, declarations and raw text are skipped.
pub fn nesting_depth(html: &[u8]) -> usize {
    let mut open: Vec<String> = Vec::new();
    let mut deepest = 0;
    let mut at = 0;
    while let Some(lt) = find(html, at, b"<") {
        let rest = &html[lt + 1..];
        if rest.starts_with(b"!--") {
            at = find(html, lt + 4, b"-->").map_or(html.len(), |end| end + 3);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = lt + 1 + usize::from(closing);
        let name: String = html[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .map(|b| char::from(b.to_ascii_lowercase()))
            .collect();
        let gt = find(html, name_start, b">").unwrap_or(html.len());
        at = gt + 1;
        if name.is_empty() {
            continue; // `<!DOCTYPE`, `<?xml`, or a stray `<`.
        }
        if closing {
            if let Some(position) = open.iter().rposition(|n| *n == name) {
                open.truncate(position);
            }
            continue;
        }
        let self_closed = gt > 0 && html.get(gt - 1) == Some(&b'/');
        if self_closed || VOID.contains(&name.as_str()) {
            continue;
        }
        if RAW_TEXT.contains(&name.as_str()) {
            let end = format!("</{name}");
            at = find_ignore_case(html, at, end.as_bytes()).unwrap_or(html.len());
            continue;
        }
        if IMPLIED_END.contains(&name.as_str()) && open.last() == Some(&name) {
            open.pop();
        }
        open.push(name);
        deepest = deepest.max(open.len());
        if deepest > MAX_DEPTH {
            break;
        }
    }
    deepest
}

/// The first position of `needle` in `haystack` at or after `from`.
fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| from + i)
}

/// [`find`], ignoring ASCII case.
fn find_ignore_case(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle)).map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_open_elements_not_void_raw_or_implied_ends() {
        assert_eq!(nesting_depth(b"<html><body><div><p>a</p></div></body></html>"), 4);
        assert_eq!(nesting_depth(b"<!DOCTYPE html><ul><li>a<li>b<li>c</ul><br><img src=x>"), 2);
        assert_eq!(
            nesting_depth(b"<div><script>if (a<b) { '<div><div>' }</script><!-- <div><div> --></div>"),
            1
        );
        assert_eq!(nesting_depth(b"<div><span/><p>x</div><div></div>"), 2);
    }

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[tokio::test]
    async fn deep_nesting_is_refused_before_layout() {
        let deep = format!("{}x{}", "<div>".repeat(MAX_DEPTH * 4), "</div>".repeat(MAX_DEPTH * 4));
        assert_eq!(nesting_depth(deep.as_bytes()), MAX_DEPTH + 1);
        let refused = to_text(deep.into_bytes()).await;
        assert!(refused.as_ref().is_err_and(|e| e.contains("nested")), "{refused:?}");
        let fine = format!("{}x{}", "<div>".repeat(MAX_DEPTH), "</div>".repeat(MAX_DEPTH));
        assert_eq!(to_text(fine.into_bytes()).await.map(|t| t.trim().to_owned()), Ok("x".to_owned()));
    }

    #[tokio::test]
    async fn text_keeps_words_and_drops_scripts_and_styles() -> TestResult {
        let html = b"<html><head><title>T</title><style>p { color: red }</style></head>\
            <body><h1>Zebra facts</h1><script>var secret = 1;</script><p>Zebras have <b>stripes</b> &amp; manes.</p>\
            <table><tr><td>a</td><td>b</td></tr></table></body></html>";
        let text = to_text(html.to_vec()).await?;
        assert!(text.contains("Zebra facts") && text.contains("Zebras have stripes & manes."), "{text}");
        assert!(!text.contains("secret") && !text.contains("color"), "{text}");
        Ok(())
    }
}
