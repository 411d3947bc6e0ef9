//! WIN-BOOTMODE, WIN-NTFS-STATE and WIN-PENDING.
//!
//! Boot: BIOS needs boot code in the MBR, an active partition, and
//! `\bootmgr` with `\Boot\BCD` on an NTFS volume (the system volume or a
//! "System Reserved" partition, each read through
//! [`GuestFiles::volume_files`]); UEFI needs the ESP with
//! `\EFI\Microsoft\Boot\bootmgfw.efi` and `\EFI\Microsoft\Boot\BCD`, and
//! the removable-media fallback `\EFI\BOOT\BOOTX64.EFI` for firmware with
//! empty NVRAM. Each BCD store is opened as a hive (it is one) and must
//! have an `Objects` key.
//!
//! Volume state: `hiberfil.sys`'s first 4 KiB (ntfs-3g's rule: `hibr`,
//! `wake` or any non-zero byte means a hibernation image), the file
//! system's own state when the guest view reports it, and
//! `HiberbootEnabled` (Fast Startup) / `HibernateEnabled`.
//!
//! Pending work: the three reboot markers virt-v2v checks, `SYSTEM\Setup`
//! and Sysprep state, `ImageState`, and the unattend files that would
//! answer OOBE.

use imsprep_regf::Hive;

use super::paths::find_file_ci;
use super::registry::Reg;
use crate::evidence::{Evidence, Fact};
use crate::files::{GuestFiles, PartitionTable, VolumeState};

/// Largest BCD store read (they are tens of KiB).
const MAX_BCD: u64 = 64 << 20;

/// What can start this Windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsBoot {
    /// Partition table of the disk.
    pub partition_table: PartitionTable,
    /// The MBR has boot code.
    pub mbr_boot_code: bool,
    /// Loader named by the MBR code, if recognised.
    pub mbr_loader: Option<String>,
    /// An MBR partition is active.
    pub active_partition: bool,
    /// Where `\bootmgr` and `\Boot\BCD` were found (`/dev/vda1` or `/` for
    /// the system volume), if anywhere.
    pub bios_store: Option<String>,
    /// `\bootmgr` was found without a usable `\Boot\BCD` next to it.
    pub bios_bcd_missing: bool,
    /// Device of the ESP.
    pub esp_device: Option<String>,
    /// `\EFI\Microsoft\Boot\bootmgfw.efi` on the ESP.
    pub uefi_bootmgfw: bool,
    /// `\EFI\Microsoft\Boot\BCD` on the ESP opened as a hive.
    pub uefi_bcd: bool,
    /// `\EFI\BOOT\BOOTX64.EFI` (or `BOOTAA64.EFI`) on the ESP.
    pub uefi_fallback: bool,
}

impl WindowsBoot {
    /// BIOS can start it: MBR disk with boot code, an active partition,
    /// and a BCD store next to `bootmgr`.
    pub fn bios(&self) -> bool {
        self.partition_table == PartitionTable::Mbr
            && self.mbr_boot_code
            && self.active_partition
            && self.bios_store.is_some()
    }

    /// UEFI can start it: Windows Boot Manager and its BCD on the ESP.
    pub fn uefi(&self) -> bool {
        self.esp_device.is_some() && self.uefi_bootmgfw && self.uefi_bcd
    }
}

/// Whether a BCD store at `path` exists and opens as a hive with `Objects`.
fn bcd_ok(files: &dyn GuestFiles, path: &str, label: &str, ev: &mut Vec<Evidence>) -> Option<bool> {
    let found = find_file_ci(files, path).ok().flatten()?;
    let ok = match files.read_file(&found, MAX_BCD) {
        Ok(Some(b)) => match Hive::open(b) {
            Ok(h) => match h.key("Objects") {
                Ok(Some(_)) => Ok(()),
                Ok(None) => Err("a hive without an Objects key".to_string()),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e.to_string()),
        },
        Ok(None) => Err("absent".into()),
        Err(e) => Err(e.to_string()),
    };
    match ok {
        Ok(()) => {
            ev.push(Evidence::file(
                format!("{label}{found}"),
                "BCD store (hive with Objects)",
            ));
            Some(true)
        }
        Err(e) => {
            ev.push(Evidence::file(
                format!("{label}{found}"),
                format!("not a usable BCD store: {e}"),
            ));
            Some(false)
        }
    }
}

