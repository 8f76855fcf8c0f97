//! Readers and writers that hash and count the bytes passing through them.

use std::io::{Read, Write};

use sha2::{Digest, Sha256};

/// Wraps a writer: counts and hashes what is written.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self { inner, hasher: Sha256::new(), bytes: 0 }
    }

    /// Flushes and returns the writer, the byte count and the hex SHA-256.
    pub(crate) fn finish(mut self) -> std::io::Result<(W, u64, String)> {
        self.inner.flush()?;
        Ok((self.inner, self.bytes, nexus_db::hex(&self.hasher.finalize())))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Wraps a reader: counts and hashes what is read, and reports each block read.
pub(crate) struct HashingReader<'p, R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    on_read: &'p (dyn Fn(u64) + Send + Sync),
}

impl<'p, R: Read> HashingReader<'p, R> {
    pub(crate) fn new(inner: R, on_read: &'p (dyn Fn(u64) + Send + Sync)) -> Self {
        Self { inner, hasher: Sha256::new(), bytes: 0, on_read }
    }

    /// The byte count and the hex SHA-256 of what was read.
    pub(crate) fn finish(self) -> (u64, String) {
        (self.bytes, nexus_db::hex(&self.hasher.finalize()))
    }
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        (self.on_read)(n as u64);
        Ok(n)
    }
}

/// The SHA-256 and size of a file.
pub(crate) fn hash_file(path: &std::path::Path) -> std::io::Result<(u64, String)> {
    let file = std::fs::File::open(path)?;
    let noop = |_| {};
    let mut reader = HashingReader::new(std::io::BufReader::with_capacity(1 << 16, file), &noop);
    std::io::copy(&mut reader, &mut std::io::sink())?;
    Ok(reader.finish())
}
