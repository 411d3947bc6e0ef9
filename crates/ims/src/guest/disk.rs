//! IMG-SINGLE-OS, IMG-FS-READABLE and IMG-ENCRYPTION: what the disk holds,
//! before any guest's own checks.

use imsprep_guest::DiskInspection;

use crate::finding::{Code, Finding, Severity};

/// Findings about the disk as a whole: no system found, several systems,
/// volumes that could not be read or are encrypted.
pub fn check_disk(found: &DiskInspection) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(why) = &found.error {
        out.push(Finding::new(
            Code::ImgFsReadable,
            "image",
            format!("UNKNOWN: the volumes of the disk could not be read: {why}"),
        ));
        return out;
    }
    for v in &found.unread {
        let what = v.what.to_ascii_lowercase();
        if what.contains("luks") || what.contains("bitlocker") || what.contains("encrypt") {
            out.push(Finding::new(
                Code::ImgEncryption,
                "image",
                format!("FAIL: {} is {} ({})", v.device, v.what, v.reason),
            ));
        }
    }
    match found.roots.as_slice() {
        [] => {
            let unread: Vec<String> = found
                .unread
                .iter()
                .map(|v| format!("{} ({}: {})", v.device, v.what, v.reason))
                .collect();
            if unread.is_empty() {
                out.push(Finding::new(
                    Code::ImgSingleOs,
                    "image",
                    "FAIL: no operating system found: no file system holds /etc/fstab with an init, or \\Windows\\System32\\config\\SYSTEM",
                ));
            } else {
                out.push(Finding::new(
                    Code::ImgFsReadable,
                    "image",
                    format!(
                        "UNKNOWN: no operating system found among the volumes read; not read: {}",
                        unread.join("; ")
                    ),
                ));
            }
        }
        [_] => {}
        [first, rest @ ..] => {
            let others: Vec<String> = rest
                .iter()
                .map(|r| format!("{} ({}: {})", r.device, r.os, r.evidence))
                .collect();
            let mut f = Finding::new(
                Code::ImgSingleOs,
                "image",
                format!(
                    "WARN: {} systems found; {} ({}: {}) is checked, also found: {}",
                    found.roots.len(),
                    first.device,
                    first.os,
                    first.evidence,
                    others.join("; ")
                ),
            );
            f.severity = Severity::Warning;
            out.push(f);
        }
    }
    out
}
