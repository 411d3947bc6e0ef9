//! Applying the guest's fstab: which volume each entry names, how that
//! was decided, and why an entry is not mounted.
//!
//! Sources are matched against this disk's volumes: `UUID=`, `LABEL=`,
//! `PARTUUID=`, `PARTLABEL=` (and their `/dev/disk/by-*/` links), device
//! names and aliases (`/dev/vda1`, `/dev/VG/LV`, `/dev/mapper/VG-LV`), and
//! kernel names of the guest's first disk (`/dev/sdaN`, `/dev/vdaN`,
//! `/dev/hdaN`, `/dev/xvdaN`, `/dev/nvme0n1pN` are partition N of this
//! disk). Btrfs `subvol=` / `subvolid=` choose the subvolume. Swap,
//! network and virtual file systems, bind mounts, `noauto` entries and
//! sources on no volume of this disk are listed as not mounted, with the
//! reason.

use std::sync::Arc;

use super::fstab::{FstabEntry, FstabProblem};
use super::inventory::{Content, GuestVolume};
use crate::filesystem::FileSystem;
use crate::volumes::Origin;

/// A file system mounted in the guest's tree.
#[derive(Debug, Clone)]
pub struct Mount {
    /// Where the guest mounts it (`/`, `/boot`).
    pub mount_point: Vec<u8>,
    /// The guest's device name of the volume.
    pub device: String,
    /// The Btrfs subvolume mounted (its path from the top level, or the
    /// id as given), when one was chosen.
    pub subvolume: Option<String>,
    /// The fstab line, `None` for the root found by its content alone.
    pub line: Option<usize>,
    /// The fstab source as written (empty for a root with no fstab line).
    pub source: String,
    /// The fstab options.
    pub options: Vec<String>,
    /// How the source was matched to the volume.
    pub evidence: String,
    /// The file system.
    pub fs: Arc<dyn FileSystem>,
}

/// An fstab entry that is not mounted in the guest view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMounted {
    /// The fstab line.
    pub line: usize,
    /// The source as written.
    pub source: String,
    /// The mount point as written.
    pub mount_point: String,
    /// The type as written.
    pub fs_type: String,
    /// Why it is not mounted.
    pub reason: String,
}

const NETWORK_TYPES: [&str; 9] = [
    "nfs",
    "nfs4",
    "cifs",
    "smbfs",
    "smb3",
    "sshfs",
    "fuse.sshfs",
    "glusterfs",
    "ceph",
];
const VIRTUAL_TYPES: [&str; 18] = [
    "tmpfs",
    "proc",
    "sysfs",
    "devpts",
    "devtmpfs",
    "cgroup",
    "cgroup2",
    "securityfs",
    "debugfs",
    "tracefs",
    "hugetlbfs",
    "mqueue",
    "efivarfs",
    "ramfs",
    "pstore",
    "bpf",
    "configfs",
    "binfmt_misc",
];

