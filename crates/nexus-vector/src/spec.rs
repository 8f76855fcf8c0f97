//! What a collection is: [`CollectionSpec`] — name, embedding model, dimensions, [`Metric`] and
//! [`Element`] type — and the checks that keep an impossible spec out of the registry.

use serde::{Deserialize, Serialize};

use crate::error::{Result, VectorError};

/// Largest number of dimensions sqlite-vec accepts in a vec0 column.
pub const MAX_DIMENSIONS: u32 = 8192;

/// Longest collection name.
const MAX_NAME_LEN: usize = 64;

/// How distance between two vectors is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Cosine distance, `1 - cos(a, b)`, from 0 (same direction) to 2 (opposite). What text
    /// embedding models are trained for. Vectors are stored normalised to unit length, so
    /// their magnitude is not kept; zero vectors are rejected.
    Cosine,
    /// Euclidean distance, `‖a - b‖`.
    L2,
}

impl Metric {
    /// The name stored in the registry.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Cosine => "cosine",
            Self::L2 => "l2",
        }
    }
}

/// How the vectors of a collection are searched.
///
/// Every collection keeps each vector in float32, so distances are always exact. A quantised
/// collection also keeps a compact copy that the KNN scan reads first (4× or 32× fewer bytes),
/// then rescores the best `k × oversample` candidates with the float32 vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Element {
    /// Exact search over the float32 vectors.
    Float32,
    /// Scan int8 vectors (each value scaled from `[-int8_range, int8_range]` to −127…127), then
    /// rescore with float32.
    Int8,
    /// Scan one sign bit per dimension (Hamming distance), then rescore with float32.
    /// Dimensions must be a multiple of 8.
    Bit,
}

impl Element {
    /// The name stored in the registry.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Float32 => "float32",
            Self::Int8 => "int8",
            Self::Bit => "bit",
        }
    }

    /// The candidates-per-result factor used when a query does not set one: the smallest
    /// that gave recall@10 ≥ 0.95 on real 384-dimension text embeddings (docs/vector.md).
    pub const fn default_oversample(self) -> u32 {
        match self {
            Self::Float32 => 1,
            Self::Int8 => 2,
            Self::Bit => 16,
        }
    }
}

/// The description of an embedding space, given to [`crate::Collection::open_or_create`].
///
/// ```
/// use nexus_vector::{CollectionSpec, Element, Metric};
/// let spec = CollectionSpec::new("minilm", "sentence-transformers/all-MiniLM-L6-v2", 384, Metric::Cosine)
///     .element(Element::Int8);
/// assert_eq!(spec.dimensions, 384);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionSpec {
    /// Unique name: lower-case ASCII letters, digits and `_`, starting with a letter, at most
    /// 64 characters.
    pub name: String,
    /// The embedding model that produces the vectors (for example
    /// `text-embedding-3-small`). A collection never holds vectors of two models.
    pub model: String,
    /// Number of dimensions of every vector.
    pub dimensions: u32,
    /// Distance metric.
    pub metric: Metric,
    /// Element type of the scanned vectors (default [`Element::Float32`]).
    pub element: Element,
    /// For [`Element::Int8`]: the value range `[-r, r]` mapped onto −127…127 (values outside
    /// are clipped). Cosine collections default to `5 / √dimensions` (their vectors are unit
    /// length); L2 collections must set it. `None` when reopening means "whatever is registered".
    pub int8_range: Option<f32>,
}

impl CollectionSpec {
    /// A float32 collection.
    pub fn new(name: impl Into<String>, model: impl Into<String>, dimensions: u32, metric: Metric) -> Self {
        Self {
            name: name.into(),
            model: model.into(),
            dimensions,
            metric,
            element: Element::Float32,
            int8_range: None,
        }
    }

    /// Sets the element type.
    pub fn element(mut self, element: Element) -> Self {
        self.element = element;
        self
    }

    /// Sets the int8 quantisation range (see [`CollectionSpec::int8_range`]).
    pub fn int8_range(mut self, range: f32) -> Self {
        self.int8_range = Some(range);
        self
    }

