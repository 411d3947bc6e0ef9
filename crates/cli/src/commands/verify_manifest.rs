//! `imsprep verify --manifest DIR/manifest.json`: are the files of an
//! upload set still the ones `prepare` wrote?

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use imsprep_ims::manifest::{check_file, Manifest};
use imsprep_ims::Finding;
use imsprep_scan::DEFAULT_GRANULARITY;
use serde::Serialize;

use super::findings;
use super::scan_image::scan_with_progress;
use crate::exit::{BadInput, Outcome};
use crate::output::{parent_dir, print_json};
use crate::progress::Session;

/// Manifests are small; a larger file is not one.
const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// What `verify --manifest --json` prints.
#[derive(Serialize)]
struct Report {
    manifest: String,
    files_checked: usize,
    sound: bool,
    findings: Vec<Finding>,
}

/// Recomputes the size and CRC-32 of every file the manifest lists.
pub fn run(session: &Session, manifest_path: &Path, json: bool) -> anyhow::Result<Outcome> {
    let manifest = read(manifest_path)?;
    let base = parent_dir(manifest_path);
    let mut found = Vec::new();
    for entry in &manifest.files {
        let path = resolve(base, &entry.path);
        let actual = if path.is_file() {
            let scan = scan_with_progress(session, &path, DEFAULT_GRANULARITY, true)?;
            scan.crc32.map(|crc| (scan.image_size(), crc))
        } else {
            None
        };
        found.extend(check_file(entry, actual));
    }
    let report = Report {
        manifest: manifest_path.display().to_string(),
        files_checked: manifest.files.len(),
        sound: found.is_empty(),
        findings: found,
    };
    if json {
        print_json(&report)?;
    } else {
        if !report.sound {
            findings::print(&report.findings);
        }
        let verdict = if report.sound {
            "every file matches"
        } else {
            "files differ"
        };
        println!(
            "{}: {} files checked, {verdict}",
            report.manifest, report.files_checked
        );
    }
    Ok(if report.sound {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

/// Reads and parses a manifest, bounded in size.
pub fn read(path: &Path) -> anyhow::Result<Manifest> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    // Read through a limit rather than trusting the size first looked up: a
    // pipe or a file still growing reports less than it delivers.
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(BadInput(format!(
            "{}: larger than {} MiB, too large for a manifest",
            path.display(),
            MAX_MANIFEST_BYTES >> 20
        ))
        .into());
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| BadInput(format!("{}: not an imsprep manifest: {e}", path.display())).into())
}

/// A manifest path: absolute as it is, relative to the manifest's folder.
fn resolve(base: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}
