//! Boot Loader Specification entries (`/boot/loader/entries/*.conf`), as
//! GRUB's `blscfg` (RHEL 8+, Fedora, openEuler) and systemd-boot read them.
//!
//! Each file has `key value` lines: `title`, `version`, `linux`, `initrd`
//! (may repeat), `options` (may repeat; joined). `$var` / `${var}` in
//! `options` are expanded from grubenv (RHEL 8 `kernelopts`). Entries are
//! sorted newest first by version, as `blscfg` does, so index 0 is the
//! default when no `saved_entry` names another.

use super::super::kernels::compare_versions;
use super::BootEntry;

/// Most BLS entry files read.
pub const MAX_FILES: usize = 1024;

/// Largest BLS entry file read (real ones are a few hundred bytes); with
/// [`MAX_FILES`] this bounds what the entries hold.
pub const FILE_LIMIT: u64 = 64 * 1024;

/// Parse one entry file; `id` is the file name without `.conf`.
pub fn parse_entry(text: &str, id: &str, path: &str) -> (BootEntry, Option<String>) {
    let mut e = BootEntry {
        id: Some(id.to_string()),
        source: path.to_string(),
        ..BootEntry::default()
    };
    let mut options: Vec<String> = Vec::new();
    let mut version = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once(char::is_whitespace) {
            Some((k, v)) => (k, v.trim()),
            None => (line, ""),
        };
        match key {
            "title" => e.title = value.to_string(),
            "version" => version = Some(value.to_string()),
            "linux" => e.kernel = Some(value.to_string()),
            "initrd" => e
                .initrd
                .extend(value.split_whitespace().map(str::to_string)),
            "options" => options.push(value.to_string()),
            _ => {}
        }
    }
    if e.title.is_empty() {
        e.title = id.to_string();
    }
    e.cmdline = (!options.is_empty()).then(|| options.join(" "));
    (e, version)
}

/// Expand `$name` and `${name}` from `vars`; unknown variables are left
/// as written.
pub fn expand(text: &str, vars: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let after = rest.get(i + 1..).unwrap_or_default();
        let (name, used) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (inner.get(..end).unwrap_or_default(), end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (after.get(..end).unwrap_or_default(), end)
        };
        match vars.iter().rev().find(|(k, _)| k == name) {
            Some((_, v)) if !name.is_empty() => out.push_str(v),
            _ => out.push_str(rest.get(i..i + 1 + used).unwrap_or("$")),
        }
        rest = after.get(used..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// Sort entries newest first (by `version`, else by id), as `blscfg` does.
pub fn sort_newest_first(entries: &mut [(BootEntry, Option<String>)]) {
    entries.sort_by(|(a, va), (b, vb)| {
        let ka = va.clone().or_else(|| a.id.clone()).unwrap_or_default();
        let kb = vb.clone().or_else(|| b.id.clone()).unwrap_or_default();
        compare_versions(&kb, &ka)
    });
}
