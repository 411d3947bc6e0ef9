//! VHDX images made by qemu-img read exactly as `qemu-img convert -O raw`
//! reads them, and damaged ones are refused with an error naming the
//! structure.
//!
//! qemu-img neither creates nor reads differencing VHDX files, so the
//! differencing test turns a qemu-made dynamic image into one by patching
//! the fields the specification names (HasParent, a parent locator item,
//! block states, a sector bitmap block) and computes the expected bytes
//! from the two layers' own qemu reads.

mod common;

use std::fs::OpenOptions as FileOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use imsprep_disk::{extents, open_as, Allocation, Disk, DiskError, Kind, OpenOptions};

const MIB: u64 = 1 << 20;

fn open(path: &Path) -> Result<Box<dyn Disk>, DiskError> {
    open_as(path, Kind::Vhdx, &OpenOptions::default())
}

/// Converts `raw` to a VHDX with qemu-img `options`.
fn convert(raw: &Path, dir: &Path, name: &str, options: &str) -> PathBuf {
    let out = dir.join(name);
    common::qemu_img(&[
        "convert",
        "-O",
        "vhdx",
        "-o",
        options,
        raw.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    out
}

fn read_u32(path: &Path, at: u64) -> u32 {
    let mut b = [0u8; 4];
    std::fs::File::open(path)
        .unwrap()
        .read_exact_at(&mut b, at)
        .unwrap();
    u32::from_le_bytes(b)
}

fn read_u64(path: &Path, at: u64) -> u64 {
    let mut b = [0u8; 8];
    std::fs::File::open(path)
        .unwrap()
        .read_exact_at(&mut b, at)
        .unwrap();
    u64::from_le_bytes(b)
}

fn patch(path: &Path, at: u64, bytes: &[u8]) {
    let f = FileOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, at).unwrap();
}

/// Recomputes the CRC-32C of the `len`-byte structure at `at` (checksum
/// field at +4), as a writer would after changing it.
fn fix_crc(path: &Path, at: u64, len: usize) {
    let f = FileOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut buf = vec![0u8; len];
    f.read_exact_at(&mut buf, at).unwrap();
    buf[4..8].fill(0);
    let crc = crc32c::crc32c(&buf);
    f.write_all_at(&crc.to_le_bytes(), at + 4).unwrap();
}

const HEADERS: [u64; 2] = [64 << 10, 128 << 10];
const REGION_TABLE: u64 = 192 << 10;
const BAT_GUID: [u8; 16] = [
    0x66, 0x77, 0xC2, 0x2D, 0x23, 0xF6, 0x00, 0x42, 0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08,
];
const METADATA_GUID: [u8; 16] = [
    0x06, 0xA2, 0x7C, 0x8B, 0x90, 0x47, 0x9A, 0x4B, 0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E,
];
const FILE_PARAMETERS_GUID: [u8; 16] = [
    0x37, 0x67, 0xA1, 0xCA, 0x36, 0xFA, 0x43, 0x4D, 0xB3, 0xB6, 0x33, 0xF0, 0xAA, 0x44, 0xE7, 0x6B,
];
const VIRTUAL_SIZE_GUID: [u8; 16] = [
    0x24, 0x42, 0xA5, 0x2F, 0x1B, 0xCD, 0x76, 0x48, 0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8,
];
const PARENT_LOCATOR_GUID: [u8; 16] = [
    0x2D, 0x5F, 0xD3, 0xA8, 0x0B, 0xB3, 0x4D, 0x45, 0xAB, 0xF7, 0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C,
];
const VHDX_LOCATOR_TYPE: [u8; 16] = [
    0xB7, 0xEF, 0x4A, 0xB0, 0x9E, 0xD1, 0x81, 0x4A, 0xB7, 0x89, 0x25, 0xB8, 0xE9, 0x44, 0x59, 0x13,
];
const LOGICAL_SECTOR_GUID: [u8; 16] = [
    0x1D, 0xBF, 0x41, 0x81, 0x6F, 0xA9, 0x09, 0x47, 0xBA, 0x47, 0xF2, 0x33, 0xA8, 0xFA, 0xAB, 0x5F,
];

/// The header with the higher sequence number.
fn current_header(path: &Path) -> u64 {
    if read_u64(path, HEADERS[0] + 8) > read_u64(path, HEADERS[1] + 8) {
        HEADERS[0]
    } else {
        HEADERS[1]
    }
}

/// The offset in the file of the region table entry with `guid`, and the
/// region's offset.
fn region(path: &Path, guid: [u8; 16]) -> (u64, u64) {
    let count = read_u32(path, REGION_TABLE + 8) as u64;
    let table = std::fs::read(path).unwrap();
    for i in 0..count {
        let at = REGION_TABLE + 16 + i * 32;
        if table[at as usize..at as usize + 16] == guid {
            return (at, read_u64(path, at + 16));
        }
    }
    panic!("no such region");
}

/// The file offset of the metadata item with `guid`.
fn metadata_item(path: &Path, guid: [u8; 16]) -> u64 {
    let (_, base) = region(path, METADATA_GUID);
    let count = u64::from(read_u32(path, base + 8) >> 16);
    let file = std::fs::read(path).unwrap();
    for i in 0..count {
        let at = base + 32 + i * 32;
        if file[at as usize..at as usize + 16] == guid {
            return base + u64::from(read_u32(path, at + 16));
        }
    }
    panic!("no such metadata item");
}

fn assert_malformed(result: Result<Box<dyn Disk>, DiskError>, needle: &str) -> String {
    let err = result.expect_err("the damaged image opened");
    let text = err.to_string();
    assert!(
        matches!(err, DiskError::Malformed { .. }),
        "expected a malformed-image error, got {err:?}"
    );
    assert!(
        text.contains(needle),
        "{text:?} does not mention {needle:?}"
    );
    text
}

#[test]
fn fixed_and_dynamic_images_read_as_qemu_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let raw = common::sample_raw(dir.path(), 64 * MIB);
    for subformat in ["fixed", "dynamic"] {
        for block in ["1M", "8M", "32M", "256M"] {
            let name = format!("{subformat}-{block}.vhdx");
            let image = convert(
                &raw,
                dir.path(),
                &name,
                &format!("subformat={subformat},block_size={block}"),
            );
            let disk = open(&image).unwrap();
            assert_eq!(disk.info().format, "vhdx");
            assert_eq!(disk.info().variant, subformat, "{name}");
            common::assert_reads(&*disk, &common::qemu_raw(&image, dir.path()));
            disk.check_unchanged().unwrap();
        }
    }
}

