//! OVA archives made with tar around qemu-img-made streamOptimized disks,
//! read in place through the OVA backend; and damaged archives.

mod common;

use std::fs;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use common::{assert_reads, qemu_img, qemu_raw, run, sample_raw, write_pattern};
use imsprep_disk::{open_as, Disk, DiskError, Kind, OpenOptions};

const MIB: u64 = 1 << 20;

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn open(path: &Path, disk: Option<&str>) -> Result<Box<dyn Disk>, DiskError> {
    let options = OpenOptions {
        ova_disk: disk.map(str::to_string),
        ..OpenOptions::default()
    };
    open_as(path, Kind::Ova, &options)
}

/// A streamOptimized disk `name` in `dir` made from a sample RAW of `size`
/// bytes (with `seed` data at 1 MiB, so two disks differ).
fn stream_disk(dir: &Path, name: &str, size: u64, seed: u64) -> PathBuf {
    let raw = sample_raw(dir, size);
    write_pattern(&raw, MIB, 4096, seed);
    let out = dir.join(name);
    qemu_img(&[
        "convert",
        "-O",
        "vmdk",
        "-o",
        "subformat=streamOptimized",
        s(&raw),
        s(&out),
    ]);
    fs::remove_file(&raw).unwrap();
    out
}

/// `tar FORMAT -cf DIR/NAME MEMBERS...`, run in `dir`.
fn tar(dir: &Path, name: &str, format: &str, members: &[&str]) -> PathBuf {
    let ova = dir.join(name);
    let mut args = vec![format, "-C", s(dir), "-cf", s(&ova)];
    args.extend_from_slice(members);
    run("tar", &args);
    ova
}

fn write_ovf(dir: &Path) {
    fs::write(
        dir.join("x.ovf"),
        "<?xml version=\"1.0\"?>\n<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\"/>\n",
    )
    .unwrap();
}

#[test]
fn one_stream_optimized_disk_is_read_in_place() {
    for format in ["--format=ustar", "--format=pax", "--format=gnu"] {
        let dir = tempfile::tempdir().unwrap();
        write_ovf(dir.path());
        let disk_file = stream_disk(dir.path(), "x-disk1.vmdk", 64 * MIB, 1);
        let ova = tar(dir.path(), "x.ova", format, &["x.ovf", "x-disk1.vmdk"]);
        let disk = open(&ova, None).unwrap();
        assert_eq!(disk.info().format, "vmdk");
        assert_eq!(disk.info().variant, "streamOptimized in OVA (x-disk1.vmdk)");
        assert_eq!(disk.info().path, ova);
        assert_reads(&*disk, &qemu_raw(&disk_file, dir.path()));
    }
}

#[test]
fn a_disk_in_a_folder_with_a_long_name_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!(
        "{}-disk1.vmdk",
        "a-very-long-virtual-machine-name".repeat(4)
    );
    let sub = dir.path().join("vm");
    fs::create_dir(&sub).unwrap();
    write_ovf(&sub);
    let disk_file = stream_disk(&sub, &long, 8 * MIB, 2);
    for format in ["--format=pax", "--format=gnu"] {
        let ova = tar(
            dir.path(),
            "long.ova",
            format,
            &["vm/x.ovf", &format!("vm/{long}")],
        );
        let disk = open(&ova, None).unwrap();
        assert_eq!(
            disk.info().variant,
            format!("streamOptimized in OVA ({long})")
        );
        assert_reads(&*disk, &qemu_raw(&disk_file, dir.path()));
    }
}

#[test]
fn several_disks_need_a_choice() {
    let dir = tempfile::tempdir().unwrap();
    write_ovf(dir.path());
    stream_disk(dir.path(), "x-disk1.vmdk", 16 * MIB, 1);
    let second = stream_disk(dir.path(), "x-disk2.vmdk", 8 * MIB, 2);
    let ova = tar(
        dir.path(),
        "x.ova",
        "--format=ustar",
        &["x.ovf", "x-disk1.vmdk", "x-disk2.vmdk"],
    );

    let err = open(&ova, None).unwrap_err().to_string();
    for needed in ["x-disk1.vmdk", "x-disk2.vmdk", "--disk NAME"] {
        assert!(err.contains(needed), "{needed:?} not in {err}");
    }

    let disk = open(&ova, Some("x-disk2.vmdk")).unwrap();
    assert_eq!(disk.info().variant, "streamOptimized in OVA (x-disk2.vmdk)");
    assert_reads(&*disk, &qemu_raw(&second, dir.path()));

    let err = open(&ova, Some("x-disk3.vmdk")).unwrap_err().to_string();
    assert!(
        err.contains("x-disk3.vmdk") && err.contains("x-disk1.vmdk, x-disk2.vmdk"),
        "{err}"
    );
}

