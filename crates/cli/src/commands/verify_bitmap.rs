//! `imsprep verify IMAGE --bitmap FILE.mf`: does the bitmap describe the image?

use std::path::Path;

use anyhow::Context;
use imsprep_ims::{Code, Finding};
use imsprep_scan::{check_bitmap_against, read_bitmap};
use serde::Serialize;

use super::scan_image::scan_with_progress;
use crate::exit::Outcome;
use crate::output::print_json;
use crate::progress::Session;

/// What `verify --bitmap --json` prints.
#[derive(Serialize)]
struct Report {
    image: String,
    bitmap: String,
    matches: bool,
    problem: Option<String>,
    /// The same as a finding (`BITMAP-MISMATCH`), empty when the bitmap matches.
    findings: Vec<Finding>,
}

/// Scans the image at the bitmap's granularity and compares.
pub fn run(
    session: &Session,
    image: &Path,
    bitmap_path: &Path,
    json: bool,
) -> anyhow::Result<Outcome> {
    let bitmap =
        read_bitmap(bitmap_path).with_context(|| format!("reading {}", bitmap_path.display()))?;
    let want_crc = bitmap.image_crc32.is_some();
    let scan = scan_with_progress(session, image, bitmap.map.granularity(), want_crc)?;
    let mut problem = check_bitmap_against(&bitmap.map, &scan.map)
        .err()
        .map(|m| m.to_string());
    if problem.is_none() {
        if let (Some(recorded), Some(actual)) = (bitmap.image_crc32, scan.crc32) {
            if recorded != actual {
                problem = Some(format!(
                    "the image's CRC-32 is {actual:08x}, the bitmap was made from an image with {recorded:08x}"
                ));
            }
        }
    }
    let findings = problem
        .iter()
        .map(|p| Finding::new(Code::BitmapMismatch, "bitmap", p.clone()))
        .collect();
    let report = Report {
        image: image.display().to_string(),
        bitmap: bitmap_path.display().to_string(),
        matches: problem.is_none(),
        problem,
        findings,
    };
    if json {
        print_json(&report)?;
    } else {
        match &report.problem {
            None => println!("{}: matches {}", report.bitmap, report.image),
            Some(problem) => println!(
                "{}: does not match {} ({}): {problem}",
                report.bitmap,
                report.image,
                Code::BitmapMismatch.id()
            ),
        }
    }
    Ok(if report.matches {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}
