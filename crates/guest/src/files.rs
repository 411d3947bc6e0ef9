//! What the inspection needs from a guest: files on guest paths, volumes
//! and disk facts.
//!
//! All paths are absolute guest paths (`/etc/os-release`). Symbolic links in
//! the middle of a path are always resolved inside the guest (an absolute
//! target is relative to the guest root, `..` never leaves the root); the
//! last component is followed by [`GuestFiles::read_file`],
//! [`GuestFiles::read_dir`] and [`GuestFiles::metadata`], and not by
//! [`GuestFiles::read_link`] and [`GuestFiles::symlink_metadata`].
//! [`resolve_path`] does that resolution for any implementation that can
//! answer "what is this one path without following it".

use thiserror::Error;

/// Most symbolic links followed while resolving one path (Linux uses 40).
pub const MAX_LINK_HOPS: usize = 40;

/// Most components in one path; deeper paths are refused.
pub const MAX_PATH_COMPONENTS: usize = 4096;

/// What a guest path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (only seen when links are not followed).
    Symlink,
    /// Anything else (device node, fifo, socket).
    Other,
}

/// Metadata of a guest file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    /// What the path names.
    pub kind: FileKind,
    /// Size in bytes (for a link: the length of its target).
    pub size: u64,
    /// Permission bits and set-id bits (`st_mode & 0o7777`).
    pub mode: u32,
}

/// A file system or swap volume found in the image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeInfo {
    /// Device name as the image is seen on ECS (`/dev/vda1`,
    /// `/dev/mapper/vg-root`).
    pub device: String,
    /// File-system type in fstab spelling (`ext4`, `xfs`, `vfat`, `swap`).
    pub fs_type: Option<String>,
    /// File-system UUID (lower case, canonical form).
    pub uuid: Option<String>,
    /// File-system label.
    pub label: Option<String>,
    /// GPT partition UUID, or the MBR `<disk-id>-<nn>` form.
    pub partuuid: Option<String>,
    /// GPT partition name.
    pub partlabel: Option<String>,
    /// LVM volume group, for a logical volume.
    pub vg_name: Option<String>,
    /// LVM logical volume name, for a logical volume.
    pub lv_name: Option<String>,
    /// Where the guest mounts it (from its fstab), if it is mounted.
    pub mount_point: Option<String>,
    /// True for an EFI system partition (GPT type or MBR `0xEF`).
    pub is_esp: bool,
}

/// The partition table of the system disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionTable {
    /// MBR (DOS) partition table.
    Mbr,
    /// GUID partition table (with its protective MBR).
    Gpt,
    /// No partition table (a whole-disk file system, or nothing).
    None,
}

/// Disk-level facts the boot checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskFacts {
    /// Partition table type.
    pub partition_table: PartitionTable,
    /// MBR bytes 0..440 are not all zero (some boot code is installed).
    pub mbr_boot_code: bool,
    /// Loader recognised from text in the MBR boot code
    /// (`GRUB`, `Windows`, `SYSLINUX`), if any.
    pub mbr_loader: Option<String>,
    /// A GPT BIOS boot partition exists (type
    /// `21686148-6449-6E6F-744E-656564454649`).
    pub bios_boot_partition: bool,
    /// An MBR partition is marked active (`0x80`).
    pub active_partition: bool,
    /// On an MBR disk, the gap between LBA 0 and the first partition holds
    /// data (GRUB embeds its core.img there).
    pub mbr_gap_used: bool,
    /// Device name of the EFI system partition, if there is one.
    pub esp_device: Option<String>,
}

impl Default for DiskFacts {
    fn default() -> Self {
        DiskFacts {
            partition_table: PartitionTable::None,
            mbr_boot_code: false,
            mbr_loader: None,
            bios_boot_partition: false,
            active_partition: false,
            mbr_gap_used: false,
            esp_device: None,
        }
    }
}

/// How a file system was left, as its reader tells from its structures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeState {
    /// Not cleanly unmounted (NTFS dirty flag, ext state not clean, ...).
    Dirty,
    /// The journal holds transactions not yet applied.
    NeedsRecovery,
    /// The file system recorded errors.
    Errors,
    /// Windows hibernated (or shut down with Fast Startup) with this
    /// volume mounted.
    Hibernated,
    /// Anything else worth telling, in words.
    Other(String),
}

/// Why a guest path could not be read.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum GuestError {
    /// Reading failed (damaged file system, I/O error, unsupported feature).
    #[error("{path}: {message}")]
    Read {
        /// Guest path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The file is larger than the caller's limit.
    #[error("{path}: larger than the {limit}-byte limit ({size} bytes)")]
    TooLarge {
        /// Guest path.
        path: String,
        /// The limit asked for.
        limit: u64,
        /// The file's size.
        size: u64,
    },
    /// Too many symbolic links, or a link loop.
    #[error("{path}: too many levels of symbolic links")]
    LinkLoop {
        /// Guest path.
        path: String,
    },
    /// The path is not valid (not absolute, too deep, not a directory in
    /// the middle).
    #[error("{path}: {message}")]
    BadPath {
        /// Guest path.
        path: String,
        /// What is wrong with it.
        message: String,
    },
}

