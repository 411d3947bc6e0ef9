//! VDI images made by qemu-img read byte for byte as `qemu-img convert -O
//! raw` reads them; damaged fields are refused with an error naming them.

mod common;

use std::path::{Path, PathBuf};

use imsprep_disk::{extents, open_as, Allocation, Disk, DiskError, Kind, OpenOptions};

const SIZE: u64 = 64 << 20;
/// Where qemu-img puts the block map.
const MAP_AT: u64 = 0x200;

fn open(path: &Path) -> Result<Box<dyn Disk>, DiskError> {
    open_as(path, Kind::Vdi, &OpenOptions::default())
}

fn convert(dir: &Path, static_: bool, name: &str) -> PathBuf {
    let raw = common::sample_raw(dir, SIZE);
    let out = dir.join(name);
    let options = format!("static={}", if static_ { "on" } else { "off" });
    common::qemu_img(&[
        "convert",
        "-O",
        "vdi",
        "-o",
        &options,
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

/// The error opening `path` and reading it whole.
fn refusal(path: &Path) -> DiskError {
    let disk = match open(path) {
        Err(e) => return e,
        Ok(disk) => disk,
    };
    // Map entries are checked when they are used.
    let mut buf = vec![0u8; 1 << 20];
    (0..disk.size())
        .step_by(1 << 20)
        .try_for_each(|at| disk.read_at(at, &mut buf))
        .expect_err("a damaged image was read")
}

fn assert_refused(path: &Path, field: &str) {
    let err = refusal(path);
    assert!(
        matches!(err, DiskError::Malformed { .. }) && err.to_string().contains(field),
        "the error does not name {field}: {err}"
    );
}

fn assert_unsupported(path: &Path, feature: &str) {
    let err = refusal(path);
    match &err {
        DiskError::Unsupported {
            feature: f, fix, ..
        } => {
            assert!(f.contains(feature), "{err}");
            assert!(fix.is_some(), "{err} gives no way out");
        }
        _ => panic!("expected {feature} to be unsupported: {err}"),
    }
}

#[test]
fn static_image_reads_like_qemu() {
    let dir = tempfile::tempdir().unwrap();
    let image = convert(dir.path(), true, "static.vdi");
    let disk = open(&image).unwrap();
    assert_eq!(disk.info().variant, "static");
    common::assert_reads(&*disk, &common::qemu_raw(&image, dir.path()));
}

#[test]
fn dynamic_image_reads_like_qemu_and_reports_its_holes() {
    let dir = tempfile::tempdir().unwrap();
    let image = convert(dir.path(), false, "dynamic.vdi");
    let disk = open(&image).unwrap();
    assert_eq!(disk.info().variant, "dynamic");
    common::assert_reads(&*disk, &common::qemu_raw(&image, dir.path()));
    let map = extents(&*disk, 0, disk.size()).unwrap();
    assert_eq!(map[0].allocation, Allocation::Data);
    assert!(map.iter().any(|e| e.allocation == Allocation::Unallocated));
}

#[test]
fn blocks_stored_out_of_order_read_like_qemu() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("written.vdi");
    common::qemu_img(&["create", "-f", "vdi", image.to_str().unwrap(), "50M"]);
    common::run(
        "qemu-io",
        &[
            "-c",
            "write -P 0x41 40M 1536k",
            "-c",
            "write -P 0x42 1M 4k",
            "-c",
            "write -P 0x43 20M 3M",
            "-c",
            "write -P 0x44 41M 8k",
            image.to_str().unwrap(),
        ],
    );
    let disk = open(&image).unwrap();
    common::assert_reads(&*disk, &common::qemu_raw(&image, dir.path()));
}

#[test]
fn discarded_blocks_read_as_recorded_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let image = convert(dir.path(), false, "dynamic.vdi");
    // Block 0 holds data; mark it discarded.
    patch(&image, MAP_AT, &0xFFFF_FFFEu32.to_le_bytes());
    let disk = open(&image).unwrap();
    let expected = common::qemu_raw(&image, dir.path());
    assert!(expected[..1 << 20].iter().all(|&b| b == 0));
    common::assert_reads(&*disk, &expected);
    let first = disk.extent_at(0).unwrap();
    assert_eq!(first.allocation, Allocation::Zero);
    assert_eq!(first.end, 1 << 20);
}

#[test]
fn damaged_headers_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(u64, &[u8], &str); 12] = [
        (0x40, &[0, 0, 0, 0], "signature"),
        (0x48, &0x100u32.to_le_bytes(), "header size"),
        (0x4C, &7u32.to_le_bytes(), "image type"),
        (0x178, &0u32.to_le_bytes(), "block size"),
        (0x178, &3000u32.to_le_bytes(), "block size"),
        (0x178, &(1u32 << 31).to_le_bytes(), "block size"),
        (0x170, &(1u64 << 62).to_le_bytes(), "disk size"),
        (
            0x154,
            &(1u32 << 31).to_le_bytes(),
            "offset of the block map",
        ),
        (0x180, &0x7FFF_FFFFu32.to_le_bytes(), "blocks in image"),
        (0x158, &0x204u32.to_le_bytes(), "offset of the data"),
        (0x158, &u32::MAX.to_le_bytes(), "offset of the data"),
        (0x184, &1000u32.to_le_bytes(), "blocks allocated"),
    ];
    for (at, bytes, field) in cases {
        let image = convert(dir.path(), false, "dynamic.vdi");
        patch(&image, at, bytes);
        assert_refused(&image, &format!("header field {field}"));
    }
}

#[test]
fn bad_map_entries_are_refused_when_read() {
    let dir = tempfile::tempdir().unwrap();
    for entry in [5u32, 0x7FFF_FFFF, 0xFFFF_FFFD] {
        let image = convert(dir.path(), false, "dynamic.vdi");
        patch(&image, MAP_AT + 4, &entry.to_le_bytes());
        assert_refused(&image, "block map entry 1");
    }
}

#[test]
fn differencing_and_old_images_are_refused_with_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(u64, &[u8], &str); 5] = [
        (0x4C, &4u32.to_le_bytes(), "differencing image"),
        (0x4C, &3u32.to_le_bytes(), "undo image"),
        (0x1A8, &[1; 16], "parent"),
        (0x44, &0x0000_0001u32.to_le_bytes(), "version 0.1"),
        (0x17C, &512u32.to_le_bytes(), "extra data"),
    ];
    for (at, bytes, feature) in cases {
        let image = convert(dir.path(), true, "static.vdi");
        patch(&image, at, bytes);
        assert_unsupported(&image, feature);
    }
}

#[test]
fn a_file_too_short_for_a_header_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("tiny.vdi");
    std::fs::write(&image, [0u8; 100]).unwrap();
    assert_refused(&image, "header");
}

#[test]
fn a_terabyte_image_opens_and_maps_without_reading_it_all() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("big.vdi");
    common::qemu_img(&["create", "-f", "vdi", image.to_str().unwrap(), "1T"]);
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
