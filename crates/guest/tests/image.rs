//! A guest inspected out of a disk image: partitions made by sfdisk, an
//! ext4 root made by `mkfs.ext4 -d` from a small system tree, read through
//! the guest view (and the same disk as qcow2 through its backend).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use imsprep_disk::{open_as, Kind, OpenOptions, RawDisk};
use imsprep_guest::{inspect_disk, GuestFiles, ImageGuest};

const ROOT_UUID: &str = "2f3c5f2e-7a55-4d2c-9d6a-0c1f6a9b8e01";

fn run(program: &str, args: &[&str], stdin: Option<&str>) -> bool {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if stdin.is_some() {
        cmd.stdin(std::process::Stdio::piped());
    }
    let Ok(mut child) = cmd.spawn() else {
        eprintln!("note: {program} is not installed; case skipped");
        return false;
    };
    if let Some(text) = stdin {
        use std::io::Write;
        let _ = child.stdin.take().map(|mut s| s.write_all(text.as_bytes()));
    }
    child.wait().is_ok_and(|s| s.success())
}

/// A GPT disk with a 40 MiB ext4 root holding a small Debian-like tree.
fn system_disk(dir: &Path) -> Option<std::path::PathBuf> {
    let tree = dir.join("tree");
    for d in ["etc", "sbin", "boot/grub", "lib/modules"] {
        fs::create_dir_all(tree.join(d)).unwrap();
    }
    fs::write(
        tree.join("etc/os-release"),
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
    )
    .unwrap();
    fs::write(tree.join("etc/debian_version"), "12.5\n").unwrap();
    fs::write(
        tree.join("etc/fstab"),
        format!("UUID={ROOT_UUID} / ext4 errors=remount-ro 0 1\n"),
    )
    .unwrap();
    fs::copy("/bin/sh", tree.join("sbin/init")).ok()?;
    let root = dir.join("root.ext4");
    if !run(
        "mkfs.ext4",
        &[
            "-q",
            "-F",
            "-U",
            ROOT_UUID,
            "-d",
            tree.to_str()?,
            root.to_str()?,
            "40M",
        ],
        None,
    ) {
        return None;
    }
    let disk = dir.join("disk.raw");
    fs::File::create(&disk).ok()?.set_len(48 << 20).ok()?;
    if !run(
        "sfdisk",
        &["-q", disk.to_str()?],
        Some("label: gpt\nstart=2048, size=81920, type=linux\n"),
    ) {
        return None;
    }
    let ok = run(
        "dd",
        &[
            &format!("if={}", root.display()),
            &format!("of={}", disk.display()),
            "bs=1M",
            "seek=1",
            "conv=notrunc",
            "status=none",
        ],
        None,
    );
    ok.then_some(disk)
}

#[test]
fn a_linux_root_is_found_and_inspected_through_the_guest_view() {
    let dir = tempfile::tempdir().unwrap();
    let Some(raw) = system_disk(dir.path()) else {
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
    if run(
        "qemu-img",
        &[
            "convert",
            "-O",
            "qcow2",
            raw.to_str().unwrap(),
            qcow2.to_str().unwrap(),
        ],
        None,
    ) {
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
