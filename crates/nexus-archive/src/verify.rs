//! Reading an archive before anything is written: the manifest first (format and schema
//! versions checked), then every member streamed into a staging directory while its size and
//! SHA-256 are checked against the manifest. Any damage is a typed error naming the member.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{ArchiveError, IoContext, Result};
use crate::hashing::{HashingReader, HashingWriter};
use crate::manifest::{FORMAT_NAME, FORMAT_VERSION, MANIFEST_MEMBER, MAX_MANIFEST_BYTES, Manifest};
use crate::progress::Progress;

/// A verified archive: its manifest and each member's staged file (same order as
/// `manifest.members`).
pub(crate) struct Verified {
    pub(crate) manifest: Manifest,
    pub(crate) files: Vec<PathBuf>,
}

/// Reads the whole archive from `input`, staging members under `dir`.
pub(crate) fn verify(input: impl Read, dir: &Path, progress: &dyn Progress) -> Result<Verified> {
    let decoder = zstd::stream::read::Decoder::new(input).map_err(|e| damaged(MANIFEST_MEMBER, &e))?;
    let mut tar = tar::Archive::new(decoder);
    let mut entries = tar.entries().map_err(|e| damaged(MANIFEST_MEMBER, &e))?;

    let manifest = match entries.next() {
        None => return Err(truncated(MANIFEST_MEMBER, "the archive is empty")),
        Some(entry) => {
            let mut entry = entry.map_err(|e| read_error(MANIFEST_MEMBER, &e))?;
            let name = entry_name(&entry);
            if name != MANIFEST_MEMBER {
                return Err(bad(&name, "the first member must be manifest.json"));
            }
            let size = entry.header().size().map_err(|e| damaged(MANIFEST_MEMBER, &e))?;
            if size > MAX_MANIFEST_BYTES {
                return Err(bad(MANIFEST_MEMBER, &format!("{size} bytes, more than the limit")));
            }
            let mut text = Vec::new();
            entry.read_to_end(&mut text).map_err(|e| read_error(MANIFEST_MEMBER, &e))?;
            parse_manifest(&text)?
        }
    };

    progress.phase("verifying", manifest.members.iter().map(|m| m.bytes).sum());
    let index: HashMap<&str, usize> =
        manifest.members.iter().enumerate().map(|(i, m)| (m.name.as_str(), i)).collect();
    let mut files: Vec<Option<PathBuf>> = vec![None; manifest.members.len()];
    let mut last = MANIFEST_MEMBER.to_owned();
    let report = |n| progress.advance(n);
    for entry in entries {
        let mut entry = entry.map_err(|e| read_error(&format!("after {last}"), &e))?;
        let name = entry_name(&entry);
        let Some(&i) = index.get(name.as_str()) else {
            return Err(bad(&name, "not listed in the manifest"));
        };
        let member = &manifest.members[i];
        if files[i].is_some() {
            return Err(bad(&name, "appears twice"));
        }
        let size = entry.header().size().map_err(|e| damaged(&name, &e))?;
        if size != member.bytes {
            return Err(ArchiveError::SizeMismatch { member: name, expected: member.bytes, actual: size });
        }
        let path = dir.join(i.to_string());
        let file = std::fs::File::create(&path).io("creating", &path)?;
        let mut writer = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 16, file));
        let mut reader = HashingReader::new((&mut entry).take(member.bytes), &report);
        std::io::copy(&mut reader, &mut writer).map_err(|e| read_error(&name, &e))?;
        let (read, sha256) = reader.finish();
        let (mut file, _, _) = writer.finish().io("writing", &path)?;
        file.flush().io("writing", &path)?;
        if read != member.bytes {
            return Err(truncated(&name, &format!("{read} of {} bytes", member.bytes)));
        }
        if sha256 != member.sha256 {
            return Err(ArchiveError::HashMismatch {
                member: name,
                expected: member.sha256.clone(),
                actual: sha256,
            });
        }
        files[i] = Some(path);
        last = name;
    }
    // Read the compressed stream to its end, so its checksum is verified.
    let mut rest = tar.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink()).map_err(|e| read_error(&format!("after {last}"), &e))?;

    let mut staged = Vec::with_capacity(files.len());
    for (file, member) in files.into_iter().zip(&manifest.members) {
        match file {
            Some(path) => staged.push(path),
            None => return Err(truncated(&member.name, "missing from the archive")),
        }
    }
    Ok(Verified { manifest, files: staged })
}

/// Parses the manifest and checks its format and schema versions.
fn parse_manifest(text: &[u8]) -> Result<Manifest> {
    #[derive(serde::Deserialize)]
    struct Header {
        format: String,
        format_version: u32,
    }
    let header: Header = serde_json::from_slice(text).map_err(|e| bad(MANIFEST_MEMBER, &e.to_string()))?;
    if header.format != FORMAT_NAME {
        return Err(bad(MANIFEST_MEMBER, &format!("format {:?} is not a Nexus archive", header.format)));
    }
    if header.format_version != FORMAT_VERSION {
        return Err(ArchiveError::UnknownFormat { found: header.format_version, supported: FORMAT_VERSION });
    }
    let manifest: Manifest =
        serde_json::from_slice(text).map_err(|e| bad(MANIFEST_MEMBER, &e.to_string()))?;
    let supported = nexus_db::migrate::latest_version().unwrap_or(0);
    if let Some(archive) = manifest.migration_version.filter(|v| *v > supported) {
        return Err(ArchiveError::NewerSchema { archive, supported });
    }
    for member in &manifest.members {
        if member.project >= manifest.projects.len() {
            return Err(bad(&member.name, "names a project the manifest does not list"));
        }
    }
    Ok(manifest)
}

fn entry_name<R: Read>(entry: &tar::Entry<'_, R>) -> String {
    entry.path().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| "(unreadable name)".to_owned())
}

/// An I/O error while reading `member`: the end of the input is truncation, anything else
/// damage.
fn read_error(member: &str, e: &std::io::Error) -> ArchiveError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        truncated(member, &e.to_string())
    } else {
        damaged(member, e)
    }
}

fn damaged(member: &str, e: &std::io::Error) -> ArchiveError {
    ArchiveError::Damaged { member: member.to_owned(), detail: e.to_string() }
}

fn truncated(member: &str, detail: &str) -> ArchiveError {
    ArchiveError::Truncated { member: member.to_owned(), detail: detail.to_owned() }
}

fn bad(member: &str, detail: &str) -> ArchiveError {
    ArchiveError::BadMember { member: member.to_owned(), detail: detail.to_owned() }
}
