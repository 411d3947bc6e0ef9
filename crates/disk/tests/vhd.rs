//! VHD images made by qemu-img read byte for byte as `qemu-img convert -O
//! raw` reads them; damaged fields are refused with an error naming them.
//!
//! qemu-img cannot create VHD differencing disks (it has no backing files
//! for vpc), so a differencing disk is made from a qemu-img dynamic disk by
//! setting the fields that make it one (disk type, parent id and name);
//! what it must read follows from the specification: the child's stored
//! sectors, the parent's elsewhere.

mod common;

use std::path::{Path, PathBuf};

use imsprep_disk::{extents, open_as, Allocation, Disk, DiskError, Kind, OpenOptions};

const SIZE: u64 = 64 << 20;
const FOOTER: u64 = 512;
/// Where qemu-img puts the dynamic disk header and the BAT.
const HEADER_AT: u64 = 512;
const BAT_AT: u64 = 0x600;

fn open(path: &Path) -> Result<Box<dyn Disk>, DiskError> {
    open_as(path, Kind::Vhd, &OpenOptions::default())
}

/// The bytes `qemu-img convert -f vpc -O raw` reads out of `image`. The
/// format is given because qemu-img takes a fixed VHD (no footer copy at
/// its start) for RAW.
fn qemu_raw(image: &Path, dir: &Path) -> Vec<u8> {
    let out = dir.join("reference.raw");
    common::qemu_img(&[
        "convert",
        "-f",
        "vpc",
        "-O",
        "raw",
        image.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    bytes
}

fn convert(dir: &Path, subformat: &str, name: &str) -> PathBuf {
    let raw = common::sample_raw(dir, SIZE);
    let out = dir.join(name);
    common::qemu_img(&[
        "convert",
        "-O",
        "vpc",
        "-o",
        &format!("subformat={subformat},force_size=on"),
        raw.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    out
}

fn patch(path: &Path, at: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, at).unwrap();
}

fn read(path: &Path, at: u64, len: usize) -> Vec<u8> {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open(path).unwrap();
    let mut buf = vec![0; len];
    f.read_exact_at(&mut buf, at).unwrap();
    buf
}

/// Sets the checksum at `field` of the `len`-byte structure at `at`.
fn reseal(path: &Path, at: u64, len: usize, field: usize) {
    let mut buf = read(path, at, len);
    buf[field..field + 4].fill(0);
    let sum = !buf.iter().fold(0u32, |s, &b| s.wrapping_add(u32::from(b)));
    patch(path, at + field as u64, &sum.to_be_bytes());
}

/// Patches the footer at `rel` in both copies (head and end) and reseals them.
fn patch_footers(path: &Path, rel: u64, bytes: &[u8]) {
    let end = std::fs::metadata(path).unwrap().len() - FOOTER;
    for at in [0, end] {
        patch(path, at + rel, bytes);
        reseal(path, at, 512, 64);
    }
}

/// Patches the dynamic disk header at `rel` and reseals it.
fn patch_header(path: &Path, rel: u64, bytes: &[u8]) {
    patch(path, HEADER_AT + rel, bytes);
    reseal(path, HEADER_AT, 1024, 36);
}

fn assert_refused(path: &Path, field: &str) {
    let err = match open(path) {
        Err(e) => e,
        Ok(disk) => {
            // Table entries are checked when they are used.
            let mut buf = vec![0u8; 1 << 20];
            let read = (0..disk.size())
                .step_by(1 << 20)
                .try_for_each(|at| disk.read_at(at, &mut buf));
            match read {
                Err(e) => e,
                Ok(()) => panic!(
                    "{} was read although its {field} is damaged",
                    path.display()
                ),
            }
        }
    };
    assert!(
        err.to_string().contains(field),
        "the error does not name {field}: {err}"
    );
    assert!(err.is_bad_image(), "{err}");
}

#[test]
fn fixed_disk_reads_like_qemu() {
    let dir = tempfile::tempdir().unwrap();
    let image = convert(dir.path(), "fixed", "fixed.vhd");
    let disk = open(&image).unwrap();
    assert_eq!(disk.info().variant, "fixed");
    common::assert_reads(&*disk, &qemu_raw(&image, dir.path()));
}

#[test]
fn dynamic_disk_reads_like_qemu_and_reports_its_holes() {
    let dir = tempfile::tempdir().unwrap();
    let image = convert(dir.path(), "dynamic", "dynamic.vhd");
    let disk = open(&image).unwrap();
    assert_eq!(disk.info().variant, "dynamic");
    common::assert_reads(&*disk, &qemu_raw(&image, dir.path()));
    let map = extents(&*disk, 0, disk.size()).unwrap();
    assert!(map.iter().any(|e| e.allocation == Allocation::Unallocated));
    assert_eq!(map[0].allocation, Allocation::Data);
}

#[test]
fn dynamic_disk_sized_by_chs_geometry_reads_like_qemu() {
    // Without force_size qemu-img rounds the size up to whole CHS geometry
    // and records it as the current size too, so both readings agree.
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("chs.vhd");
    common::qemu_img(&["create", "-f", "vpc", image.to_str().unwrap(), "100M"]);
    common::run(
        "qemu-io",
        &[
            "-c",
            "write -P 0x61 5M 3M",
            "-c",
            "write -P 0x62 99M 4k",
            image.to_str().unwrap(),
        ],
    );
    let disk = open(&image).unwrap();
    common::assert_reads(&*disk, &qemu_raw(&image, dir.path()));
}

#[test]
fn a_damaged_end_footer_falls_back_to_the_copy_at_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let image = convert(dir.path(), "dynamic", "dynamic.vhd");
    let expected = qemu_raw(&image, dir.path());
    let end = std::fs::metadata(&image).unwrap().len() - FOOTER;
    patch(&image, end + 100, &[0xAA]);
    let disk = open(&image).unwrap();
    common::assert_reads(&*disk, &expected);
}

/// A dynamic child over `base.vhd` turned differencing, with the bitmap of
/// 4 KiB at 3 MiB cleared so that those sectors read from the parent.
/// Returns the child and what it must read.
fn differencing(dir: &Path, use_locator: bool) -> (PathBuf, Vec<u8>) {
    let base = convert(dir, "dynamic", "base.vhd");
    let child = dir.join("child.vhd");
    common::qemu_img(&[
        "create",
        "-f",
        "vpc",
        "-o",
        "subformat=dynamic,force_size=on",
        child.to_str().unwrap(),
        &SIZE.to_string(),
    ]);
    common::run(
        "qemu-io",
        &[
            "-c",
            "write -P 0x5a 3M 8k",
            "-c",
            "write -P 0x00 40M 1M",
            "-c",
            "write -P 0x77 63M 4k",
            child.to_str().unwrap(),
        ],
    );
    let base_raw = qemu_raw(&base, dir);
    let child_raw = qemu_raw(&child, dir);

    // What the child stores: its allocated blocks, less the cleared sectors.
    let block = 2u64 << 20;
    let entries = read(&child, BAT_AT, (SIZE / block * 4) as usize);
    let mut expected = base_raw.clone();
    for (i, entry) in entries.chunks(4).enumerate() {
        if entry != [0xFF; 4] {
            let range = i * block as usize..(i + 1) * block as usize;
            expected[range.clone()].copy_from_slice(&child_raw[range]);
        }
    }
    let cleared = (3 << 20) as usize..(3 << 20) + 4096;
    expected[cleared.clone()].copy_from_slice(&base_raw[cleared]);
    let sector_of_block_1 = u32::from_be_bytes(entries[4..8].try_into().unwrap());
    // Byte 256 of block 1's bitmap covers its sectors 2048..2056 (3 MiB).
    patch(&child, u64::from(sector_of_block_1) * 512 + 256, &[0]);

    patch_footers(&child, 60, &4u32.to_be_bytes());
    let base_id = read(
        &base,
        std::fs::metadata(&base).unwrap().len() - FOOTER + 68,
        16,
    );
    patch(&child, HEADER_AT + 40, &base_id);
    let utf16be: Vec<u8> = "base.vhd"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    let unicode_name: Vec<u8> = if use_locator {
        "missing.vhd"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect()
    } else {
        utf16be
    };
    patch(&child, HEADER_AT + 64, &unicode_name);
    if use_locator {
        // The locator data goes in the padding after the 32-entry BAT.
        let data: Vec<u8> = ".\\base.vhd"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let data_at = 0x700u64;
        patch(&child, data_at, &data);
        let mut entry = Vec::new();
        entry.extend_from_slice(b"W2ru");
        entry.extend_from_slice(&512u32.to_be_bytes());
        entry.extend_from_slice(&(data.len() as u32).to_be_bytes());
        entry.extend_from_slice(&0u32.to_be_bytes());
        entry.extend_from_slice(&data_at.to_be_bytes());
        patch(&child, HEADER_AT + 576, &entry);
    }
    reseal(&child, HEADER_AT, 1024, 36);
    (child, expected)
}

#[test]
fn differencing_disk_reads_its_sectors_then_its_parent() {
    for use_locator in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let (child, expected) = differencing(dir.path(), use_locator);
        let disk = open(&child).unwrap();
        assert_eq!(disk.info().variant, "differencing");
        assert_eq!(disk.info().backing, vec![dir.path().join("base.vhd")]);
        common::assert_reads(&*disk, &expected);
        // The cleared sectors take the parent's allocation.
        let at = (3 << 20) + 512;
        let e = disk.extent_at(at).unwrap();
        assert_eq!((e.start, e.end), (at, 3 << 20 | 4096));
        assert_eq!(
            disk.extent_at(3 << 20 | 4096).unwrap().allocation,
            Allocation::Data
        );
    }
}

#[test]
fn differencing_disk_refuses_a_parent_with_another_id() {
    let dir = tempfile::tempdir().unwrap();
    let (child, _) = differencing(dir.path(), true);
    patch_header(&child, 40, &[0x42; 16]);
    let err = open(&child).unwrap_err();
    assert!(matches!(err, DiskError::Backing { .. }), "{err}");
    assert!(err.to_string().contains("unique id"), "{err}");
}

#[test]
fn differencing_disk_refuses_a_locator_outside_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (child, _) = differencing(dir.path(), true);
    patch_header(&child, 576 + 16, &(1u64 << 40).to_be_bytes());
    assert_refused(&child, "platform data offset");
    patch_header(&child, 576 + 8, &(1u32 << 30).to_be_bytes());
    assert_refused(&child, "platform data length");
}

