//! `ifcfg-*` files: Red Hat (`/etc/sysconfig/network-scripts/`) and SUSE
//! wicked (`/etc/sysconfig/network/`).
//!
//! Red Hat: `DEVICE=` (else the file suffix), `BOOTPROTO=dhcp|none|static`,
//! `ONBOOT=yes`, `HWADDR=`/`MACADDR=`, `IPADDR=`. SUSE: the file suffix is
//! the interface, `BOOTPROTO='dhcp'|'dhcp4'|'static'`,
//! `STARTMODE='auto'|'hotplug'|'onboot'|'nfsroot'`, `LLADDR=`, `IPADDR=`.
//! `ifcfg-lo` and backup copies (`.bak`, `.orig`, `.rpmsave`, `~`, …) are
//! skipped, as the initscripts skip them.

use super::{Matcher, NetProfile, NetworkFacts, Stack};
use crate::linux::services::{join, list_dir};
use crate::text::{last_value, shell_assignments};
use crate::{Evidence, GuestFiles};

/// Suffixes the initscripts ignore.
const IGNORED_SUFFIXES: [&str; 7] = [
    ".bak", ".orig", ".rpmnew", ".rpmorig", ".rpmsave", "~", ".old",
];

/// Reads ifcfg profiles into `facts`.
pub fn read(g: &dyn GuestFiles, facts: &mut NetworkFacts) {
    for (dir, stack) in [
        ("/etc/sysconfig/network-scripts", Stack::RhIfcfg),
        ("/etc/sysconfig/network", Stack::Wicked),
    ] {
        for name in list_dir(g, dir) {
            let Some(suffix) = name.strip_prefix("ifcfg-") else {
                continue;
            };
            if suffix == "lo" || IGNORED_SUFFIXES.iter().any(|s| suffix.ends_with(s)) {
                continue;
            }
            let path = join(dir, &name);
            if let Some(text) = super::read_noted(g, &path, &mut facts.unreadable) {
                facts.profiles.push(profile(&path, suffix, &text, stack));
            }
        }
    }
}

/// Parses one ifcfg file.
pub fn profile(file: &str, suffix: &str, text: &str, stack: Stack) -> NetProfile {
    let vars = shell_assignments(text);
    let get = |k: &str| last_value(&vars, k).map(str::to_string);
    let name = match stack {
        Stack::RhIfcfg => get("DEVICE").unwrap_or_else(|| suffix.to_string()),
        _ => suffix.to_string(),
    };
    let bootproto = get("BOOTPROTO").unwrap_or_default().to_ascii_lowercase();
    let mut matchers = vec![Matcher::Name(name.clone())];
    let mac_keys: &[&str] = match stack {
        Stack::RhIfcfg => &["HWADDR", "MACADDR"],
        _ => &["LLADDR"],
    };
    let mut detail = format!("BOOTPROTO={bootproto}");
    for key in mac_keys {
        if let Some(mac) = get(key).filter(|m| !m.is_empty()) {
            detail.push_str(&format!(" {key}={mac}"));
            matchers.push(Matcher::Mac(mac.to_ascii_lowercase()));
        }
    }
    let at_boot = match stack {
        Stack::RhIfcfg => {
            let v = get("ONBOOT");
            detail.push_str(&format!(" ONBOOT={}", v.as_deref().unwrap_or("(unset)")));
            // initscripts treat an unset ONBOOT as yes.
            !matches!(v.as_deref(), Some(x) if !x.eq_ignore_ascii_case("yes"))
        }
        _ => {
            let v = get("STARTMODE").unwrap_or_else(|| "manual".to_string());
            detail.push_str(&format!(" STARTMODE={v}"));
            matches!(v.as_str(), "auto" | "hotplug" | "onboot" | "nfsroot")
        }
    };
    if let Some(v) = get("PERSISTENT_DHCLIENT") {
        detail.push_str(&format!(" PERSISTENT_DHCLIENT={v}"));
    }
    let dhcp4 = matches!(
        bootproto.as_str(),
        "dhcp" | "dhcp4" | "dhcp+autoip" | "bootp"
    );
    NetProfile {
        stack,
        file: file.to_string(),
        id: name,
        matchers,
        set_name: None,
        dhcp4,
        static_v4: get("IPADDR").is_some_and(|v| !v.is_empty()) || bootproto == "static",
        at_boot,
        evidence: vec![Evidence::file(file, &detail)],
    }
}
