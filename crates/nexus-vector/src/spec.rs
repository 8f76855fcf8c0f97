//! What a collection is: [`CollectionSpec`] — name, embedding model, dimensions, [`Metric`] and
//! [`Element`] type — the naming rule for a model's collection ([`CollectionSpec::for_model`])
//! and the checks that keep an impossible spec out of the registry.
//!
//! Dimensions are `usize` everywhere in Nexus (the embedders' [`Vec<f32>`] lengths, the specs,
//! [`crate::Collection::dimensions`]); only the registry row stores them as an SQLite integer.

use serde::{Deserialize, Serialize};

use crate::error::{Result, VectorError};

/// Largest number of dimensions sqlite-vec accepts in a vec0 column.
pub const MAX_DIMENSIONS: usize = 8192;

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
    pub dimensions: usize,
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
    pub fn new(name: impl Into<String>, model: impl Into<String>, dimensions: usize, metric: Metric) -> Self {
        Self {
            name: name.into(),
            model: model.into(),
            dimensions,
            metric,
            element: Element::Float32,
            int8_range: None,
        }
    }

    /// The float32 cosine collection of an embedding model, named by
    /// [`CollectionSpec::name_for_model`], so switching models or dimensions never mixes
    /// vector spaces.
    ///
    /// ```
    /// use nexus_vector::{CollectionSpec, Metric};
    /// let spec = CollectionSpec::for_model("text-embedding-3-small", 1536);
    /// assert_eq!(spec.name, "text_embedding_3_small_1536");
    /// assert_eq!((spec.model.as_str(), spec.dimensions, spec.metric), ("text-embedding-3-small", 1536, Metric::Cosine));
    /// ```
    pub fn for_model(model: &str, dimensions: usize) -> Self {
        Self::new(Self::name_for_model(model, dimensions), model, dimensions, Metric::Cosine)
    }

    /// The collection name for a model and its dimensions: the model lower-cased, every other
    /// character than an ASCII letter or digit as `_`, `m_` in front when it does not start with
    /// a letter, then `_{dimensions}`, cut to 64 characters (the suffix is always kept).
    ///
    /// ```
    /// use nexus_vector::CollectionSpec;
    /// assert_eq!(CollectionSpec::name_for_model("BAAI/bge-small-en", 384), "baai_bge_small_en_384");
    /// assert_eq!(CollectionSpec::name_for_model("3-large", 8), "m_3_large_8");
    /// ```
    pub fn name_for_model(model: &str, dimensions: usize) -> String {
        let mut name: String = model
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
            .collect();
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            name.insert_str(0, "m_");
        }
        let suffix = format!("_{dimensions}");
        name.truncate(MAX_NAME_LEN.saturating_sub(suffix.len()));
        name + &suffix
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
pub(crate) fn default_int8_range(dimensions: usize) -> f32 {
    (5.0 / (dimensions as f64).sqrt()).min(1.0) as f32
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
    fn model_names_become_valid_collection_names() {
        let cases = [
            ("text-embedding-3-small", 1536, "text_embedding_3_small_1536"),
            ("nexus-local-hash-v1", 384, "nexus_local_hash_v1_384"),
            ("", 8, "m__8"),
            ("Ünïcode model", 4, "m__n_code_model_4"),
        ];
        for (model, dims, expected) in cases {
            let name = CollectionSpec::name_for_model(model, dims);
            assert_eq!(name, expected, "{model}");
            assert!(validate_name(&name).is_ok(), "{name}");
        }
        let long = CollectionSpec::name_for_model(&"x".repeat(100), 1536);
        assert_eq!(long.len(), 64);
        assert!(long.ends_with("_1536"));
        assert!(validate_name(&long).is_ok());
        let spec = CollectionSpec::for_model("Model/7", 8);
        assert_eq!(
            (spec.name.as_str(), spec.model.as_str(), spec.element),
            ("model_7_8", "Model/7", Element::Float32)
        );
        assert!(spec.validate().is_ok());
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
