//! WIN-SYSTEMROOT, WIN-HIVE-DIRTY, WIN-CONTROLSET, WIN-BOOTMODE,
//! WIN-NTFS-STATE, WIN-PENDING.

use imsprep_guest::windows::hives::HiveState;
use imsprep_guest::{PartitionTable, WindowsFacts};

use super::{fail, info, read, unknown, warn};
use crate::finding::{Code, Finding};
use crate::image::Intent;
use crate::model::Firmware;

/// Every check that needs the hives, for the UNKNOWN findings when they
/// cannot be read.
const NEED_HIVES: &[Code] = &[
    Code::WinHiveDirty,
    Code::WinControlset,
    Code::WinOsId,
    Code::WinOsVersion,
    Code::WinArch,
    Code::WinBootmode,
    Code::WinNtfsState,
    Code::WinPending,
    Code::WinVirtioBlk,
    Code::WinVirtioNet,
    Code::WinVirtioOther,
    Code::WinClassFilters,
    Code::WinForeignTools,
    Code::WinDhcp,
    Code::WinRdp,
    Code::WinRdpFirewall,
    Code::WinSanPolicy,
    Code::WinCloudbaseInit,
    Code::WinRtc,
    Code::WinPagefile,
    Code::WinDeviceInstallPolicy,
    Code::WinDriverSigning,
    Code::WinDisplayPower,
];

/// WIN-SYSTEMROOT. False when the hives cannot be read: every other
/// check is then UNKNOWN.
pub(super) fn root(facts: &WindowsFacts, out: &mut Vec<Finding>) -> bool {
    let path = "/Windows/System32/config";
    let reason = if let Some(r) = &facts.root.unknown {
        out.push(unknown(
            Code::WinSystemroot,
            path,
            format!("the Windows directory could not be searched: {r}"),
            &facts.root.evidence,
        ));
        r.clone()
    } else if facts.root.get().is_none() {
        out.push(fail(
            Code::WinSystemroot,
            path,
            "no Windows directory (`\\Windows` or `\\WINNT` with `System32\\config`) was found",
            &facts.root.evidence,
        ));
        "no Windows directory".to_string()
    } else if let Some(r) = &facts.hives.unknown {
        out.push(fail(
            Code::WinSystemroot,
            path,
            format!("the SYSTEM and SOFTWARE hives could not be read: {r}"),
            &facts.hives.evidence,
        ));
        r.clone()
    } else {
        return true;
    };
    for code in NEED_HIVES {
        out.push(unknown(
            *code,
            path,
            format!("the registry could not be read ({reason})"),
            &[],
        ));
    }
    false
}

/// WIN-HIVE-DIRTY.
pub(super) fn hives(facts: &WindowsFacts, out: &mut Vec<Finding>) {
    let Some(list) = facts.hives.get() else {
        return;
    };
    for h in list {
        let ev: Vec<_> = facts
            .hives
            .evidence
            .iter()
            .filter(|e| e.location.starts_with(&h.path))
            .cloned()
            .collect();
        match h.state {
            HiveState::Clean => {}
            HiveState::Stale => out.push(warn(
                Code::WinHiveDirty,
                &h.path,
                format!(
                    "the {} hive was not flushed at shutdown (sequence numbers {} and {}) and no transaction log brought it up to date: the driver and service checks read it as it is on disk and may be stale",
                    h.name, h.sequence.0, h.sequence.1
                ),
                &ev,
            )),
            HiveState::Recovered { applied } => out.push(info(
                Code::WinHiveDirty,
                &h.path,
                format!(
                    "the {} hive was not flushed at shutdown; {applied} transaction log entries from {} were replayed in memory, so the checks read the current data",
                    h.name,
                    h.logs.join(", ")
                ),
                &ev,
            )),
        }
    }
}

