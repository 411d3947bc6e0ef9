//! The guest's view of a disk: its volumes, its root file system, its
//! `/etc/fstab` applied, and paths resolved as the booted guest would.
//!
//! - Volumes ([`inventory`]): every partition and logical volume with the
//!   guest's device names, the file system (or swap) with its label and
//!   UUID, PARTUUID and PARTLABEL; volumes that cannot be read are kept
//!   with the reason.
//! - Root ([`root`]): the file system holding `/etc/fstab` and an init
//!   (Linux; Btrfs: the default subvolume, else any) or
//!   `/Windows/System32/config/SYSTEM` (Windows). Every candidate is kept,
//!   the first in volume order is used, the others are reported.
//! - Mounts ([`fstab`], [`mounts`]): the root's fstab parsed and matched
//!   against the volumes; each mount says how its source was matched and
//!   each entry not mounted says why.
//! - Paths ([`resolve`]): resolved component by component across mount
//!   points, symbolic links followed inside the guest (never above `/`),
//!   at most 40 links, 4096 bytes and 256 components.
//!
//! The disk is taken to be the guest's first disk, `/dev/vda`; kernel
//! names of the first disk of other buses (`/dev/sda2`, `/dev/xvda2`,
//! `/dev/nvme0n1p2`) in fstab are taken as the same partitions.

pub mod fstab;
pub mod inventory;
pub mod mounts;
pub mod resolve;
pub mod root;
#[cfg(test)]
mod testfs;

use std::sync::Arc;

use imsprep_disk::Disk;

use crate::error::FsError;
use crate::filesystem::{DirEntry, FileKind, Metadata};
use resolve::{in_guest, MountTable, Mounted};

pub use inventory::{Content, GuestVolume};
pub use mounts::{Mount, NotMounted};
pub use root::{OsFamily, RootCandidate};

/// A directory entry and its `lstat`, which may fail on its own.
pub type EntryWithMetadata = (DirEntry, Result<Metadata, FsError>);

/// The device name the guest gives the disk.
pub const DISK_NAME: &str = "/dev/vda";

/// The guest's `/etc/fstab` is read up to this size.
pub const MAX_FSTAB: u64 = 1 << 20;

/// One disk as its guest sees it. Cheap to clone; shared between threads.
#[derive(Debug, Clone)]
pub struct Guest {
    volumes: Arc<Vec<GuestVolume>>,
    roots: Arc<Vec<RootCandidate>>,
    mounts: Vec<Mount>,
    not_mounted: Vec<NotMounted>,
    table: MountTable,
}

impl Guest {
    /// Reads the volumes of `disk`, finds the root and applies its fstab.
    /// Only a failure to read the disk is an error: a disk with no root
    /// gives a guest with no mounts (paths then fail, volumes are listed).
    pub fn open(disk: Arc<dyn Disk>) -> Result<Guest, FsError> {
        Self::assemble(inventory::inventory(disk, DISK_NAME)?)
    }

    /// The guest on `volumes`: its root found, its fstab applied.
    fn assemble(volumes: Vec<GuestVolume>) -> Result<Guest, FsError> {
        let roots = root::find_roots(&volumes);
        let guest = Guest {
            volumes: Arc::new(volumes),
            roots: Arc::new(roots),
            mounts: Vec::new(),
            not_mounted: Vec::new(),
            table: MountTable::default(),
        };
        let Some(first) = guest.roots.first() else {
            return Ok(guest);
        };
        let root_mount = Mount {
            mount_point: b"/".to_vec(),
            device: first.device.clone(),
            subvolume: first.subvolume.clone(),
            line: None,
            source: String::new(),
            options: Vec::new(),
            evidence: format!("root: {} on {}", first.evidence, first.device),
            fs: Arc::clone(&first.fs),
        };
        let applied = if first.os == OsFamily::Linux {
            let read = guest
                .with_mounts(vec![root_mount.clone()])
                .read_file(b"/etc/fstab", MAX_FSTAB);
            let parsed = match read {
                Ok(text) => fstab::parse(&text),
                // A damaged fstab leaves the root alone mounted, and says so.
                Err(e) if e.is_bad_image() => fstab::Fstab {
                    entries: Vec::new(),
                    problems: vec![fstab::FstabProblem {
                        line: 0,
                        text: "/etc/fstab".to_owned(),
                        reason: format!("cannot be read: {e}"),
                    }],
                },
                Err(e) => return Err(e),
            };
            mounts::apply(
                &guest.volumes,
                root_mount,
                &parsed.entries,
                &parsed.problems,
            )
        } else {
            mounts::apply(&guest.volumes, root_mount, &[], &[])
        };
        Ok(guest.with_mounts_and(applied.mounts, applied.not_mounted))
    }

