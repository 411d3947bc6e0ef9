//! A guest read out of a disk image: the guest view of `imsprep-fs` (the
//! disk's volumes, its root file system with the guest's own fstab applied,
//! symbolic links resolved inside the guest) as [`GuestFiles`], and the
//! whole inspection of a disk: which systems it holds, what could not be
//! read, and the facts of the one that boots.

mod disk_facts;
mod files;

use std::sync::Arc;

use imsprep_disk::Disk;
use imsprep_fs::guest::{Content, OsFamily};

pub use files::ImageGuest;

use crate::linux::storage::superblock::{fs_usage, FsUsage, SUPERBLOCK_AREA};
use crate::linux::{inspect_linux, LinuxFacts};
use crate::windows::{inspect_windows, WindowsFacts};

/// A file system that may be the guest's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootFound {
    /// Its device as the guest names it.
    pub device: String,
    /// The Btrfs subvolume it was found in.
    pub subvolume: Option<String>,
    /// `linux` or `windows`.
    pub os: &'static str,
    /// What makes it a root (`/etc/fstab and /sbin/init found`).
    pub evidence: String,
}

/// A volume that is there but not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadVolume {
    /// Its device as the guest names it.
    pub device: String,
    /// What it is (LUKS, BitLocker, a thin LV, a file system with no
    /// reader).
    pub what: String,
    /// Why it is not read.
    pub reason: String,
}

/// A mount the guest's fstab makes, as applied to the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountFound {
    /// Where the guest mounts it.
    pub mount_point: String,
    /// The device.
    pub device: String,
    /// How the fstab source was matched to the volume.
    pub evidence: String,
}

/// Everything the inspection of a disk found.
#[derive(Debug, Clone, Default)]
pub struct DiskInspection {
    /// Every root candidate; the first is the one inspected.
    pub roots: Vec<RootFound>,
    /// Volumes not read, with the reason.
    pub unread: Vec<UnreadVolume>,
    /// The mounts the guest's fstab makes.
    pub mounts: Vec<MountFound>,
    /// fstab entries that could not be applied, with the reason.
    pub not_mounted: Vec<String>,
    /// Size, free space and clean state of the file systems mounted at `/`
    /// and `/boot`, from their superblocks: (mount point, device, usage).
    pub usage: Vec<(String, String, FsUsage)>,
    /// The facts of a Linux root.
    pub linux: Option<LinuxFacts>,
    /// The facts of a Windows root.
    pub windows: Option<WindowsFacts>,
    /// Why the disk could not be read at all.
    pub error: Option<String>,
}

/// Inspects the guest on `disk`: its volumes, its root, and the facts of
/// that root's system. A disk that cannot be read gives an inspection
/// with [`DiskInspection::error`] set; nothing here fails.
pub fn inspect_disk(disk: Arc<dyn Disk>) -> DiskInspection {
    let guest = match ImageGuest::open(disk) {
        Ok(guest) => guest,
        Err(e) => {
            return DiskInspection {
                error: Some(e.to_string()),
                ..DiskInspection::default()
            }
        }
    };
    let view = guest.view();
    let roots = view
        .root_candidates()
        .iter()
        .map(|r| RootFound {
            device: r.device.clone(),
            subvolume: r.subvolume.clone(),
            os: match r.os {
                OsFamily::Linux => "linux",
                OsFamily::Windows => "windows",
            },
            evidence: r.evidence.clone(),
        })
        .collect();
    let unread = view
        .volumes()
        .iter()
        .filter_map(|v| match &v.content {
            Content::Unread { what, reason } => Some(UnreadVolume {
                device: v.name.clone(),
                what: what.clone(),
                reason: reason.clone(),
            }),
            _ => None,
        })
        .collect();
    let mounts: Vec<MountFound> = view
        .mounts()
        .iter()
        .map(|m| MountFound {
            mount_point: String::from_utf8_lossy(&m.mount_point).into_owned(),
            device: m.device.clone(),
            evidence: m.evidence.clone(),
        })
        .collect();
    let not_mounted = view
        .not_mounted()
        .iter()
        .map(|n| {
            format!(
                "/etc/fstab line {}: {} on {} ({}): {}",
                n.line, n.source, n.mount_point, n.fs_type, n.reason
            )
        })
        .collect();
    let usage = mounts
        .iter()
        .filter(|m| m.mount_point == "/" || m.mount_point == "/boot")
        .filter_map(|m| {
            let volume = view.volumes().iter().find(|v| v.is_named(&m.device))?;
            let bytes = volume.volume.as_ref()?;
            let len = (SUPERBLOCK_AREA as u64).min(bytes.len()) as usize;
            let mut head = vec![0u8; len];
            bytes.read_at(0, &mut head).ok()?;
            Some((m.mount_point.clone(), m.device.clone(), fs_usage(&head)?))
        })
        .collect();
    let os = view.root().map(|r| r.os);
    let linux = (os == Some(OsFamily::Linux)).then(|| inspect_linux(&guest));
    let windows = (os == Some(OsFamily::Windows)).then(|| inspect_windows(&guest));
    DiskInspection {
        roots,
        unread,
        mounts,
        not_mounted,
        usage,
        linux,
        windows,
        error: None,
    }
}
