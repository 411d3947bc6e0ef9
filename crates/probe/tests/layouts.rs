//! Partition tables and file systems made by sfdisk and mkfs on plain image
//! files (no loop devices): a file system is made in its own file and then
//! copied into the disk image at the partition offset.

mod common;

use std::path::{Path, PathBuf};

use common::{copy_into, p, run, run_stdin, s, tool, zero_file};
use imsprep_probe::{inspect, Filesystem, Format, PartitionKind, PartitionTable};

const MIB: u64 = 1024 * 1024;

/// mkfs a separate file of `size` bytes; `None` when the tool is missing.
fn mkfs(dir: &Path, name: &str, size: u64, program: &str, args: &[&str]) -> Option<PathBuf> {
    let bin = tool(program)?;
    let path = p(dir, name);
    zero_file(&path, size);
    let mut all = args.to_vec();
    all.push(s(&path));
    run(&bin, &all);
    Some(path)
}

#[test]
fn mbr_with_ext4_and_swap() {
    let dir = tempfile::tempdir().unwrap();
    let (Some(sfdisk), Some(_), Some(_)) = (tool("sfdisk"), tool("mkfs.ext4"), tool("mkswap"))
    else {
        return;
    };
    let disk = p(dir.path(), "mbr.img");
    zero_file(&disk, 40 * MIB);
    run_stdin(
        &sfdisk,
        &["-q", s(&disk)],
        "label: dos\nstart=2048, size=20480, type=83, bootable\nstart=22528, size=8192, type=82\n",
    );
    let ext4 = mkfs(dir.path(), "p1", 20480 * 512, "mkfs.ext4", &["-q", "-F"]).unwrap();
    let swap = mkfs(dir.path(), "p2", 8192 * 512, "mkswap", &[]).unwrap();
    copy_into(&ext4, &disk, 2048 * 512);
    copy_into(&swap, &disk, 22528 * 512);
    let r = inspect(&disk).unwrap();
    assert_eq!(r.format, Format::Raw);
    assert_eq!(r.extension_format, Some(Format::Raw));
    assert!(!r.name_mismatch);
    assert_eq!(r.virtual_size, Some(40 * MIB));
    assert_eq!(r.file_size_mod_512, 0);
    let l = r.layout.expect("layout");
    assert_eq!(l.table, PartitionTable::Mbr);
    assert!(l.gpt.is_none());
    let m = l.mbr.expect("mbr");
    assert!(m.boot_signature);
    assert!(!m.protective);
    assert_eq!(m.partitions.len(), 2);
    assert!(m.partitions[0].bootable);
    assert_eq!(m.partitions[0].kind, PartitionKind::LinuxFilesystem);
    assert_eq!(m.partitions[0].first_lba, 2048);
    assert_eq!(m.partitions[0].filesystem, Some(Filesystem::Ext4));
    assert_eq!(m.partitions[1].kind, PartitionKind::LinuxSwap);
    assert_eq!(m.partitions[1].filesystem, Some(Filesystem::Swap));
    assert_eq!(l.esp, None);
    assert_eq!(l.whole_disk_filesystem, None);
    assert_eq!(l.filesystems.len(), 2);
    assert!(l.anomalies.is_empty(), "{:?}", l.anomalies);
}

#[test]
fn mbr_logical_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sfdisk) = tool("sfdisk") else { return };
    let disk = p(dir.path(), "ext.img");
    zero_file(&disk, 16 * MIB);
    run_stdin(
        &sfdisk,
        &["-q", s(&disk)],
        "label: dos\nstart=2048, size=4096, type=83\nstart=8192, size=20480, type=5\nstart=10240, size=4096, type=83\nstart=16384, size=4096, type=8e\n",
    );
    let r = inspect(&disk).unwrap();
    let m = r.layout.unwrap().mbr.unwrap();
    let idx: Vec<(u32, u64)> = m
        .partitions
        .iter()
        .map(|p| (p.index, p.first_lba))
        .collect();
    assert_eq!(idx, vec![(1, 2048), (2, 8192), (5, 10240), (6, 16384)]);
    assert_eq!(m.partitions[3].kind, PartitionKind::LinuxLvm);
}

