//! LX-FSTAB-SPEC, LX-FSTAB-REFS, LX-SWAP-RESUME, LX-USR-SEPARATE,
//! LX-ROOTFS-TYPE, LX-LVM; and IMG-FS-CLEAN / IMG-FREE-SPACE for one
//! mounted volume ([`check_fs_state`]).

use imsprep_guest::linux::storage::lvm::{LvmConfig, DEVICES_FILE};
use imsprep_guest::linux::storage::superblock::{CleanState, FsUsage};
use imsprep_guest::linux::storage::{FstabEntry, Resolution, SourceKind};
use imsprep_guest::{Evidence, LinuxFacts};

use super::{fail, unknown, warn, NOT_VERIFIED};
use crate::finding::{Code, Finding};

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

pub(crate) fn check(facts: &LinuxFacts, out: &mut Vec<Finding>) {
    let fact = &facts.storage;
    let Some(s) = fact.get() else {
        let reason = fact
            .unknown
            .clone()
            .unwrap_or_else(|| "no storage facts were read".to_owned());
        out.push(unknown(
            Code::LxFstabRefs,
            "/etc/fstab",
            format!("/etc/fstab could not be read: {reason}"),
            &fact.evidence,
        ));
        return;
    };
    for e in s.fstab.iter().chain(&s.mount_units) {
        entry(e, out);
    }
    swap_resume(s, out);
    if let Some(usr) = s.usr_entry() {
        out.push(warn(
            Code::LxUsrSeparate,
            "/etc/fstab",
            "/usr is a separate file system: IMS's own driver injection skips such images, and the initramfs must mount /usr",
            &[usr.evidence()],
        ));
    }
    rootfs_type(s.root_fs_type.as_ref(), out);
    lvm(&s.lvm, out);
}

fn is_device_name(kind: &SourceKind) -> bool {
    matches!(kind, SourceKind::ForeignName(_) | SourceKind::ByIdOrPath(_))
}

/// One fstab line or mount unit.
fn entry(e: &FstabEntry, out: &mut Vec<Finding>) {
    if e.is_swap() || matches!(e.kind, SourceKind::Pseudo(_) | SourceKind::Bind(_)) {
        return;
    }
    let ev = [e.evidence()];
    let path = e.file.as_str();
    let mp = &e.mount_point;
    let optional = e.nofail() || e.noauto();
    if mp == "/" {
        if is_device_name(&e.kind) || e.resolution == Resolution::Missing {
            out.push(warn(
                Code::LxFstabSpec,
                path,
                format!("the / entry names {}, which will not exist on ECS; systemd takes the root from root= and only remounts / with these options, so this does not stop a systemd boot (it does with another init)", e.source),
                &ev,
            ).with_fix("Replace the device name with `UUID=` of the root file system."));
        }
        return;
    }
    match &e.kind {
        SourceKind::ForeignName(_) | SourceKind::ByIdOrPath(_) => {
            let text = format!(
                "{mp} is mounted from {}, a name of the old hardware that will not exist on ECS",
                e.source
            );
            if optional {
                out.push(warn(
                    Code::LxFstabSpec,
                    path,
                    format!("{text} (nofail/noauto: the boot goes on)"),
                    &ev,
                ));
            } else {
                out.push(fail(
                    Code::LxFstabSpec,
                    path,
                    format!("{text}; the boot waits for it and drops to emergency mode"),
                    &ev,
                ));
            }
            return;
        }
        SourceKind::VirtioName(_) => {
            out.push(warn(
                Code::LxFstabSpec,
                path,
                format!("{mp} is mounted from {}, which works only while the disk stays virtio-blk; IMS asks for UUID", e.source),
                &ev,
            ));
            return;
        }
        SourceKind::Network(_) if !(e.netdev() || e.nofail()) => {
            out.push(
                warn(
                    Code::LxFstabSpec,
                    path,
                    format!(
                        "network file system {} on {mp} has neither _netdev nor nofail",
                        e.source
                    ),
                    &ev,
                )
                .with_fix("Add `_netdev,nofail` to its options."),
            );
            return;
        }
        SourceKind::Removable(_) if !e.noauto() => {
            out.push(
                warn(
                    Code::LxFstabSpec,
                    path,
                    format!(
                        "removable device {} on {mp} is mounted at boot (no noauto)",
                        e.source
                    ),
                    &ev,
                )
                .with_fix("Add `noauto` (or remove the line)."),
            );
            return;
        }
        _ => {}
    }
    if e.resolution == Resolution::Missing {
        let text = format!(
            "{mp} is mounted from {}, which is in no file system or volume of the image",
            e.source
        );
        if optional {
            out.push(warn(
                Code::LxFstabRefs,
                path,
                format!("{text} (nofail/noauto: the boot waits up to the device timeout)"),
                &ev,
            ));
        } else {
            out.push(fail(
                Code::LxFstabRefs,
                path,
                format!("{text}; the boot waits for it and drops to emergency mode"),
                &ev,
            ));
        }
    }
}

