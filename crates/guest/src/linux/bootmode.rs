//! IMG-BOOTMODE: what firmware can start the disk.
//!
//! BIOS: boot code in the MBR (bytes 0..440 not all zero), and on a GPT
//! disk a BIOS boot partition for GRUB's core.img (SYSLINUX's `gptmbr`
//! needs none); `/boot/grub2/i386-pc` or `/boot/grub/i386-pc` is recorded
//! as supporting evidence. UEFI: an ESP whose files are read through its
//! mount point, or through [`GuestFiles::volume_files`] when the guest does
//! not mount it; names are matched case-insensitively as FAT does. The
//! removable-media fallback (`EFI/BOOT/BOOT<arch>.EFI`) and vendor loaders
//! (`EFI/<vendor>/*.efi`) are listed separately, since only the fallback is
//! found by firmware with empty NVRAM.
use crate::evidence::{Evidence, Fact};
use crate::files::{FileKind, GuestFiles, PartitionTable};

/// Firmware that can start the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootMode {
    /// BIOS only.
    Bios,
    /// UEFI only.
    Uefi,
    /// Both BIOS and UEFI.
    Hybrid,
    /// Neither.
    None,
}

/// Boot capability with the loaders found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootCapability {
    /// The resulting mode.
    pub mode: BootMode,
    /// BIOS boot code is installed (MBR code, plus core.img place).
    pub bios: bool,
    /// An ESP with at least one EFI loader exists.
    pub uefi: bool,
    /// Removable-media fallback loaders on the ESP (`EFI/BOOT/BOOTX64.EFI`).
    pub uefi_fallback: Vec<String>,
    /// Vendor loaders on the ESP (`EFI/centos/shimx64.efi`, ...).
    pub uefi_vendor_loaders: Vec<String>,
    /// Device of the ESP read.
    pub esp_device: Option<String>,
}

/// Fallback loader names (upper case) for each architecture.
pub const FALLBACK_LOADERS: &[&str] = &[
    "BOOTX64.EFI",
    "BOOTAA64.EFI",
    "BOOTIA32.EFI",
    "BOOTARM.EFI",
    "BOOTRISCV64.EFI",
    "BOOTLOONGARCH64.EFI",
];

/// Most vendor directories and files looked at on an ESP.
const MAX_ESP_ENTRIES: usize = 256;

fn find_ci(files: &dyn GuestFiles, dir: &str, name: &str) -> Option<(String, FileKind)> {
    let entries = files.read_dir(dir).ok()??;
    entries
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(n, k)| (format!("{}/{n}", dir.trim_end_matches('/')), k))
}

/// Loaders on an ESP whose root is `root` inside `files`:
/// (fallback loaders, vendor loaders), as paths relative to the ESP.
fn esp_loaders(files: &dyn GuestFiles, root: &str) -> (Vec<String>, Vec<String>) {
    let mut fallback = Vec::new();
    let mut vendor = Vec::new();
    let Some((efi, FileKind::Dir)) = find_ci(files, root, "EFI") else {
        return (fallback, vendor);
    };
    let rel = |p: &str| {
        p.strip_prefix(root.trim_end_matches('/'))
            .unwrap_or(p)
            .to_string()
    };
    let dirs = files.read_dir(&efi).ok().flatten().unwrap_or_default();
    for (name, kind) in dirs.into_iter().take(MAX_ESP_ENTRIES) {
        if kind != FileKind::Dir {
            continue;
        }
        let dir = format!("{efi}/{name}");
        let inner = files.read_dir(&dir).ok().flatten().unwrap_or_default();
        for (file, kind) in inner.into_iter().take(MAX_ESP_ENTRIES) {
            if kind != FileKind::File {
                continue;
            }
            let upper = file.to_ascii_uppercase();
            let path = rel(&format!("{dir}/{file}"));
            if name.eq_ignore_ascii_case("BOOT") && FALLBACK_LOADERS.contains(&upper.as_str()) {
                fallback.push(path);
            } else if upper.ends_with(".EFI") {
                vendor.push(path);
            }
        }
    }
    (fallback, vendor)
}