#[test]
fn dynamic_images_report_their_block_states() {
    let dir = tempfile::tempdir().unwrap();
    let raw = common::sample_raw(dir.path(), 64 * MIB);
    // With zero blocks off, blocks never written are "not present".
    let sparse = convert(
        &raw,
        dir.path(),
        "not-present.vhdx",
        "subformat=dynamic,block_size=1M,block_state_zero=off",
    );
    let zeroed = convert(
        &raw,
        dir.path(),
        "zero.vhdx",
        "subformat=dynamic,block_size=1M",
    );
    for (image, empty) in [
        (sparse, Allocation::Unallocated),
        (zeroed, Allocation::Zero),
    ] {
        let disk = open(&image).unwrap();
        common::assert_reads(&*disk, &common::qemu_raw(&image, dir.path()));
        let map = extents(&*disk, 0, disk.size()).unwrap();
        // Data at the start, an empty run in the middle, data at the end.
        assert_eq!(map.first().unwrap().allocation, Allocation::Data);
        assert_eq!(map.last().unwrap().allocation, Allocation::Data);
        assert!(
            map.iter()
                .any(|e| e.allocation == empty && e.len() >= 8 * MIB),
            "{image:?}: {map:?}"
        );
        // A run of empty blocks is one extent, not one per block.
        let first_empty = map.iter().find(|e| e.allocation == empty).unwrap();
        let e = disk.extent_at(first_empty.start).unwrap();
        assert!(e.len() > MIB, "{e:?}");
    }
}

