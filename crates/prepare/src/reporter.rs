//! How a long operation tells its caller how far it got, and learns that it
//! should stop.

use std::sync::atomic::AtomicBool;

/// What the pipeline needs from its caller: progress displays, a
/// cancellation flag it polls, and a place for warnings.
pub trait Reporter: Sync {
    /// Starts a display for a pass over `total` bytes called `what`
    /// ("scanning", "converting"); the returned function receives the bytes
    /// done, from any thread, and the display ends when it is dropped.
    fn pass<'a>(&'a self, what: &str, total: u64) -> Box<dyn Fn(u64) + Sync + 'a>;

    /// Set by the caller to stop the work; it then fails with a cancelled
    /// error and leaves nothing behind.
    fn cancel_flag(&self) -> &AtomicBool;

    /// Something the user should know that does not stop the work.
    fn warn(&self, message: &str);
}

/// A reporter that shows nothing and is never cancelled.
#[derive(Debug, Default)]
pub struct Quiet {
    cancel: AtomicBool,
    /// Warnings received, in order.
    pub warnings: std::sync::Mutex<Vec<String>>,
}

impl Reporter for Quiet {
    fn pass<'a>(&'a self, _what: &str, _total: u64) -> Box<dyn Fn(u64) + Sync + 'a> {
        Box::new(|_| {})
    }

    fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }

    fn warn(&self, message: &str) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(message.to_string());
        }
    }
}
