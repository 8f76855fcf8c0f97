//! Configures the process's SQLite once, before any connection: [`configure_sqlite`] turns off
//! its memory statistics and registers the statically linked sqlite-vec extension.
//!
//! `sqlite3_auto_extension` makes SQLite call the extension's init function on every new
//! connection, so every pooled connection nexus-db opens (reader or writer) has `vec0`,
//! `vec_version()` and the `vec_*` functions without any per-connection setup.
//!
//! It also holds the crate's other FFI call, [`RawInterrupt`] (`sqlite3_interrupt`), used by
//! [`crate::interrupt`]: all of nexus-db's `unsafe` code is in this file.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int};
use std::sync::OnceLock;

use libsqlite3_sys::{
    SQLITE_CONFIG_MEMSTATUS, SQLITE_OK, sqlite3, sqlite3_api_routines, sqlite3_auto_extension, sqlite3_config,
};

use crate::error::{DbError, Result};

type ExtensionInit =
    unsafe extern "C" fn(*mut sqlite3, *mut *mut c_char, *const sqlite3_api_routines) -> c_int;

static CONFIGURED: OnceLock<c_int> = OnceLock::new();

/// Configures SQLite for Nexus, once per process: turns off SQLite's memory-usage statistics
/// (`SQLITE_CONFIG_MEMSTATUS`, a process-wide mutex on every allocation) when SQLite is not
/// initialised yet, then makes sqlite-vec available on every connection opened after this call.
///
/// The two go together: the statistics can only be turned off before SQLite initialises, which
/// registering the extension does. Idempotent and thread-safe; [`crate::Db`] calls it before
/// opening any connection.
pub fn configure_sqlite() -> Result<()> {
    let code = *CONFIGURED.get_or_init(|| {
        // Memory-usage statistics make every SQLite allocation take one process-wide mutex,
        // which serialises connections that run queries in parallel (a hybrid search's two
        // legs). Nexus does not read those statistics, so turn them off. This only works before
        // SQLite initialises (the call below initialises it); if something else in the process
        // already did, SQLite answers SQLITE_MISUSE and nothing changes, which is harmless.
        // SAFETY: sqlite3_config is called with an option that takes one int argument.
        let _ = unsafe { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0 as c_int) };
        // SAFETY: `sqlite3_vec_init` is the extension entry point compiled into this binary by
        // the sqlite-vec crate (with SQLITE_CORE). The crate declares it without parameters;
        // its real C signature is exactly `ExtensionInit`, which is what SQLite calls it with.
        // `sqlite3_auto_extension` is thread-safe and only stores the function pointer.
        unsafe {
            let init: ExtensionInit =
                std::mem::transmute::<*const (), ExtensionInit>(sqlite_vec::sqlite3_vec_init as *const ());
            sqlite3_auto_extension(Some(init))
        }
    });
    if code == SQLITE_OK { Ok(()) } else { Err(DbError::Extension(code)) }
}

/// The raw handle of one open SQLite connection, kept only to interrupt it from another thread.
///
/// Taken with [`RawInterrupt::take`] from a connection the caller owns, and valid only as long
/// as that connection stays open: whoever holds one must keep the connection alive (not closed,
/// not returned to a pool) for as long as it may call [`RawInterrupt::interrupt`]. It is
/// crate-private for that reason; [`crate::interrupt`] is its one user and keeps the pooled
/// connection beside it. A clone has the same contract.
#[derive(Debug, Clone)]
pub(crate) struct RawInterrupt(std::ptr::NonNull<sqlite3>);

// SAFETY: the pointer is only ever passed to `sqlite3_interrupt`, which SQLite documents as safe
// to call from any thread while the connection is open (it only sets an atomic flag).
unsafe impl Send for RawInterrupt {}
// SAFETY: as above; `interrupt` takes `&self` and SQLite makes concurrent calls safe.
unsafe impl Sync for RawInterrupt {}

impl RawInterrupt {
    /// Takes the `sqlite3*` of `conn`. Call it while no statement runs on the connection: sqlx's
    /// worker thread holds the handle's lock while it runs one, so this waits for it.
    pub(crate) async fn take(conn: &mut sqlx::SqliteConnection) -> Result<Self> {
        let mut locked = conn.lock_handle().await.map_err(|e| DbError::from_sqlx("lock_handle", e))?;
        Ok(Self(locked.as_raw_handle()))
    }

    /// Asks SQLite to stop the statement running on the connection, if any: it then fails with
    /// `SQLITE_INTERRUPT`. A no-op when nothing runs.
    pub(crate) fn interrupt(&self) {
        // SAFETY: `self.0` came from `as_raw_handle` of a connection that, by this type's
        // contract, is still open; `sqlite3_interrupt` is thread-safe and may be called while
        // another thread runs a statement on the same connection.
        unsafe { libsqlite3_sys::sqlite3_interrupt(self.0.as_ptr()) }
    }
}