#[test]
fn a_disk_past_the_first_chunk_reads_through_the_interleaved_bitmap_entries() {
    // With 1 MiB blocks and 512-byte sectors a chunk is 4096 blocks (4 GiB),
    // so blocks past 4 GiB sit after a sector bitmap entry in the BAT.
    let dir = tempfile::tempdir().unwrap();
    let size = 4 * 1024 * MIB + 40 * MIB;
    let raw = common::sample_raw(dir.path(), size);
    common::write_pattern(&raw, 4 * 1024 * MIB - 200_000, 600_000, 9);
    let image = convert(
        &raw,
        dir.path(),
        "big.vhdx",
        "subformat=dynamic,block_size=1M",
    );
    let reference = dir.path().join("big.qemu.raw");
    common::qemu_img(&[
        "convert",
        "-O",
        "raw",
        image.to_str().unwrap(),
        reference.to_str().unwrap(),
    ]);
    let disk = open(&image).unwrap();
    assert_eq!(disk.size(), size);
    let expected = std::fs::File::open(&reference).unwrap();
    // Compare all of every stored run, in pieces that straddle blocks, and
    // the first and last MiB of each empty run (reading 4 GiB of zeros
    // twice would only slow the test).
    let step = 8 * MIB as usize + 4093;
    let (mut want, mut got) = (vec![0u8; step], vec![0u8; step]);
    let mut compare = |start: u64, end: u64, empty: bool| {
        let mut pos = start;
        while pos < end {
            let len = (end - pos).min(step as u64) as usize;
            expected.read_exact_at(&mut want[..len], pos).unwrap();
            disk.read_at(pos, &mut got[..len]).unwrap();
            assert!(want[..len] == got[..len], "difference in {pos}..+{len}");
            if empty {
                assert!(
                    got[..len] == vec![0u8; len][..],
                    "{start}..{end} holds data"
                );
            }
            pos += len as u64;
        }
    };
    let map = extents(&*disk, 0, size).unwrap();
    for extent in &map {
        if extent.allocation == Allocation::Data {
            compare(extent.start, extent.end, false);
        } else {
            let head = (extent.start + MIB).min(extent.end);
            let tail = extent.end.saturating_sub(MIB).max(head);
            compare(extent.start, head, true);
            compare(tail, extent.end, true);
        }
    }
    let stored: u64 = map
        .iter()
        .filter(|e| e.allocation.is_data())
        .map(|e| e.len())
        .sum();
    assert!(stored < 16 * MIB, "{stored} bytes reported stored");
    // The reference has data past the first chunk where this disk says so.
    let tail = disk.extent_at(size - 1).unwrap();
    assert_eq!(tail.allocation, Allocation::Data);
}

#[test]
fn a_4096_byte_logical_sector_is_read() {
    // qemu-img writes (and reads) 512-byte sectors only; a 64 MiB disk has
    // fewer blocks than either sector size's chunk, so its BAT is laid out
    // the same with 4096-byte sectors and reads the same bytes as before
    // the patch.
    let dir = tempfile::tempdir().unwrap();
    let raw = common::sample_raw(dir.path(), 64 * MIB);
    let image = convert(
        &raw,
        dir.path(),
        "4k.vhdx",
        "subformat=dynamic,block_size=1M",
    );
    let expected = common::qemu_raw(&image, dir.path());
    patch(
        &image,
        metadata_item(&image, LOGICAL_SECTOR_GUID),
        &4096u32.to_le_bytes(),
    );
    let disk = open(&image).unwrap();
    common::assert_reads(&*disk, &expected);
}

/// A small dynamic image to damage.
fn victim(dir: &Path) -> PathBuf {
    let raw = common::sample_raw(dir, 64 * MIB);
    convert(&raw, dir, "victim.vhdx", "subformat=dynamic,block_size=1M")
}

#[test]
fn a_log_with_entries_to_replay_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let image = victim(dir.path());
    let header = current_header(&image);
    patch(&image, header + 48, &[0x5A; 16]);
    fix_crc(&image, header, 4096);
    let err = open(&image).unwrap_err();
    assert!(matches!(err, DiskError::Unsupported { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("a log with entries to replay"), "{text}");
    assert!(text.contains("qemu-img check -r all"), "{text}");
}

#[test]
fn the_current_header_is_the_valid_one_with_the_higher_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let image = victim(dir.path());
    let expected = common::qemu_raw(&image, dir.path());
    let current = current_header(&image);
    let other = if current == HEADERS[0] {
        HEADERS[1]
    } else {
        HEADERS[0]
    };

    // A log in the older header does not matter while the newer is valid.
    patch(&image, other + 48, &[0x5A; 16]);
    fix_crc(&image, other, 4096);
    common::assert_reads(&*open(&image).unwrap(), &expected);

    // With the newer header's checksum broken, the older one is current.
    patch(&image, current + 4, &[0xFF; 4]);
    let err = open(&image).unwrap_err();
    assert!(
        err.to_string().contains("a log with entries to replay"),
        "{err}"
    );

    // Restoring the older one's log, it alone is used and reads the same.
    patch(&image, other + 48, &[0; 16]);
    fix_crc(&image, other, 4096);
    common::assert_reads(&*open(&image).unwrap(), &expected);

    // Both broken: no header.
    patch(&image, other + 4, &[0xFF; 4]);
    let text = assert_malformed(open(&image), "headers");
    assert!(text.contains("CRC-32C"), "{text}");
}

