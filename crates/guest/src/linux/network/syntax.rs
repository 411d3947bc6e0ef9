//! Small line-based parsers for the configuration syntaxes the Linux
//! modules meet: shell-style `KEY=value` files (ifcfg, `/etc/default/grub`,
//! `/etc/sysconfig/*`) and INI files (NetworkManager keyfiles,
//! systemd-networkd units, `.link` files).
//!
//! These formats are line-oriented, so every parser here is one pass over
//! lines with no nesting and no allocation beyond the values kept; the
//! callers bound the input size when they read the file. No crate is used:
//! the INI crates on crates.io implement a different dialect (sections
//! merged, duplicate keys dropped), while systemd and NetworkManager keep
//! repeated keys, which the checks need (several `Address=` lines).

/// Parses shell-style assignments. Handles `export `, single and double
/// quotes, trailing comments after unquoted values; skips lines that are
/// not assignments (commands, conditionals). Order is kept so the last
/// assignment wins when callers fold them.
pub fn shell_vars(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let valid_key =
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_key {
            continue;
        }
        out.push((key.to_string(), shell_value(value)));
    }
    out
}

/// The last value assigned to `key`.
pub fn shell_var(vars: &[(String, String)], key: &str) -> Option<String> {
    vars.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

/// Unquotes one shell value: `"a b"`, `'a b'`, `a` (up to a space or `#`).
fn shell_value(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            (None, c) if c.is_whitespace() || c == '#' || c == ';' => break,
            (_, c) => out.push(c),
        }
    }
    out
}

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
    fn shell_values_unquote_and_keep_order() {
        let vars = shell_vars(
            "# c\nBOOTPROTO='dhcp'\nexport A=\"x y\" # tail\nB=plain # c\nif [ x ]; then\nB=two\n",
        );
        assert_eq!(shell_var(&vars, "BOOTPROTO").as_deref(), Some("dhcp"));
        assert_eq!(shell_var(&vars, "A").as_deref(), Some("x y"));
        assert_eq!(shell_var(&vars, "B").as_deref(), Some("two"));
    }

    #[test]
    fn ini_keeps_repeated_keys() {
        let e = ini("[Match]\nName=en*\n[Network]\nAddress=1.2.3.4/24\nAddress=5.6.7.8/24\n; c\n");
        assert_eq!(ini_values(&e, "Network", "Address").len(), 2);
        assert_eq!(ini_value(&e, "match", "Name"), Some("en*"));
    }
}
