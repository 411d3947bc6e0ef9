//! IMG-BOOTMODE: BIOS, UEFI, hybrid and none, from disk facts and ESP files.

mod common;

use common::write;
use imsprep_guest::linux::bootmode::{inspect, BootMode};
use imsprep_guest::{DirGuest, DiskFacts, PartitionTable, VolumeInfo};

fn esp(mount: Option<&str>) -> VolumeInfo {
    VolumeInfo {
        device: "/dev/vda1".into(),
        fs_type: Some("vfat".into()),
        uuid: Some("1A2B-3C4D".into()),
        mount_point: mount.map(str::to_string),
        is_esp: true,
        ..VolumeInfo::default()
    }
}

fn gpt(bios_boot: bool) -> DiskFacts {
    DiskFacts {
        partition_table: PartitionTable::Gpt,
        mbr_boot_code: true,
        mbr_loader: Some("GRUB".into()),
        bios_boot_partition: bios_boot,
        esp_device: Some("/dev/vda1".into()),
        ..DiskFacts::default()
    }
}

#[test]
fn ubuntu_cloud_image_is_hybrid() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "/boot/efi/EFI/BOOT/BOOTX64.EFI", "MZ");
    write(dir.path(), "/boot/efi/EFI/BOOT/grubx64.efi", "MZ");
    write(dir.path(), "/boot/efi/EFI/ubuntu/shimx64.efi", "MZ");
    write(dir.path(), "/boot/efi/EFI/ubuntu/grub.cfg", "configfile\n");
    write(dir.path(), "/boot/grub/i386-pc/core.img", "x");
    let guest = DirGuest::new(dir.path())
        .with_volumes(vec![esp(Some("/boot/efi"))])
        .with_disk(gpt(true));
    let fact = inspect(&guest);
    let cap = fact.value.unwrap();
    assert_eq!(cap.mode, BootMode::Hybrid);
    assert_eq!(cap.uefi_fallback, vec!["/EFI/BOOT/BOOTX64.EFI"]);
    assert!(cap
        .uefi_vendor_loaders
        .contains(&"/EFI/ubuntu/shimx64.efi".to_string()));
    assert!(cap
        .uefi_vendor_loaders
        .contains(&"/EFI/BOOT/grubx64.efi".to_string()));
    assert!(fact
        .evidence
        .iter()
        .any(|e| e.location == "/boot/grub/i386-pc"));
}

#[test]
fn debian_uefi_without_fallback_and_without_bios_boot_partition() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "/boot/efi/efi/debian/shimx64.efi", "MZ");
    write(dir.path(), "/boot/efi/efi/debian/grubx64.efi", "MZ");
    let guest = DirGuest::new(dir.path())
        .with_volumes(vec![esp(Some("/boot/efi"))])
        .with_disk(gpt(false));
    let cap = inspect(&guest).value.unwrap();
    assert_eq!(cap.mode, BootMode::Uefi);
    assert!(cap.uefi_fallback.is_empty());
    assert_eq!(cap.uefi_vendor_loaders.len(), 2);
}

#[test]
fn unmounted_esp_is_read_through_volume_files_case_insensitively() {
    let dir = tempfile::tempdir().unwrap();
    let espdir = tempfile::tempdir().unwrap();
    write(espdir.path(), "/efi/boot/bootaa64.efi", "MZ");
    let guest = DirGuest::new(dir.path())
        .with_volumes(vec![esp(None)])
        .with_disk(DiskFacts {
            partition_table: PartitionTable::Gpt,
            esp_device: Some("/dev/vda1".into()),
            ..DiskFacts::default()
        })
        .with_volume_root("/dev/vda1", espdir.path());
    let cap = inspect(&guest).value.unwrap();
    assert_eq!(cap.mode, BootMode::Uefi);
    assert_eq!(cap.uefi_fallback, vec!["/efi/boot/bootaa64.efi"]);
}

#[test]
fn mbr_bios_only_and_none_and_unreadable_esp() {
    let dir = tempfile::tempdir().unwrap();
    let guest = DirGuest::new(dir.path()).with_disk(DiskFacts {
        partition_table: PartitionTable::Mbr,
        mbr_boot_code: true,
        mbr_loader: Some("GRUB".into()),
        active_partition: true,
        mbr_gap_used: true,
        ..DiskFacts::default()
    });
    let fact = inspect(&guest);
    assert!(fact
        .evidence
        .iter()
        .any(|e| e.value == "holds data (core.img)"));
    assert_eq!(fact.value.unwrap().mode, BootMode::Bios);
    assert!(fact.evidence.iter().any(|e| e.value == "present (GRUB)"));

    let guest = DirGuest::new(dir.path()).with_disk(DiskFacts {
        partition_table: PartitionTable::Mbr,
        ..DiskFacts::default()
    });
    assert_eq!(inspect(&guest).value.unwrap().mode, BootMode::None);

    let guest = DirGuest::new(dir.path())
        .with_volumes(vec![esp(None)])
        .with_disk(gpt(true));
    let fact = inspect(&guest);
    assert!(fact.unknown.unwrap().contains("/dev/vda1"));
}
