//! Guest-readiness rules: the facts `imsprep-guest` read from a guest,
//! turned into findings.
//!
//! [`check_linux`] runs every Linux (LX-*) check and the image-level
//! checks the guest facts decide (IMG-BOOTMODE, IMG-OS-SUPPORTED);
//! [`check_fs_state`] decides IMG-FS-CLEAN and IMG-FREE-SPACE for one
//! mounted volume; [`check_declared`] compares a given `os_version` and
//! `architecture` with the guest; [`os_version_for`] chooses the
//! `os_version` string. [`check_windows`] runs every Windows (WIN-*)
//! check and IMG-OS-SUPPORTED for a Windows guest.
//!
//! Every finding's message starts with the result (`FAIL`, `WARN`,
//! `UNKNOWN`, `INFO`), states what was found and ends with the evidence:
//! the guest paths (or disk structures) read and the values found there,
//! so the user can check by hand. A fact that could not be read becomes an
//! `UNKNOWN` finding with the reason; on an error-severity check it is an
//! error (the exit policy of the guest-readiness reference), unless the
//! check says otherwise. PASS results give no finding, except where the
//! reference calls the result advisory (then an info finding).

mod access;
mod boot;
mod cloudinit;
mod disk;
mod drivers;
mod leftovers;
mod network;
pub mod os_version;
mod storage;
pub mod windows;

pub use disk::check_disk;
pub use os_version::{check_declared, os_version_for, OsVersionChoice};
pub use storage::check_fs_state;
pub use windows::{check_declared_windows, check_windows, windows_os_version, WindowsOsVersion};

use imsprep_guest::{Evidence, LinuxFacts};

use crate::finding::{Code, Finding, Severity};
use crate::image::Intent;

/// Appended to the messages of checks the reference marks *(verify)*.
pub(crate) const NOT_VERIFIED: &str = " (not verified on a live ECS)";

/// Most evidence items written into one message.
const MAX_EVIDENCE_SHOWN: usize = 16;

/// Evidence as one line: `path: value; path: value`.
pub(crate) fn evidence_text(evidence: &[Evidence]) -> String {
    let mut parts: Vec<String> = evidence
        .iter()
        .take(MAX_EVIDENCE_SHOWN)
        .map(ToString::to_string)
        .collect();
    if evidence.len() > MAX_EVIDENCE_SHOWN {
        parts.push(format!("and {} more", evidence.len() - MAX_EVIDENCE_SHOWN));
    }
    parts.join("; ")
}

fn make(
    code: Code,
    severity: Severity,
    result: &str,
    path: &str,
    text: impl Into<String>,
    evidence: &[Evidence],
) -> Finding {
    let text = text.into();
    let message = if evidence.is_empty() {
        format!("{result}: {text}")
    } else {
        format!("{result}: {text}. Read: {}", evidence_text(evidence))
    };
    let mut f = Finding::new(code, path, message);
    f.severity = severity;
    f
}

/// A FAIL with the code's severity.
pub(crate) fn fail(code: Code, path: &str, text: impl Into<String>, ev: &[Evidence]) -> Finding {
    make(code, code.severity(), "FAIL", path, text, ev)
}

/// A WARN (warning severity).
pub(crate) fn warn(code: Code, path: &str, text: impl Into<String>, ev: &[Evidence]) -> Finding {
    make(code, Severity::Warning, "WARN", path, text, ev)
}

/// An advisory result (info severity).
pub(crate) fn info(code: Code, path: &str, text: impl Into<String>, ev: &[Evidence]) -> Finding {
    make(code, Severity::Info, "INFO", path, text, ev)
}

/// An UNKNOWN with the code's severity (an error-severity check that could
/// not be decided blocks like a FAIL).
pub(crate) fn unknown(code: Code, path: &str, text: impl Into<String>, ev: &[Evidence]) -> Finding {
    make(code, code.severity(), "UNKNOWN", path, text, ev)
}

/// Every guest-readiness finding for a Linux guest.
pub fn check_linux(facts: &LinuxFacts, intent: &Intent) -> Vec<Finding> {
    let mut out = Vec::new();
    os_version::check(facts, intent.cloud, &mut out);
    boot::check(facts, intent, &mut out);
    drivers::check(facts, &mut out);
    storage::check(facts, &mut out);
    network::check(facts, &mut out);
    let other_login = access::other_login_path(facts);
    let cloud_init_ok = cloudinit::check(facts, other_login, &mut out);
    access::check(facts, cloud_init_ok, &mut out);
    leftovers::check(facts, &mut out);
    out
}
