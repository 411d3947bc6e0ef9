//! systemd-networkd: `*.network` in `/etc/systemd/network`,
//! `/run/systemd/network`, `/usr/lib/systemd/network`,
//! `/lib/systemd/network` (a name in an earlier folder hides later ones;
//! a file linked to `/dev/null` is masked). `[Match] Name=` (space
//! separated, globs), `MACAddress=`, `Driver=`; `[Network] DHCP=yes|ipv4|
//! true|both` is DHCPv4; `Address=` in `[Network]` or `[Address]` is
//! static. `*.link` files with `[Match] MACAddress=` and `[Link] Name=`
//! rename by MAC; they are reported with the udev persistent rules.

use super::syntax::{ini, ini_value, ini_values};
use super::udev::PersistentRule;
use super::{config_files, Matcher, NetProfile, NetworkFacts, Stack};
use crate::linux::services::{link_target, read_config};
use crate::{Evidence, GuestFiles};

const DIRS: [&str; 4] = [
    "/etc/systemd/network",
    "/run/systemd/network",
    "/usr/lib/systemd/network",
    "/lib/systemd/network",
];

/// Reads networkd profiles and `.link` renames into `facts`.
pub fn read(g: &dyn GuestFiles, facts: &mut NetworkFacts) {
    for file in config_files(g, &DIRS, ".network") {
        if link_target(g, &file).as_deref() == Some("/dev/null") {
            continue;
        }
        if let Some(text) = super::read_noted(g, &file, &mut facts.unreadable) {
            facts.profiles.push(profile(&file, &text));
        }
    }
    for file in config_files(g, &DIRS, ".link") {
        let Some(text) = read_config(g, &file) else {
            continue;
        };
        let e = ini(&text);
        if let (Some(mac), Some(name)) = (
            ini_value(&e, "Match", "MACAddress"),
            ini_value(&e, "Link", "Name"),
        ) {
            facts.persistent_net.push(PersistentRule {
                file: file.clone(),
                mac: mac.to_ascii_lowercase(),
                name: name.to_string(),
                evidence: Evidence::file(&file, format!("MACAddress={mac} Name={name}")),
            });
        }
    }
}

/// Parses one `.network` file.
pub fn profile(file: &str, text: &str) -> NetProfile {
    let e = ini(text);
    let mut matchers = Vec::new();
    for names in ini_values(&e, "Match", "Name") {
        for n in names.split_whitespace() {
            matchers.push(if n.contains(['*', '?', '[']) {
                Matcher::Pattern(n.to_string())
            } else {
                Matcher::Name(n.to_string())
            });
        }
    }
    for mac in ini_values(&e, "Match", "MACAddress") {
        for m in mac.split_whitespace() {
            matchers.push(Matcher::Mac(m.to_ascii_lowercase()));
        }
    }
    for d in ini_values(&e, "Match", "Driver") {
        matchers.push(Matcher::Driver(d.to_string()));
    }
    if matchers.is_empty() {
        matchers.push(Matcher::Any);
    }
    let dhcp = ini_value(&e, "Network", "DHCP").unwrap_or("no");
    let dhcp4 = matches!(
        dhcp.to_ascii_lowercase().as_str(),
        "yes" | "true" | "ipv4" | "both" | "1" | "on"
    );
    let static_v4 = ini_values(&e, "Network", "Address")
        .into_iter()
        .chain(ini_values(&e, "Address", "Address"))
        .any(|a| !a.contains(':'));
    let id = file.rsplit('/').next().unwrap_or(file).to_string();
    NetProfile {
        stack: Stack::Networkd,
        file: file.to_string(),
        id,
        matchers,
        set_name: None,
        dhcp4,
        static_v4,
        at_boot: true,
        evidence: vec![Evidence::file(file, format!("DHCP={dhcp}"))],
    }
}
