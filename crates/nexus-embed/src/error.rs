//! The crate's one error type, [`EmbedError`].
//!
//! Every failure that concerns some of the caller's texts names them by their index in the
//! slice the caller passed to [`crate::Embedder::embed`] ([`EmbedError::inputs`]), so nothing
//! is silently dropped: the caller knows exactly which texts have no vector and can retry them.

use std::fmt;
use std::time::Duration;

/// Result alias used throughout nexus-embed.
pub type Result<T, E = EmbedError> = std::result::Result<T, E>;

/// Everything that can go wrong while embedding.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbedError {
    /// The server refused the credentials (HTTP 401 or 403). Not retried.
    #[error("{model}: authentication failed (HTTP {status}): {message}; {}", InputList(.inputs))]
    Auth {
        /// The model that was asked.
        model: String,
        /// HTTP status (401 or 403).
        status: u16,
        /// The server's message.
        message: String,
        /// Indices of the inputs that got no vector.
        inputs: Vec<usize>,
    },
    /// HTTP 429 persisted through every retry, the server asked to wait longer than allowed,
    /// or the account's quota is exhausted (`insufficient_quota`, never retried).
    #[error("{model}: rate limited after {attempts} attempt(s): {message}; {}", InputList(.inputs))]
    RateLimited {
        /// The model that was asked.
        model: String,
        /// Requests sent for this batch.
        attempts: u32,
        /// The last `Retry-After` the server sent, if any.
        retry_after: Option<Duration>,
        /// The server's message.
        message: String,
        /// Indices of the inputs that got no vector.
        inputs: Vec<usize>,
    },
    /// The server rejected the request as invalid (a 4xx other than 401, 403, 408 and 429):
    /// unknown model, input too long, unsupported `dimensions`, … Not retried.
    #[error("{model}: request rejected (HTTP {status}): {message}; {}", InputList(.inputs))]
    BadRequest {
        /// The model that was asked.
        model: String,
        /// HTTP status.
        status: u16,
        /// The server's message.
        message: String,
        /// Indices of the inputs that got no vector.
        inputs: Vec<usize>,
    },
    /// The server kept answering with 5xx through every retry.
    #[error("{model}: server error (HTTP {status}) after {attempts} attempt(s): {message}; {}", InputList(.inputs))]
    Server {
        /// The model that was asked.
        model: String,
        /// The last HTTP status.
        status: u16,
        /// Requests sent for this batch.
        attempts: u32,
        /// The server's message.
        message: String,
        /// Indices of the inputs that got no vector.
        inputs: Vec<usize>,
    },
    /// Every attempt timed out (client-side timeout or HTTP 408).
    #[error("{model}: timed out after {attempts} attempt(s); {}", InputList(.inputs))]
    Timeout {
        /// The model that was asked.
        model: String,
        /// Requests sent for this batch.
        attempts: u32,
        /// Indices of the inputs that got no vector.
        inputs: Vec<usize>,
    },
    /// The server could not be reached (connection refused, DNS, TLS, …) through every retry.
    #[error("{model}: cannot reach the server after {attempts} attempt(s): {message}; {}", InputList(.inputs))]
    Connection {
        /// The model that was asked.
        model: String,
        /// Requests sent for this batch.
        attempts: u32,
        /// What went wrong.
        message: String,
        /// Indices of the inputs that got no vector.
        inputs: Vec<usize>,
    },
    /// The server answered 2xx with something that is not a valid embeddings response
    /// (bad JSON, missing or duplicate `index`, wrong number of vectors).
    #[error("{model}: invalid response: {message}; {}", InputList(.inputs))]
    InvalidResponse {
        /// The model that was asked.
        model: String,
        /// What was wrong.
        message: String,
        /// Indices of the inputs that got no vector.
        inputs: Vec<usize>,
    },
    /// A vector did not have the embedder's dimensions.
    #[error("{model}: vector for input {index} has {actual} dimensions, expected {expected}")]
    DimensionMismatch {
        /// The model that produced it.
        model: String,
        /// The embedder's declared dimensions.
        expected: usize,
        /// The length received.
        actual: usize,
        /// Index of the input.
        index: usize,
    },
    /// Some texts are empty or whitespace only; nothing was embedded.
    #[error("empty or blank input text; {}", InputList(.inputs))]
    EmptyInput {
        /// Indices of the blank inputs.
        inputs: Vec<usize>,
    },
    /// The embedder's configuration is invalid (missing key, unknown dimensions, bad URL, …).
    #[error("invalid embedder configuration {setting}: {reason}")]
    Config {
        /// The setting (or environment variable) at fault.
        setting: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The neural model's files are missing, differ from the expected ones (SHA-256) or cannot
    /// be loaded.
    #[error("neural model file {}: {reason}", .path.display())]
    Model {
        /// The file at fault.
        path: std::path::PathBuf,
        /// What is wrong, and how to get the model when it is missing.
        reason: String,
    },
    /// Running a local model failed.
    #[error("{model}: inference failed: {message}; {}", InputList(.inputs))]
    Inference {
        /// The model.
        model: String,
        /// What went wrong.
        message: String,
        /// Indices of the inputs that got no vector.
        inputs: Vec<usize>,
    },
    /// Reading the persistent cache failed.
    #[error("embedding cache ({operation}): {source}")]
    Cache {
        /// What the cache was doing.
        operation: &'static str,
        /// The database error.
        #[source]
        source: nexus_db::DbError,
    },
}