/// WIN-CONTROLSET.
pub(super) fn control_set(facts: &WindowsFacts, out: &mut Vec<Finding>) {
    let fact = &facts.control_set;
    let path = "SYSTEM\\Select";
    let Some(cs) = read(fact, Code::WinControlset, path, "SYSTEM\\Select", out) else {
        if fact.is_known() {
            out.push(fail(
                Code::WinControlset,
                path,
                "SYSTEM\\Select\\Current is missing, so no control set can be chosen; the driver, network and access checks cannot be decided",
                &fact.evidence,
            ));
        }
        return;
    };
    if !cs.exists {
        out.push(fail(
            Code::WinControlset,
            path,
            format!("Select\\Current names {}, which does not exist", cs.name),
            &fact.evidence,
        ));
    } else if cs.default.is_some_and(|d| d != cs.current) {
        out.push(warn(
            Code::WinControlset,
            path,
            format!(
                "Select\\Default ({}) differs from Select\\Current ({}); the checks read {}",
                cs.default.unwrap_or_default(),
                cs.current,
                cs.name
            ),
            &fact.evidence,
        ));
    }
}

/// WIN-BOOTMODE.
pub(super) fn boot(facts: &WindowsFacts, intent: &Intent, out: &mut Vec<Finding>) {
    let fact = &facts.boot;
    let path = "/Boot/BCD";
    let Some(b) = read(fact, Code::WinBootmode, path, "the boot loaders", out) else {
        return;
    };
    let ev = &fact.evidence;
    match intent.effective_firmware() {
        Firmware::Bios => {
            if b.bios() {
                return;
            }
            if b.uefi() && intent.firmware.is_none() {
                out.push(warn(
                    Code::WinBootmode,
                    path,
                    "the disk boots Windows with UEFI only, and the image will be registered for BIOS by default: after import set `hw_firmware_type` to `uefi` (`PATCH /v2/cloudimages/{image_id}`)",
                    ev,
                ));
                uefi_fallback(b.uefi_fallback, ev, out);
                return;
            }
            let mut missing = Vec::new();
            if b.partition_table == PartitionTable::Gpt {
                missing
                    .push("the disk is GPT, and Windows boots from GPT only with UEFI".to_string());
            }
            if !b.mbr_boot_code {
                missing.push("no boot code in the MBR".into());
            }
            if !b.active_partition {
                missing.push("no active partition".into());
            }
            if b.bios_store.is_none() {
                missing.push(if b.bios_bcd_missing {
                    "`bootmgr` has no usable `\\Boot\\BCD` next to it".into()
                } else {
                    "no `bootmgr` on any NTFS volume".into()
                });
            }
            out.push(fail(
                Code::WinBootmode,
                path,
                format!("BIOS cannot start this Windows: {}", missing.join("; ")),
                ev,
            ));
        }
        Firmware::Uefi => {
            if !b.uefi() {
                let mut missing = Vec::new();
                if b.esp_device.is_none() {
                    missing.push("no EFI system partition");
                } else {
                    if !b.uefi_bootmgfw {
                        missing.push("no `\\EFI\\Microsoft\\Boot\\bootmgfw.efi`");
                    }
                    if !b.uefi_bcd {
                        missing.push("no usable `\\EFI\\Microsoft\\Boot\\BCD`");
                    }
                }
                out.push(fail(
                    Code::WinBootmode,
                    "/EFI/Microsoft/Boot/BCD",
                    format!("UEFI cannot start this Windows: {}", missing.join("; ")),
                    ev,
                ));
                return;
            }
            uefi_fallback(b.uefi_fallback, ev, out);
            let old = facts
                .identity
                .get()
                .and_then(|i| i.build)
                .is_some_and(|b| b < 9200);
            if old {
                out.push(warn(
                    Code::WinBootmode,
                    "/EFI/Microsoft/Boot/bootmgfw.efi",
                    "UEFI-capable Windows entries in the IMS lists start at Windows Server 2012 / Windows 10; this build is older",
                    ev,
                ));
            }
        }
    }
}

