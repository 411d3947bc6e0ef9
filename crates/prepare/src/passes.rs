//! The long passes over a whole disk, each with progress and cancellation
//! from a [`Reporter`].

use std::path::Path;

use imsprep_disk::{Disk, RawDisk};
use imsprep_scan::{Scan, ScanOptions};
use imsprep_zvhd2::{
    disk_to_raw, verify, Compression, Control, DiskSource, Report, VerifyOptions, WriteOptions,
    WriteSummary,
};

use crate::error::PrepareError;
use crate::reporter::Reporter;

/// Scans the RAW file or block device at `path` at `granularity`, with its
/// CRC-32 when `crc` (holes are never read; the file is locked against
/// writers and checked for changes).
pub fn scan_path(
    reporter: &dyn Reporter,
    path: &Path,
    granularity: u64,
    crc: bool,
) -> Result<Scan, PrepareError> {
    // The one size every command uses: a device's metadata says 0 bytes.
    let size = RawDisk::open(path)?.size();
    let progress = reporter.pass("scanning", size);
    let options = ScanOptions {
        granularity,
        crc,
        ..ScanOptions::default()
    };
    Ok(imsprep_scan::scan_file(
        path,
        &options,
        &*progress,
        reporter.cancel_flag(),
    )?)
}

/// Scans any disk of the disk model (a qcow2, VMDK, VHD, VHDX or VDI
/// image's guest view), never reading what its metadata says is empty.
pub fn scan_disk(
    reporter: &dyn Reporter,
    disk: &dyn Disk,
    granularity: u64,
    crc: bool,
) -> Result<Scan, PrepareError> {
    let progress = reporter.pass("scanning", disk.size());
    let options = ScanOptions {
        granularity,
        crc,
        ..ScanOptions::default()
    };
    Ok(imsprep_scan::scan_disk(
        disk,
        &options,
        &*progress,
        reporter.cancel_flag(),
    )?)
}

/// Checks every structure and record of the ZVHD2 file at `path`, and
/// every block against `against` when given.
pub fn verify_zvhd2(
    reporter: &dyn Reporter,
    path: &Path,
    against: Option<&dyn Disk>,
) -> Result<Report, PrepareError> {
    // Progress comes in bytes of the virtual disk (orig_size). A file the
    // reader refuses gets its error from `verify` below.
    let disk = imsprep_zvhd2::Reader::open(path).map_or(0, |r| r.footer().orig_size);
    let progress = reporter.pass("verifying", disk);
    let control = Control {
        progress: &*progress,
        cancel: reporter.cancel_flag(),
    };
    Ok(verify(path, &VerifyOptions { against }, &control)?)
}

/// Converts any disk of the disk model to a ZVHD2 file at `output` (zstd at
/// `level`, as the reference writes), whole or not at all.
pub fn disk_to_zvhd2(
    reporter: &dyn Reporter,
    disk: &dyn Disk,
    output: &Path,
    level: i32,
    force: bool,
) -> Result<WriteSummary, PrepareError> {
    let progress = reporter.pass("converting", disk.size());
    let control = Control {
        progress: &*progress,
        cancel: reporter.cancel_flag(),
    };
    let options = WriteOptions {
        compression: Compression::Zstd { level },
        overwrite: force,
        ..WriteOptions::default()
    };
    Ok(imsprep_zvhd2::write(
        &DiskSource::new(disk),
        output,
        &options,
        &control,
    )?)
}

/// Copies any disk of the disk model to a sparse RAW file at `output`.
pub(crate) fn disk_to_raw_file(
    reporter: &dyn Reporter,
    disk: &dyn Disk,
    output: &Path,
    force: bool,
) -> Result<u64, PrepareError> {
    let progress = reporter.pass("copying", disk.size());
    let control = Control {
        progress: &*progress,
        cancel: reporter.cancel_flag(),
    };
    Ok(disk_to_raw(disk, disk.size(), output, force, &control)?)
}
