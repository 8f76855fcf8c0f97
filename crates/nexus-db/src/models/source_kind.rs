//! [`SourceKind`]: the kinds of rows that search indexes point at.
//!
//! Vector collections (nexus-vector), full-text indexes (nexus-fts) and hybrid search
//! (nexus-search) all refer to a row as `(SourceKind, id)`; this is the one definition.

text_enum! {
    /// A searchable kind of row.
    pub enum SourceKind {
        /// A row of `episodes`.
        Episode = "episode",
        /// A row of `code_chunks`.
        CodeChunk = "code_chunk",
        /// A row of `requirements`.
        Requirement = "requirement",
        /// A row of `tasks`.
        Task = "task",
    }
}

impl SourceKind {
    /// The table holding rows of this kind.
    pub const fn table(self) -> &'static str {
        match self {
            Self::Episode => "episodes",
            Self::CodeChunk => "code_chunks",
            Self::Requirement => "requirements",
            Self::Task => "tasks",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SourceKind;

    #[test]
    fn kinds_round_trip_through_their_strings() {
        for kind in SourceKind::ALL {
            assert_eq!(kind.as_str().parse::<SourceKind>(), Ok(*kind));
        }
        assert!("planet".parse::<SourceKind>().is_err());
    }
}
