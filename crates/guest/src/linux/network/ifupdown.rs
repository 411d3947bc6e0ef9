//! Debian ifupdown: `/etc/network/interfaces` and the files it includes.
//!
//! `source <file or glob>` and `source-directory <dir>` are followed
//! (globs only in the last component, `*` wildcards); Debian's default
//! file includes `/etc/network/interfaces.d/*`. Includes are bounded by
//! [`MAX_INCLUDE_DEPTH`] and [`MAX_FILES`] so a file that includes itself
//! ends. Stanzas: `auto`/`allow-auto`/`allow-hotplug` mark interfaces
//! brought up at boot; `iface <if> inet dhcp|static|manual`; `address`,
//! `hwaddress` inside an `iface` stanza.

use std::collections::HashSet;

use super::{Matcher, NetProfile, NetworkFacts, Stack};
use crate::linux::services::{join, list_dir};
use crate::{Evidence, GuestFiles};

/// Deepest `source` chain followed.
pub const MAX_INCLUDE_DEPTH: usize = 8;
/// Most files read through includes.
pub const MAX_FILES: usize = 256;
/// Most `iface` stanzas kept.
pub const MAX_IFACES: usize = 4096;

/// One `iface` stanza as read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Iface {
    file: String,
    line: usize,
    name: String,
    method: String,
    has_address: bool,
    hwaddress: Option<String>,
}

#[derive(Default)]
struct State {
    files: usize,
    unreadable: Vec<super::Unreadable>,
    auto: Vec<String>,
    ifaces: Vec<Iface>,
}

/// Reads ifupdown profiles into `facts`.
pub fn read(g: &dyn GuestFiles, facts: &mut NetworkFacts) {
    let mut st = State::default();
    read_file(g, "/etc/network/interfaces", 0, &mut st);
    facts.unreadable.append(&mut st.unreadable);
    let auto: HashSet<&str> = st.auto.iter().map(String::as_str).collect();
    for i in st.ifaces {
        if i.method == "loopback" || i.name == "lo" {
            continue;
        }
        let at_boot = auto.contains(i.name.as_str());
        let mut matchers = vec![Matcher::Name(i.name.clone())];
        if let Some(mac) = &i.hwaddress {
            matchers.push(Matcher::Mac(mac.clone()));
        }
        facts.profiles.push(NetProfile {
            stack: Stack::Ifupdown,
            id: i.name.clone(),
            matchers,
            set_name: None,
            dhcp4: i.method == "dhcp",
            static_v4: i.method == "static" || i.has_address,
            at_boot,
            evidence: vec![Evidence::file(
                &i.file,
                format!(
                    "line {}: iface {} inet {}{}",
                    i.line,
                    i.name,
                    i.method,
                    if at_boot {
                        " (auto/allow-hotplug)"
                    } else {
                        " (not auto)"
                    }
                ),
            )],
            file: i.file,
        });
    }
}

fn read_file(g: &dyn GuestFiles, path: &str, depth: usize, st: &mut State) {
    if depth > MAX_INCLUDE_DEPTH || st.files >= MAX_FILES {
        return;
    }
    st.files += 1;
    let Some(text) = super::read_noted(g, path, &mut st.unreadable) else {
        return;
    };
    let mut current: Option<usize> = None;
    for (idx, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["auto" | "allow-auto" | "allow-hotplug", names @ ..] => {
                st.auto.extend(names.iter().map(|n| n.to_string()));
                current = None;
            }
            ["iface", name, "inet", method, ..] if st.ifaces.len() < MAX_IFACES => {
                st.ifaces.push(Iface {
                    file: path.to_string(),
                    line: idx + 1,
                    name: name.to_string(),
                    method: method.to_string(),
                    has_address: false,
                    hwaddress: None,
                });
                current = Some(st.ifaces.len() - 1);
            }
            ["iface", ..] | ["mapping", ..] => current = None,
            ["source", pattern] => {
                for file in expand(g, pattern) {
                    read_file(g, &file, depth + 1, st);
                }
                current = None;
            }
            ["source-directory", dir] => {
                for name in list_dir(g, dir) {
                    // run-parts naming: letters, digits, '_' and '-'.
                    if name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    {
                        read_file(g, &join(dir, &name), depth + 1, st);
                    }
                }
                current = None;
            }
            ["address", ..] => {
                if let Some(i) = current.and_then(|c| st.ifaces.get_mut(c)) {
                    i.has_address = true;
                }
            }
            ["hwaddress", rest @ ..] => {
                if let (Some(i), Some(mac)) =
                    (current.and_then(|c| st.ifaces.get_mut(c)), rest.last())
                {
                    i.hwaddress = Some(mac.to_string());
                }
            }
            _ => {}
        }
    }
}

/// Expands a `source` argument: relative to `/etc/network`, `*` only in
/// the last component.
fn expand(g: &dyn GuestFiles, pattern: &str) -> Vec<String> {
    let pattern = if pattern.starts_with('/') {
        pattern.to_string()
    } else {
        join("/etc/network", pattern)
    };
    let Some((dir, last)) = pattern.rsplit_once('/') else {
        return Vec::new();
    };
    if !last.contains('*') {
        return vec![pattern];
    }
    list_dir(g, dir)
        .into_iter()
        .filter(|n| glob_match(last, n))
        .map(|n| join(dir, &n))
        .collect()
}

/// Glob with `*` and `?` only (no character classes); iterative.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == n.get(ni) => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("*", "eth0"));
        assert!(glob_match("en*", "ens3"));
        assert!(!glob_match("en*", "eth0"));
        assert!(glob_match("e?h*", "eth0"));
        assert!(glob_match("*.cfg", "50-cloud-init.cfg"));
        assert!(!glob_match("*.cfg", "x.cfg.bak"));
    }
}
