//! Progress reporting and cancellation for long operations.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;

/// How a long operation reports progress and learns it should stop.
#[derive(Clone, Copy)]
pub struct Control<'a> {
    /// Called with the bytes done so far (monotone, ends at the total).
    pub progress: &'a (dyn Fn(u64) + Sync),
    /// When set, the operation stops soon and returns [`Error::Cancelled`].
    pub cancel: &'a AtomicBool,
}

static NEVER: AtomicBool = AtomicBool::new(false);

fn ignore(_: u64) {}

impl Default for Control<'_> {
    /// No progress reports, never cancelled.
    fn default() -> Self {
        Control {
            progress: &ignore,
            cancel: &NEVER,
        }
    }
}

impl std::fmt::Debug for Control<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("cancel", &self.cancel)
            .finish_non_exhaustive()
    }
}

impl Control<'_> {
    /// `Err(Cancelled)` once the flag is set.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
}
