//! Checks on values before they are written, so a bad value is a typed
//! [`DbError::InvalidValue`] naming the table and column instead of a constraint message (or,
//! for `inf`, silently stored): text sizes within [`MAX_CONTENT_BYTES`] and finite numbers.

use crate::error::{DbError, Result};

/// The largest text body one row may carry, in bytes (1 MiB): episode and code chunk
/// content. The code index's walker skips larger files and `remember` refuses larger
/// memories, so every write path has the same limit.
pub const MAX_CONTENT_BYTES: usize = 1 << 20;

/// Refuses `text` longer than [`MAX_CONTENT_BYTES`].
pub(crate) fn content(table: &'static str, column: &'static str, text: &str) -> Result<()> {
    if text.len() > MAX_CONTENT_BYTES {
        return Err(DbError::InvalidValue {
            table,
            column,
            reason: format!("{} bytes is over the limit of {MAX_CONTENT_BYTES}", text.len()),
        });
    }
    Ok(())
}

/// Refuses NaN and infinities.
pub(crate) fn finite(table: &'static str, column: &'static str, value: f64) -> Result<()> {
    if !value.is_finite() {
        return Err(DbError::InvalidValue {
            table,
            column,
            reason: format!("{value} is not a finite number"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_exact() {
        assert!(content("episodes", "content", &"x".repeat(MAX_CONTENT_BYTES)).is_ok());
        let refused = content("episodes", "content", &"x".repeat(MAX_CONTENT_BYTES + 1));
        assert!(
            matches!(refused, Err(DbError::InvalidValue { table: "episodes", column: "content", .. })),
            "{refused:?}"
        );
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(finite("episodes", "importance", bad).is_err(), "{bad} accepted");
        }
        assert!(finite("episodes", "importance", 0.5).is_ok());
    }
}
