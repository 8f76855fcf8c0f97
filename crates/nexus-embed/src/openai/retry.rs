//! [`RetryPolicy`]: how many times a failed request is sent again and how long to wait
//! between tries (exponential backoff with jitter, or the server's `Retry-After`).

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// Retries of one request (one batch) on HTTP 429, 5xx, 408, timeouts and connection errors.
/// Other errors (401, 403, 400, 404, 413, 422, an exhausted quota, …) are never retried.
///
/// The wait before retry `n` (1-based) is the server's `Retry-After` (or `retry-after-ms`)
/// when it sent one, otherwise `min(max_delay, base_delay × 2^(n−1))` with "equal jitter": a
/// uniformly random value between half of that and all of it, so clients that failed together
/// do not come back together.
///
/// ```
/// use std::time::Duration;
/// use nexus_embed::RetryPolicy;
/// let fast = RetryPolicy { max_retries: 2, base_delay: Duration::from_millis(1), ..RetryPolicy::default() };
/// assert_eq!(fast.max_delay, Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so at most `max_retries + 1` requests per batch).
    /// Default 5.
    pub max_retries: u32,
    /// Backoff before the first retry, doubled for each further retry. Default 500 ms.
    pub base_delay: Duration,
    /// Upper bound of the computed backoff. Default 30 s.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; a server asking for more makes the batch fail at
    /// once with [`crate::EmbedError::RateLimited`] rather than block the caller. Default 60 s.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The jittered exponential backoff before retry number `retry` (1-based).
    pub(super) fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(30);
        let full = self.base_delay.saturating_mul(1u32 << exponent).min(self.max_delay);
        let half = full / 2;
        half + full.saturating_sub(half).mul_f64(fastrand::f64())
    }
}

/// The wait a server asked for: `retry-after-ms` (milliseconds, OpenAI's extension) or
/// `Retry-After` (delay in seconds, or an HTTP date).
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return non_negative_secs(ms / 1000.0);
    }
    let value = header("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return non_negative_secs(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

fn non_negative_secs(secs: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(secs.max(0.0)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_str(value) {
                map.insert(*name, value);
            }
        }
        map
    }

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for (retry, full) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (40, 1000)] {
            for _ in 0..50 {
                let delay = policy.backoff(retry).as_millis();
                assert!((full / 2..=full).contains(&delay), "retry {retry}: {delay} ms");
            }
        }
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after(&headers(&[("retry-after", "2")])), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(&headers(&[("retry-after", "0.5")])), Some(Duration::from_millis(500)));
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7"), ("retry-after-ms", "250")])),
            Some(Duration::from_millis(250))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "-3")])), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&headers(&[])), None);
        let past = httpdate::fmt_http_date(SystemTime::UNIX_EPOCH);
        assert_eq!(retry_after(&headers(&[("retry-after", &past)])), Some(Duration::ZERO));
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(100));
        let wait = retry_after(&headers(&[("retry-after", &future)])).unwrap_or_default();
        assert!(wait > Duration::from_secs(90) && wait <= Duration::from_secs(100), "{wait:?}");
    }
}
