//! Windows guest checks (WIN-*) and IMG-OS-SUPPORTED for Windows.
//!
//! Each check reads one fact of [`WindowsFacts`] and decides as the
//! guest-readiness reference says (§4). Every finding's message starts
//! with the result (`FAIL`, `WARN`, `UNKNOWN`, `INFO`), says what was
//! found and ends with the evidence: registry values as
//! `HIVE\key\value: value` and guest paths, so the user can check by hand
//! (`reg load`, regedit). A fact that could not be read is an `UNKNOWN`
//! finding with the reason, with the check's own severity. A check that
//! passes gives no finding, except WIN-OS-VERSION, whose string the user
//! needs (an info finding).

mod access;
mod drivers;
mod identity;
mod system;

pub use identity::{check_declared_windows, windows_os_version, WindowsOsVersion};

use imsprep_guest::{Evidence, Fact, WindowsFacts};

use crate::finding::{Code, Finding, Severity};
use crate::image::Intent;
use crate::os::Cloud;

/// Appended to the messages of checks the reference marks *(verify)*.
const NOT_VERIFIED: &str = " (not verified on a live ECS)";

/// Most evidence items written into one message.
const MAX_EVIDENCE_SHOWN: usize = 16;

/// Evidence as one line: `location: value; location: value`.
fn evidence_text(evidence: &[Evidence]) -> String {
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
fn fail(code: Code, path: &str, text: impl Into<String>, ev: &[Evidence]) -> Finding {
    make(code, code.severity(), "FAIL", path, text, ev)
}

/// A WARN (warning severity).
fn warn(code: Code, path: &str, text: impl Into<String>, ev: &[Evidence]) -> Finding {
    make(code, Severity::Warning, "WARN", path, text, ev)
}

/// An advisory result (info severity).
fn info(code: Code, path: &str, text: impl Into<String>, ev: &[Evidence]) -> Finding {
    make(code, Severity::Info, "INFO", path, text, ev)
}

/// An UNKNOWN with the code's severity.
fn unknown(code: Code, path: &str, text: impl Into<String>, ev: &[Evidence]) -> Finding {
    make(code, code.severity(), "UNKNOWN", path, text, ev)
}

/// The fact's value; an UNKNOWN finding when it could not be read.
/// `None` without a finding when it was read and found absent.
fn read<'a, T>(
    fact: &'a Fact<T>,
    code: Code,
    path: &str,
    what: &str,
    out: &mut Vec<Finding>,
) -> Option<&'a T> {
    if let Some(reason) = &fact.unknown {
        out.push(unknown(
            code,
            path,
            format!("{what} could not be read: {reason}"),
            &fact.evidence,
        ));
        return None;
    }
    fact.get()
}

/// Every Windows finding. `cloud` is the target cloud when known: it
/// decides IMG-OS-SUPPORTED and which list's `os_version` spelling is
/// chosen.
pub fn check_windows(facts: &WindowsFacts, intent: &Intent, cloud: Option<Cloud>) -> Vec<Finding> {
    let mut out = Vec::new();
    identity::os_supported(cloud, &mut out);
    if !system::root(facts, &mut out) {
        return out;
    }
    system::hives(facts, &mut out);
    system::control_set(facts, &mut out);
    identity::check(facts, cloud, &mut out);
    system::boot(facts, intent, &mut out);
    system::ntfs(facts, &mut out);
    system::pending(facts, &mut out);
    drivers::check(facts, &mut out);
    access::check(facts, &mut out);
    out
}
