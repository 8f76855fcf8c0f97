//! [`Progress`]: how long operations report how far they are (the CLI draws a bar from it).

/// Receives the progress of an export, import or backup. Every method has a do-nothing
/// default; `()` reports nowhere.
pub trait Progress: Send + Sync {
    /// A new phase starts (`"exporting"`, `"verifying"`, …) with `total` units (bytes or rows;
    /// 0 when unknown).
    fn phase(&self, _name: &str, _total: u64) {}
    /// `done` more units of the current phase are finished.
    fn advance(&self, _done: u64) {}
}

impl Progress for () {}
