//! `/etc/fstab`, swap and resume references, and whether each identifier
//! exists among the image's volumes.
//!
//! Read: `/etc/fstab` (comments and blank lines skipped, octal escapes
//! such as `\040` decoded, at most [`MAX_FSTAB_ENTRIES`] entries),
//! `/etc/default/grub` (`GRUB_CMDLINE_LINUX[_DEFAULT]`),
//! `/etc/initramfs-tools/conf.d/resume` (`RESUME=`), and the default
//! kernel command line when the boot facts know it. Every source is
//! classified ([`SourceKind`]) and looked up among the guest's volumes
//! (file-system UUID, label, PARTUUID, PARTLABEL, LVM VG/LV). Nothing is
//! judged here: the facts say what each entry names and whether it was
//! found; `imsprep-ims` decides.

use super::services::{read_config, read_config_checked};
use crate::text::shell_assignments;
use crate::{Evidence, Fact, GuestFiles, VolumeInfo};

/// Most fstab entries kept.
pub const MAX_FSTAB_ENTRIES: usize = 1024;

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
/// case-insensitively (blkid prints lower case, some tools upper).
pub fn resolve(kind: &SourceKind, volumes: &[VolumeInfo]) -> Resolution {
    let eq_ci =
        |a: &Option<String>, b: &str| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b));
    let eq = |a: &Option<String>, b: &str| a.as_deref() == Some(b);
    let hit = volumes.iter().find(|v| match kind {
        SourceKind::Uuid(u) => eq_ci(&v.uuid, u),
        SourceKind::Label(l) => eq(&v.label, l),
        SourceKind::PartUuid(u) => eq_ci(&v.partuuid, u),
        SourceKind::PartLabel(l) => eq(&v.partlabel, l),
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
            | SourceKind::Lvm(..),
            None,
        ) => Resolution::Missing,
        _ => Resolution::NotApplicable,
    }
}

/// One `/etc/fstab` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FstabEntry {
    /// 1-based line number.
    pub line: usize,
    /// Source as written (escapes decoded).
    pub source: String,
    /// Mount point (escapes decoded); `none`/`swap` for swap.
    pub mount_point: String,
    /// File-system type.
    pub fs_type: String,
    /// Options, split at commas.
    pub options: Vec<String>,
    /// What kind of name the source is.
    pub kind: SourceKind,
    /// Whether the identifier exists in the image.
    pub resolution: Resolution,
}

impl FstabEntry {
    /// Has `option` (exact name, or `name=value`).
    pub fn has_option(&self, option: &str) -> bool {
        self.options
            .iter()
            .any(|o| o == option || o.split_once('=').is_some_and(|(k, _)| k == option))
    }
    /// `nofail` is set.
    pub fn nofail(&self) -> bool {
        self.has_option("nofail")
    }
    /// `noauto` is set.
    pub fn noauto(&self) -> bool {
        self.has_option("noauto")
    }
    /// `_netdev` is set.
    pub fn netdev(&self) -> bool {
        self.has_option("_netdev")
    }
    /// `x-systemd.*` options.
    pub fn systemd_options(&self) -> Vec<&str> {
        self.options
            .iter()
            .filter(|o| o.starts_with("x-systemd."))
            .map(String::as_str)
            .collect()
    }
    /// A swap entry.
    pub fn is_swap(&self) -> bool {
        self.fs_type == "swap"
    }
    /// The boot waits for this entry's device and stops if it is missing:
    /// a disk identifier not found in the image, not `nofail`/`noauto`.
    pub fn would_stall_boot(&self) -> bool {
        self.resolution == Resolution::Missing && !self.nofail() && !self.noauto()
    }
    /// Evidence: the line as read.
    pub fn evidence(&self) -> Evidence {
        Evidence::file(
            "/etc/fstab",
            format!(
                "line {}: {} {} {} {}",
                self.line,
                self.source,
                self.mount_point,
                self.fs_type,
                self.options.join(",")
            ),
        )
    }
}

/// Decodes fstab octal escapes (`\040` space, `\011` tab, `\134` backslash).
pub fn unescape_fstab(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' {
            if let Some(digits) = bytes.get(i + 1..i + 4) {
                if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                    let v = digits
                        .iter()
                        .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                    if let Ok(v) = u8::try_from(v) {
                        out.push(v);
                        i += 4;
                        continue;
                    }
                }
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses fstab text and resolves every source against `volumes`.
pub fn parse_fstab(text: &str, volumes: &[VolumeInfo]) -> Vec<FstabEntry> {
    let mut out = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let (Some(source), Some(mount), Some(fs_type)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let options = fields.next().unwrap_or("defaults");
        let source = unescape_fstab(source);
        let fs_type = fs_type.to_string();
        let options: Vec<String> = options.split(',').map(String::from).collect();
        let kind = if options.iter().any(|o| o == "bind" || o == "rbind") {
            SourceKind::Bind(source.clone())
        } else {
            classify_source(&source, &fs_type)
        };
        let resolution = resolve(&kind, volumes);
        out.push(FstabEntry {
            line: idx + 1,
            source,
            mount_point: unescape_fstab(mount),
            fs_type,
            options,
            kind,
            resolution,
        });
        if out.len() >= MAX_FSTAB_ENTRIES {
            break;
        }
    }
    out
}

/// A `resume=` reference and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeRef {
    /// The value (`UUID=…`, `/dev/sda2`, …).
    pub value: String,
    /// Its classification.
    pub kind: SourceKind,
    /// Whether it exists in the image.
    pub resolution: Resolution,
    /// Where it was read.
    pub evidence: Evidence,
}

