//! INI files as NetworkManager keyfiles, systemd-networkd `.network` and
//! `.link` files write them (shell-style `KEY=value` files go through
//! [`crate::text::shell_assignments`]).
//!
//! The format is line-oriented, so the parser is one pass over lines with
//! no nesting and no allocation beyond the values kept; the callers bound
//! the input size when they read the file. No crate is used:
//! the INI crates on crates.io implement a different dialect (sections
//! merged, duplicate keys dropped), while systemd and NetworkManager keep
//! repeated keys, which the checks need (several `Address=` lines).

/// One `key=value` of an INI file with its section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniEntry {
    /// Section name without brackets (empty before the first section).
    pub section: String,
    /// Key, trimmed.
    pub key: String,
    /// Value, trimmed.
    pub value: String,
}

/// Parses an INI file (`[section]`, `key=value`, `#`/`;` comments).
/// Repeated sections and keys are all kept, in order.
pub fn ini(text: &str) -> Vec<IniEntry> {
    let mut section = String::new();
    let mut out = Vec::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            out.push(IniEntry {
                section: section.clone(),
                key: k.trim().to_string(),
                value: v.trim().to_string(),
            });
        }
    }
    out
}

/// Values of `section.key`, in order.
pub fn ini_values<'a>(entries: &'a [IniEntry], section: &str, key: &str) -> Vec<&'a str> {
    entries
        .iter()
        .filter(|e| e.section.eq_ignore_ascii_case(section) && e.key == key)
        .map(|e| e.value.as_str())
        .collect()
}

/// The last value of `section.key`.
pub fn ini_value<'a>(entries: &'a [IniEntry], section: &str, key: &str) -> Option<&'a str> {
    ini_values(entries, section, key).last().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_keeps_repeated_keys() {
        let e = ini("[Match]\nName=en*\n[Network]\nAddress=1.2.3.4/24\nAddress=5.6.7.8/24\n; c\n");
        assert_eq!(ini_values(&e, "Network", "Address").len(), 2);
        assert_eq!(ini_value(&e, "match", "Name"), Some("en*"));
    }
}
