//! Unit tests of the pieces qemu-img cannot produce: qemu-img does not
//! create differencing VHDX files, so the parent locator and the sector
//! bitmap are checked on structures built from the specification's layout.

use super::metadata::{parse_parent_locator, VHDX_PARENT_LOCATOR};
use super::{checksum, sector_run};
use crate::error::DiskError;
use crate::io::ReadAt;

/// A parent locator item as [MS-VHDX] 2.6.2.6 lays it out: the type GUID,
/// 2 reserved bytes, the entry count, 12-byte entries, then the UTF-16LE
/// keys and values they point at.
fn locator(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut item = VHDX_PARENT_LOCATOR.0.to_vec();
    item.extend_from_slice(&0u16.to_le_bytes());
    item.extend_from_slice(&(pairs.len() as u16).to_le_bytes());
    let mut strings = Vec::new();
    let data_start = 20 + 12 * pairs.len();
    let mut entries = Vec::new();
    for (key, value) in pairs {
        let key: Vec<u8> = key.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let value: Vec<u8> = value.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let key_at = data_start + strings.len();
        strings.extend_from_slice(&key);
        let value_at = data_start + strings.len();
        strings.extend_from_slice(&value);
        entries.extend_from_slice(&(key_at as u32).to_le_bytes());
        entries.extend_from_slice(&(value_at as u32).to_le_bytes());
        entries.extend_from_slice(&(key.len() as u16).to_le_bytes());
        entries.extend_from_slice(&(value.len() as u16).to_le_bytes());
    }
    item.extend_from_slice(&entries);
    item.extend_from_slice(&strings);
    item
}

fn some_file() -> (tempfile::TempDir, ReadAt) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("child.vhdx");
    std::fs::write(&path, b"x").unwrap();
    let src = ReadAt::open(&path).unwrap();
    (dir, src)
}

#[test]
fn parent_locator_entries_are_read_and_the_relative_path_made_portable() {
    let (_dir, src) = some_file();
    let item = locator(&[
        ("parent_linkage", "{83A2B0B1-2C5E-4A6B-9F1D-0C7E6A9B1234}"),
        ("relative_path", ".\\parent.vhdx"),
        (
            "volume_path",
            "\\\\?\\Volume{26A21BDA-A627-11D7-9931-806E6F6E6963}\\parent.vhdx",
        ),
        ("absolute_win32_path", "C:\\VMs\\parent.vhdx"),
    ]);
    let parsed = parse_parent_locator(&src, &item, 4096).unwrap();
    assert_eq!(parsed.entries.len(), 4);
    assert_eq!(
        parsed.get("absolute_win32_path"),
        Some("C:\\VMs\\parent.vhdx")
    );
    assert_eq!(parsed.relative_path().as_deref(), Some("./parent.vhdx"));
}

#[test]
fn hostile_parent_locators_are_malformed_not_panics() {
    let (_dir, src) = some_file();
    let good = locator(&[("relative_path", ".\\parent.vhdx")]);

    // The count claims more entries than the item holds.
    let mut many = good.clone();
    many[18..20].copy_from_slice(&u16::MAX.to_le_bytes());
    let err = parse_parent_locator(&src, &many, 0).unwrap_err();
    assert!(err.to_string().contains("KeyValueCount"), "{err}");

    // A value that runs past the item.
    let mut long = good.clone();
    long[30..32].copy_from_slice(&u16::MAX.to_le_bytes());
    let err = parse_parent_locator(&src, &long, 0).unwrap_err();
    assert!(err.to_string().contains("inside the"), "{err}");

    // A key offset pointing into the entry table itself.
    let mut inside = good.clone();
    inside[20..24].copy_from_slice(&0u32.to_le_bytes());
    assert!(parse_parent_locator(&src, &inside, 0).is_err());

    // An odd length cannot be UTF-16.
    let mut odd = good.clone();
    odd[28..30].copy_from_slice(&3u16.to_le_bytes());
    assert!(parse_parent_locator(&src, &odd, 0).is_err());

    // A duplicated key.
    let twice = locator(&[("relative_path", "a.vhdx"), ("relative_path", "b.vhdx")]);
    let err = parse_parent_locator(&src, &twice, 0).unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");

    // Too short for the header.
    assert!(parse_parent_locator(&src, &good[..10], 0).is_err());

    // Another locator type is a feature not read.
    let mut other = good.clone();
    other[0] ^= 1;
    assert!(matches!(
        parse_parent_locator(&src, &other, 0),
        Err(DiskError::Unsupported { .. })
    ));
}

#[test]
fn sector_runs_follow_the_bitmap_bit_0_of_byte_0_first() {
    // Sectors 0-2 present, 3-9 absent, 10-15 present.
    let bitmap = [0b0000_0111u8, 0b1111_1100];
    assert_eq!(sector_run(&bitmap, 0, 8192, 512), (true, 1536));
    assert_eq!(sector_run(&bitmap, 700, 8192, 512), (true, 1536));
    assert_eq!(sector_run(&bitmap, 1536, 8192, 512), (false, 5120));
    assert_eq!(sector_run(&bitmap, 5120, 6000, 512), (true, 6000));
    // Past the bitmap reads as absent rather than panicking.
    assert_eq!(sector_run(&bitmap, 8192, 9000, 512), (false, 9000));
}

#[test]
fn the_checksum_treats_its_own_field_as_zero() {
    let mut buf = vec![7u8; 64];
    buf[4..8].copy_from_slice(&[0; 4]);
    let expected = crc32c::crc32c(&buf);
    buf[4..8].copy_from_slice(&expected.to_le_bytes());
    assert_eq!(checksum(&buf, 4), (expected, expected));
    // CRC-32C of "123456789" is the catalogue's check value.
    assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
}
