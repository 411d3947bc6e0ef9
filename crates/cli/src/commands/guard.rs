//! Checks made before any long work starts, so a mistake costs nothing.

use std::path::Path;

use crate::exit::UsageError;

/// Refuses an existing `output` without `force`, and an `output` that is
/// the `input` itself whatever `force` says: the input is never changed.
pub fn output_allowed(input: &Path, output: &Path, force: bool) -> anyhow::Result<()> {
    if let (Ok(a), Ok(b)) = (input.canonicalize(), output.canonicalize()) {
        if a == b {
            return Err(UsageError(format!(
                "{} is the input file; choose another output",
                output.display()
            ))
            .into());
        }
    }
    if !force && output.symlink_metadata().is_ok() {
        return Err(UsageError(format!(
            "{} exists; pass --force to replace it",
            output.display()
        ))
        .into());
    }
    Ok(())
}
