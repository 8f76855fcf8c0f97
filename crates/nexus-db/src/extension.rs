//! Registers the statically linked sqlite-vec extension with SQLite, once per process.
//!
//! `sqlite3_auto_extension` makes SQLite call the extension's init function on every new
//! connection, so every pooled connection nexus-db opens (reader or writer) has `vec0`,
//! `vec_version()` and the `vec_*` functions without any per-connection setup.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int};
use std::sync::OnceLock;

use libsqlite3_sys::{
    SQLITE_CONFIG_MEMSTATUS, SQLITE_OK, sqlite3, sqlite3_api_routines, sqlite3_auto_extension, sqlite3_config,
};

use crate::error::{DbError, Result};

type ExtensionInit =
    unsafe extern "C" fn(*mut sqlite3, *mut *mut c_char, *const sqlite3_api_routines) -> c_int;

static REGISTERED: OnceLock<c_int> = OnceLock::new();

/// Makes sqlite-vec available on every SQLite connection opened after this call.
///
/// Idempotent and thread-safe; [`crate::Db`] calls it before opening any connection.
pub fn register_sqlite_vec() -> Result<()> {
    let code = *REGISTERED.get_or_init(|| {
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