#[test]
fn a_wrong_file_type_identifier_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = victim(dir.path());
    patch(&image, 0, b"vhdxfilX");
    assert_malformed(open(&image), "file type identifier");
    // A file shorter than the header section.
    let short = dir.path().join("short.vhdx");
    std::fs::write(&short, b"vhdxfile").unwrap();
    assert_malformed(open(&short), "header section");
}

#[test]
fn a_region_table_with_too_many_entries_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = victim(dir.path());
    patch(&image, REGION_TABLE + 8, &(1u32 << 16).to_le_bytes());
    fix_crc(&image, REGION_TABLE, 64 << 10);
    assert_malformed(open(&image), "EntryCount");
}

#[test]
fn a_bat_region_past_the_end_of_the_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = victim(dir.path());
    let (entry, _) = region(&image, BAT_GUID);
    let len = std::fs::metadata(&image).unwrap().len();
    patch(
        &image,
        entry + 16,
        &(len.next_multiple_of(MIB)).to_le_bytes(),
    );
    fix_crc(&image, REGION_TABLE, 64 << 10);
    let text = assert_malformed(open(&image), "BAT region");
    assert!(text.contains("past the end"), "{text}");
}

#[test]
fn a_bat_region_too_small_for_the_disk_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = victim(dir.path());
    // 1 TiB needs 1 Mi entries (8 MiB of BAT); the region holds 1 MiB.
    patch(
        &image,
        metadata_item(&image, VIRTUAL_SIZE_GUID),
        &(1u64 << 40).to_le_bytes(),
    );
    let text = assert_malformed(open(&image), "BAT region");
    assert!(text.contains("BAT entries"), "{text}");
}

#[test]
fn bad_file_parameters_and_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = victim(dir.path());
    let params = metadata_item(&image, FILE_PARAMETERS_GUID);
    let size = metadata_item(&image, VIRTUAL_SIZE_GUID);
    let sector = metadata_item(&image, LOGICAL_SECTOR_GUID);

    patch(&image, params, &(3 * MIB as u32).to_le_bytes());
    assert_malformed(open(&image), "BlockSize");
    patch(&image, params, &(512 * MIB as u32).to_le_bytes());
    assert_malformed(open(&image), "BlockSize");
    patch(&image, params, &(MIB as u32).to_le_bytes());

    patch(&image, size, &(1u64 << 62).to_le_bytes());
    assert_malformed(open(&image), "Virtual Disk Size");
    patch(&image, size, &(64 * MIB + 1).to_le_bytes());
    assert_malformed(open(&image), "Virtual Disk Size");
    patch(&image, size, &(64 * MIB).to_le_bytes());

    patch(&image, sector, &1000u32.to_le_bytes());
    assert_malformed(open(&image), "Logical Sector Size");
    patch(&image, sector, &512u32.to_le_bytes());

    // HasParent without a parent locator.
    patch(&image, params + 4, &2u32.to_le_bytes());
    assert_malformed(open(&image), "parent locator");
    patch(&image, params + 4, &0u32.to_le_bytes());
    open(&image).unwrap();
}

#[test]
fn bad_bat_entries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = victim(dir.path());
    let (_, bat) = region(&image, BAT_GUID);
    let (_, metadata) = region(&image, METADATA_GUID);
    let len = std::fs::metadata(&image).unwrap().len();
    let original = read_u64(&image, bat);
    assert_eq!(original & 7, 6, "block 0 of the sample holds data");

    let cases: [(u64, &str); 5] = [
        (((len >> 20) + 1) << 20 | 6, "past the end"),
        (6, "header section"),
        (metadata | 6, "metadata region"),
        (original & !7 | 7, "partially present"),
        (original & !7 | 4, "payload block state"),
    ];
    for (entry, needle) in cases {
        patch(&image, bat, &entry.to_le_bytes());
        let text = assert_malformed(open(&image), needle);
        assert!(text.contains("BAT entry 0"), "{text}");
    }
    patch(&image, bat, &original.to_le_bytes());
    open(&image).unwrap();
}