/// The pattern of every variant that carries an `inputs` list, binding it to `$inputs`: the one
/// list of those variants, shared by [`EmbedError::inputs`] and [`EmbedError::map_inputs`].
macro_rules! with_inputs {
    ($inputs:ident) => {
        EmbedError::Auth { $inputs, .. }
            | EmbedError::RateLimited { $inputs, .. }
            | EmbedError::BadRequest { $inputs, .. }
            | EmbedError::Server { $inputs, .. }
            | EmbedError::Timeout { $inputs, .. }
            | EmbedError::Connection { $inputs, .. }
            | EmbedError::InvalidResponse { $inputs, .. }
            | EmbedError::Inference { $inputs, .. }
            | EmbedError::EmptyInput { $inputs }
    };
}

impl EmbedError {
    /// Indices (into the slice passed to `embed`) of the inputs this error left without a
    /// vector. Empty for errors that concern no particular input (configuration, cache).
    pub fn inputs(&self) -> &[usize] {
        match self {
            with_inputs!(inputs) => inputs,
            Self::DimensionMismatch { index, .. } => std::slice::from_ref(index),
            Self::Config { .. } | Self::Cache { .. } | Self::Model { .. } => &[],
        }
    }

    /// Builds a [`EmbedError::Config`].
    pub(crate) fn config(setting: &'static str, reason: impl Into<String>) -> Self {
        Self::Config { setting, reason: reason.into() }
    }

    /// Rewrites the input indices through `map`: an embedder that was called with a subset
    /// of the caller's texts (a cache's misses, each maybe standing for several equal texts)
    /// reports indices into the caller's slice.
    pub(crate) fn map_inputs(mut self, map: impl Fn(usize) -> Vec<usize>) -> Self {
        match &mut self {
            with_inputs!(inputs) => {
                let mut mapped: Vec<usize> = inputs.iter().flat_map(|&i| map(i)).collect();
                mapped.sort_unstable();
                *inputs = mapped;
            }
            Self::DimensionMismatch { index, .. } => {
                if let Some(&first) = map(*index).iter().min() {
                    *index = first;
                }
            }
            Self::Config { .. } | Self::Cache { .. } | Self::Model { .. } => {}
        }
        self
    }
}

/// Shows a list of input indices compactly: the first few, then how many in all.
struct InputList<'a>(&'a [usize]);

impl fmt::Display for InputList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 8;
        let list = self.0;
        write!(f, "inputs [")?;
        for (n, index) in list.iter().take(SHOWN).enumerate() {
            if n > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{index}")?;
        }
        if list.len() > SHOWN {
            write!(f, ", … ({} in all)", list.len())?;
        }
        write!(f, "]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_input_lists_are_abbreviated() {
        let err = EmbedError::EmptyInput { inputs: (0..20).collect() };
        assert_eq!(
            err.to_string(),
            "empty or blank input text; inputs [0, 1, 2, 3, 4, 5, 6, 7, … (20 in all)]"
        );
        let err = EmbedError::EmptyInput { inputs: vec![3] };
        assert_eq!(err.to_string(), "empty or blank input text; inputs [3]");
    }

    #[test]
    fn map_inputs_rewrites_every_index() {
        let err = EmbedError::Timeout { model: "m".into(), attempts: 2, inputs: vec![0, 1] };
        assert_eq!(err.map_inputs(|i| [vec![9, 4], vec![7]][i].clone()).inputs(), &[4, 7, 9]);
        let err = EmbedError::DimensionMismatch { model: "m".into(), expected: 3, actual: 2, index: 1 };
        assert_eq!(err.map_inputs(|i| vec![i + 10, i + 5]).inputs(), &[6]);
    }
}
