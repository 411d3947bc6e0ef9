//! The SSH server: program, units, and the settings in effect from
//! `/etc/ssh/sshd_config` and the files its `Include` lines name (globs in
//! the last component, relative to `/etc/ssh`, each file once, at most
//! [`MAX_INCLUDES`] files, [`MAX_INCLUDE_DEPTH`] levels; the first value of
//! a keyword wins, as in sshd; `Match` blocks are skipped).

use crate::linux::network::ifupdown::glob_match;
use crate::linux::services::{exists, join, list_dir, read_config, ServiceIndex, UnitState};
use crate::{Evidence, GuestFiles};

/// Most sshd configuration files read through `Include`.
pub const MAX_INCLUDES: usize = 64;
/// Deepest `Include` chain followed.
pub const MAX_INCLUDE_DEPTH: usize = 8;
/// sshd keywords reported (lower case, as sshd compares them).
pub const SSHD_KEYWORDS: [&str; 9] = [
    "listenaddress",
    "port",
    "permitrootlogin",
    "passwordauthentication",
    "kbdinteractiveauthentication",
    "challengeresponseauthentication",
    "pubkeyauthentication",
    "allowusers",
    "allowgroups",
];

/// One sshd setting in effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshdSetting {
    /// Keyword, lower case.
    pub keyword: String,
    /// Value(s); `ListenAddress` and `Port` may repeat, all are kept.
    pub values: Vec<String>,
    /// Where the (first) value was read.
    pub evidence: Evidence,
}

/// SSH server facts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SshFacts {
    /// `/usr/sbin/sshd` exists.
    pub binary: Option<Evidence>,
    /// Unit states of `sshd.service`, `ssh.service`, `ssh.socket`,
    /// `sshd.socket` that exist.
    pub units: Vec<UnitState>,
    /// Settings in effect (first value wins, `ListenAddress`/`Port` all).
    pub settings: Vec<SshdSetting>,
    /// Host key files present.
    pub host_keys: Vec<String>,
    /// Files read, in order.
    pub config_files: Vec<String>,
}

impl SshFacts {
    /// At least one of the sshd units (or its SysV script) starts at boot.
    pub fn enabled(&self) -> bool {
        self.units.iter().any(UnitState::enabled)
    }
    /// A setting's values.
    pub fn setting(&self, keyword: &str) -> Option<&SshdSetting> {
        self.settings.iter().find(|s| s.keyword == keyword)
    }
}

pub(super) fn ssh_facts(g: &dyn GuestFiles, services: &ServiceIndex) -> SshFacts {
    let mut f = SshFacts::default();
    for p in ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"] {
        if exists(g, p) {
            f.binary = Some(Evidence::file(p, "present"));
            break;
        }
    }
    for (unit, sysv) in [
        ("sshd.service", Some("sshd")),
        ("ssh.service", Some("ssh")),
        ("ssh.socket", None),
        ("sshd.socket", None),
    ] {
        let st = services.unit_state(g, unit, sysv);
        if st.installed() || st.enabled() || st.masked_by.is_some() {
            f.units.push(st);
        }
    }
    let mut budget = MAX_INCLUDES;
    read_sshd_config(g, "/etc/ssh/sshd_config", 0, &mut budget, &mut f);
    f.host_keys = list_dir(g, "/etc/ssh")
        .into_iter()
        .filter(|n| n.starts_with("ssh_host_") && n.ends_with("_key"))
        .map(|n| join("/etc/ssh", &n))
        .collect();
    f
}

/// Reads one sshd configuration file, following `Include`.
fn read_sshd_config(
    g: &dyn GuestFiles,
    path: &str,
    depth: usize,
    budget: &mut usize,
    f: &mut SshFacts,
) {
    // A file already read adds nothing (sshd itself would stop at its
    // include depth limit).
    if depth > MAX_INCLUDE_DEPTH || *budget == 0 || f.config_files.iter().any(|p| p == path) {
        return;
    }
    *budget -= 1;
    let Some(text) = read_config(g, path) else {
        return;
    };
    f.config_files.push(path.to_string());
    let mut in_match = false;
    for (idx, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once(|c: char| c.is_whitespace() || c == '=') {
            Some((k, v)) => (
                k.to_ascii_lowercase(),
                v.trim().trim_start_matches('=').trim(),
            ),
            None => (line.to_ascii_lowercase(), ""),
        };
        if key == "match" {
            in_match = true;
            continue;
        }
        if key == "include" {
            for pattern in value.split_whitespace() {
                for file in expand_include(g, pattern) {
                    read_sshd_config(g, &file, depth + 1, budget, f);
                }
            }
            continue;
        }
        if in_match || !SSHD_KEYWORDS.contains(&key.as_str()) {
            continue;
        }
        let ev = Evidence::file(path, format!("line {}: {}", idx + 1, line));
        let repeats = key == "listenaddress" || key == "port";
        match f.settings.iter_mut().find(|s| s.keyword == key) {
            Some(s) if repeats => s.values.push(value.to_string()),
            Some(_) => {}
            None => f.settings.push(SshdSetting {
                keyword: key,
                values: vec![value.to_string()],
                evidence: ev,
            }),
        }
    }
}

/// Expands an sshd `Include` argument (relative to `/etc/ssh`, globs in
/// the last component), in name order.
fn expand_include(g: &dyn GuestFiles, pattern: &str) -> Vec<String> {
    let full = if pattern.starts_with('/') {
        pattern.to_string()
    } else {
        join("/etc/ssh", pattern)
    };
    let Some((dir, last)) = full.rsplit_once('/') else {
        return Vec::new();
    };
    if !last.contains(['*', '?']) {
        return vec![full];
    }
    list_dir(g, dir)
        .into_iter()
        .filter(|n| glob_match(last, n))
        .map(|n| join(dir, &n))
        .collect()
}
