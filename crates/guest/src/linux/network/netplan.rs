//! Netplan: `/etc/netplan/*.yaml` and `/lib/netplan/*.yaml` (a name in
//! `/etc` hides the same name in `/lib`; files are applied in name
//! order). Each `network.ethernets.<id>` becomes a profile: the id is the
//! interface name unless a `match:` block selects by `name` (a glob),
//! `macaddress` or `driver`; `set-name` renames; `dhcp4`, `addresses`.
//! The renderer is the last `network.renderer` seen (default networkd).

use super::yaml::{self, Yaml};
use super::{config_files, Matcher, NetProfile, NetworkFacts, Stack, Unreadable};
use crate::{Evidence, GuestFiles};

/// Reads netplan profiles into `facts`.
pub fn read(g: &dyn GuestFiles, facts: &mut NetworkFacts) {
    for file in config_files(
        g,
        &["/etc/netplan", "/lib/netplan", "/usr/lib/netplan"],
        ".yaml",
    ) {
        let Some(text) = super::read_noted(g, &file, &mut facts.unreadable) else {
            continue;
        };
        match yaml::parse(&text) {
            Ok(doc) => read_doc(&file, &doc, facts),
            Err(e) => facts.unreadable.push(Unreadable {
                path: file,
                reason: format!("line {}: {}", e.line, e.reason),
            }),
        }
    }
}

/// Adds the profiles of one parsed netplan document.
pub fn read_doc(file: &str, doc: &Yaml, facts: &mut NetworkFacts) {
    let Some(network) = doc.get("network") else {
        return;
    };
    if let Some(r) = network.get("renderer").and_then(Yaml::as_str) {
        facts.netplan_renderer = Some(r.to_string());
    }
    let Some(ethernets) = network.get("ethernets") else {
        return;
    };
    for (id, e) in ethernets.entries() {
        let mut matchers = Vec::new();
        if let Some(m) = e.get("match") {
            if let Some(n) = m.get("name").and_then(Yaml::as_str) {
                matchers.push(if n.contains(['*', '?', '[']) {
                    Matcher::Pattern(n.to_string())
                } else {
                    Matcher::Name(n.to_string())
                });
            }
            if let Some(mac) = m.get("macaddress").and_then(Yaml::as_str) {
                matchers.push(Matcher::Mac(mac.to_ascii_lowercase()));
            }
            if let Some(d) = m.get("driver").and_then(Yaml::as_str) {
                matchers.push(Matcher::Driver(d.to_string()));
            }
        } else {
            matchers.push(Matcher::Name(id.clone()));
        }
        let dhcp4 = e.get("dhcp4").and_then(Yaml::as_bool).unwrap_or(false);
        let static_v4 = e
            .get("addresses")
            .is_some_and(|a| a.string_list().iter().any(|x| !x.contains(':')));
        facts.profiles.push(NetProfile {
            stack: Stack::Netplan,
            file: file.to_string(),
            id: id.clone(),
            matchers,
            set_name: e.get("set-name").and_then(Yaml::as_str).map(String::from),
            dhcp4,
            static_v4,
            // Netplan brings every defined ethernet up unless `optional`
            // (which only stops the boot from waiting for it).
            at_boot: true,
            evidence: vec![Evidence::file(
                file,
                format!(
                    "network.ethernets.{id}: dhcp4 {dhcp4}{}",
                    if static_v4 { ", static addresses" } else { "" }
                ),
            )],
        });
    }
}