/// Decide the boot capability.
pub fn inspect(guest: &dyn GuestFiles) -> Fact<BootCapability> {
    let mut evidence = Vec::new();
    let disk = guest.disk();
    evidence.push(Evidence::disk(
        "partition table",
        format!("{:?}", disk.partition_table),
    ));
    evidence.push(Evidence::disk(
        "MBR boot code (bytes 0..440)",
        match (&disk.mbr_boot_code, &disk.mbr_loader) {
            (true, Some(l)) => format!("present ({l})"),
            (true, None) => "present".to_string(),
            (false, _) => "all zero".to_string(),
        },
    ));
    if disk.partition_table == PartitionTable::Mbr {
        evidence.push(Evidence::disk(
            "gap after the MBR (LBA 1 to the first partition)",
            if disk.mbr_gap_used {
                "holds data (core.img)"
            } else {
                "empty"
            },
        ));
        if disk.active_partition {
            evidence.push(Evidence::disk(
                "MBR partition table",
                "a partition is marked active",
            ));
        }
    }
    if disk.partition_table == PartitionTable::Gpt {
        evidence.push(Evidence::disk(
            "GPT BIOS boot partition",
            if disk.bios_boot_partition {
                "present"
            } else {
                "absent"
            },
        ));
    }
    for dir in ["/boot/grub2/i386-pc", "/boot/grub/i386-pc"] {
        if guest.exists(dir) {
            evidence.push(Evidence::file(dir, "present (GRUB BIOS modules)"));
        }
    }
    let syslinux = disk
        .mbr_loader
        .as_deref()
        .is_some_and(|l| l.eq_ignore_ascii_case("SYSLINUX"));
    let bios = disk.mbr_boot_code
        && (disk.partition_table != PartitionTable::Gpt || disk.bios_boot_partition || syslinux);

    // The ESP: from the disk facts, else the first volume marked as one.
    let volumes = guest.volumes();
    let esp = disk
        .esp_device
        .clone()
        .and_then(|d| {
            volumes
                .iter()
                .find(|v| v.device == d)
                .cloned()
                .or(Some(crate::files::VolumeInfo {
                    device: d,
                    ..Default::default()
                }))
        })
        .or_else(|| volumes.iter().find(|v| v.is_esp).cloned());
    let mut fallback = Vec::new();
    let mut vendor = Vec::new();
    match &esp {
        None => evidence.push(Evidence::disk("EFI system partition", "absent")),
        Some(v) => {
            let read = match v.mount_point.as_deref() {
                Some(mp) if guest.exists(mp) => Some(esp_loaders(guest, mp)),
                _ => guest
                    .volume_files(&v.device)
                    .map(|f| esp_loaders(f.as_ref(), "/")),
            };
            match read {
                Some((f, ven)) => {
                    evidence.push(Evidence::disk(
                        format!("ESP {}", v.device),
                        format!(
                            "fallback loaders: {}; vendor loaders: {}",
                            if f.is_empty() {
                                "none".to_string()
                            } else {
                                f.join(", ")
                            },
                            if ven.is_empty() {
                                "none".to_string()
                            } else {
                                ven.join(", ")
                            },
                        ),
                    ));
                    fallback = f;
                    vendor = ven;
                }
                None => {
                    evidence.push(Evidence::disk(
                        format!("ESP {}", v.device),
                        "files not readable",
                    ));
                    return Fact::unknown(
                        format!("the EFI system partition {} could not be read", v.device),
                        evidence,
                    );
                }
            }
        }
    }
    let uefi = !fallback.is_empty() || !vendor.is_empty();
    let mode = match (bios, uefi) {
        (true, true) => BootMode::Hybrid,
        (true, false) => BootMode::Bios,
        (false, true) => BootMode::Uefi,
        (false, false) => BootMode::None,
    };
    Fact::found(
        BootCapability {
            mode,
            bios,
            uefi,
            uefi_fallback: fallback,
            uefi_vendor_loaders: vendor,
            esp_device: esp.map(|v| v.device),
        },
        evidence,
    )
}