fn swap_resume(s: &imsprep_guest::linux::storage::StorageFacts, out: &mut Vec<Finding>) {
    for e in s.swap_entries() {
        let bad = is_device_name(&e.kind)
            || matches!(e.kind, SourceKind::VirtioName(_))
            || e.resolution == Resolution::Missing;
        if bad {
            out.push(warn(
                Code::LxSwapResume,
                &e.file,
                format!("swap {} is a device name or an identifier not in the image: the swap unit fails after a wait", e.source),
                &[e.evidence()],
            ));
        }
    }
    for r in &s.resume {
        let bad = is_device_name(&r.kind)
            || matches!(r.kind, SourceKind::VirtioName(_))
            || r.resolution == Resolution::Missing;
        if bad {
            out.push(warn(
                Code::LxSwapResume,
                &r.evidence.location,
                format!("resume={} is a device name or an identifier not in the image: the initramfs waits for it", r.value),
                std::slice::from_ref(&r.evidence),
            ));
        }
    }
}

fn rootfs_type(root: Option<&(String, Evidence)>, out: &mut Vec<Finding>) {
    let Some((t, ev)) = root else {
        out.push(unknown(
            Code::LxRootfsType,
            "/etc/fstab",
            "the root file-system type could not be told (no / entry, no volume mounted at /)",
            &[],
        ));
        return;
    };
    let ev = std::slice::from_ref(ev);
    match t.as_str() {
        "ext2" | "ext3" | "ext4" | "xfs" | "btrfs" => {}
        "jfs" | "reiserfs" => out.push(warn(
            Code::LxRootfsType,
            "/",
            format!("the root file system is {t}, which imsprep cannot verify"),
            ev,
        )),
        _ => out.push(unknown(
            Code::LxRootfsType,
            "/",
            format!("the root file system is {t}: whether it boots (its driver must be in the initramfs) was not decided"),
            ev,
        )),
    }
}

fn lvm(l: &LvmConfig, out: &mut Vec<Finding>) {
    let disabled = l
        .use_devicesfile
        .as_ref()
        .is_some_and(|(v, _)| v.trim() == "0");
    if let (Some(devices), false) = (&l.devices_file, disabled) {
        let on_virtio = devices
            .iter()
            .any(|d| d.id_type == "devname" && d.id_name.starts_with("/dev/vd"));
        if !devices.is_empty() && !on_virtio {
            let listed: Vec<Evidence> = devices
                .iter()
                .map(|d| {
                    Evidence::file(
                        DEVICES_FILE,
                        format!(
                            "IDTYPE={} IDNAME={} DEVNAME={} PVID={}",
                            d.id_type, d.id_name, d.dev_name, d.pvid
                        ),
                    )
                })
                .collect();
            out.push(fail(
                Code::LxLvm,
                DEVICES_FILE,
                format!("the LVM devices file lists only devices of the source machine; LVM ignores physical volumes not in it, so the root volume group is not activated on ECS{NOT_VERIFIED}"),
                &listed,
            ).with_fix("`lvmdevices --deldev`/`--adddev` for the ECS disk, or `use_devicesfile = 0` in /etc/lvm/lvm.conf; then rebuild the initramfs."));
        }
    }
    for f in &l.filters {
        let v = f.value.as_str();
        if v.contains("/dev/sd") && !v.contains("vd") && v.contains("r|") {
            out.push(warn(
                Code::LxLvm,
                &f.location,
                "an lvm.conf filter accepts only /dev/sd* and rejects the rest, so /dev/vd* is not scanned",
                std::slice::from_ref(f),
            ).with_fix("Make the filter accept /dev/vd* (or remove it), then rebuild the initramfs."));
        }
    }
}

/// IMG-FS-CLEAN and IMG-FREE-SPACE for the file system mounted at
/// `mount_point` (`/`, `/boot`) from `device`, as its superblock says.
pub fn check_fs_state(mount_point: &str, device: &str, usage: &FsUsage) -> Vec<Finding> {
    let mut out = Vec::new();
    let ev = [Evidence::disk(
        format!("{device} {} superblock", usage.fs_type),
        usage.fields.join(" "),
    )];
    match &usage.clean {
        CleanState::Clean => {}
        CleanState::NotClean(flags) => out.push(warn(
            Code::ImgFsClean,
            device,
            format!("{mount_point} ({device}, {}) was not shut down cleanly: {}; what imsprep read may be stale", usage.fs_type, flags.join(", ")),
            &ev,
        )),
        CleanState::Unknown(why) => out.push(unknown(
            Code::ImgFsClean,
            device,
            format!("whether {mount_point} ({device}, {}) was shut down cleanly is not known: {why}", usage.fs_type),
            &ev,
        )),
    }
    let free = usage.free;
    let size = usage.size.max(1);
    let low = match mount_point {
        "/" => free < GIB || free.saturating_mul(100) / size < 5,
        "/boot" => free < 100 * MIB,
        _ => false,
    };
    if low {
        out.push(warn(
            Code::ImgFreeSpace,
            device,
            format!(
                "{mount_point} ({device}) has {} MiB free of {} MiB ({} %)",
                free / MIB,
                usage.size / MIB,
                free.saturating_mul(100) / size
            ),
            &ev,
        ));
    }
    out
}