/// Read access to one guest, as the inspection needs it.
///
/// Absent paths are `Ok(None)`; errors are kept for paths that exist but
/// cannot be read, so facts can say UNKNOWN with the reason.
pub trait GuestFiles: Send + Sync {
    /// Contents of a file, following links. `Err(TooLarge)` past `limit`.
    fn read_file(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, GuestError>;

    /// The first `len` bytes of a file (fewer if it is shorter), following
    /// links; `None` if absent. The default reads through
    /// [`GuestFiles::read_at`].
    fn read_prefix(&self, path: &str, len: usize) -> Result<Option<Vec<u8>>, GuestError> {
        match self.metadata(path)? {
            None => return Ok(None),
            Some(m) if m.kind != FileKind::File => {
                return Err(GuestError::Read {
                    path: path.to_string(),
                    message: "not a regular file".into(),
                })
            }
            Some(_) => {}
        }
        let mut data = vec![0u8; len.min(1 << 20)];
        let mut filled = 0usize;
        while filled < data.len() {
            let n = self.read_at(
                path,
                filled as u64,
                data.get_mut(filled..).unwrap_or_default(),
            )?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        data.truncate(filled);
        Ok(Some(data))
    }

    /// Read up to `buf.len()` bytes at `offset` of a file, following links;
    /// returns how many were read (0 at or past the end). Large files (an
    /// initramfs) are streamed through this, never read whole.
    fn read_at(&self, path: &str, offset: u64, buf: &mut [u8]) -> Result<usize, GuestError>;

    /// Entries of a directory (without `.` and `..`), following links.
    fn read_dir(&self, path: &str) -> Result<Option<Vec<(String, FileKind)>>, GuestError>;

    /// Metadata, following a final link.
    fn metadata(&self, path: &str) -> Result<Option<FileMeta>, GuestError>;

    /// Metadata of the path itself (a final link is not followed).
    fn symlink_metadata(&self, path: &str) -> Result<Option<FileMeta>, GuestError>;

    /// Target of a symbolic link as stored (`None` if absent or not a link).
    fn read_link(&self, path: &str) -> Result<Option<String>, GuestError>;

    /// True if the path exists (following links) and could be read.
    fn exists(&self, path: &str) -> bool {
        matches!(self.metadata(path), Ok(Some(_)))
    }

    /// The guest path a path resolves to (all links followed), if it exists.
    fn canonical(&self, path: &str) -> Result<Option<String>, GuestError>;

    /// File systems and swap volumes of the image.
    fn volumes(&self) -> Vec<VolumeInfo>;

    /// Disk-level facts for the boot checks.
    fn disk(&self) -> DiskFacts;

    /// Files of one volume by device name, for volumes the guest does not
    /// mount (typically an ESP without an fstab entry). `None` when the
    /// volume is unknown or cannot be read.
    fn volume_files(&self, device: &str) -> Option<Box<dyn GuestFiles + '_>> {
        let _ = device;
        None
    }

    /// How the file system on `device` was left (empty when clean);
    /// `None` when the implementation cannot tell.
    fn volume_state(&self, device: &str) -> Option<Vec<VolumeState>> {
        let _ = device;
        None
    }
}

/// Split an absolute path into its components (no `.`, no empty parts).
fn components(path: &str) -> Result<Vec<String>, GuestError> {
    if !path.starts_with('/') {
        return Err(GuestError::BadPath {
            path: path.to_string(),
            message: "not an absolute guest path".into(),
        });
    }
    let parts: Vec<String> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .map(str::to_string)
        .collect();
    if parts.len() > MAX_PATH_COMPONENTS {
        return Err(GuestError::BadPath {
            path: path.to_string(),
            message: format!("more than {MAX_PATH_COMPONENTS} components"),
        });
    }
    Ok(parts)
}

/// Resolve a guest path inside the guest.
///
/// `lstat(p)` answers what the canonical path `p` names without following
/// it (`None` if absent); `readlink(p)` gives a link's target. Returns the
/// canonical path, or `None` if some component does not exist. With
/// `follow_last == false` a final link is left as is. At most
/// [`MAX_LINK_HOPS`] links are followed.
pub fn resolve_path<L, R>(
    path: &str,
    follow_last: bool,
    lstat: L,
    readlink: R,
) -> Result<Option<String>, GuestError>
where
    L: Fn(&str) -> Result<Option<FileKind>, GuestError>,
    R: Fn(&str) -> Result<Option<String>, GuestError>,
{
    let mut pending: Vec<String> = components(path)?;
    pending.reverse();
    let mut done: Vec<String> = Vec::new();
    let mut hops = 0usize;
    while let Some(part) = pending.pop() {
        if part == ".." {
            done.pop();
            continue;
        }
        let candidate = format!("/{}", {
            let mut v = done.clone();
            v.push(part.clone());
            v.join("/")
        });
        let is_last = pending.is_empty();
        match lstat(&candidate)? {
            None => return Ok(None),
            Some(FileKind::Symlink) if !is_last || follow_last => {
                hops += 1;
                if hops > MAX_LINK_HOPS {
                    return Err(GuestError::LinkLoop {
                        path: path.to_string(),
                    });
                }
                let Some(target) = readlink(&candidate)? else {
                    return Ok(None);
                };
                if target.starts_with('/') {
                    done.clear();
                }
                let mut more: Vec<String> = target
                    .split('/')
                    .filter(|p| !p.is_empty() && *p != ".")
                    .map(str::to_string)
                    .collect();
                if pending.len() + more.len() > MAX_PATH_COMPONENTS {
                    return Err(GuestError::BadPath {
                        path: path.to_string(),
                        message: format!("more than {MAX_PATH_COMPONENTS} components"),
                    });
                }
                more.reverse();
                pending.extend(more);
            }
            Some(kind) => {
                if !is_last && kind != FileKind::Dir {
                    return Ok(None);
                }
                done.push(part);
            }
        }
    }
    Ok(Some(format!("/{}", done.join("/"))))
}

/// Read a guest file as text (lossy UTF-8), `None` if absent or unreadable.
///
/// The error, if any, is returned separately so the caller can record why.
pub fn read_text(
    guest: &dyn GuestFiles,
    path: &str,
    limit: u64,
) -> Result<Option<String>, GuestError> {
    Ok(guest
        .read_file(path, limit)?
        .map(|b| String::from_utf8_lossy(&b).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A guest as a map of canonical paths to kinds and link targets.
    fn resolve(
        tree: &[(&str, Option<&str>)],
        path: &str,
        follow: bool,
    ) -> Result<Option<String>, GuestError> {
        let map: HashMap<String, Option<String>> = tree
            .iter()
            .map(|(p, t)| (p.to_string(), t.map(str::to_string)))
            .collect();
        resolve_path(
            path,
            follow,
            |p| {
                Ok(match map.get(p) {
                    None => None,
                    Some(Some(_)) => Some(FileKind::Symlink),
                    Some(None) if p.contains('.') => Some(FileKind::File),
                    Some(None) => Some(FileKind::Dir),
                })
            },
            |p| Ok(map.get(p).cloned().flatten()),
        )
    }

    #[test]
    fn links_resolve_inside_the_guest() {
        let tree = [
            ("/usr", None),
            ("/usr/bin", None),
            ("/usr/bin/dash.x", None),
            ("/usr/bin/sh", Some("dash.x")),
            ("/bin", Some("usr/bin")),
            ("/etc", None),
            ("/etc/os-release", Some("../usr/lib/os-release")),
            ("/abs", Some("/usr/bin/sh")),
            ("/up", Some("../../../../usr/bin/dash.x")),
        ];
        assert_eq!(
            resolve(&tree, "/bin/sh", true).unwrap().as_deref(),
            Some("/usr/bin/dash.x")
        );
        assert_eq!(
            resolve(&tree, "/bin/sh", false).unwrap().as_deref(),
            Some("/usr/bin/sh")
        );
        assert_eq!(
            resolve(&tree, "/abs", true).unwrap().as_deref(),
            Some("/usr/bin/dash.x")
        );
        assert_eq!(
            resolve(&tree, "/up", true).unwrap().as_deref(),
            Some("/usr/bin/dash.x")
        );
        assert_eq!(resolve(&tree, "/etc/os-release", true).unwrap(), None);
        assert_eq!(resolve(&tree, "/usr/bin/dash.x/x", true).unwrap(), None);
        assert!(matches!(
            resolve(&tree, "relative", true),
            Err(GuestError::BadPath { .. })
        ));
    }

    #[test]
    fn loops_and_deep_paths_are_refused() {
        let tree = [("/a", Some("/b")), ("/b", Some("/a"))];
        assert!(matches!(
            resolve(&tree, "/a", true),
            Err(GuestError::LinkLoop { .. })
        ));
        let deep = "/x".repeat(MAX_PATH_COMPONENTS + 1);
        assert!(matches!(
            resolve(&tree, &deep, true),
            Err(GuestError::BadPath { .. })
        ));
        // A link that expands itself: a/ -> a/a/a... is bounded by the hop count.
        let tree = [("/d", Some("/d/d/d/d"))];
        assert!(resolve(&tree, "/d", true).is_err());
    }
}