fn file_present(files: &dyn GuestFiles, path: &str, label: &str, ev: &mut Vec<Evidence>) -> bool {
    match find_file_ci(files, path) {
        Ok(Some(p)) => {
            ev.push(Evidence::file(format!("{label}{p}"), "present"));
            true
        }
        _ => {
            ev.push(Evidence::file(format!("{label}{path}"), "absent"));
            false
        }
    }
}

/// Reads the boot facts.
pub fn boot(guest: &dyn GuestFiles) -> Fact<WindowsBoot> {
    let disk = guest.disk();
    let mut ev = vec![
        Evidence::disk("partition table", format!("{:?}", disk.partition_table)),
        Evidence::disk(
            "MBR boot code",
            match (&disk.mbr_boot_code, &disk.mbr_loader) {
                (true, Some(l)) => format!("present ({l})"),
                (true, None) => "present".into(),
                (false, _) => "none".into(),
            },
        ),
        Evidence::disk(
            "active partition",
            if disk.active_partition { "yes" } else { "none" },
        ),
    ];
    let mut boot = WindowsBoot {
        partition_table: disk.partition_table,
        mbr_boot_code: disk.mbr_boot_code,
        mbr_loader: disk.mbr_loader.clone(),
        active_partition: disk.active_partition,
        bios_store: None,
        bios_bcd_missing: false,
        esp_device: disk.esp_device.clone(),
        uefi_bootmgfw: false,
        uefi_bcd: false,
        uefi_fallback: false,
    };
    // The system volume first, then every other NTFS volume.
    let volumes = guest.volumes();
    let root_device = volumes
        .iter()
        .find(|v| v.mount_point.as_deref() == Some("/"))
        .map(|v| v.device.clone());
    let mut places: Vec<(String, Option<Box<dyn GuestFiles + '_>>)> = vec![("/".into(), None)];
    for v in &volumes {
        let ntfs = v
            .fs_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("ntfs"));
        if ntfs && Some(&v.device) != root_device.as_ref() {
            if let Some(f) = guest.volume_files(&v.device) {
                places.push((v.device.clone(), Some(f)));
            }
        }
    }
    for (name, files) in &places {
        let files: &dyn GuestFiles = files.as_deref().unwrap_or(guest);
        let label = if name == "/" {
            String::new()
        } else {
            format!("{name}:")
        };
        if find_file_ci(files, "/bootmgr").ok().flatten().is_none() {
            continue;
        }
        ev.push(Evidence::file(format!("{label}/bootmgr"), "present"));
        match bcd_ok(files, "/Boot/BCD", &label, &mut ev) {
            Some(true) => {
                boot.bios_store = Some(name.clone());
                boot.bios_bcd_missing = false;
                break;
            }
            Some(false) => boot.bios_bcd_missing = true,
            None => {
                ev.push(Evidence::file(format!("{label}/Boot/BCD"), "absent"));
                boot.bios_bcd_missing = true;
            }
        }
    }
    if boot.bios_store.is_none() && !boot.bios_bcd_missing {
        ev.push(Evidence::file(
            "/bootmgr",
            "absent on every NTFS volume read",
        ));
    }
    if let Some(esp) = &disk.esp_device {
        match guest.volume_files(esp) {
            Some(files) => {
                let label = format!("{esp}:");
                boot.uefi_bootmgfw = file_present(
                    files.as_ref(),
                    "/EFI/Microsoft/Boot/bootmgfw.efi",
                    &label,
                    &mut ev,
                );
                boot.uefi_bcd =
                    match bcd_ok(files.as_ref(), "/EFI/Microsoft/Boot/BCD", &label, &mut ev) {
                        Some(ok) => ok,
                        None => {
                            ev.push(Evidence::file(
                                format!("{label}/EFI/Microsoft/Boot/BCD"),
                                "absent",
                            ));
                            false
                        }
                    };
                boot.uefi_fallback = ["BOOTX64.EFI", "BOOTAA64.EFI"].iter().any(|n| {
                    find_file_ci(files.as_ref(), &format!("/EFI/BOOT/{n}"))
                        .ok()
                        .flatten()
                        .is_some()
                });
                ev.push(Evidence::file(
                    format!("{label}/EFI/BOOT/BOOTX64.EFI"),
                    if boot.uefi_fallback {
                        "present"
                    } else {
                        "absent"
                    },
                ));
            }
            None => ev.push(Evidence::disk(
                esp.clone(),
                "EFI system partition not readable",
            )),
        }
    }
    Fact::found(boot, ev)
}