#[test]
fn gpt_with_esp_and_ext4() {
    let dir = tempfile::tempdir().unwrap();
    let (Some(sfdisk), Some(_), Some(_)) = (tool("sfdisk"), tool("mkfs.vfat"), tool("mkfs.ext4"))
    else {
        return;
    };
    let disk = p(dir.path(), "gpt.raw");
    zero_file(&disk, 64 * MIB);
    run_stdin(
        &sfdisk,
        &["-q", s(&disk)],
        "label: gpt\nstart=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, name=\"bios\"\n\
         start=4096, size=40960, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI System\"\n\
         start=45056, size=40960, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=\"root\"\n",
    );
    let esp = mkfs(dir.path(), "esp", 40960 * 512, "mkfs.vfat", &["-F", "32"]).unwrap();
    let root = mkfs(dir.path(), "root", 40960 * 512, "mkfs.ext4", &["-q", "-F"]).unwrap();
    copy_into(&esp, &disk, 4096 * 512);
    copy_into(&root, &disk, 45056 * 512);
    let r = inspect(&disk).unwrap();
    assert_eq!(r.format, Format::Raw);
    let l = r.layout.expect("layout");
    assert_eq!(l.table, PartitionTable::Gpt);
    assert!(l.mbr.as_ref().unwrap().protective);
    assert!(l.mbr.as_ref().unwrap().boot_signature);
    let g = l.gpt.as_ref().unwrap();
    assert_eq!(g.sector_size, 512);
    assert!(g.primary.header_crc_ok && g.primary.entries_crc_ok);
    let b = g.backup.as_ref().expect("backup header");
    assert!(b.header_crc_ok && b.entries_crc_ok);
    assert_eq!(b.lba, 64 * MIB / 512 - 1);
    assert_eq!(g.partitions.len(), 3);
    assert_eq!(g.partitions[0].kind, PartitionKind::BiosBoot);
    assert_eq!(g.partitions[1].kind, PartitionKind::Esp);
    assert_eq!(g.partitions[1].name, "EFI System");
    assert_eq!(
        g.partitions[1].type_guid,
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
    );
    assert_eq!(g.partitions[1].filesystem, Some(Filesystem::Fat32));
    assert_eq!(g.partitions[2].kind, PartitionKind::LinuxRootX86_64);
    assert_eq!(g.partitions[2].filesystem, Some(Filesystem::Ext4));
    assert_eq!(g.partitions[2].first_lba, 45056);
    assert_eq!(g.partitions[2].last_lba, 45056 + 40960 - 1);
    assert_eq!(l.esp, Some(2));
    assert!(l.bios_boot);
    assert!(l.anomalies.is_empty(), "{:?}", l.anomalies);
}

#[test]
fn gpt_with_damaged_primary_falls_back_to_backup() {
    let dir = tempfile::tempdir().unwrap();
    let Some(sfdisk) = tool("sfdisk") else { return };
    let disk = p(dir.path(), "bad.img");
    zero_file(&disk, 8 * MIB);
    run_stdin(
        &sfdisk,
        &["-q", s(&disk)],
        "label: gpt\nstart=2048, size=4096\n",
    );
    // Flip a byte of the primary header's disk GUID: its CRC no longer holds.
    common::patch(&disk, 512 + 60, &[0x5a]);
    // And a byte of the primary entry array (a partition name).
    common::patch(&disk, 1024 + 60, &[0x41]);
    let r = inspect(&disk).unwrap();
    let l = r.layout.unwrap();
    assert_eq!(l.table, PartitionTable::Gpt);
    let g = l.gpt.unwrap();
    assert!(!g.primary.header_crc_ok);
    assert!(!g.primary.entries_crc_ok);
    let b = g.backup.unwrap();
    assert!(b.header_crc_ok && b.entries_crc_ok);
    assert_eq!(g.partitions.len(), 1);
    assert_eq!(g.partitions[0].first_lba, 2048);
    assert_eq!(g.partitions[0].kind, PartitionKind::LinuxFilesystem);
    assert!(
        l.anomalies.iter().any(|a| a.contains("header CRC32")),
        "{:?}",
        l.anomalies
    );
}

#[test]
fn bare_file_systems_without_table() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], Filesystem, u64); 6] = [
        ("mkfs.ext4", &["-q", "-F"], Filesystem::Ext4, 16 * MIB),
        ("mkfs.ext3", &["-q", "-F"], Filesystem::Ext3, 16 * MIB),
        ("mkfs.ext2", &["-q", "-F"], Filesystem::Ext2, 16 * MIB),
        ("mkfs.vfat", &[], Filesystem::Fat16, 16 * MIB),
        ("mkfs.xfs", &["-q", "-f"], Filesystem::Xfs, 300 * MIB),
        ("mkfs.btrfs", &["-q", "-f"], Filesystem::Btrfs, 128 * MIB),
    ];
    for (i, (program, args, fs, size)) in cases.into_iter().enumerate() {
        let Some(path) = mkfs(dir.path(), &format!("fs{i}.img"), size, program, args) else {
            continue;
        };
        let r = inspect(&path).unwrap();
        assert_eq!(r.format, Format::Raw, "{program}");
        let l = r.layout.unwrap();
        assert_eq!(l.table, PartitionTable::None, "{program}");
        assert!(l.mbr.is_none(), "{program}: {:?}", l.mbr);
        assert_eq!(l.whole_disk_filesystem, Some(fs), "{program}");
        std::fs::remove_file(&path).unwrap();
    }
    if let Some(path) = mkfs(dir.path(), "fat12.img", 1440 * 1024, "mkfs.vfat", &[]) {
        let l = inspect(&path).unwrap().layout.unwrap();
        assert_eq!(l.whole_disk_filesystem, Some(Filesystem::Fat12));
    }
}
