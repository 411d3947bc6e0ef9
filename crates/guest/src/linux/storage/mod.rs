//! `/etc/fstab`, swap and resume references, and whether each identifier
//! exists among the image's volumes.
//!
//! Read: `/etc/fstab` (comments and blank lines skipped, octal escapes
//! such as `\040` decoded, at most [`MAX_FSTAB_ENTRIES`] entries),
//! `/etc/default/grub` (`GRUB_CMDLINE_LINUX[_DEFAULT]`),
//! `/etc/initramfs-tools/conf.d/resume` (`RESUME=`), and the default
//! kernel command line when the boot facts know it. Every source is
//! classified ([`SourceKind`]) and looked up among the guest's volumes
//! (file-system UUID, label, PARTUUID, PARTLABEL, LVM VG/LV). Enabled
//! systemd `.mount`/`.swap` units are read like fstab lines ([`units`]);
//! `/etc/crypttab` names are kept so a `/dev/mapper/<name>` it opens is
//! not mistaken for an LVM volume; the LVM scan configuration is in
//! [`lvm`]; free space and clean state of a volume are read from its
//! superblock by [`superblock`]. Nothing is judged here: the facts say
//! what each entry names and whether it was found; `imsprep-ims` decides.

pub mod fstab;
pub mod lvm;
pub mod source;
pub mod superblock;
pub mod units;

pub use fstab::{parse_fstab, unescape_fstab, FstabEntry, MAX_FSTAB_ENTRIES};
pub use source::{classify_source, resolve, split_mapper_name, Resolution, SourceKind};

use super::services::{read_config, read_config_checked};
use crate::text::shell_assignments;
use crate::{Evidence, Fact, GuestFiles, VolumeInfo};

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
    /// Enabled systemd `.mount`/`.swap` units in `/etc/systemd/system`.
    pub mount_units: Vec<FstabEntry>,
    /// Mapping names opened by `/etc/crypttab`.
    pub crypttab_names: Vec<String>,
    /// LVM scan configuration.
    pub lvm: lvm::LvmConfig,
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
    /// Entries (fstab and mount units) whose missing device stops the
    /// boot.
    pub fn stalling_entries(&self) -> impl Iterator<Item = &FstabEntry> {
        self.fstab
            .iter()
            .chain(&self.mount_units)
            .filter(|e| e.would_stall_boot())
    }
    /// The device mounted at `mount_point` (`/`, `/boot`): the resolved
    /// fstab source, else the volume whose mount point it is. The free
    /// space and clean-state checks read these devices' superblocks.
    pub fn device_for(&self, mount_point: &str, volumes: &[VolumeInfo]) -> Option<String> {
        self.fstab
            .iter()
            .find(|e| e.mount_point == mount_point)
            .and_then(|e| match &e.resolution {
                Resolution::Found(d) => Some(d.clone()),
                _ => None,
            })
            .or_else(|| {
                volumes
                    .iter()
                    .find(|v| v.mount_point.as_deref() == Some(mount_point))
                    .map(|v| v.device.clone())
            })
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
    if let Some(text) = read_config(g, "/etc/crypttab") {
        facts.crypttab_names = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_whitespace().next().map(String::from))
            .collect();
    }
    facts.mount_units = units::mount_units(g, &volumes);
    for e in facts.fstab.iter_mut().chain(facts.mount_units.iter_mut()) {
        let opened = e
            .source
            .strip_prefix("/dev/mapper/")
            .is_some_and(|n| facts.crypttab_names.iter().any(|c| c == n));
        if opened {
            e.kind = SourceKind::Mapper(e.source.clone());
            e.resolution = Resolution::NotApplicable;
        }
    }
    facts.lvm = lvm::lvm_config(g);
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
