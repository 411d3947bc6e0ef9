//! NetworkManager: keyfile profiles in
//! `/etc/NetworkManager/system-connections/` (and the vendor folder
//! `/usr/lib/NetworkManager/system-connections/`), and the `[main]
//! no-auto-default=` setting in `NetworkManager.conf` and `conf.d/*.conf`
//! (later files override). Only ethernet profiles are kept
//! (`type=ethernet` / `802-3-ethernet`); `[ipv4] method=auto` is DHCP,
//! `manual` is static, a missing `[ipv4]` section means `auto`;
//! `autoconnect` defaults to true. A keyfile readable by others is noted:
//! NetworkManager ignores keyfiles that are not mode 0600.

use super::syntax::{ini, ini_value};
use super::{config_files, Matcher, NetProfile, NetworkFacts, Stack};
use crate::linux::services::read_config;
use crate::{Evidence, GuestFiles};

/// Reads NetworkManager profiles and settings into `facts`.
pub fn read(g: &dyn GuestFiles, facts: &mut NetworkFacts) {
    let dirs = [
        "/etc/NetworkManager/system-connections",
        "/usr/lib/NetworkManager/system-connections",
    ];
    for file in config_files(g, &dirs, "") {
        if let Some(text) = super::read_noted(g, &file, &mut facts.unreadable) {
            if let Some(mut p) = profile(&file, &text) {
                // NetworkManager skips keyfiles that others can read.
                if let Ok(Some(meta)) = g.metadata(&file) {
                    if meta.mode & 0o077 != 0 {
                        p.evidence.push(Evidence::file(
                            &file,
                            format!(
                                "mode {:04o}: NetworkManager ignores keyfiles not 0600",
                                meta.mode
                            ),
                        ));
                    }
                }
                facts.profiles.push(p);
            }
        }
    }
    let mut conf = vec!["/etc/NetworkManager/NetworkManager.conf".to_string()];
    conf.extend(config_files(
        g,
        &[
            "/usr/lib/NetworkManager/conf.d",
            "/etc/NetworkManager/conf.d",
        ],
        ".conf",
    ));
    for file in conf {
        if let Some(text) = read_config(g, &file) {
            let entries = ini(&text);
            if let Some(v) = ini_value(&entries, "main", "no-auto-default") {
                facts.nm_no_auto_default = Some((
                    v.to_string(),
                    Evidence::file(&file, format!("no-auto-default={v}")),
                ));
            }
        }
    }
}

/// Parses one keyfile; `None` if it is not an ethernet profile.
pub fn profile(file: &str, text: &str) -> Option<NetProfile> {
    let e = ini(text);
    let kind = ini_value(&e, "connection", "type")?;
    if kind != "ethernet" && kind != "802-3-ethernet" {
        return None;
    }
    let id = ini_value(&e, "connection", "id")
        .unwrap_or(file)
        .to_string();
    let mut matchers = Vec::new();
    if let Some(n) = ini_value(&e, "connection", "interface-name").filter(|n| !n.is_empty()) {
        matchers.push(Matcher::Name(n.to_string()));
    }
    for section in ["ethernet", "802-3-ethernet"] {
        if let Some(mac) = ini_value(&e, section, "mac-address").filter(|m| !m.is_empty()) {
            matchers.push(Matcher::Mac(mac.to_ascii_lowercase()));
        }
    }
    if matchers.is_empty() {
        matchers.push(Matcher::Any);
    }
    let method = ini_value(&e, "ipv4", "method").unwrap_or("auto");
    let autoconnect = ini_value(&e, "connection", "autoconnect")
        .map(|v| !matches!(v, "false" | "no" | "0"))
        .unwrap_or(true);
    let has_address = e
        .iter()
        .any(|x| x.section == "ipv4" && x.key.starts_with("address"));
    Some(NetProfile {
        stack: Stack::NetworkManager,
        file: file.to_string(),
        id,
        matchers,
        set_name: None,
        dhcp4: method == "auto",
        static_v4: method == "manual" || has_address,
        at_boot: autoconnect,
        evidence: vec![Evidence::file(
            file,
            format!("type={kind} ipv4.method={method} autoconnect={autoconnect}"),
        )],
    })
}
