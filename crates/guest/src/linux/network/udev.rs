//! udev persistent-net rules and the rule generator.
//!
//! Rules: every file in `/etc/udev/rules.d` whose name contains
//! `persistent` and `net`; each rule line with `ATTR{address}=="…"` and
//! `NAME="…"` pins a name to a MAC address. Generator:
//! `75-persistent-net-generator.rules` in `/lib/udev/rules.d` or
//! `/usr/lib/udev/rules.d`, overridden by a same-named file in
//! `/etc/udev/rules.d` that is empty or links to `/dev/null`.

use super::NetworkFacts;
use crate::linux::services::{exists, is_empty_file, join, link_target, list_dir, read_config};
use crate::{Evidence, GuestFiles};

/// The generator's file name.
pub const GENERATOR: &str = "75-persistent-net-generator.rules";

/// A name pinned to a MAC address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistentRule {
    /// The rule or `.link` file.
    pub file: String,
    /// MAC address, lower case.
    pub mac: String,
    /// Interface name given.
    pub name: String,
    /// The line read.
    pub evidence: Evidence,
}

/// The persistent-net generator and its override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generator {
    /// Vendor rule file.
    pub file: String,
    /// The `/etc` override (empty file or `/dev/null` link), if any.
    pub overridden_by: Option<Evidence>,
}

/// Reads the persistent rules and the generator into `facts`.
pub fn read(g: &dyn GuestFiles, facts: &mut NetworkFacts) {
    let dir = "/etc/udev/rules.d";
    for name in list_dir(g, dir) {
        if !(name.contains("persistent") && name.contains("net")) || name == GENERATOR {
            continue;
        }
        let path = join(dir, &name);
        if let Some(text) = read_config(g, &path) {
            facts.persistent_net.extend(parse_rules(&path, &text));
        }
    }
    let vendor = ["/lib/udev/rules.d", "/usr/lib/udev/rules.d"]
        .iter()
        .map(|d| join(d, GENERATOR))
        .find(|p| exists(g, p));
    if let Some(file) = vendor {
        let local = join(dir, GENERATOR);
        let overridden_by = if link_target(g, &local).as_deref() == Some("/dev/null") {
            Some(Evidence::file(&local, "-> /dev/null"))
        } else if is_empty_file(g, &local) {
            Some(Evidence::file(&local, "empty file"))
        } else {
            None
        };
        facts.generator = Some(Generator {
            file,
            overridden_by,
        });
    }
}

/// Parses rule lines that pin `NAME=` to `ATTR{address}==`.
pub fn parse_rules(file: &str, text: &str) -> Vec<PersistentRule> {
    let mut out = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('#') {
            continue;
        }
        let (Some(mac), Some(name)) = (
            quoted_after(line, "ATTR{address}==\""),
            quoted_after(line, "NAME=\""),
        ) else {
            continue;
        };
        out.push(PersistentRule {
            file: file.to_string(),
            mac: mac.to_ascii_lowercase(),
            name: name.to_string(),
            evidence: Evidence::file(
                file,
                format!(
                    "line {}: ATTR{{address}}==\"{mac}\" NAME=\"{name}\"",
                    idx + 1
                ),
            ),
        });
    }
    out
}

/// The text between `prefix` and the next `"`.
fn quoted_after<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let start = line.find(prefix)? + prefix.len();
    let rest = line.get(start..)?;
    rest.get(..rest.find('"')?)
}
