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

use imsprep_guest::{Fact, WindowsFacts};

use crate::finding::{Code, Finding};
use crate::image::Intent;
use crate::os::Cloud;

// The message helpers are the Linux checks' own: one wording for every
// guest finding.
use super::{fail, info, unknown, warn, NOT_VERIFIED};

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
