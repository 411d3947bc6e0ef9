//! Windows paths inside the guest: case-insensitive lookup and driver
//! `ImagePath` values turned into guest paths.
//!
//! Windows names are case-insensitive; a reader of NTFS may or may not
//! fold case, and a host directory standing for the guest does not. A
//! path is therefore tried as written first, and then component by
//! component against directory listings, comparing ASCII case-insensitively
//! (Windows system paths are ASCII).

use crate::files::{FileKind, GuestError, GuestFiles};

/// Most components of a path looked up case-insensitively.
const MAX_COMPONENTS: usize = 64;

/// The guest path `path` names, matched case-insensitively, if it exists.
pub fn find_ci(guest: &dyn GuestFiles, path: &str) -> Result<Option<String>, GuestError> {
    if guest.metadata(path)?.is_some() {
        return Ok(Some(path.to_string()));
    }
    let mut current = String::new();
    for (i, part) in path.split('/').filter(|p| !p.is_empty()).enumerate() {
        if i >= MAX_COMPONENTS {
            return Ok(None);
        }
        let dir = if current.is_empty() { "/" } else { &current };
        let Some(entries) = guest.read_dir(dir)? else {
            return Ok(None);
        };
        let Some((name, _)) = entries.iter().find(|(n, _)| n.eq_ignore_ascii_case(part)) else {
            return Ok(None);
        };
        current = format!("{current}/{name}");
    }
    Ok(Some(if current.is_empty() {
        "/".to_string()
    } else {
        current
    }))
}

/// Like [`find_ci`] but only a regular file counts.
pub fn find_file_ci(guest: &dyn GuestFiles, path: &str) -> Result<Option<String>, GuestError> {
    let Some(found) = find_ci(guest, path)? else {
        return Ok(None);
    };
    Ok(match guest.metadata(&found)? {
        Some(m) if m.kind == FileKind::File => Some(found),
        _ => None,
    })
}

/// Entries of a directory found case-insensitively (empty if absent).
pub fn list_ci(guest: &dyn GuestFiles, path: &str) -> Vec<(String, FileKind)> {
    match find_ci(guest, path) {
        Ok(Some(p)) => guest.read_dir(&p).ok().flatten().unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The guest path of a service's `ImagePath`, with `system_root` the guest
/// path of the Windows directory (`/Windows`). Accepted forms:
/// `\SystemRoot\System32\drivers\x.sys`, `%SystemRoot%\…`,
/// `%windir%\…`, `System32\drivers\x.sys` (relative to the Windows
/// directory, as the kernel reads boot drivers), `\??\C:\…` and `C:\…`.
/// Quotes and arguments after a quoted program are dropped. Other drive
/// letters give `None`: they are not on the system volume.
pub fn image_path_to_guest(system_root: &str, image_path: &str) -> Option<String> {
    let mut p = image_path.trim();
    if let Some(rest) = p.strip_prefix('"') {
        p = rest.split('"').next().unwrap_or(rest);
    }
    let p = cut_arguments(p).replace('/', "\\");
    let lower = p.to_ascii_lowercase();
    let rel = if let Some(r) = strip_ci(&p, &lower, "\\systemroot\\")
        .or_else(|| strip_ci(&p, &lower, "%systemroot%\\"))
        .or_else(|| strip_ci(&p, &lower, "%windir%\\"))
    {
        format!("{}/{}", system_root.trim_end_matches('/'), r)
    } else if let Some(r) = strip_ci(&p, &lower, "\\??\\c:\\")
        .or_else(|| strip_ci(&p, &lower, "c:\\"))
        .or_else(|| strip_ci(&p, &lower, "%systemdrive%\\"))
    {
        format!("/{r}")
    } else if p.starts_with('\\') || p.get(1..2) == Some(":") || p.starts_with('%') {
        return None;
    } else {
        format!("{}/{}", system_root.trim_end_matches('/'), p)
    };
    Some(rel.replace('\\', "/"))
}

/// An unquoted command line cut after its program (`….exe -k netsvcs`).
fn cut_arguments(p: &str) -> &str {
    let lower = p.to_ascii_lowercase();
    for ext in [".exe ", ".sys "] {
        if let Some(i) = lower.find(ext) {
            return p.get(..i + 4).unwrap_or(p);
        }
    }
    p
}

fn strip_ci<'a>(p: &'a str, lower: &str, prefix: &str) -> Option<&'a str> {
    if lower.starts_with(prefix) {
        p.get(prefix.len()..)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_paths() {
        let r = "/Windows";
        for (ip, want) in [
            (
                "\\SystemRoot\\System32\\drivers\\viostor.sys",
                Some("/Windows/System32/drivers/viostor.sys"),
            ),
            (
                "system32\\DRIVERS\\netkvm.sys",
                Some("/Windows/system32/DRIVERS/netkvm.sys"),
            ),
            (
                "%SystemRoot%\\system32\\svchost.exe -k netsvcs",
                Some("/Windows/system32/svchost.exe"),
            ),
            (
                "\"C:\\Program Files\\Cloudbase Solutions\\Cloudbase-Init\\bin\\OpenStackService.exe\" cloudbase-init",
                Some("/Program Files/Cloudbase Solutions/Cloudbase-Init/bin/OpenStackService.exe"),
            ),
            ("\\??\\C:\\Windows\\x.sys", Some("/Windows/x.sys")),
            ("D:\\x.sys", None),
            ("\\Device\\Foo", None),
        ] {
            assert_eq!(image_path_to_guest(r, ip).as_deref(), want, "{ip}");
        }
    }
}
