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
        /// A row of `transcript_entries`; its id is `{transcript_id}#{seq}`
        /// (see `transcripts::entry_key`).
        TranscriptEntry = "transcript_entry",
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
            Self::TranscriptEntry => "transcript_entries",
        }
    }

    /// Whether rows of this kind can have vectors. Transcript entries cannot: there are too
    /// many of them and the keyword index finds them.
    pub const fn has_vectors(self) -> bool {
        !matches!(self, Self::TranscriptEntry)
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