    fn with_mounts(&self, mounts: Vec<Mount>) -> Guest {
        self.with_mounts_and(mounts, Vec::new())
    }

    fn with_mounts_and(&self, mounts: Vec<Mount>, not_mounted: Vec<NotMounted>) -> Guest {
        let table = MountTable::new(
            mounts
                .iter()
                .map(|m| Mounted {
                    at: m
                        .mount_point
                        .split(|&b| b == b'/')
                        .filter(|p| !p.is_empty())
                        .map(<[u8]>::to_vec)
                        .collect(),
                    device: m.device.clone(),
                    fs: Arc::clone(&m.fs),
                })
                .collect(),
        );
        Guest {
            volumes: Arc::clone(&self.volumes),
            roots: Arc::clone(&self.roots),
            mounts,
            not_mounted,
            table,
        }
    }

    /// A view of one file system alone, mounted at `/`: `spec` is a
    /// device name or alias, `UUID=`, `LABEL=`, `PARTUUID=` or
    /// `PARTLABEL=`. Links resolve inside that file system.
    pub fn only(&self, spec: &str) -> Result<Guest, FsError> {
        let not_found = |reason: String| FsError::InvalidPath {
            volume: "guest".to_owned(),
            path: spec.as_bytes().to_vec(),
            problem: reason,
        };
        let (i, evidence) = mounts::find_source(&self.volumes, spec).map_err(not_found)?;
        let v = self
            .volumes
            .get(i)
            .ok_or_else(|| not_found("volume index out of range".to_owned()))?;
        let fs = match &v.content {
            Content::FileSystem(fs) => Arc::clone(fs),
            Content::Unread { reason, .. } => {
                return Err(not_found(format!("{} is not read: {reason}", v.name)))
            }
            Content::Swap => return Err(not_found(format!("{} holds swap", v.name))),
            Content::Nothing => {
                return Err(not_found(format!("{} holds no known file system", v.name)))
            }
        };
        Ok(self.with_mounts(vec![Mount {
            mount_point: b"/".to_vec(),
            device: v.name.clone(),
            subvolume: None,
            line: None,
            source: spec.to_owned(),
            options: Vec::new(),
            evidence,
            fs,
        }]))
    }

    /// Every volume of the disk, partitions then logical volumes, then
    /// those not read.
    pub fn volumes(&self) -> &[GuestVolume] {
        &self.volumes
    }

    /// The root in use, when one was found.
    pub fn root(&self) -> Option<&RootCandidate> {
        self.roots.first()
    }

    /// Every root candidate; the first is [`Guest::root`], the others are
    /// further systems on the disk.
    pub fn root_candidates(&self) -> &[RootCandidate] {
        &self.roots
    }

    /// The mounts, `/` first, then in fstab order.
    pub fn mounts(&self) -> &[Mount] {
        &self.mounts
    }

    /// The fstab entries not mounted, with the reason.
    pub fn not_mounted(&self) -> &[NotMounted] {
        &self.not_mounted
    }

    /// Where the guest mounts the volume called `device`, if it does.
    pub fn mount_points_of(&self, device: &str) -> Vec<&Mount> {
        self.mounts.iter().filter(|m| m.device == device).collect()
    }

    /// The object at `path`, through a final link (`stat`).
    pub fn metadata(&self, path: &[u8]) -> Result<Metadata, FsError> {
        self.table.metadata(path, true)
    }

    /// The object at `path` itself (`lstat`).
    pub fn symlink_metadata(&self, path: &[u8]) -> Result<Metadata, FsError> {
        self.table.metadata(path, false)
    }