#[test]
fn disks_of_other_formats_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_ovf(dir.path());
    sample_raw(dir.path(), MIB);
    fs::rename(dir.path().join("source.raw"), dir.path().join("x.img")).unwrap();
    let ova = tar(dir.path(), "x.ova", "--format=ustar", &["x.ovf", "x.img"]);
    let err = open(&ova, None).unwrap_err();
    assert!(matches!(err, DiskError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("x.img"), "{err}");

    let ova = tar(dir.path(), "y.ova", "--format=ustar", &["x.ovf"]);
    let err = open(&ova, None).unwrap_err().to_string();
    assert!(err.contains("expected a .vmdk disk"), "{err}");
}

// Damaged archives.

fn one_disk_ova(dir: &Path) -> PathBuf {
    write_ovf(dir);
    stream_disk(dir, "x-disk1.vmdk", 8 * MIB, 1);
    tar(dir, "x.ova", "--format=ustar", &["x.ovf", "x-disk1.vmdk"])
}

/// Rewrites the tar header at `at` with `edit`, keeping its checksum right.
fn patch_header(ova: &Path, at: u64, edit: impl Fn(&mut [u8])) {
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(ova)
        .unwrap();
    let mut block = [0u8; 512];
    f.read_exact_at(&mut block, at).unwrap();
    edit(&mut block);
    block[148..156].fill(b' ');
    let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
    block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    f.write_all_at(&block, at).unwrap();
}

/// Offset of the second member's header (the disk, after the small OVF).
const DISK_HEADER: u64 = 1024;

fn assert_error<T: std::fmt::Debug>(result: Result<T, DiskError>, what: &str) {
    let err = result.expect_err("the damaged archive was accepted");
    let message = err.to_string();
    assert!(message.contains(what), "{what:?} not in: {message}");
    assert!(err.is_bad_image(), "not a bad image: {message}");
}

#[test]
fn a_size_field_past_the_end_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ova = one_disk_ova(dir.path());
    patch_header(&ova, DISK_HEADER, |b| {
        b[124..136].copy_from_slice(b"77777777777\0");
    });
    assert_error(
        open(&ova, None),
        "tar header field size of \"x-disk1.vmdk\"",
    );

    // A base-256 size too large for 64 bits.
    patch_header(&ova, DISK_HEADER, |b| b[124..136].fill(0xff));
    assert_error(open(&ova, None), "tar header field size");
}

#[test]
fn a_truncated_archive_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ova = one_disk_ova(dir.path());
    let f = fs::OpenOptions::new().write(true).open(&ova).unwrap();
    f.set_len(DISK_HEADER + 512 + 4096).unwrap();
    assert_error(open(&ova, None), "past the end of the");
    f.set_len(DISK_HEADER + 100).unwrap();
    assert_error(open(&ova, None), "ends inside a 512-byte header");
}

#[test]
fn a_bad_checksum_or_a_file_that_is_not_tar_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ova = one_disk_ova(dir.path());
    let f = fs::OpenOptions::new().write(true).open(&ova).unwrap();
    f.write_all_at(b"Y", DISK_HEADER).unwrap();
    assert_error(open(&ova, None), "tar header checksum");
    let qcow = dir.path().join("not.ova");
    qemu_img(&["create", "-f", "qcow2", s(&qcow), "1M"]);
    assert_error(open(&qcow, None), "tar header checksum");
}

#[test]
fn a_damaged_disk_inside_is_named_at_its_offset_in_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let ova = one_disk_ova(dir.path());
    // grainSize of the member's sparse header.
    let f = fs::OpenOptions::new().write(true).open(&ova).unwrap();
    f.write_all_at(&3u64.to_le_bytes(), DISK_HEADER + 512 + 20)
        .unwrap();
    let err = open(&ova, None).unwrap_err().to_string();
    assert!(err.contains("header field grainSize"), "{err}");
    assert!(
        err.contains(&format!("at offset {}", DISK_HEADER + 512 + 20)),
        "{err}"
    );
}
