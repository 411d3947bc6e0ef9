//! Partitioned disks made with sfdisk and LVM2 volume groups made with
//! the LVM tools on loop devices, file systems written into them with
//! their offsets, read back through `find_volumes`.

mod common;

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use common::*;
use imsprep_fs::volumes::{find_volumes, Origin};
use imsprep_fs::{open_filesystem, FsError, FsKind};

const EXPECT: Expect = Expect {
    unix_metadata: true,
    hard_links: true,
    root_extras: &["lost+found"],
};

fn small_tree(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    make_tree(
        &src,
        &TreeOptions {
            big_dir: 40,
            links: true,
            long_name: true,
        },
    );
    src
}

fn ext_image(dir: &Path, src: &Path, name: &str, tool: &str, size: u64) -> Vec<u8> {
    let image = dir.join(name);
    std::fs::File::create(&image)
        .unwrap()
        .set_len(size)
        .unwrap();
    run(
        tool,
        &[
            "-q",
            "-F",
            "-d",
            src.to_str().unwrap(),
            image.to_str().unwrap(),
        ],
    );
    std::fs::read(&image).unwrap()
}

fn write_at(path: &Path, offset: u64, bytes: &[u8]) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, offset).unwrap();
}

#[test]
fn mbr_primary_and_logical_partitions() {
    if !have("sfdisk") || !have("mkfs.ext4") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = small_tree(dir.path());
    let disk = dir.path().join("disk.img");
    std::fs::File::create(&disk)
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    let table = "label: dos\nstart=2048, size=60M, type=83\nstart=126976, type=5\nstart=129024, size=30M, type=83\n";
    run(
        "sh",
        &[
            "-c",
            &format!(
                "printf '{}' | sfdisk -q {}",
                table.replace('\n', "\\n"),
                disk.display()
            ),
        ],
    );
    write_at(
        &disk,
        2048 * 512,
        &ext_image(dir.path(), &src, "p1.img", "mkfs.ext4", 60 << 20),
    );
    write_at(
        &disk,
        129024 * 512,
        &ext_image(dir.path(), &src, "p5.img", "mkfs.ext2", 30 << 20),
    );

    let found = find_volumes(raw_disk(&disk), "/dev/vda").unwrap();
    let names: Vec<_> = found
        .volumes
        .iter()
        .map(|v| v.volume.name().to_owned())
        .collect();
    assert_eq!(names, ["/dev/vda1", "/dev/vda5"]);
    assert_eq!(found.volumes[1].origin, Origin::Partition { index: 5 });
    assert!(found.unread.is_empty(), "{:?}", found.unread);
    for (v, kind) in found.volumes.iter().zip([FsKind::Ext4, FsKind::Ext2]) {
        let fs = open_filesystem(v.volume.clone()).unwrap().unwrap();
        assert_eq!(fs.info().kind, kind);
        assert_same_tree(fs.as_ref(), &src, b"/", &EXPECT);
    }
}

/// Loop devices over byte ranges of one file, detached on drop.
struct Loops(Vec<String>);

impl Drop for Loops {
    fn drop(&mut self) {
        for l in &self.0 {
            let _ = std::process::Command::new("losetup")
                .args(["-d", l])
                .status();
        }
    }
}

fn lvm(loops: &Loops, args: &[&str]) -> String {
    let accept: Vec<String> = loops.0.iter().map(|l| format!("\"a|^{l}$|\"")).collect();
    let config = format!(
        "devices {{ use_devicesfile = 0 filter = [ {}, \"r|.*|\" ] }}",
        accept.join(", ")
    );
    let mut full = vec![args[0], "--driverloaded", "n", "--config", &config];
    full.extend_from_slice(&args[1..]);
    run(full[0], &full[1..])
}

struct LvmDisk {
    _dir: tempfile::TempDir,
    disk: PathBuf,
    src: PathBuf,
    vg: String,
    /// Byte offsets of the two partitions.
    parts: [u64; 2],
}