#[test]
fn a_truncated_file_is_refused_where_a_block_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let image = victim(dir.path());
    let len = std::fs::metadata(&image).unwrap().len();
    let f = FileOptions::new().write(true).open(&image).unwrap();
    f.set_len(len - MIB / 2).unwrap();
    assert_malformed(open(&image), "past the end");
}

#[test]
fn unknown_required_regions_and_metadata_items_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = victim(dir.path());
    let unknown = [0xA5u8; 16];

    // An optional unknown region is skipped.
    let count = read_u32(&image, REGION_TABLE + 8);
    let entry = REGION_TABLE + 16 + u64::from(count) * 32;
    let len = std::fs::metadata(&image).unwrap().len();
    let f = FileOptions::new().write(true).open(&image).unwrap();
    f.set_len(len + MIB).unwrap();
    let mut fields = unknown.to_vec();
    fields.extend_from_slice(&len.next_multiple_of(MIB).to_le_bytes());
    fields.extend_from_slice(&(MIB as u32).to_le_bytes());
    fields.extend_from_slice(&0u32.to_le_bytes());
    patch(&image, entry, &fields);
    patch(&image, REGION_TABLE + 8, &(count + 1).to_le_bytes());
    fix_crc(&image, REGION_TABLE, 64 << 10);
    open(&image).unwrap();

    // Marked required, it is refused.
    patch(&image, entry + 28, &1u32.to_le_bytes());
    fix_crc(&image, REGION_TABLE, 64 << 10);
    let err = open(&image).unwrap_err();
    assert!(matches!(err, DiskError::Unsupported { .. }), "{err:?}");
    assert!(
        err.to_string().contains("required region {A5A5A5A5-"),
        "{err}"
    );
    patch(&image, entry + 28, &0u32.to_le_bytes());
    fix_crc(&image, REGION_TABLE, 64 << 10);

    // The same for a metadata item (the table has no checksum).
    let (_, base) = region(&image, METADATA_GUID);
    let count = read_u32(&image, base + 8) >> 16;
    let entry = base + 32 + u64::from(count) * 32;
    let mut fields = unknown.to_vec();
    fields.extend_from_slice(&[0; 8]);
    fields.extend_from_slice(&0u32.to_le_bytes());
    patch(&image, entry, &fields);
    patch(&image, base + 10, &(count as u16 + 1).to_le_bytes());
    open(&image).unwrap();
    patch(&image, entry + 24, &4u32.to_le_bytes());
    let err = open(&image).unwrap_err();
    assert!(matches!(err, DiskError::Unsupported { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("required metadata item {A5A5A5A5-"),
        "{err}"
    );

    // A metadata table claiming more entries than it holds.
    patch(&image, base + 10, &u16::MAX.to_le_bytes());
    assert_malformed(open(&image), "EntryCount");
}

#[test]
fn many_threads_read_one_disk() {
    let dir = tempfile::tempdir().unwrap();
    let image = victim(dir.path());
    let expected = common::qemu_raw(&image, dir.path());
    let disk = open(&image).unwrap();
    std::thread::scope(|scope| {
        for t in 0..4u64 {
            let (disk, expected) = (&disk, &expected);
            scope.spawn(move || {
                let mut buf = vec![0u8; 3 * MIB as usize + 11];
                let mut pos = t * 777_777;
                while pos + buf.len() as u64 <= disk.size() {
                    disk.read_at(pos, &mut buf).unwrap();
                    assert!(buf[..] == expected[pos as usize..pos as usize + buf.len()]);
                    pos += 5 * MIB + t;
                }
            });
        }
    });
}

/// The current header's DataWriteGuid of `image`, as text (lower-case
/// hex in its last part, as the comparison ignores case).
fn data_write_guid(image: &Path) -> String {
    let mut b = [0u8; 16];
    let file = std::fs::File::open(image).unwrap();
    file.read_exact_at(&mut b, current_header(image) + 32)
        .unwrap();
    format!(
        "{{{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{}}}",
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_le_bytes([b[4], b[5]]),
        u16::from_le_bytes([b[6], b[7]]),
        b[8],
        b[9],
        b[10..]
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    )
}

/// A parent locator item as [MS-VHDX] 2.6.2.6 lays it out.
fn parent_locator(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut item = VHDX_LOCATOR_TYPE.to_vec();
    item.extend_from_slice(&0u16.to_le_bytes());
    item.extend_from_slice(&(pairs.len() as u16).to_le_bytes());
    let data_start = 20 + 12 * pairs.len();
    let (mut entries, mut strings) = (Vec::new(), Vec::new());
    for (key, value) in pairs {
        let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
        let (key, value) = (utf16(key), utf16(value));
        entries.extend_from_slice(&((data_start + strings.len()) as u32).to_le_bytes());
        entries.extend_from_slice(&((data_start + strings.len() + key.len()) as u32).to_le_bytes());
        entries.extend_from_slice(&(key.len() as u16).to_le_bytes());
        entries.extend_from_slice(&(value.len() as u16).to_le_bytes());
        strings.extend_from_slice(&key);
        strings.extend_from_slice(&value);
    }
    item.extend_from_slice(&entries);
    item.extend_from_slice(&strings);
    item
}

/// Makes `image` (a 1 MiB-block dynamic VHDX) a child naming its parent
/// `relative_path` and the parent's DataWriteGuid `linkage`: HasParent set
/// and a parent locator item added (or replaced).
fn make_differencing(image: &Path, relative_path: &str, linkage: &str) {
    let params = metadata_item(image, FILE_PARAMETERS_GUID);
    patch(image, params + 4, &2u32.to_le_bytes());
    let (_, base) = region(image, METADATA_GUID);
    let mut count = read_u32(image, base + 8) >> 16;
    let file = std::fs::read(image).unwrap();
    let slot = (0..count)
        .find(|i| {
            let at = (base + 32 + u64::from(*i) * 32) as usize;
            file[at..at + 16] == PARENT_LOCATOR_GUID
        })
        .unwrap_or_else(|| {
            count += 1;
            count - 1
        });
    let item = parent_locator(&[
        ("parent_linkage", linkage),
        ("relative_path", relative_path),
        ("absolute_win32_path", "C:\\VMs\\parent.vhdx"),
    ]);
    let item_offset = 512u32 << 10;
    let mut entry = PARENT_LOCATOR_GUID.to_vec();
    entry.extend_from_slice(&item_offset.to_le_bytes());
    entry.extend_from_slice(&(item.len() as u32).to_le_bytes());
    entry.extend_from_slice(&6u32.to_le_bytes());
    entry.extend_from_slice(&0u32.to_le_bytes());
    patch(image, base + 32 + u64::from(slot) * 32, &entry);
    patch(image, base + 10, &(count as u16).to_le_bytes());
    patch(image, base + u64::from(item_offset), &item);
}

#[test]
fn a_differencing_disk_reads_through_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let size = 64 * MIB;
    let block = MIB as usize;
    let sectors = block / 512;

    // The parent: data at the sample's places and over blocks 8-13.
    let parent_raw = common::sample_raw(dir.path(), size);
    common::write_pattern(&parent_raw, 8 * MIB, 6 * block, 5);
    let parent = convert(
        &parent_raw,
        dir.path(),
        "parent.vhdx",
        "subformat=dynamic,block_size=1M",
    );
    let below = common::qemu_raw(&parent, dir.path());

    // The child's own data: blocks 3-5, 10 and 40.
    let child_raw = dir.path().join("child.raw");
    std::fs::File::create(&child_raw)
        .unwrap()
        .set_len(size)
        .unwrap();
    common::write_pattern(&child_raw, 3 * MIB, 3 * block, 6);
    common::write_pattern(&child_raw, 10 * MIB, block, 7);
    common::write_pattern(&child_raw, 40 * MIB, block, 8);
    let child = convert(
        &child_raw,
        dir.path(),
        "child.vhdx",
        "subformat=dynamic,block_size=1M",
    );
    let own = common::qemu_raw(&child, dir.path());
    let linkage = data_write_guid(&parent);
    make_differencing(&child, ".\\parent.vhdx", &linkage);

    // Blocks qemu marked zero now come from the parent, except block 21,
    // which stays zero over the parent's data; block 10 is partially
    // present, its sectors 0-99, 1000-1500 and 2047 stored in the child.
    let (_, bat) = region(&child, BAT_GUID);
    for i in 0..64u64 {
        let entry = read_u64(&child, bat + i * 8);
        if entry & 7 == 2 && i != 21 {
            patch(&child, bat + i * 8, &0u64.to_le_bytes());
        }
    }
    let block10 = read_u64(&child, bat + 10 * 8);
    assert_eq!(block10 & 7, 6);
    patch(&child, bat + 10 * 8, &(block10 & !7 | 7).to_le_bytes());
    let present = |s: usize| s < 100 || (1000..1500).contains(&s) || s == sectors - 1;
    let mut bits = vec![0u8; sectors / 8];
    for s in (0..sectors).filter(|&s| present(s)) {
        bits[s / 8] |= 1 << (s % 8);
    }
    let len = std::fs::metadata(&child).unwrap().len();
    let bitmap_at = len.next_multiple_of(MIB);
    FileOptions::new()
        .write(true)
        .open(&child)
        .unwrap()
        .set_len(bitmap_at + MIB)
        .unwrap();
    patch(&child, bitmap_at + 10 * (sectors as u64 / 8), &bits);
    // Chunk 0's sector bitmap entry follows its 4096 payload entries.
    patch(&child, bat + 4096 * 8, &(bitmap_at | 6).to_le_bytes());

    let mut expected = below.clone();
    for b in [3usize, 4, 5, 40] {
        expected[b * block..(b + 1) * block].copy_from_slice(&own[b * block..(b + 1) * block]);
    }
    expected[21 * block..22 * block].fill(0);
    for s in (0..sectors).filter(|&s| present(s)) {
        let at = 10 * block + s * 512;
        expected[at..at + 512].copy_from_slice(&own[at..at + 512]);
    }
    assert_ne!(expected, below, "the child changes what the parent holds");

    let disk = open(&child).unwrap();
    assert_eq!(disk.info().variant, "differencing");
    assert_eq!(disk.info().backing, vec![parent.clone()]);
    common::assert_reads(&*disk, &expected);
    let zero = disk.extent_at(21 * MIB + 5).unwrap();
    assert_eq!(zero.allocation, Allocation::Zero);
    assert_eq!(zero.end, 22 * MIB);
    let stored = disk.extent_at(10 * MIB + 1000 * 512).unwrap();
    assert_eq!(stored.allocation, Allocation::Data);
    assert_eq!(stored.end, 10 * MIB + 1500 * 512);
    disk.check_unchanged().unwrap();

    // The parent is followed only by a plain name in the child's folder.
    make_differencing(&child, "..\\parent.vhdx", &linkage);
    let err = open(&child).unwrap_err();
    assert!(matches!(err, DiskError::Backing { .. }), "{err:?}");

    // A parent written to after the child was made is another disk.
    let other = "{00112233-4455-6677-8899-AABBCCDDEEFF}";
    make_differencing(&child, ".\\parent.vhdx", other);
    let err = open(&child).unwrap_err();
    assert!(matches!(err, DiskError::Backing { .. }), "{err:?}");
    assert!(err.to_string().contains("DataWriteGuid"), "{err}");

    // A partially present block whose chunk has no sector bitmap block.
    make_differencing(&child, ".\\parent.vhdx", &linkage);
    patch(&child, bat + 4096 * 8, &0u64.to_le_bytes());
    let disk = open(&child).unwrap();
    let err = disk.read_at(10 * MIB, &mut [0u8; 512]).unwrap_err();
    assert!(err.to_string().contains("sector bitmap block"), "{err}");
}

