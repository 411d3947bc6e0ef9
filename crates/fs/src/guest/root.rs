//! Finding the guest's root file system.
//!
//! Linux: a file system holding `/etc/fstab` and an init
//! ([`INIT_PATHS`]), followed through symbolic links inside that file
//! system (`/sbin/init -> ../lib/systemd/systemd`). For Btrfs the default
//! subvolume is tried first, then every subvolume in id order. Windows: a
//! file system holding `/Windows/System32/config/SYSTEM` (the NTFS reader
//! matches names case-insensitively, as Windows does).
//!
//! Every candidate is kept; the first in volume order (partitions, then
//! logical volumes) is the root, so the choice is the same on every run.

use std::sync::Arc;

use super::inventory::GuestVolume;
use super::resolve::{MountTable, Mounted};
use crate::filesystem::{FileKind, FileSystem};

/// Where Linux looks for init, in the kernel's order (plus systemd's own
/// path, which `/sbin/init` usually links to).
pub const INIT_PATHS: [&str; 4] = [
    "/sbin/init",
    "/usr/lib/systemd/systemd",
    "/usr/sbin/init",
    "/bin/sh",
];

/// The Windows registry hive that marks a system volume.
pub const WINDOWS_HIVE: &str = "/Windows/System32/config/SYSTEM";

/// Btrfs subvolumes tried at most when looking for a root.
const MAX_SUBVOLUMES_TRIED: usize = 64;

/// Which operating system a root belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsFamily {
    /// `/etc/fstab` and an init.
    Linux,
    /// `/Windows/System32/config/SYSTEM`.
    Windows,
}

/// A file system that may be the guest's root.
#[derive(Debug, Clone)]
pub struct RootCandidate {
    /// The device name of its volume.
    pub device: String,
    /// The Btrfs subvolume (path from the top level) it was found in.
    pub subvolume: Option<String>,
    /// Linux or Windows.
    pub os: OsFamily,
    /// What was found that makes it a root.
    pub evidence: String,
    /// The file system (the subvolume's view for Btrfs).
    pub fs: Arc<dyn FileSystem>,
}

/// A regular file at `path` in `fs`, following links inside `fs` only.
fn holds_file(fs: &Arc<dyn FileSystem>, device: &str, path: &str) -> bool {
    let table = MountTable::new(vec![Mounted {
        at: Vec::new(),
        device: device.to_owned(),
        fs: Arc::clone(fs),
    }]);
    table
        .metadata(path.as_bytes(), true)
        .is_ok_and(|m| m.kind == FileKind::File)
}

/// Whether `fs` is a root, and why.
fn judge(fs: &Arc<dyn FileSystem>, device: &str) -> Option<(OsFamily, String)> {
    if holds_file(fs, device, "/etc/fstab") {
        if let Some(init) = INIT_PATHS.iter().find(|p| holds_file(fs, device, p)) {
            return Some((OsFamily::Linux, format!("/etc/fstab and {init} found")));
        }
    }
    if holds_file(fs, device, WINDOWS_HIVE) {
        return Some((OsFamily::Windows, format!("{WINDOWS_HIVE} found")));
    }
    None
}

/// Every root candidate on `volumes`, in volume order.
pub fn find_roots(volumes: &[GuestVolume]) -> Vec<RootCandidate> {
    let mut out = Vec::new();
    for v in volumes {
        let Some(fs) = v.filesystem() else {
            continue;
        };
        if let Some((os, evidence)) = judge(fs, &v.name) {
            let subvolume = v.btrfs.as_ref().map(default_subvolume_name);
            out.push(RootCandidate {
                device: v.name.clone(),
                subvolume,
                os,
                evidence,
                fs: Arc::clone(fs),
            });
            continue;
        }
        let Some(btrfs) = &v.btrfs else {
            continue;
        };
        let Ok(subvolumes) = btrfs.subvolumes() else {
            continue;
        };
        for (id, path) in subvolumes.into_iter().take(MAX_SUBVOLUMES_TRIED) {
            if id == btrfs.subvolume_id() {
                continue;
            }
            let Ok(view) = btrfs.with_subvolume(&id.to_string()) else {
                continue;
            };
            let view: Arc<dyn FileSystem> = Arc::new(view);
            if let Some((os, evidence)) = judge(&view, &v.name) {
                out.push(RootCandidate {
                    device: v.name.clone(),
                    subvolume: Some(path),
                    os,
                    evidence: format!("{evidence} in subvolume id {id}"),
                    fs: view,
                });
                break;
            }
        }
    }
    out
}

/// The path of the subvolume a Btrfs view is rooted at.
fn default_subvolume_name(b: &crate::btrfs::Btrfs) -> String {
    let id = b.subvolume_id();
    b.subvolumes()
        .ok()
        .and_then(|all| all.into_iter().find(|(i, _)| *i == id))
        .map_or_else(|| format!("id {id}"), |(_, p)| p)
}
