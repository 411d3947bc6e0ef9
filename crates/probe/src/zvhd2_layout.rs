//! The virtual disk inside a ZVHD2 file, read through the imsprep-zvhd2
//! reader, so its partition table and file systems can be probed like a
//! RAW disk's.

use std::path::Path;

use imsprep_zvhd2::{Reader, Zvhd2Disk};

use crate::layout::read_layout;
use crate::report::{FormatDetail, Report};
use crate::DiskView;

/// Open the ZVHD2 file with the reader, record whether it opened, and read
/// the layout of its virtual disk.
pub(crate) fn attach(path: &Path, report: &mut Report) {
    match Reader::open(path) {
        Ok(reader) => {
            if let FormatDetail::Zvhd2(z) = &mut report.detail {
                z.reader_opened = true;
                z.reader_error = None;
            }
            let disk = Zvhd2Disk::new(reader, path);
            match read_layout(&DiskView(&disk)) {
                Ok(layout) => report.layout = Some(layout),
                Err(e) => report.layout_error = Some(e.to_string()),
            }
        }
        Err(e) => {
            let why = e.to_string();
            if let FormatDetail::Zvhd2(z) = &mut report.detail {
                z.reader_opened = false;
                z.reader_error = Some(why.clone());
            }
            report.layout_error = Some(format!("the ZVHD2 reader refused the file: {why}"));
        }
    }
}
