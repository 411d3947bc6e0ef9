//! Small text parsers shared by the inspection modules.

/// Limit for configuration files read whole (1 MiB).
pub const CONFIG_LIMIT: u64 = 1 << 20;

/// Parse shell-style `KEY=value` lines (os-release, `/etc/default/grub`,
/// dracut and sysconfig files): comments and blank lines skipped, one level
/// of single or double quotes removed, `export ` ignored. `KEY+=value` is
/// returned with the key `KEY+`. Later lines come later in the result.
pub fn shell_assignments(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+' || c == '.')
        {
            continue;
        }
        out.push((key.to_string(), unquote(value.trim())));
    }
    out
}

/// Remove one level of matching quotes; for unquoted values drop a
/// trailing ` # comment`.
pub fn unquote(value: &str) -> String {
    let v = value.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q) {
            if let Some(end) = inner.find(q) {
                return inner.get(..end).unwrap_or_default().replace("\\\"", "\"");
            }
            return inner.to_string();
        }
    }
    match v.find(" #") {
        Some(i) => v.get(..i).unwrap_or_default().trim().to_string(),
        None => v.to_string(),
    }
}

/// The last value assigned to `key`.
pub fn last_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The first run of digits and dots in `s` that starts with a digit
/// (`"release 7.9.2009 (Core)"` → `"7.9.2009"`).
pub fn first_version(s: &str) -> Option<String> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let tail = s.get(start..)?;
    let end = tail
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(tail.len());
    Some(tail.get(..end)?.trim_end_matches('.').to_string())
}

/// The number after `SP` (`"2.0 (SP9x86_64)"` → 9, `"LTS-SP1"` → 1).
pub fn service_pack(s: &str) -> Option<u32> {
    let upper = s.to_ascii_uppercase();
    let mut from = 0;
    while let Some(i) = upper.get(from..)?.find("SP") {
        let after = upper.get(from + i + 2..)?;
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            return digits.parse().ok();
        }
        from += i + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_assignments_and_quotes() {
        let pairs = shell_assignments(
            "# c\nexport A=\"x y\"\nB='q'\nC=plain # note\nadd_drivers+=\" virtio_blk \"\nnot a line\n=x\n",
        );
        assert_eq!(last_value(&pairs, "A"), Some("x y"));
        assert_eq!(last_value(&pairs, "B"), Some("q"));
        assert_eq!(last_value(&pairs, "C"), Some("plain"));
        assert_eq!(last_value(&pairs, "add_drivers+"), Some(" virtio_blk "));
        assert_eq!(pairs.len(), 4);
    }

    #[test]
    fn versions_and_service_packs() {
        assert_eq!(
            first_version("CentOS Linux release 7.9.2009 (Core)").as_deref(),
            Some("7.9.2009")
        );
        assert_eq!(first_version("none"), None);
        assert_eq!(service_pack("2.0 (SP9x86_64)"), Some(9));
        assert_eq!(service_pack("22.03 (LTS-SP1)"), Some(1));
        assert_eq!(service_pack("SPARC"), None);
        assert_eq!(service_pack("15-SP5"), Some(5));
    }
}