/// Undoes udev's `\xHH` escapes in `/dev/disk/by-label/` names.
fn unescape_udev(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' && bytes.get(i + 1) == Some(&b'x') {
            if let Some(v) = bytes
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// The partition number a kernel device name of the guest's first disk
/// names (`/dev/sda2` -> 2), or 0 for the whole disk.
fn kernel_partition(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("/dev/")?;
    if let Some(n) = rest.strip_prefix("nvme0n1") {
        if n.is_empty() {
            return Some(0);
        }
        return n.strip_prefix('p')?.parse().ok().filter(|&n| n > 0);
    }
    let rest = ["xvd", "sd", "vd", "hd"]
        .iter()
        .find_map(|p| rest.strip_prefix(p))?
        .strip_prefix('a')?;
    if rest.is_empty() {
        return Some(0);
    }
    if !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok().filter(|&n| n > 0)
}

/// The volume `source` names, with how it was matched.
pub fn find_source(volumes: &[GuestVolume], source: &str) -> Result<(usize, String), String> {
    let by = |what: &str, value: &str, test: &dyn Fn(&GuestVolume) -> bool| {
        let hits: Vec<usize> = (0..volumes.len())
            .filter(|&i| volumes.get(i).is_some_and(test))
            .collect();
        let name = |i: usize| volumes.get(i).map_or("?", |v| v.name.as_str());
        match hits.as_slice() {
            [one] => Ok((*one, format!("{what} {value} is that of {}", name(*one)))),
            [] => {
                // A volume that is not read has no UUID or label to match.
                let unread: Vec<&str> = volumes
                    .iter()
                    .filter(|v| matches!(v.content, Content::Unread { .. }))
                    .map(|v| v.name.as_str())
                    .collect();
                let hint = if unread.is_empty() || what.starts_with("PART") {
                    String::new()
                } else {
                    format!(" (not read, so not matched: {})", unread.join(", "))
                };
                Err(format!("no volume of this disk has {what} {value}{hint}"))
            }
            many => Err(format!(
                "{} volumes have {what} {value} ({}); the guest would pick one at random",
                many.len(),
                many.iter().map(|&i| name(i)).collect::<Vec<_>>().join(", ")
            )),
        }
    };
    let same =
        |a: &Option<String>, b: &str| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b));
    let exact = |a: &Option<String>, b: &str| a.as_deref() == Some(b);
    let tagged = [
        ("UUID=", "/dev/disk/by-uuid/", "UUID"),
        ("LABEL=", "/dev/disk/by-label/", "LABEL"),
        ("PARTUUID=", "/dev/disk/by-partuuid/", "PARTUUID"),
        ("PARTLABEL=", "/dev/disk/by-partlabel/", "PARTLABEL"),
    ];
    for (tag, dir, what) in tagged {
        let value = if let Some(v) = source.strip_prefix(tag) {
            unquote(v).to_owned()
        } else if let Some(v) = source.strip_prefix(dir) {
            unescape_udev(v)
        } else {
            continue;
        };
        let v = value.as_str();
        return match what {
            "UUID" => by(what, v, &|g| same(&g.uuid, v)),
            "LABEL" => by(what, v, &|g| exact(&g.label, v)),
            "PARTUUID" => by(what, v, &|g| same(&g.partuuid, v)),
            _ => by(what, v, &|g| exact(&g.partlabel, v)),
        };
    }
    if let Some(i) = volumes.iter().position(|g| g.is_named(source)) {
        return Ok((i, format!("device name {source}")));
    }
    if let Some(n) = kernel_partition(source) {
        let hit = volumes.iter().position(|g| match (n, &g.origin) {
            (0, Some(Origin::WholeDisk)) => true,
            (n, Some(Origin::Partition { index })) => *index == n && n > 0,
            _ => false,
        });
        return match hit {
            Some(i) => Ok((
                i,
                format!(
                    "kernel name {source} taken as {} of this disk (the guest's first disk)",
                    if n == 0 {
                        "the whole".to_owned()
                    } else {
                        format!("partition {n}")
                    }
                ),
            )),
            None => Err(format!(
                "{source} names the guest's first disk, which has no such partition"
            )),
        };
    }
    if source.starts_with("/dev/") {
        return Err(format!("no volume of this disk is called {source}"));
    }
    Err(format!(
        "{source} is not a device, UUID, label or partition id"
    ))
}

/// Why `entry` is not a mount of a file system on this disk, before its
/// source is looked at.
fn skip_reason(entry: &FstabEntry) -> Option<String> {
    let t = entry.fs_type.as_str();
    if t == "swap" || entry.mount_point == b"swap" {
        return Some("swap area, not a file system".to_owned());
    }
    if entry.has("bind") || entry.has("rbind") || t == "none" && entry.source.starts_with('/') {
        return Some(format!(
            "bind mount of {}; bind mounts are not applied",
            entry.source
        ));
    }
    if NETWORK_TYPES.contains(&t) || entry.source.starts_with("//") || entry.source.contains(":/") {
        return Some(format!("network file system ({t}), not on this disk"));
    }
    if VIRTUAL_TYPES.contains(&t) || t.starts_with("fuse") {
        return Some(format!(
            "{t}: a file system the running guest makes, not on this disk"
        ));
    }
    if entry.has("noauto") {
        return Some("noauto: the guest does not mount it at boot".to_owned());
    }
    if entry.mount_point.first() != Some(&b'/') {
        return Some("the mount point is not an absolute path".to_owned());
    }
    if entry.mount_point.split(|&b| b == b'/').any(|p| p == b"..") {
        return Some("the mount point holds '..'".to_owned());
    }
    None
}