#[test]
fn damaged_footers_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let fixed = convert(dir.path(), "fixed", "fixed.vhd");
    let end = std::fs::metadata(&fixed).unwrap().len() - FOOTER;
    patch(&fixed, end + 64, &[0, 0, 0, 0]);
    assert_refused(&fixed, "footer field checksum");

    let cases: [(u64, &[u8], &str); 4] = [
        (60, &5u32.to_be_bytes(), "footer field disk type"),
        (48, &(1u64 << 62).to_be_bytes(), "footer field current size"),
        (
            12,
            &0x0002_0000u32.to_be_bytes(),
            "footer field file format version",
        ),
        (16, &(1u64 << 50).to_be_bytes(), "footer field data offset"),
    ];
    for (rel, bytes, field) in cases {
        let image = convert(dir.path(), "dynamic", "dynamic.vhd");
        patch_footers(&image, rel, bytes);
        assert_refused(&image, field);
    }
}

#[test]
fn a_fixed_disk_shorter_than_its_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fixed = convert(dir.path(), "fixed", "fixed.vhd");
    let len = std::fs::metadata(&fixed).unwrap().len();
    let footer = read(&fixed, len - FOOTER, FOOTER as usize);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&fixed)
        .unwrap();
    f.set_len(len - 4096).unwrap();
    drop(f);
    patch(&fixed, len - 4096 - FOOTER, &footer);
    assert_refused(&fixed, "footer field current size");
}

