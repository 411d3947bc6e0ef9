//! Advisory facts (spec §3.9): console and crash-kernel arguments, the
//! machine identity, the hardware clock mode and DHCP leases left from the
//! source network. The IMS trace log is reported with the leftovers.
//!
//! Read: the default kernel command line (`console=`, `rhgb`, `quiet`,
//! `crashkernel=`), `/etc/machine-id`, `/etc/adjtime` (third line `UTC` or
//! `LOCAL`), and the lease folders `/var/lib/dhclient`, `/var/lib/dhcp`,
//! `/var/lib/NetworkManager`, `/var/lib/wicked` (names containing
//! `lease`), `/var/lib/systemd/netif/leases` (every file).

use super::services::{join, list_dir, read_text};
use crate::{Evidence, GuestFiles};

/// Lease folders, and whether every file there is a lease (otherwise
/// only names containing `lease`).
const LEASE_DIRS: [(&str, bool); 5] = [
    ("/var/lib/dhclient", false),
    ("/var/lib/dhcp", false),
    ("/var/lib/NetworkManager", false),
    ("/var/lib/wicked", false),
    ("/var/lib/systemd/netif/leases", true),
];

/// Most lease files listed.
pub const MAX_LEASES: usize = 64;

/// Advisory facts of a Linux guest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdvisoryFacts {
    /// `console=` values on the default command line, in order.
    pub consoles: Vec<String>,
    /// `rhgb`/`quiet` on the default command line.
    pub quiet_boot: Vec<String>,
    /// `crashkernel=` value.
    pub crashkernel: Option<String>,
    /// `/etc/machine-id`: `set`, `empty` or `uninitialized` (the ID itself
    /// is not kept).
    pub machine_id: Option<Evidence>,
    /// `/etc/adjtime` clock mode (`UTC` or `LOCAL`).
    pub rtc: Option<(String, Evidence)>,
    /// DHCP lease files left from the source network.
    pub dhcp_leases: Vec<Evidence>,
}

/// Reads the advisory facts; `cmdline` is the default kernel command line
/// when known.
pub fn advisory_facts(g: &dyn GuestFiles, cmdline: Option<&str>) -> AdvisoryFacts {
    let mut f = AdvisoryFacts::default();
    for arg in cmdline.unwrap_or("").split_whitespace() {
        if let Some(c) = arg.strip_prefix("console=") {
            f.consoles.push(c.to_string());
        } else if arg == "rhgb" || arg == "quiet" {
            f.quiet_boot.push(arg.to_string());
        } else if let Some(c) = arg.strip_prefix("crashkernel=") {
            f.crashkernel = Some(c.to_string());
        }
    }
    let mid = "/etc/machine-id";
    if let Some(text) = read_text(g, mid, 4096) {
        let v = text.trim();
        let state = if v.is_empty() {
            "empty"
        } else if v == "uninitialized" {
            "uninitialized"
        } else {
            "set"
        };
        f.machine_id = Some(Evidence::file(mid, state));
    }
    let adj = "/etc/adjtime";
    if let Some(text) = read_text(g, adj, 4096) {
        if let Some(mode) = text.lines().nth(2).map(str::trim).filter(|m| !m.is_empty()) {
            f.rtc = Some((
                mode.to_string(),
                Evidence::file(adj, format!("line 3: {mode}")),
            ));
        }
    }
    for (dir, every) in LEASE_DIRS {
        for name in list_dir(g, dir) {
            if f.dhcp_leases.len() >= MAX_LEASES {
                break;
            }
            if (every || name.contains("lease")) && !name.starts_with('.') {
                f.dhcp_leases
                    .push(Evidence::file(join(dir, &name), "lease file"));
            }
        }
    }
    f
}