/// The file system `entry` mounts from volume `v`: the subvolume its
/// options choose on Btrfs.
fn file_system_of(
    v: &GuestVolume,
    entry: &FstabEntry,
) -> Result<(Arc<dyn FileSystem>, Option<String>), String> {
    let fs = match &v.content {
        Content::FileSystem(fs) => Arc::clone(fs),
        Content::Swap => return Err(format!("{} holds swap, not a file system", v.name)),
        Content::Nothing => return Err(format!("{} holds no known file system", v.name)),
        Content::Unread { reason, .. } => return Err(format!("{} is not read: {reason}", v.name)),
    };
    let wanted = entry
        .option("subvol")
        .map(|s| s.trim_start_matches('/').to_owned())
        .or_else(|| entry.option("subvolid").map(str::to_owned));
    match (&v.btrfs, wanted) {
        (Some(btrfs), Some(spec)) => {
            // `subvol=/` is the top level, id 5.
            let lookup = if spec.is_empty() { "5" } else { spec.as_str() };
            let view = btrfs
                .with_subvolume(lookup)
                .map_err(|e| format!("Btrfs subvolume {spec}: {e}"))?;
            Ok((Arc::new(view), Some(spec)))
        }
        (None, Some(_)) => Err(format!(
            "subvol= is a Btrfs option, but {} holds {}",
            v.name,
            fs.info().kind
        )),
        _ => Ok((fs, None)),
    }
}

/// What applying an fstab gives.
#[derive(Debug, Default)]
pub struct Applied {
    /// Mounts, in fstab order.
    pub mounts: Vec<Mount>,
    /// Entries not mounted.
    pub not_mounted: Vec<NotMounted>,
}

/// Applies fstab `entries` (and unreadable `problems` lines) to
/// `volumes`, with `root` mounted at `/` first.
pub fn apply(
    volumes: &[GuestVolume],
    root: Mount,
    entries: &[FstabEntry],
    problems: &[FstabProblem],
) -> Applied {
    let mut out = Applied::default();
    let mut root = root;
    for p in problems {
        out.not_mounted.push(NotMounted {
            line: p.line,
            source: p.text.clone(),
            mount_point: String::new(),
            fs_type: String::new(),
            reason: p.reason.clone(),
        });
    }
    let mut mounts: Vec<Mount> = Vec::new();
    for entry in entries {
        let not = |reason: String| NotMounted {
            line: entry.line,
            source: entry.source.clone(),
            mount_point: String::from_utf8_lossy(&entry.mount_point).into_owned(),
            fs_type: entry.fs_type.clone(),
            reason,
        };
        if let Some(reason) = skip_reason(entry) {
            out.not_mounted.push(not(reason));
            continue;
        }
        let point = super::resolve::join(
            &entry
                .mount_point
                .split(|&b| b == b'/')
                .filter(|p| !p.is_empty() && *p != b".")
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>(),
        );
        let resolved = find_source(volumes, &entry.source).and_then(|(i, evidence)| {
            let v = volumes.get(i).ok_or("volume index out of range")?;
            let (fs, subvolume) = file_system_of(v, entry)?;
            let mut evidence = format!("fstab line {}: {evidence}", entry.line);
            let kind = fs.info().kind.fstab_type();
            if entry.fs_type != "auto" && entry.fs_type != kind {
                evidence.push_str(&format!(
                    "; fstab says {}, the superblock {kind}",
                    entry.fs_type
                ));
            }
            Ok(Mount {
                mount_point: point.clone(),
                device: v.name.clone(),
                subvolume,
                line: Some(entry.line),
                source: entry.source.clone(),
                options: entry.options.clone(),
                evidence,
                fs,
            })
        });
        match resolved {
            Ok(m) if point == b"/" => {
                if m.device == root.device {
                    // The guest mounts what its fstab says: a subvolume
                    // named there replaces the one the root was found in.
                    if m.subvolume.is_some() && m.subvolume != root.subvolume {
                        root.fs = m.fs;
                        root.subvolume = m.subvolume;
                    }
                    root.line = m.line;
                    root.source = m.source;
                    root.options = m.options;
                    root.evidence = format!("{}; {}", root.evidence, m.evidence);
                } else {
                    out.not_mounted.push(not(format!(
                        "it names {} but the root read is {} ({})",
                        m.device, root.device, root.evidence
                    )));
                }
            }
            Ok(m) => {
                if let Some(old) = mounts.iter().position(|o| o.mount_point == m.mount_point) {
                    let hidden = mounts.remove(old);
                    out.not_mounted.push(NotMounted {
                        line: hidden.line.unwrap_or(0),
                        source: hidden.source,
                        mount_point: String::from_utf8_lossy(&hidden.mount_point).into_owned(),
                        fs_type: hidden.fs.info().kind.fstab_type().to_owned(),
                        reason: format!("hidden by the mount on fstab line {}", entry.line),
                    });
                }
                mounts.push(m);
            }
            Err(reason) => out.not_mounted.push(not(reason)),
        }
    }
    out.not_mounted.sort_by_key(|n| n.line);
    out.mounts.push(root);
    out.mounts.extend(mounts);
    out
}
