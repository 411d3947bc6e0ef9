//! Scanning a RAW image with a progress bar: shared by `map`, `bitmap`,
//! `verify --bitmap` and `prepare`.

use std::path::Path;

use anyhow::Context;
use imsprep_disk::Disk;
use imsprep_prepare::{scan_disk, scan_path};
use imsprep_scan::Scan;

use crate::progress::Session;

/// Scans `image` at `granularity`, computing the CRC-32 too when `crc`.
pub fn scan_with_progress(
    session: &Session,
    image: &Path,
    granularity: u64,
    crc: bool,
) -> anyhow::Result<Scan> {
    super::endpoint::needs_file(image, "the scan")?;
    scan_path(session, image, granularity, crc)
        .with_context(|| format!("scanning {}", image.display()))
}

/// Parses a `--granularity` value, as a usage error when it is wrong.
pub fn granularity(text: &str) -> anyhow::Result<u64> {
    imsprep_scan::parse_granularity(text)
        .map_err(|e| crate::exit::UsageError(format!("--granularity {text}: {e}")).into())
}

/// Scans any disk of the disk model (a qcow2, VMDK, VHD, VHDX or VDI
/// image's guest view), never reading what its metadata says is empty.
pub fn scan_disk_with_progress(
    session: &Session,
    disk: &dyn Disk,
    granularity: u64,
    crc: bool,
) -> anyhow::Result<Scan> {
    scan_disk(session, disk, granularity, crc)
        .with_context(|| format!("scanning {}", disk.info().path.display()))
}
