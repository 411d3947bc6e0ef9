//! Layout of the virtual disk inside a ZVHD2 file, read through the
//! imsprep-zvhd2 reader.

use std::path::Path;

use crate::report::Report;

/// Read the layout of a ZVHD2 image and record the reader's verdict.
pub(crate) fn attach(_path: &Path, report: &mut Report) {
    report.layout_error =
        Some("the ZVHD2 reader is not available in this build; layout not read".to_string());
}