fn uefi_fallback(present: bool, ev: &[imsprep_guest::Evidence], out: &mut Vec<Finding>) {
    if !present {
        out.push(fail(
            Code::WinBootmode,
            "/EFI/BOOT/BOOTX64.EFI",
            "the ESP has no removable-media fallback loader `\\EFI\\BOOT\\BOOTX64.EFI`; with empty NVRAM on first boot the firmware finds nothing to start",
            ev,
        ));
    }
}

/// WIN-NTFS-STATE.
pub(super) fn ntfs(facts: &WindowsFacts, out: &mut Vec<Finding>) {
    let fact = &facts.ntfs;
    let path = "/hiberfil.sys";
    let Some(n) = read(fact, Code::WinNtfsState, path, "the volume state", out) else {
        return;
    };
    let ev = &fact.evidence;
    if n.hibernated || n.fs_hibernated {
        let sig = n
            .hiberfil_signature
            .as_deref()
            .map(|s| format!(" (signature \"{s}\")"))
            .unwrap_or_default();
        out.push(fail(
            Code::WinNtfsState,
            path,
            format!("the Windows volume holds a hibernation image{sig}: Windows was hibernated or shut down with Fast Startup and would resume into the old hardware; what imsprep read may be stale"),
            ev,
        ));
    }
    if n.dirty == Some(true) {
        out.push(warn(
            Code::WinNtfsState,
            "/",
            "the NTFS volume is marked dirty (not cleanly unmounted): Windows runs chkdsk at first boot and what imsprep read may be stale",
            ev,
        ));
    }
    let client = facts.identity.get().is_some_and(|i| !i.is_server());
    if n.hiberboot_enabled == Some(1) && client && !n.hibernated {
        out.push(warn(
            Code::WinNtfsState,
            &format!("SYSTEM\\{}\\Control\\Session Manager\\Power", control_set_name(facts)),
            "Fast Startup is on (HiberbootEnabled = 1): the next \"shut down\" of the source VM leaves a hibernation image; turn it off before the final shutdown",
            ev,
        ));
    }
}

/// WIN-PENDING.
pub(super) fn pending(facts: &WindowsFacts, out: &mut Vec<Finding>) {
    let fact = &facts.pending;
    let path = "SYSTEM\\Setup";
    let Some(p) = read(fact, Code::WinPending, path, "the pending state", out) else {
        return;
    };
    let ev = &fact.evidence;
    if p.reboot_pending() {
        let mut what = Vec::new();
        if p.cbs_reboot_pending {
            what.push("Component Based Servicing\\RebootPending".to_string());
        }
        if p.wu_reboot_required {
            what.push("WindowsUpdate\\Auto Update\\RebootRequired".to_string());
        }
        if p.pending_renames > 0 {
            what.push(format!(
                "{} PendingFileRenameOperations entries",
                p.pending_renames
            ));
        }
        out.push(warn(
            Code::WinPending,
            path,
            format!(
                "a reboot is pending ({}): the first boot on the cloud runs servicing, with extra reboots",
                what.join(", ")
            ),
            ev,
        ));
    }
    if p.sealed() && p.unattend_files.is_empty() {
        out.push(warn(
            Code::WinPending,
            path,
            format!(
                "the image is sealed by Sysprep (OOBE runs at first boot{}) and no unattend file answers it: the instance stops at OOBE, reachable only through the VNC console",
                p.image_state
                    .as_deref()
                    .map(|s| format!(", ImageState {s}"))
                    .unwrap_or_default()
            ),
            ev,
        ));
    }
}

/// `ControlSet00N` as read, for finding paths.
pub(super) fn control_set_name(facts: &WindowsFacts) -> String {
    facts
        .control_set
        .get()
        .map_or_else(|| "ControlSet001".to_string(), |c| c.name.clone())
}