/// How the system volume was left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NtfsState {
    /// `hiberfil.sys` holds a hibernation image (first 4 KiB not zero).
    pub hibernated: bool,
    /// Signature of the hibernation image (`hibr`, `wake`, ...), if any.
    pub hiberfil_signature: Option<String>,
    /// The file system's dirty flag, when the guest view reports it.
    pub dirty: Option<bool>,
    /// The file system reader also says hibernated.
    pub fs_hibernated: bool,
    /// `Session Manager\Power\HiberbootEnabled` (Fast Startup).
    pub hiberboot_enabled: Option<u32>,
    /// `Control\Power\HibernateEnabled`.
    pub hibernate_enabled: Option<u32>,
}

/// Reads the volume and power state.
pub fn ntfs_state(guest: &dyn GuestFiles, system: Reg<'_>, cs: Option<&str>) -> Fact<NtfsState> {
    let mut ev = Vec::new();
    let mut st = NtfsState::default();
    match find_file_ci(guest, "/hiberfil.sys") {
        Ok(Some(p)) => match guest.read_prefix(&p, 4096) {
            Ok(Some(head)) => {
                if head.iter().any(|b| *b != 0) {
                    st.hibernated = true;
                    let sig: String = head
                        .iter()
                        .take(4)
                        .map(|b| {
                            if b.is_ascii_graphic() {
                                char::from(*b)
                            } else {
                                '.'
                            }
                        })
                        .collect();
                    ev.push(Evidence::file(
                        &p,
                        format!("first 4 KiB not zero (signature \"{sig}\")"),
                    ));
                    st.hiberfil_signature = Some(sig);
                } else {
                    ev.push(Evidence::file(
                        &p,
                        "first 4 KiB all zero (no hibernation image)",
                    ));
                }
            }
            Ok(None) => ev.push(Evidence::absent(&p)),
            Err(e) => {
                return Fact::unknown(
                    e.to_string(),
                    vec![Evidence::file(&p, format!("unreadable: {e}"))],
                )
            }
        },
        Ok(None) => ev.push(Evidence::absent("/hiberfil.sys")),
        Err(e) => ev.push(Evidence::file("/hiberfil.sys", format!("unreadable: {e}"))),
    }
    let root = guest
        .volumes()
        .into_iter()
        .find(|v| v.mount_point.as_deref() == Some("/"));
    if let Some(v) = root {
        if let Some(states) = guest.volume_state(&v.device) {
            st.dirty = Some(states.contains(&VolumeState::Dirty));
            st.fs_hibernated = states.contains(&VolumeState::Hibernated);
            let text: Vec<String> = states
                .iter()
                .map(|s| format!("{s:?}").to_lowercase())
                .collect();
            ev.push(Evidence::disk(
                format!("{} file system state", v.device),
                if text.is_empty() {
                    "clean".into()
                } else {
                    text.join(", ")
                },
            ));
        }
    }
    if let Some(cs) = cs {
        st.hiberboot_enabled = system.dword(
            &format!("{cs}\\Control\\Session Manager\\Power"),
            "HiberbootEnabled",
            &mut ev,
        );
        st.hibernate_enabled = system.dword(
            &format!("{cs}\\Control\\Power"),
            "HibernateEnabled",
            &mut ev,
        );
    }
    Fact::found(st, ev)
}

