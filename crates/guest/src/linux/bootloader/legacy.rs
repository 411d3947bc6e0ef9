//! GRUB legacy (`menu.lst`, `grub.conf`) and SYSLINUX/EXTLINUX
//! configurations.

use super::BootEntry;

/// Most entries kept from one file.
const MAX_ENTRIES: usize = 4096;

/// Parse GRUB legacy: `default N`/`default=N`, `title`, `kernel`, `initrd`.
/// Returns the entries and the `default` value.
pub fn parse_grub_legacy(text: &str, path: &str) -> (Vec<BootEntry>, Option<String>) {
    let mut entries: Vec<BootEntry> = Vec::new();
    let mut default = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.find(|c: char| c.is_whitespace() || c == '=') {
            Some(i) => (
                line.get(..i).unwrap_or_default(),
                line.get(i + 1..).unwrap_or_default().trim(),
            ),
            None => (line, ""),
        };
        match key {
            "default" => default = Some(value.to_string()),
            "title" => {
                if entries.len() >= MAX_ENTRIES {
                    break;
                }
                entries.push(BootEntry {
                    title: value.to_string(),
                    source: format!("{path}:{}", n + 1),
                    ..BootEntry::default()
                });
            }
            "kernel" => {
                if let Some(e) = entries.last_mut() {
                    let mut parts = value.splitn(2, char::is_whitespace);
                    e.kernel = parts.next().map(str::to_string);
                    e.cmdline = Some(parts.next().unwrap_or_default().trim().to_string());
                }
            }
            "initrd" => {
                if let Some(e) = entries.last_mut() {
                    e.initrd = value.split_whitespace().map(str::to_string).collect();
                }
            }
            _ => {}
        }
    }
    (entries, default)
}

/// Parse SYSLINUX/EXTLINUX: `DEFAULT`, `LABEL`, `MENU LABEL`, `MENU
/// DEFAULT`, `KERNEL`/`LINUX`, `INITRD`, `APPEND` (with `initrd=`).
/// Keywords are case-insensitive. Returns the entries and the default spec.
pub fn parse_extlinux(text: &str, path: &str) -> (Vec<BootEntry>, Option<String>) {
    let mut entries: Vec<BootEntry> = Vec::new();
    let mut default = None;
    let mut menu_default = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once(char::is_whitespace) {
            Some((k, v)) => (k.to_ascii_lowercase(), v.trim()),
            None => (line.to_ascii_lowercase(), ""),
        };
        match key.as_str() {
            "default" => default = Some(value.to_string()),
            "label" => {
                if entries.len() >= MAX_ENTRIES {
                    break;
                }
                entries.push(BootEntry {
                    title: value.to_string(),
                    id: Some(value.to_string()),
                    source: format!("{path}:{}", n + 1),
                    ..BootEntry::default()
                });
            }
            "menu" => {
                let lower = value.to_ascii_lowercase();
                if lower == "default" {
                    menu_default = entries.last().and_then(|e| e.id.clone());
                } else if let Some(label) = lower.strip_prefix("label") {
                    let _ = label;
                    if let Some(e) = entries.last_mut() {
                        e.title = value.get(5..).unwrap_or_default().trim().to_string();
                    }
                }
            }
            "kernel" | "linux" => {
                if let Some(e) = entries.last_mut() {
                    e.kernel = Some(value.to_string());
                }
            }
            "initrd" => {
                if let Some(e) = entries.last_mut() {
                    e.initrd = value.split(',').map(|s| s.trim().to_string()).collect();
                }
            }
            "append" => {
                if let Some(e) = entries.last_mut() {
                    let mut args = Vec::new();
                    for a in value.split_whitespace() {
                        match a.strip_prefix("initrd=") {
                            Some(i) if e.initrd.is_empty() => {
                                e.initrd = i.split(',').map(str::to_string).collect();
                            }
                            Some(_) => {}
                            None => args.push(a),
                        }
                    }
                    e.cmdline = Some(args.join(" "));
                }
            }
            _ => {}
        }
    }
    (entries, menu_default.or(default))
}
