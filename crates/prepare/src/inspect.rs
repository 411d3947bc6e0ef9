//! What an image file is, and what fast import says of it.

use std::path::Path;
use std::sync::Arc;

use imsprep_disk::OpenOptions;
use imsprep_probe::{disk_kind, open_disk, Format};

use imsprep_ims::{
    check_image, has_errors, smallest_min_disk, Architecture, Finding, ImageFacts, ImageType,
    Intent,
};
use imsprep_probe::Report;
use serde::Serialize;

use crate::error::PrepareError;
use crate::guest::{check_guest, GuestSummary};

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
    /// What the guest inside is, when it was inspected
    /// ([`add_guest_checks`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guest: Option<GuestSummary>,
}

/// Inspects the guest inside the image of `inspection` (read from `path`)
/// and adds what it is and, for a system disk, the guest checks' findings
/// (with a given `os_version` or architecture compared with the guest).
/// An image no backend reads is left as it is (its format findings say
/// why).
pub fn add_guest_checks(
    inspection: &mut Inspection,
    path: &Path,
    intent: &Intent,
    declared_os_version: Option<&str>,
    declared_architecture: Option<Architecture>,
) -> Result<(), PrepareError> {
    let format = inspection.file.format;
    if format != Format::Zvhd2 && disk_kind(format).is_none() {
        return Ok(());
    }
    let disk = open_disk(path, format, &OpenOptions::default())?;
    let guest = check_guest(
        Arc::from(disk),
        intent,
        declared_os_version,
        declared_architecture,
    );
    if intent.image_type != ImageType::DataImage {
        inspection.findings.extend(guest.findings);
        inspection.fast_import_ready = !has_errors(&inspection.findings);
    }
    inspection.guest = Some(guest.summary);
    Ok(())
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
        guest: None,
    })
}
