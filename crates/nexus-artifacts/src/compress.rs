//! Whether to compress: never for content types that are compressed already, otherwise zstd
//! when it pays on a sample of the content (the first block): the compressed sample must be
//! under [`PAYS_PERCENT`] % of the raw one. `put` checks the whole file the same way after
//! writing it. Also [`guess_content_type`], the content type of a file name by its extension.

use nexus_db::artifacts::Compression;

/// Compression is kept only when the compressed size is under this percentage of the raw size.
pub const PAYS_PERCENT: u64 = 95;

/// Content types whose bytes are compressed already (prefix match on the MIME type).
const COMPRESSED_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "video/",
    "audio/",
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/zstd",
    "application/x-xz",
    "application/x-bzip2",
    "application/x-7z-compressed",
    "application/java-archive",
];

/// True when `stored` bytes for `raw` bytes of content is a saving worth keeping.
pub(crate) fn pays(stored: u64, raw: u64) -> bool {
    raw > 0 && u128::from(stored) * 100 < u128::from(raw) * u128::from(PAYS_PERCENT)
}

/// The compression for content of `content_type` whose first block is `sample`.
pub(crate) fn choose(content_type: &str, sample: &[u8], level: i32) -> Compression {
    let content_type = content_type.trim().to_ascii_lowercase();
    if sample.is_empty() || COMPRESSED_TYPES.iter().any(|t| content_type.starts_with(t)) {
        return Compression::None;
    }
    match zstd::bulk::compress(sample, level) {
        Ok(compressed) if pays(compressed.len() as u64, sample.len() as u64) => Compression::Zstd,
        _ => Compression::None,
    }
}

/// The content type of a file by its extension (`application/octet-stream` when unknown).
pub fn guess_content_type(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "log" | "txt" | "out" => "text/plain",
        "diff" | "patch" => "text/x-diff",
        "md" => "text/markdown",
        "json" | "jsonl" => "application/json",
        "html" | "htm" => "text/html",
        "csv" => "text/csv",
        "rs" | "py" | "ts" | "js" | "go" | "c" | "h" | "toml" | "yaml" | "yml" | "sh" => "text/plain",
        "tar" => "application/x-tar",
        "gz" | "tgz" => "application/gzip",
        "zst" => "application/zstd",
        "xz" => "application/x-xz",
        "zip" => "application/zip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    }
}
