//! A guest inspected out of a disk image: partitions made by sfdisk, an
//! ext4 root made by `mkfs.ext4 -d` from a small system tree (the test
//! support's `linux_disk`), read through the guest view (and the same disk
//! as qcow2 through its backend).

use std::fs;
use std::process::Command;
use std::sync::Arc;

use imsprep_disk::{open_as, Kind, OpenOptions, RawDisk};
use imsprep_guest::test_support::linux_disk::ROOT_UUID;
use imsprep_guest::test_support::{linux_disk, LinuxDisk};
use imsprep_guest::{inspect_disk, GuestFiles, ImageGuest};

#[test]
fn a_linux_root_is_found_and_inspected_through_the_guest_view() {
    let dir = tempfile::tempdir().unwrap();
    let Some(LinuxDisk { path: raw, .. }) = linux_disk(dir.path(), "disk.raw") else {
        return;
    };
    let disk = Arc::new(RawDisk::open(&raw).unwrap());
    let found = inspect_disk(disk.clone());
    assert!(found.error.is_none(), "{:?}", found.error);
    assert_eq!(found.roots.len(), 1, "{:?}", found.roots);
    assert_eq!(found.roots[0].device, "/dev/vda1");
    assert_eq!(found.roots[0].os, "linux");
    assert!(found.mounts.iter().any(|m| m.mount_point == "/"));
    let linux = found.linux.expect("Linux facts");
    let identity = linux.identity.get().expect("identity");
    assert_eq!(identity.id.as_deref(), Some("debian"));
    assert!(linux.arch.get().is_some(), "{:?}", linux.arch);

    // The adapter answers as GuestFiles does: absent is None, files read.
    let guest = ImageGuest::open(disk).unwrap();
    assert!(guest.read_file("/etc/nothing", 100).unwrap().is_none());
    let fstab = guest.read_file("/etc/fstab", 1000).unwrap().unwrap();
    assert!(String::from_utf8_lossy(&fstab).contains(ROOT_UUID));
    assert!(
        guest.read_file("/etc/fstab", 10).is_err(),
        "a limit below the size"
    );
    let volumes = guest.volumes();
    let root = volumes.iter().find(|v| v.device == "/dev/vda1").unwrap();
    assert_eq!(root.uuid.as_deref(), Some(ROOT_UUID));
    assert_eq!(root.mount_point.as_deref(), Some("/"));
    assert_eq!(
        guest.disk().partition_table,
        imsprep_guest::PartitionTable::Gpt
    );

    // The same disk as qcow2 gives the same facts.
    let qcow2 = dir.path().join("disk.qcow2");
    let converted = Command::new("qemu-img")
        .args(["convert", "-O", "qcow2"])
        .arg(&raw)
        .arg(&qcow2)
        .status()
        .is_ok_and(|s| s.success());
    if converted {
        let disk = open_as(&qcow2, Kind::Qcow2, &OpenOptions::default()).unwrap();
        let found = inspect_disk(Arc::from(disk));
        let identity = found.linux.unwrap().identity.get().cloned().unwrap();
        assert_eq!(identity.id.as_deref(), Some("debian"));
    }
}

#[test]
fn a_disk_without_a_system_has_no_root() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("empty.raw");
    fs::File::create(&raw).unwrap().set_len(8 << 20).unwrap();
    let found = inspect_disk(Arc::new(RawDisk::open(&raw).unwrap()));
    assert!(found.roots.is_empty());
    assert!(found.linux.is_none());
}

/// A disk that counts the bytes read through it.
#[derive(Debug)]
struct Counting {
    inner: RawDisk,
    read: std::sync::atomic::AtomicU64,
}

impl imsprep_disk::Disk for Counting {
    fn info(&self) -> &imsprep_disk::DiskInfo {
        self.inner.info()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), imsprep_disk::DiskError> {
        self.read
            .fetch_add(buf.len() as u64, std::sync::atomic::Ordering::Relaxed);
        self.inner.read_at(offset, buf)
    }

    fn extent_at(&self, offset: u64) -> Result<imsprep_disk::Extent, imsprep_disk::DiskError> {
        self.inner.extent_at(offset)
    }
}

#[test]
fn reading_one_small_file_reads_little_of_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let Some(LinuxDisk { path: raw, .. }) = linux_disk(dir.path(), "disk.raw") else {
        return;
    };
    let disk = Arc::new(Counting {
        inner: RawDisk::open(&raw).unwrap(),
        read: Default::default(),
    });
    let guest = ImageGuest::open(disk.clone()).unwrap();
    let fstab = guest.read_file("/etc/fstab", 4096).unwrap().unwrap();
    assert!(String::from_utf8_lossy(&fstab).contains(ROOT_UUID));
    let read = disk.read.load(std::sync::atomic::Ordering::Relaxed);
    // Partition table, superblock, group descriptors, a few inodes and
    // directory blocks: far under the 2 MiB the guest view may spend on
    // one small file of a 48 MiB disk.
    assert!(read < 2 << 20, "{read} bytes read");
}