/// What qemu reads in `len` bytes at `offset` of `image` (through its raw
/// driver's window, so a huge disk need not be converted whole).
fn qemu_window(image: &Path, dir: &Path, offset: u64, len: u64) -> Vec<u8> {
    let out = dir.join("window.raw");
    let spec = format!(
        "driver=raw,offset={offset},size={len},file.driver=vhdx,file.file.driver=file,\
         file.file.filename={}",
        image.display()
    );
    common::qemu_img(&[
        "convert",
        "--image-opts",
        &spec,
        "-O",
        "raw",
        out.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    bytes
}

#[test]
fn a_2_tib_disk_reads_its_bat_a_page_at_a_time() {
    // 2 Mi blocks of 1 MiB: a 16 MiB BAT, more than is read at open.
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("huge.vhdx");
    let size = 2u64 << 40;
    common::qemu_img(&[
        "create",
        "-f",
        "vhdx",
        "-o",
        "block_size=1M",
        image.to_str().unwrap(),
        &size.to_string(),
    ]);
    let places = [
        (12_345 * MIB, MIB),
        (1_500 << 30, 3 * MIB),
        (size - 2 * MIB, 2 * MIB),
    ];
    for (i, (at, len)) in places.iter().enumerate() {
        common::run(
            "qemu-io",
            &[
                "-f",
                "vhdx",
                "-c",
                &format!("write -P {} {at} {len}", 0x41 + i),
                image.to_str().unwrap(),
            ],
        );
    }
    let disk = open(&image).unwrap();
    assert_eq!(disk.size(), size);
    for (at, len) in places {
        // A window reaching into the blocks before and after the data
        // (qemu's is sector-aligned; this reader's starts and ends inside a
        // sector).
        let start = at.saturating_sub(MIB + 512);
        let len = (len + 2 * MIB + 1024).min(size - start);
        let expected = qemu_window(&image, dir.path(), start, len);
        let mut got = vec![0u8; len as usize - 14];
        disk.read_at(start + 7, &mut got).unwrap();
        assert!(
            got[..] == expected[7..len as usize - 7],
            "difference in {start}..+{len}"
        );
        assert!(got.iter().any(|&b| b != 0));
    }
    let map = extents(&*disk, 0, size).unwrap();
    let stored: Vec<(u64, u64)> = map
        .iter()
        .filter(|e| e.allocation.is_data())
        .map(|e| (e.start, e.len()))
        .collect();
    assert_eq!(stored, places.to_vec());
    assert!(map.len() < 16, "{} extents", map.len());
}

#[test]
fn damaged_structures_give_errors_never_panics() {
    // Random bytes written over the headers, the region table (checksums
    // fixed, so the damage reaches the parsers), the metadata and the BAT
    // of a small image: every open and read returns, Ok or Err.
    let dir = tempfile::tempdir().unwrap();
    let raw = common::sample_raw(dir.path(), 8 * MIB);
    let pristine_path = convert(
        &raw,
        dir.path(),
        "pristine.vhdx",
        "subformat=dynamic,block_size=1M",
    );
    let (_, bat) = region(&pristine_path, BAT_GUID);
    let (_, metadata) = region(&pristine_path, METADATA_GUID);
    let pristine = std::fs::read(&pristine_path).unwrap();
    let image = dir.path().join("damaged.vhdx");
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    /// Where to write, and the structure whose checksum to fix after.
    struct Area {
        start: u64,
        len: u64,
        checksum: Option<(u64, usize)>,
    }
    let area = |start, len, checksum| Area {
        start,
        len,
        checksum,
    };
    let areas = [
        area(HEADERS[0], 80, Some((HEADERS[0], 4096))),
        area(HEADERS[1], 80, Some((HEADERS[1], 4096))),
        area(REGION_TABLE, 16 + 3 * 32, Some((REGION_TABLE, 64 << 10))),
        area(metadata, 64 << 10, None),
        area(bat, 80, None),
    ];
    let mut opened = 0;
    for round in 0..300 {
        std::fs::write(&image, &pristine).unwrap();
        let target = &areas[round % areas.len()];
        for _ in 0..1 + next() % 4 {
            let at = target.start + next() % target.len;
            // Small values and bit flips reach more branches than noise.
            let byte = match next() % 3 {
                0 => next() as u8,
                1 => pristine[at as usize] ^ (1 << (next() % 8)),
                _ => 0xFF,
            };
            patch(&image, at, &[byte]);
        }
        if let Some((at, len)) = target.checksum {
            fix_crc(&image, at, len);
        }
        // The metadata items lie at 64 KiB into their region.
        if round % 7 == 0 {
            let at = metadata + (64 << 10) + next() % 256;
            patch(&image, at, &(next() as u32).to_le_bytes());
        }
        let Ok(disk) = open(&image) else { continue };
        opened += 1;
        let mut buf = vec![0u8; 3 * MIB as usize + 3];
        let mut pos = 0;
        while pos < disk.size() {
            let len = (disk.size() - pos).min(buf.len() as u64) as usize;
            let _ = disk.read_at(pos, &mut buf[..len]);
            let _ = disk.extent_at(pos);
            pos += len as u64;
        }
    }
    assert!(
        opened > 0,
        "no damaged image opened, so reads were never tried"
    );
    assert!(opened < 300, "every damaged image opened");
}