/// Storage facts of a Linux guest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StorageFacts {
    /// `/etc/fstab` was read.
    pub fstab_read: bool,
    /// Every fstab entry.
    pub fstab: Vec<FstabEntry>,
    /// `resume=` values from the kernel command line, `/etc/default/grub`
    /// and `/etc/initramfs-tools/conf.d/resume`.
    pub resume: Vec<ResumeRef>,
    /// Root file-system type: from the fstab `/` entry, else from the
    /// volume whose mount point is `/`.
    pub root_fs_type: Option<(String, Evidence)>,
}

impl StorageFacts {
    /// The `/` entry.
    pub fn root_entry(&self) -> Option<&FstabEntry> {
        self.fstab.iter().find(|e| e.mount_point == "/")
    }
    /// The `/usr` entry, if `/usr` is its own file system.
    pub fn usr_entry(&self) -> Option<&FstabEntry> {
        self.fstab.iter().find(|e| e.mount_point == "/usr")
    }
    /// Swap entries.
    pub fn swap_entries(&self) -> impl Iterator<Item = &FstabEntry> {
        self.fstab.iter().filter(|e| e.is_swap())
    }
    /// Entries whose missing device stops the boot (not root).
    pub fn stalling_entries(&self) -> impl Iterator<Item = &FstabEntry> {
        self.fstab.iter().filter(|e| e.would_stall_boot())
    }
}

/// Reads the storage facts. `cmdline` is the default boot entry's kernel
/// command line when the boot facts resolved it.
/// Unknown when `/etc/fstab` exists but cannot be read.
pub fn storage_facts(g: &dyn GuestFiles, cmdline: Option<&str>) -> Fact<StorageFacts> {
    let volumes = g.volumes();
    let mut facts = StorageFacts::default();
    let mut evidence = Vec::new();
    match read_config_checked(g, "/etc/fstab") {
        Ok(Some(text)) => {
            facts.fstab_read = true;
            facts.fstab = parse_fstab(&text, &volumes);
            evidence.push(Evidence::file(
                "/etc/fstab",
                format!("{} entries", facts.fstab.len()),
            ));
        }
        Ok(None) => evidence.push(Evidence::absent("/etc/fstab")),
        Err(e) => {
            return Fact::unknown(
                e.to_string(),
                vec![Evidence::file("/etc/fstab", "unreadable")],
            )
        }
    }
    if let Some(cmd) = cmdline {
        facts
            .resume
            .extend(resume_args(cmd, &volumes, "kernel command line"));
    }
    if let Some(text) = read_config(g, "/etc/default/grub") {
        for (key, value) in shell_assignments(&text) {
            if key == "GRUB_CMDLINE_LINUX" || key == "GRUB_CMDLINE_LINUX_DEFAULT" {
                facts
                    .resume
                    .extend(resume_args(&value, &volumes, "/etc/default/grub"));
            }
        }
    }
    let initramfs_resume = "/etc/initramfs-tools/conf.d/resume";
    if let Some(text) = read_config(g, initramfs_resume) {
        for (key, value) in shell_assignments(&text) {
            if key == "RESUME" && !value.is_empty() && value != "none" {
                let kind = classify_source(&value, "swap");
                facts.resume.push(ResumeRef {
                    resolution: resolve(&kind, &volumes),
                    kind,
                    evidence: Evidence::file(initramfs_resume, format!("RESUME={value}")),
                    value,
                });
            }
        }
    }
    facts.root_fs_type = facts
        .root_entry()
        .filter(|e| e.fs_type != "auto")
        .map(|e| (e.fs_type.clone(), e.evidence()))
        .or_else(|| {
            volumes.iter().find_map(|v| {
                let t = v.fs_type.clone()?;
                (v.mount_point.as_deref() == Some("/")).then(|| {
                    (
                        t.clone(),
                        Evidence::disk(&v.device, format!("file system {t} mounted at /")),
                    )
                })
            })
        });
    Fact::found(facts, evidence)
}

/// `resume=` arguments of a command line.
fn resume_args(cmdline: &str, volumes: &[VolumeInfo], source: &str) -> Vec<ResumeRef> {
    cmdline
        .split_whitespace()
        .filter_map(|arg| arg.strip_prefix("resume="))
        .filter(|v| !v.is_empty())
        .map(|v| {
            let kind = classify_source(v, "swap");
            ResumeRef {
                value: v.to_string(),
                resolution: resolve(&kind, volumes),
                kind,
                evidence: Evidence::file(source, format!("resume={v}")),
            }
        })
        .collect()
}
