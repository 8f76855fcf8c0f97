//! A query's exact `bm25()` for every row it matches, from the score lists of its phrases.
//!
//! FTS5's `bm25()` starts from `0.0`, adds each phrase's term in the order of the query's
//! phrases (a phrase written twice counts twice; a phrase the row lacks, or an excluded one,
//! adds `0.0`) and returns the negated sum. [`ranked_rows`] does exactly that over the lists of
//! `cache` in one merge by rowid, so each result is the same `f64` FTS5 would return.

use crate::cache::PhraseList;

/// `(rowid, bm25)` of every row holding one of `lists` and none of `excluded`, by rowid;
/// `order` lists the query's positive phrases in its order, as indexes into `lists`.
pub(crate) fn ranked_rows(
    lists: &[&PhraseList],
    order: &[usize],
    excluded: &[&PhraseList],
) -> Vec<(i64, f64)> {
    let mut at = vec![0usize; lists.len()];
    let mut excluded_at = vec![0usize; excluded.len()];
    let capacity = lists.iter().map(|l| l.len()).max().unwrap_or(0);
    let mut rows = Vec::with_capacity(capacity);
    loop {
        let next = lists.iter().zip(&at).filter_map(|(list, &i)| list.rowid(i)).min();
        let Some(rowid) = next else { break };
        let mut out = false;
        for (list, i) in excluded.iter().zip(&mut excluded_at) {
            while list.rowid(*i).is_some_and(|r| r < rowid) {
                *i += 1;
            }
            out |= list.rowid(*i) == Some(rowid);
        }
        if !out {
            let mut score = 0.0;
            for &j in order {
                if let (Some(list), Some(&i)) = (lists.get(j), at.get(j))
                    && list.rowid(i) == Some(rowid)
                    && let Some(term) = list.term(i)
                {
                    score += term;
                }
            }
            rows.push((rowid, -score)); // FTS5's `-1.0 * score`: the same bits
        }
        for (list, i) in lists.iter().zip(&mut at) {
            if list.rowid(*i) == Some(rowid) {
                *i += 1;
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(rows: &[(i64, f64)]) -> PhraseList {
        PhraseList::new(rows.iter().map(|&(rowid, term)| (term, vec![rowid])).collect()).unwrap_or_default()
    }

    #[test]
    fn terms_add_up_in_query_order_and_exclusions_drop_rows() {
        let a = list(&[(1, 0.5), (3, 0.25), (7, 1.0)]);
        let b = list(&[(3, 2.0), (4, 0.125)]);
        let not = list(&[(4, 9.0), (8, 9.0)]);
        // "a" OR "b" OR "a": a counts twice.
        assert_eq!(
            ranked_rows(&[&a, &b], &[0, 1, 0], &[]),
            vec![(1, -1.0), (3, -2.5), (4, -0.125), (7, -2.0)]
        );
        assert_eq!(ranked_rows(&[&a, &b], &[0, 1], &[&not]), vec![(1, -0.5), (3, -2.25), (7, -1.0)]);
        assert_eq!(ranked_rows(&[], &[], &[&not]), vec![]);
    }
}