/// Pending reboot and setup state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingState {
    /// `Component Based Servicing\RebootPending` exists.
    pub cbs_reboot_pending: bool,
    /// `WindowsUpdate\Auto Update\RebootRequired` exists.
    pub wu_reboot_required: bool,
    /// `PendingFileRenameOperations` entries (non-empty ones).
    pub pending_renames: usize,
    /// `SYSTEM\Setup\SystemSetupInProgress`.
    pub setup_in_progress: Option<u32>,
    /// `SYSTEM\Setup\OOBEInProgress`.
    pub oobe_in_progress: Option<u32>,
    /// `SYSTEM\Setup\SetupType`.
    pub setup_type: Option<u32>,
    /// `SYSTEM\Setup\CmdLine`.
    pub cmd_line: Option<String>,
    /// `SYSTEM\Setup\Status\SysprepStatus\GeneralizationState`.
    pub generalization_state: Option<u32>,
    /// `SOFTWARE\…\Setup\State\ImageState`.
    pub image_state: Option<String>,
    /// Unattend files found (guest paths).
    pub unattend_files: Vec<String>,
}

impl PendingState {
    /// A reboot is pending (updates or file renames).
    pub fn reboot_pending(&self) -> bool {
        self.cbs_reboot_pending || self.wu_reboot_required || self.pending_renames > 0
    }

    /// The image is sealed by Sysprep: OOBE runs at next boot.
    pub fn sealed(&self) -> bool {
        self.setup_in_progress.is_some_and(|v| v != 0)
            || self.oobe_in_progress.is_some_and(|v| v != 0)
            || self.image_state.as_deref().is_some_and(|s| {
                let s = s.to_ascii_uppercase();
                s.contains("GENERALIZE_RESEAL")
                    || s.contains("SPECIALIZE_RESEAL")
                    || s == "IMAGE_STATE_UNDEPLOYABLE"
            })
    }
}

/// Unattend files looked for (below the Windows directory, then the
/// Cloudbase-Init one).
pub const UNATTEND_FILES: &[&str] = &[
    "Panther/unattend.xml",
    "Panther/Unattend/unattend.xml",
    "System32/Sysprep/unattend.xml",
    "System32/Sysprep/Panther/unattend.xml",
];

/// Cloudbase-Init's unattend file.
pub const CLOUDBASE_UNATTEND: &str =
    "/Program Files/Cloudbase Solutions/Cloudbase-Init/conf/Unattend.xml";

/// Reads the pending state.
pub fn pending(
    guest: &dyn GuestFiles,
    system: Reg<'_>,
    software: Reg<'_>,
    cs: Option<&str>,
    root: &str,
) -> Fact<PendingState> {
    let mut ev = Vec::new();
    let mut p = PendingState {
        cbs_reboot_pending: software.exists(
            "Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending",
            &mut ev,
        ),
        wu_reboot_required: software.exists(
            "Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired",
            &mut ev,
        ),
        ..PendingState::default()
    };
    if let Some(cs) = cs {
        p.pending_renames = system
            .multi_all(
                &format!("{cs}\\Control\\Session Manager"),
                "PendingFileRenameOperations",
                &mut ev,
            )
            .map(|v| v.iter().filter(|s| !s.is_empty()).count())
            .unwrap_or(0);
    }
    p.setup_in_progress = system.dword("Setup", "SystemSetupInProgress", &mut ev);
    p.oobe_in_progress = system.dword("Setup", "OOBEInProgress", &mut ev);
    p.setup_type = system.dword("Setup", "SetupType", &mut ev);
    p.cmd_line = system.string("Setup", "CmdLine", &mut ev);
    p.generalization_state = system.dword(
        "Setup\\Status\\SysprepStatus",
        "GeneralizationState",
        &mut ev,
    );
    p.image_state = software.string(
        "Microsoft\\Windows\\CurrentVersion\\Setup\\State",
        "ImageState",
        &mut ev,
    );
    let candidates = UNATTEND_FILES
        .iter()
        .map(|f| format!("{root}/{f}"))
        .chain(std::iter::once(CLOUDBASE_UNATTEND.to_string()));
    for c in candidates {
        if let Ok(Some(f)) = find_file_ci(guest, &c) {
            ev.push(Evidence::file(&f, "present"));
            p.unattend_files.push(f);
        }
    }
    if p.unattend_files.is_empty() {
        ev.push(Evidence::file(
            format!("{root}/Panther/unattend.xml"),
            "absent (and the other unattend places)",
        ));
    }
    Fact::found(p, ev)
}
