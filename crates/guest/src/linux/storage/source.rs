//! Classification of device names as fstab, `root=` and `resume=` write
//! them, and their lookup among the image's volumes.

use crate::VolumeInfo;

/// What kind of name an fstab source or `root=`/`resume=` value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// `UUID=` or `/dev/disk/by-uuid/`.
    Uuid(String),
    /// `LABEL=` or `/dev/disk/by-label/`.
    Label(String),
    /// `PARTUUID=` or `/dev/disk/by-partuuid/`.
    PartUuid(String),
    /// `PARTLABEL=` or `/dev/disk/by-partlabel/`.
    PartLabel(String),
    /// `/dev/mapper/<vg>-<lv>` or `/dev/<vg>/<lv>` (VG, LV).
    Lvm(String, String),
    /// `/dev/mapper/<name>` that is not a VG-LV pair (e.g. dm-crypt).
    Mapper(String),
    /// `/dev/disk/by-id/…` or `/dev/disk/by-path/…`: tied to the old
    /// controller or disk model.
    ByIdOrPath(String),
    /// `/dev/vdXN`: virtio-blk kernel name.
    VirtioName(String),
    /// `/dev/sdX`, `/dev/hdX`, `/dev/xvdX`, `/dev/nvme…`, `/dev/cciss/…`:
    /// a kernel name from other hardware.
    ForeignName(String),
    /// `/dev/cdrom`, `/dev/sr0`, `/dev/fd0`.
    Removable(String),
    /// A network file system source (`host:/path`, `//host/share`).
    Network(String),
    /// Pseudo file systems (`proc`, `sysfs`, `tmpfs`, `none`, …).
    Pseudo(String),
    /// A bind mount (source is a path).
    Bind(String),
    /// Anything else, verbatim.
    Other(String),
}

/// Pseudo and virtual file-system types skipped by the reference checks.
const PSEUDO_TYPES: [&str; 12] = [
    "proc",
    "sysfs",
    "devpts",
    "tmpfs",
    "devtmpfs",
    "cgroup",
    "cgroup2",
    "securityfs",
    "debugfs",
    "hugetlbfs",
    "mqueue",
    "efivarfs",
];

/// Network file-system types.
const NETWORK_TYPES: [&str; 8] = [
    "nfs",
    "nfs4",
    "cifs",
    "smbfs",
    "glusterfs",
    "ceph",
    "fuse.sshfs",
    "9p",
];

/// Classifies a device name as written in fstab or on the command line.
pub fn classify_source(spec: &str, fs_type: &str) -> SourceKind {
    let s = spec.trim_matches('"');
    let owned = || s.to_string();
    let tagged = |tag: &str| s.strip_prefix(tag).map(|v| v.trim_matches('"').to_string());
    if let Some(v) = tagged("UUID=").or_else(|| tagged("/dev/disk/by-uuid/")) {
        return SourceKind::Uuid(v);
    }
    if let Some(v) = tagged("LABEL=").or_else(|| tagged("/dev/disk/by-label/")) {
        return SourceKind::Label(v);
    }
    if let Some(v) = tagged("PARTUUID=").or_else(|| tagged("/dev/disk/by-partuuid/")) {
        return SourceKind::PartUuid(v);
    }
    if let Some(v) = tagged("PARTLABEL=").or_else(|| tagged("/dev/disk/by-partlabel/")) {
        return SourceKind::PartLabel(v);
    }
    if s.starts_with("/dev/disk/by-id/") || s.starts_with("/dev/disk/by-path/") {
        return SourceKind::ByIdOrPath(owned());
    }
    if NETWORK_TYPES.contains(&fs_type)
        || s.starts_with("//")
        || (s.contains(":/") && !s.starts_with('/'))
    {
        return SourceKind::Network(owned());
    }
    if PSEUDO_TYPES.contains(&fs_type) || s == "none" || PSEUDO_TYPES.contains(&s) {
        return SourceKind::Pseudo(owned());
    }
    if let Some(name) = s.strip_prefix("/dev/mapper/") {
        return match split_mapper_name(name) {
            Some((vg, lv)) => SourceKind::Lvm(vg, lv),
            None => SourceKind::Mapper(owned()),
        };
    }
    if let Some(name) = s.strip_prefix("/dev/") {
        return classify_dev_name(name, s);
    }
    if s.starts_with('/') {
        return SourceKind::Bind(owned());
    }
    SourceKind::Other(owned())
}