/// A GPT disk with two partitions, each an LVM PV of one VG holding a
/// linear `root` and a striped `str-iped` LV with ext4 file systems.
fn lvm_disk() -> Option<LvmDisk> {
    if !have("sfdisk") || !have("pvcreate") || !have("losetup") || !have("mkfs.ext4") {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = small_tree(dir.path());
    let disk = dir.path().join("disk.img");
    std::fs::File::create(&disk)
        .unwrap()
        .set_len(200 << 20)
        .unwrap();
    run(
        "sh",
        &[
            "-c",
            &format!(
                "printf 'label: gpt\\nsize=90M\\nsize=90M\\n' | sfdisk -q {}",
                disk.display()
            ),
        ],
    );
    let parts = [2048u64 * 512, 186368 * 512];
    let mut loops = Loops(Vec::new());
    for start in parts {
        let out = std::process::Command::new("losetup")
            .args([
                "-f",
                "--show",
                "-o",
                &start.to_string(),
                "--sizelimit",
                &(90u64 << 20).to_string(),
            ])
            .arg(&disk)
            .output()
            .unwrap();
        if !out.status.success() {
            println!(
                "skipped: no loop device: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        loops
            .0
            .push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    }
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let vg = format!("imsfs{}x{n}", std::process::id());
    let (l0, l1) = (loops.0[0].clone(), loops.0[1].clone());
    lvm(&loops, &["pvcreate", "-q", &l0, &l1]);
    lvm(&loops, &["vgcreate", "-q", &vg, &l0, &l1]);
    lvm(
        &loops,
        &[
            "lvcreate", "-q", "-an", "-Zn", "-L", "16M", "-n", "root", &vg,
        ],
    );
    lvm(
        &loops,
        &[
            "lvcreate", "-q", "-an", "-Zn", "-i2", "-I64k", "-L", "16M", "-n", "str-iped", &vg,
        ],
    );
    let segs = lvm(
        &loops,
        &[
            "lvs",
            "--noheadings",
            "--units",
            "b",
            "-o",
            "lv_name,seg_pe_ranges,stripe_size",
            &vg,
        ],
    );
    let pvs = lvm(
        &loops,
        &[
            "pvs",
            "--noheadings",
            "--units",
            "b",
            "--nosuffix",
            "-o",
            "pv_name,pe_start,vg_extent_size",
        ],
    );
    drop(loops);

    // Where each PV's extents start on the disk, and the extent size.
    let mut pe_base = std::collections::HashMap::new();
    let mut extent = 0u64;
    for line in pvs.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let part = if f[0] == l0 { parts[0] } else { parts[1] };
        pe_base.insert(f[0].to_owned(), part + f[1].parse::<u64>().unwrap());
        extent = f[2].parse().unwrap();
    }
    let place = |range: &str| -> u64 {
        let (pv, pes) = range.split_once(':').unwrap();
        let first: u64 = pes.split('-').next().unwrap().parse().unwrap();
        pe_base[pv] + first * extent
    };
    for line in segs.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let image = ext_image(
            dir.path(),
            &src,
            &format!("{}.img", f[0]),
            "mkfs.ext4",
            16 << 20,
        );
        if f[0] == "root" {
            write_at(&disk, place(f[1]), &image);
        } else {
            let legs = [place(f[1]), place(f[2])];
            let stripe: usize = f[3].trim_end_matches('B').parse().unwrap();
            for (k, chunk) in image.chunks(stripe).enumerate() {
                write_at(&disk, legs[k % 2] + (k / 2 * stripe) as u64, chunk);
            }
        }
    }
    Some(LvmDisk {
        _dir: dir,
        disk,
        src,
        vg,
        parts,
    })
}

#[test]
fn lvm_linear_and_striped() {
    let Some(t) = lvm_disk() else { return };
    let found = find_volumes(raw_disk(&t.disk), "/dev/vda").unwrap();
    assert!(found.unread.is_empty(), "{:?}", found.unread);
    let names: Vec<_> = found
        .volumes
        .iter()
        .map(|v| v.volume.name().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            format!("/dev/{}/root", t.vg),
            format!("/dev/{}/str-iped", t.vg)
        ]
    );
    assert_eq!(
        found.volumes[1].aliases,
        [format!("/dev/mapper/{}-str--iped", t.vg)]
    );
    assert!(found.volumes[1].volume.pieces().len() > 2);
    for v in &found.volumes {
        assert_eq!(v.volume.len(), 16 << 20);
        let fs = open_filesystem(v.volume.clone()).unwrap().unwrap();
        assert_same_tree(fs.as_ref(), &t.src, b"/", &EXPECT);
        assert_pieces(fs.as_ref(), b"/large.bin", &t.src.join("large.bin"));
    }
    let _ = t.parts;
}

/// Replaces every occurrence of `from` in the file by `to` (same length).
fn patch_all(path: &Path, from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let mut bytes = std::fs::read(path).unwrap();
    let mut n = 0;
    let mut i = 0;
    while let Some(pos) = bytes[i..].windows(from.len()).position(|w| w == from) {
        bytes[i + pos..i + pos + from.len()].copy_from_slice(to);
        i += pos + from.len();
        n += 1;
    }
    std::fs::write(path, bytes).unwrap();
    n
}

#[test]
fn lvm_segment_past_its_pv_is_refused() {
    let Some(t) = lvm_disk() else { return };
    // Each PV now claims one extent: the LVs' extents lie past it.
    assert!(patch_all(&t.disk, b"pe_count = 22", b"pe_count = 1 ") >= 2);
    let found = find_volumes(raw_disk(&t.disk), "/dev/vda").unwrap();
    assert!(found.volumes.is_empty());
    assert_eq!(found.unread.len(), 2, "{:?}", found.unread);
    assert!(
        found
            .unread
            .iter()
            .all(|u| u.reason.contains("past its 1 extents")),
        "{:?}",
        found.unread
    );
}

#[test]
fn lvm_huge_metadata_size_is_refused() {
    let Some(t) = lvm_disk() else { return };
    let mut bytes = std::fs::read(&t.disk).unwrap();
    let magic = b" LVM2 x[5A%r0N*>";
    let mut patched = 0;
    for pos in 0..bytes.len() - 64 {
        if &bytes[pos..pos + 16] == magic {
            // raw_locn[0].size: 48 bytes into the header, 4 before the magic.
            let size_at = pos - 4 + 48;
            bytes[size_at..size_at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2);
    std::fs::write(&t.disk, bytes).unwrap();
    let found = find_volumes(raw_disk(&t.disk), "/dev/vda").unwrap();
    assert!(found.volumes.is_empty());
    assert_eq!(found.unread.len(), 2);
    assert!(
        found.unread[0].reason.contains("past the limit"),
        "{:?}",
        found.unread
    );
}

#[test]
fn luks_is_listed_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk.img");
    std::fs::File::create(&disk)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    write_at(&disk, 0, b"LUKS\xba\xbe\x00\x02");
    let found = find_volumes(raw_disk(&disk), "/dev/vdb").unwrap();
    assert!(found.volumes.is_empty());
    assert_eq!(found.unread[0].name, "/dev/vdb");
    assert!(found.unread[0].what.contains("LUKS2"));
    let volume = imsprep_fs::Volume::whole(raw_disk(&disk), "/dev/vdb");
    assert!(matches!(
        open_filesystem(volume),
        Err(FsError::Unsupported { .. })
    ));
}