    /// Checks the spec (without the registry: see [`CollectionSpec::int8_range_to_register`]).
    pub(crate) fn validate(&self) -> Result<()> {
        validate_name(&self.name)?;
        if self.model.is_empty() || self.model.len() > 256 {
            return Err(self.invalid("the model name must have 1 to 256 bytes".into()));
        }
        if self.dimensions == 0 || self.dimensions > MAX_DIMENSIONS {
            return Err(self.invalid(format!("dimensions must be between 1 and {MAX_DIMENSIONS}")));
        }
        if self.element == Element::Bit && !self.dimensions.is_multiple_of(8) {
            return Err(self.invalid("a bit collection needs dimensions that are a multiple of 8".into()));
        }
        if let Some(range) = self.int8_range {
            if self.element != Element::Int8 {
                return Err(self.invalid("int8_range only applies to int8 collections".into()));
            }
            if !(range.is_finite() && range > 0.0) {
                return Err(self.invalid(format!("int8_range must be a positive number, not {range}")));
            }
        }
        Ok(())
    }

    /// The int8 range to register when the collection is created (`None` unless int8).
    pub(crate) fn int8_range_to_register(&self) -> Result<Option<f32>> {
        match (self.element, self.metric, self.int8_range) {
            (Element::Int8, _, Some(range)) => Ok(Some(range)),
            (Element::Int8, Metric::Cosine, None) => Ok(Some(default_int8_range(self.dimensions))),
            (Element::Int8, Metric::L2, None) => Err(self.invalid(
                "an int8 l2 collection needs int8_range: the magnitude of your vectors' values".into(),
            )),
            _ => Ok(None),
        }
    }

    fn invalid(&self, reason: String) -> VectorError {
        VectorError::InvalidSpec { collection: self.name.clone(), reason }
    }
}

/// The int8 range for unit vectors of `dimensions`: their values have an RMS of `1/√d`, so
/// `±5/√d` keeps nearly all of them unclipped while using most of the 8 bits.
pub(crate) fn default_int8_range(dimensions: u32) -> f32 {
    (5.0 / f64::from(dimensions).sqrt()).min(1.0) as f32
}

/// Checks a collection name against the allowed alphabet.
pub(crate) fn validate_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() || name.len() > MAX_NAME_LEN {
        Some("must have 1 to 64 characters")
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("must start with a lower-case ASCII letter")
    } else if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        Some("may only contain lower-case ASCII letters, digits and '_'")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(VectorError::InvalidName { name: name.to_owned(), reason }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_allow_list() {
        for good in ["a", "minilm", "text_embedding_3_small", "m1"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        let long = "a".repeat(65);
        for bad in ["", "1a", "_a", "Minilm", "a-b", "a b", "a;drop table x", "é", long.as_str()] {
            assert!(matches!(validate_name(bad), Err(VectorError::InvalidName { .. })), "{bad}");
        }
    }

    #[test]
    fn specs_are_checked() {
        let ok = CollectionSpec::new("c", "m", 384, Metric::Cosine);
        assert!(ok.validate().is_ok());
        assert_eq!(ok.int8_range_to_register().ok(), Some(None));
        let int8 = ok.clone().element(Element::Int8);
        assert_eq!(int8.int8_range_to_register().ok(), Some(Some(default_int8_range(384))));
        let l2 = CollectionSpec::new("c", "m", 8, Metric::L2).element(Element::Int8);
        assert!(l2.validate().is_ok(), "may reopen a registered int8 l2 collection");
        assert!(matches!(l2.int8_range_to_register(), Err(VectorError::InvalidSpec { .. })));
        assert!((default_int8_range(384) - 0.255).abs() < 0.001);

        let bad = [
            CollectionSpec::new("c", "", 384, Metric::Cosine),
            CollectionSpec::new("c", "m", 0, Metric::Cosine),
            CollectionSpec::new("c", "m", MAX_DIMENSIONS + 1, Metric::Cosine),
            CollectionSpec::new("c", "m", 100, Metric::Cosine).element(Element::Bit),
            CollectionSpec::new("c", "m", 8, Metric::L2).element(Element::Int8).int8_range(-1.0),
            CollectionSpec::new("c", "m", 8, Metric::L2).element(Element::Int8).int8_range(f32::NAN),
            CollectionSpec::new("c", "m", 8, Metric::L2).int8_range(1.0),
        ];
        for spec in bad {
            assert!(matches!(spec.validate(), Err(VectorError::InvalidSpec { .. })), "{spec:?}");
        }
    }
}
