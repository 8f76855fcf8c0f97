//! [`tune_allocator`]: keeps glibc's `malloc` from giving the encoder's large tensors back to
//! the kernel after every operation.
//!
//! Each encoder operation allocates its output anew: a batch's attention scores are up to
//! ~25 MB ([`super::BATCH_TOKENS`]), its feed-forward activations ~12 MB. glibc serves
//! allocations above its `mmap` threshold (128 KiB at first, raised as large blocks are freed)
//! with a fresh mapping, unmaps them when freed and trims its heaps eagerly, so the kernel
//! zero-fills the same hundreds of megabytes page by page for every batch: measured on SciFact
//! documents, 18,000 page faults per document and a quarter of the embedder's CPU time; about
//! 1,700 with this tuning (docs/embeddings.md).
//! Fixing the threshold at glibc's ceiling (32 MiB) and trimming only beyond 256 MiB of free
//! heap lets freed tensors be reused instead.

/// Allocations from this size up are mapped on their own (glibc's largest allowed value).
const MMAP_THRESHOLD: i32 = 32 << 20;

/// Free memory at the top of a heap beyond this is returned to the kernel.
const TRIM_THRESHOLD: i32 = 256 << 20;

/// Tunes the process's allocator for the neural embedder: on Linux with glibc it sets
/// `M_MMAP_THRESHOLD` to 32 MiB and `M_TRIM_THRESHOLD` to 256 MiB (`mallopt`), so the
/// encoder's tensors are reused from the heap rather than mapped, zero-filled and unmapped
/// for every batch. The `nexus` binary calls it at start-up; a program embedding with
/// [`super::NeuralEmbedder`] should call it once from `main` (it is process-wide, which is why
/// the embedder does not call it itself). Returns whether the allocator took the settings
/// (always false elsewhere than glibc, where nothing needs doing).
///
/// ```
/// let tuned = nexus_embed::tune_allocator();
/// assert_eq!(tuned, cfg!(all(target_os = "linux", target_env = "gnu")));
/// ```
pub fn tune_allocator() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only changes glibc's allocator parameters; it takes the arena lock
        // itself and may be called at any time from any thread.
        #[allow(unsafe_code)]
        let tuned = unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        };
        tuned
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
