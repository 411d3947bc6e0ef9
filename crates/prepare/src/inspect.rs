//! What an image file is, and what fast import says of it.

use std::path::Path;

use imsprep_ims::{check_image, has_errors, smallest_min_disk, Finding, ImageFacts, Intent};
use imsprep_probe::Report;
use serde::Serialize;

use crate::error::PrepareError;

/// The probe's facts about a file and the findings they give for an intent
/// (the document `inspect --json` prints; see docs/inspect.md).
#[derive(Debug, Serialize)]
pub struct Inspection {
    /// The probe's facts about the file.
    pub file: Report,
    /// Size of the disk the service will create from the image, in bytes.
    pub disk_size: Option<u64>,
    /// The smallest `min_disk` (GiB) that covers `disk_size`.
    pub min_disk: Option<u32>,
    /// True when no finding is an error.
    pub fast_import_ready: bool,
    /// Everything found, with stable codes.
    pub findings: Vec<Finding>,
}

/// Probes the file or device at `path` and checks the facts for `intent`;
/// `shown` is the name it is reported under (the user's, when `path` is a
/// temporary copy of a stream).
pub fn inspect_image(
    path: &Path,
    shown: &str,
    intent: &Intent,
) -> Result<Inspection, PrepareError> {
    let mut report = imsprep_probe::inspect(path)?;
    if path.display().to_string() != shown {
        report.path = shown.to_string();
    }
    let facts = ImageFacts::from_probe(&report);
    let findings = check_image(&facts, intent);
    Ok(Inspection {
        disk_size: facts.disk_size,
        min_disk: facts.disk_size.map(smallest_min_disk),
        fast_import_ready: !has_errors(&findings),
        findings,
        file: report,
    })
}