    /// The entries of the directory at `path` (through links).
    pub fn read_dir(&self, path: &[u8]) -> Result<Vec<DirEntry>, FsError> {
        let at = self.table.resolve(path, true)?;
        at.mount.fs.read_dir(&at.fs_path).map_err(|e| match e {
            FsError::WrongKind { volume, fs, .. } => FsError::NotADirectory {
                volume,
                fs,
                path: at.guest_path.clone(),
            },
            e => in_guest(e, &at.guest_path),
        })
    }

    /// The entries of the directory at `path` (through links), each with
    /// its own metadata (`lstat`), in the file system's order: one
    /// resolution for the whole listing rather than one per entry. An
    /// entry that is a mount point shows the mounted file system's root.
    pub fn read_dir_metadata(&self, path: &[u8]) -> Result<Vec<EntryWithMetadata>, FsError> {
        let at = self.table.resolve(path, true)?;
        let entries = at.mount.fs.read_dir(&at.fs_path).map_err(|e| match e {
            FsError::WrongKind { volume, fs, .. } => FsError::NotADirectory {
                volume,
                fs,
                path: at.guest_path.clone(),
            },
            e => in_guest(e, &at.guest_path),
        })?;
        let dir_parts: Vec<Vec<u8>> = at
            .guest_path
            .split(|&b| b == b'/')
            .filter(|p| !p.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        let join = |base: &[u8], name: &[u8]| {
            let mut p = base.to_vec();
            if p.last() != Some(&b'/') {
                p.push(b'/');
            }
            p.extend_from_slice(name);
            p
        };
        Ok(entries
            .into_iter()
            .map(|entry| {
                let guest_path = join(&at.guest_path, &entry.name);
                let mut parts = dir_parts.clone();
                parts.push(entry.name.clone());
                let md = match self.table.mounted_at(&parts) {
                    Some(m) => m.fs.metadata(b"/"),
                    None => at.mount.fs.metadata(&join(&at.fs_path, &entry.name)),
                }
                .map_err(|e| in_guest(e, &guest_path));
                (entry, md)
            })
            .collect())
    }

    /// The target of the link at `path`, as stored.
    pub fn read_link(&self, path: &[u8]) -> Result<Vec<u8>, FsError> {
        let at = self.table.resolve(path, false)?;
        at.mount
            .fs
            .read_link(&at.fs_path)
            .map_err(|e| in_guest(e, &at.guest_path))
    }

    /// The first `limit` bytes of the file at `path` (through links).
    pub fn read_file(&self, path: &[u8], limit: u64) -> Result<Vec<u8>, FsError> {
        let at = self.table.resolve(path, true)?;
        // A directory's size is not content: refuse it before reading.
        let kind = at
            .mount
            .fs
            .metadata(&at.fs_path)
            .map_err(|e| in_guest(e, &at.guest_path))?
            .kind;
        if kind != FileKind::File {
            return Err(FsError::wrong_kind(
                &at.mount.device,
                at.mount.fs.info().kind.name(),
                &at.guest_path,
                "regular file",
                kind,
            ));
        }
        at.mount
            .fs
            .read_file(&at.fs_path, limit)
            .map_err(|e| in_guest(e, &at.guest_path))
    }

    /// Reads the file at `path` (through links) from `offset` into `buf`;
    /// returns the bytes read (0 at the end).
    pub fn read_at(&self, path: &[u8], offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let at = self.table.resolve(path, true)?;
        at.mount
            .fs
            .read_at(&at.fs_path, offset, buf)
            .map_err(|e| in_guest(e, &at.guest_path))
    }

    /// Whether `path` names something (through links): `Ok(false)` when
    /// it, or a directory on the way, is missing; an error for a damaged
    /// structure or a link loop.
    pub fn exists(&self, path: &[u8]) -> Result<bool, FsError> {
        match self.metadata(path) {
            Ok(_) => Ok(true),
            Err(FsError::NotFound { .. } | FsError::NotADirectory { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The path `path` resolves to (through links), the device holding
    /// it and the path inside that file system.
    pub fn locate(&self, path: &[u8]) -> Result<(Vec<u8>, String, Vec<u8>), FsError> {
        let at = self.table.resolve(path, true)?;
        Ok((at.guest_path, at.mount.device.clone(), at.fs_path))
    }

    /// Whether the object at `path` (through links) is a directory.
    pub fn is_dir(&self, path: &[u8]) -> Result<bool, FsError> {
        Ok(self.metadata(path)?.kind == FileKind::Dir)
    }
}

#[cfg(test)]
mod tests {
    use super::testfs::MemFs;
    use super::*;
    use crate::volumes::Origin;

    fn volume(index: u32, uuid: &str, label: Option<&str>, items: &[(&str, &str)]) -> GuestVolume {
        let name = format!("/dev/vda{index}");
        GuestVolume {
            name: name.clone(),
            aliases: Vec::new(),
            origin: Some(Origin::Partition { index }),
            size: 1 << 20,
            partuuid: Some(format!("1a2b3c4d-{index:02x}")),
            partlabel: None,
            partition_kind: None,
            label: label.map(str::to_owned),
            uuid: Some(uuid.to_owned()),
            content: Content::FileSystem(Arc::new(MemFs::new(&name, uuid, items))),
            volume: None,
            btrfs: None,
        }
    }

    fn root(fstab: &str, more: &[(&str, &str)]) -> GuestVolume {
        let mut items = vec![("/etc/fstab", fstab), ("/bin/sh", "sh")];
        items.extend_from_slice(more);
        volume(
            1,
            "11111111-0000-4000-8000-000000000001",
            Some("root"),
            &items,
        )
    }

    fn read(g: &Guest, path: &str) -> String {
        String::from_utf8(g.read_file(path.as_bytes(), 100).unwrap()).unwrap()
    }

    #[test]
    fn nested_mounts_longest_prefix_and_dotdot_across_them() {
        let fstab = "/dev/vda1 / ext4 defaults 0 0\n\
            UUID=22222222-0000-4000-8000-00000000000A /var ext4 defaults\n\
            PARTUUID=1A2B3C4D-03 /var/log ext4 defaults\n\
            LABEL=my\\040logs /ignored/../x ext4 defaults\n\
            /dev/disk/by-label/my\\x20logs /srv ext4 noauto\n";
        let g = Guest::assemble(vec![
            root(
                fstab,
                &[
                    ("/var/", "/"),
                    ("/link-to-log", "-> var/log/../log/app.log"),
                ],
            ),
            volume(
                2,
                "22222222-0000-4000-8000-00000000000a",
                None,
                &[("/lib/state", "var state"), ("/log/", "/")],
            ),
            volume(
                3,
                "33333333-0000-4000-8000-000000000003",
                Some("my logs"),
                &[("/app.log", "app"), ("/up", "-> ../lib/state")],
            ),
        ])
        .unwrap();
        let points: Vec<&[u8]> = g
            .mounts()
            .iter()
            .map(|m| m.mount_point.as_slice())
            .collect();
        assert_eq!(points, [&b"/"[..], b"/var", b"/var/log"]);
        assert!(g.mounts()[0].evidence.contains("device name /dev/vda1"));
        assert_eq!(read(&g, "/var/log/app.log"), "app");
        assert_eq!(read(&g, "/var/lib/state"), "var state");
        // `..` from the /var/log mount's root is /var, on another file system.
        assert_eq!(read(&g, "/var/log/../lib/state"), "var state");
        assert_eq!(read(&g, "/var/log/up"), "var state");
        assert_eq!(read(&g, "/link-to-log"), "app");
        assert_eq!(g.locate(b"/var/log/app.log").unwrap().1, "/dev/vda3");
        let listed: Vec<(Vec<u8>, FileKind)> = g
            .read_dir_metadata(b"/var/log/..")
            .unwrap()
            .into_iter()
            .map(|(e, md)| (e.name, md.unwrap().kind))
            .collect();
        assert_eq!(
            listed,
            [
                (b"lib".to_vec(), FileKind::Dir),
                (b"log".to_vec(), FileKind::Dir)
            ]
        );
        let (_, md) = &g.read_dir_metadata(b"/var/log").unwrap()[1];
        assert_eq!(md.as_ref().unwrap().kind, FileKind::Symlink);
        let reasons: Vec<&str> = g.not_mounted().iter().map(|n| n.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "the mount point holds '..'",
                "noauto: the guest does not mount it at boot"
            ]
        );
    }

    #[test]
    fn a_root_line_naming_another_volume_and_hidden_mounts() {
        let fstab = "/dev/vda2 / ext4 defaults\n/dev/vda2 /data ext4 defaults\n/dev/vda3 /data/ ext4 defaults\n";
        let g = Guest::assemble(vec![
            root(fstab, &[]),
            volume(
                2,
                "22222222-0000-4000-8000-000000000002",
                None,
                &[("/two", "2")],
            ),
            volume(
                3,
                "33333333-0000-4000-8000-000000000003",
                None,
                &[("/three", "3")],
            ),
        ])
        .unwrap();
        assert_eq!(g.mounts().len(), 2);
        assert_eq!(g.mounts()[0].device, "/dev/vda1");
        assert_eq!(read(&g, "/data/three"), "3");
        let n = g.not_mounted();
        assert_eq!(n.len(), 2);
        assert!(
            n[0].reason
                .contains("names /dev/vda2 but the root read is /dev/vda1"),
            "{n:?}"
        );
        assert!(
            n[1].reason.contains("hidden by the mount on fstab line 3"),
            "{n:?}"
        );
    }

    #[test]
    fn sources_by_every_name() {
        let vols = vec![
            root("", &[]),
            volume(2, "abcdef00-0000-4000-8000-000000000002", Some("dup"), &[]),
            volume(3, "abcdef00-0000-4000-8000-000000000003", Some("dup"), &[]),
        ];
        let find = |s: &str| mounts::find_source(&vols, s).map(|(i, _)| i);
        assert_eq!(find("UUID=\"ABCDEF00-0000-4000-8000-000000000002\""), Ok(1));
        assert_eq!(
            find("/dev/disk/by-uuid/abcdef00-0000-4000-8000-000000000003"),
            Ok(2)
        );
        assert_eq!(find("PARTUUID=1a2b3c4d-02"), Ok(1));
        assert_eq!(find("/dev/disk/by-partuuid/1a2b3c4d-03"), Ok(2));
        assert_eq!(find("LABEL=root"), Ok(0));
        for name in [
            "/dev/sda2",
            "/dev/vda2",
            "/dev/hda2",
            "/dev/xvda2",
            "/dev/nvme0n1p2",
        ] {
            assert_eq!(find(name), Ok(1), "{name}");
        }
        assert!(find("LABEL=dup")
            .unwrap_err()
            .contains("2 volumes have LABEL dup"));
        assert!(find("/dev/sdb2")
            .unwrap_err()
            .contains("no volume of this disk is called"));
        assert!(find("/dev/sda9").unwrap_err().contains("no such partition"));
        assert!(find("/dev/sdaa1").is_err());
        assert!(find("/dev/nvme0n1p0").is_err());
        assert!(find("rubbish").unwrap_err().contains("not a device"));
    }

    #[test]
    fn hostile_fstab_and_links() {
        let garbage: String = (0..5000)
            .map(|i| if i % 7 == 0 { '\n' } else { '\\' })
            .collect();
        let g = Guest::assemble(vec![root(
            &garbage,
            &[("/a", "-> /a/../a"), ("/nul", "-> "), ("/dir/", "/")],
        )])
        .unwrap();
        assert_eq!(g.mounts().len(), 1);
        assert!(!g.not_mounted().is_empty());
        assert!(matches!(
            g.metadata(b"/a"),
            Err(FsError::LimitExceeded { .. })
        ));
        assert!(matches!(
            g.metadata(b"/nul"),
            Err(FsError::Malformed { .. })
        ));
        assert!(matches!(
            g.read_file(b"/dir", 10),
            Err(FsError::WrongKind { .. })
        ));
        assert!(matches!(
            g.read_dir(b"/etc/fstab"),
            Err(FsError::NotADirectory { .. })
        ));
        let deep = format!("/{}", "dir/".repeat(300));
        assert!(g.metadata(deep.as_bytes()).is_err());
    }

    #[test]
    fn shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Guest>();
    }

    #[test]
    fn no_root_no_mounts() {
        let g = Guest::assemble(vec![volume(1, "u", None, &[("/x", "x")])]).unwrap();
        assert!(g.root().is_none());
        assert!(g.mounts().is_empty());
        let e = g.metadata(b"/x").unwrap_err().to_string();
        assert!(e.contains("no root file system"), "{e}");
        assert_eq!(read(&g.only("/dev/vda1").unwrap(), "/x"), "x");
    }
}
