//! Scanning a RAW image with a progress bar: shared by `map`, `bitmap`,
//! `verify --bitmap` and `prepare`.

use std::path::Path;

use anyhow::Context;
use imsprep_scan::{scan_file, Scan, ScanOptions};

use crate::progress::Session;

/// Scans `image` at `granularity`, computing the CRC-32 too when `crc`.
pub fn scan_with_progress(
    session: &Session,
    image: &Path,
    granularity: u64,
    crc: bool,
) -> anyhow::Result<Scan> {
    let size = std::fs::metadata(image)
        .with_context(|| format!("reading {}", image.display()))?
        .len();
    let bar = session.bar("scanning", size);
    let options = ScanOptions {
        granularity,
        crc,
        ..ScanOptions::default()
    };
    scan_file(
        image,
        &options,
        &|done| bar.set(done),
        session.cancel_flag(),
    )
    .with_context(|| format!("scanning {}", image.display()))
}

/// Parses a `--granularity` value, as a usage error when it is wrong.
pub fn granularity(text: &str) -> anyhow::Result<u64> {
    imsprep_scan::parse_granularity(text)
        .map_err(|e| crate::exit::UsageError(format!("--granularity {text}: {e}")).into())
}