#[test]
fn damaged_dynamic_headers_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(u64, &[u8], &str); 7] = [
        (16, &(1u64 << 40).to_be_bytes(), "table offset"),
        (16, &0x601u64.to_be_bytes(), "table offset"),
        (28, &(1u32 << 31).to_be_bytes(), "max table entries"),
        (28, &3u32.to_be_bytes(), "max table entries"),
        (32, &0u32.to_be_bytes(), "block size"),
        (32, &3000u32.to_be_bytes(), "block size"),
        (0, b"notspars", "cookie"),
    ];
    for (rel, bytes, field) in cases {
        let image = convert(dir.path(), "dynamic", "dynamic.vhd");
        patch_header(&image, rel, bytes);
        assert_refused(&image, &format!("dynamic disk header field {field}"));
    }
    let image = convert(dir.path(), "dynamic", "dynamic.vhd");
    patch(&image, HEADER_AT + 100, &[1]);
    assert_refused(&image, "dynamic disk header field checksum");
}

#[test]
fn bad_table_entries_are_refused_when_read() {
    let dir = tempfile::tempdir().unwrap();
    for sector in [0x00FF_FFFFu32, 1, 3, 0] {
        let image = convert(dir.path(), "dynamic", "dynamic.vhd");
        patch(&image, BAT_AT, &sector.to_be_bytes());
        assert_refused(&image, "block allocation table entry 0");
    }
}

#[test]
fn a_file_too_short_for_a_footer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("tiny.vhd");
    std::fs::write(&image, b"conectix").unwrap();
    assert_refused(&image, "footer");
}

#[test]
fn a_terabyte_disk_opens_and_maps_without_reading_it_all() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("big.vhd");
    common::qemu_img(&[
        "create",
        "-f",
        "vpc",
        "-o",
        "subformat=dynamic,force_size=on",
        image.to_str().unwrap(),
        "1T",
    ]);
    common::run(
        "qemu-io",
        &["-c", "write -P 0x19 700G 64k", image.to_str().unwrap()],
    );
    let disk = open(&image).unwrap();
    assert_eq!(disk.size(), 1 << 40);
    let map = extents(&*disk, 0, disk.size()).unwrap();
    let data: Vec<_> = map.iter().filter(|e| e.allocation.is_data()).collect();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0].start, 700 << 30);
    let mut buf = vec![0u8; 128 << 10];
    disk.read_at((700 << 30) - (32 << 10), &mut buf).unwrap();
    assert!(buf[..32 << 10].iter().all(|&b| b == 0));
    assert!(buf[32 << 10..96 << 10].iter().all(|&b| b == 0x19));
    assert!(buf[96 << 10..].iter().all(|&b| b == 0));
}

#[test]
fn threads_reading_one_disk_at_once_read_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let image = convert(dir.path(), "dynamic", "dynamic.vhd");
    let expected = qemu_raw(&image, dir.path());
    let disk = open(&image).unwrap();
    let disk = &*disk;
    let quarter = expected.len() / 4;
    std::thread::scope(|s| {
        for (i, part) in expected.chunks(quarter).enumerate() {
            s.spawn(move || {
                let mut buf = vec![0u8; part.len()];
                disk.read_at((i * quarter) as u64, &mut buf).unwrap();
                assert!(buf == part, "quarter {i} differs");
            });
        }
    });
}