/// Classifies `/dev/<name>`.
fn classify_dev_name(name: &str, full: &str) -> SourceKind {
    let owned = full.to_string();
    if ["cdrom", "cdrw", "dvd", "fd0", "floppy"].contains(&name) || name.starts_with("sr") {
        return SourceKind::Removable(owned);
    }
    let kernel_disk = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_lowercase()))
    };
    if kernel_disk("vd") {
        return SourceKind::VirtioName(owned);
    }
    if kernel_disk("sd")
        || kernel_disk("hd")
        || kernel_disk("xvd")
        || name.starts_with("nvme")
        || name.starts_with("cciss/")
    {
        return SourceKind::ForeignName(owned);
    }
    if let Some((vg, lv)) = name.split_once('/') {
        if !vg.is_empty() && !lv.is_empty() && !lv.contains('/') {
            return SourceKind::Lvm(vg.to_string(), lv.to_string());
        }
    }
    SourceKind::Other(owned)
}

/// Splits a device-mapper name `<vg>-<lv>` where a hyphen inside either
/// name is doubled. Returns `None` if there is no single separator.
pub fn split_mapper_name(name: &str) -> Option<(String, String)> {
    let chars: Vec<char> = name.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars.get(i) == Some(&'-') {
            if chars.get(i + 1) == Some(&'-') {
                i += 2;
                continue;
            }
            let vg: String = chars.get(..i)?.iter().collect();
            let lv: String = chars.get(i + 1..)?.iter().collect();
            if vg.is_empty() || lv.is_empty() {
                return None;
            }
            return Some((vg.replace("--", "-"), lv.replace("--", "-")));
        }
        i += 1;
    }
    None
}

/// Whether an identifier is found among the volumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Found: the volume's device path.
    Found(String),
    /// Looked for and not found.
    Missing,
    /// Not an identifier that can be looked up (kernel names, network,
    /// pseudo file systems).
    NotApplicable,
}

/// Looks an identifier up among the guest volumes. UUIDs compare
/// case-insensitively (blkid prints lower case, some tools upper). A
/// `/dev/vdXN` name is compared with the device names the volumes will
/// have on ECS (the system disk is `/dev/vda`), so a second virtio disk
/// that is not in the image is missing.
pub fn resolve(kind: &SourceKind, volumes: &[VolumeInfo]) -> Resolution {
    let eq_ci =
        |a: &Option<String>, b: &str| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b));
    let eq = |a: &Option<String>, b: &str| a.as_deref() == Some(b);
    let hit = volumes.iter().find(|v| match kind {
        SourceKind::Uuid(u) => eq_ci(&v.uuid, u),
        SourceKind::Label(l) => eq(&v.label, l),
        SourceKind::PartUuid(u) => eq_ci(&v.partuuid, u),
        SourceKind::PartLabel(l) => eq(&v.partlabel, l),
        SourceKind::VirtioName(n) => v.device == *n,
        SourceKind::Lvm(vg, lv) => {
            v.vg_name.as_deref() == Some(vg) && v.lv_name.as_deref() == Some(lv)
        }
        _ => false,
    });
    match (kind, hit) {
        (_, Some(v)) => Resolution::Found(v.device.clone()),
        (
            SourceKind::Uuid(_)
            | SourceKind::Label(_)
            | SourceKind::PartUuid(_)
            | SourceKind::PartLabel(_)
            | SourceKind::VirtioName(_)
            | SourceKind::Lvm(..),
            None,
        ) => Resolution::Missing,
        _ => Resolution::NotApplicable,
    }
}
