//! Bitmap files round-trip, and damaged or foreign ones are rejected with a
//! message that names the field.

mod common;

use std::path::{Path, PathBuf};

use common::{build, scan, Op};
use imsprep_scan::{
    bitmap_path_for, check_bitmap_against, encode_bitmap, read_bitmap, write_bitmap, Bitmap,
    BitmapError, Mismatch, HEADER_LEN,
};

const MIB: u64 = 1 << 20;
const G: u64 = 64 << 10;

fn image(dir: &Path, name: &str, size: u64, ops: &[Op]) -> PathBuf {
    let path = dir.join(name);
    build(&path, size, G, ops);
    path
}

fn sample_ops() -> Vec<Op> {
    vec![
        Op::Data {
            start: 0,
            len: 10,
            byte: 1,
        },
        Op::Data {
            start: 3 * MIB,
            len: 100_000,
            byte: 7,
        },
        Op::Edge {
            block: 20,
            last: true,
            byte: 9,
        },
        Op::Zeros {
            start: MIB,
            len: 300_000,
        },
    ]
}

fn bitmap_of(path: &Path, granularity: u64) -> Bitmap {
    let result = scan(path, granularity, 64 * MIB);
    Bitmap {
        map: result.map,
        image_crc32: result.crc32,
    }
}

/// Rewrites the header CRC after a deliberate header change, so the check
/// under test is the field's own and not the checksum's.
fn reseal(bytes: &mut [u8]) {
    let crc = crc32fast::hash(&bytes[..60]);
    bytes[60..64].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn round_trip_and_overwrite_rules() {
    let dir = tempfile::tempdir().unwrap();
    let raw = image(dir.path(), "image01.raw", 5 * MIB + 123, &sample_ops());
    let mf = bitmap_path_for(&raw);
    assert_eq!(mf, dir.path().join("image01.mf"));

    let bitmap = bitmap_of(&raw, G);
    write_bitmap(&mf, &bitmap, false).unwrap();
    let read = read_bitmap(&mf).unwrap();
    assert_eq!(read, bitmap);
    assert_eq!(
        std::fs::metadata(&mf).unwrap().len(),
        HEADER_LEN as u64 + 81u64.div_ceil(8)
    );
    check_bitmap_against(&read.map, &scan(&raw, G, MIB).map).unwrap();

    let err = write_bitmap(&mf, &bitmap, false).unwrap_err();
    assert!(matches!(err, BitmapError::Exists { .. }), "{err}");
    write_bitmap(&mf, &bitmap, true).unwrap();
    // Only the bitmap and the image remain: no temporary files left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);

    // Without an image CRC, too.
    let plain = Bitmap {
        image_crc32: None,
        ..bitmap
    };
    write_bitmap(&mf, &plain, true).unwrap();
    assert_eq!(read_bitmap(&mf).unwrap(), plain);
}

#[test]
fn naming() {
    assert_eq!(
        bitmap_path_for(Path::new("a/image01.raw")),
        Path::new("a/image01.mf")
    );
    assert_eq!(bitmap_path_for(Path::new("disk")), Path::new("disk.mf"));
    assert_eq!(
        bitmap_path_for(Path::new("x.img.raw")),
        Path::new("x.img.mf")
    );
}

fn written(dir: &Path) -> (PathBuf, Vec<u8>) {
    let raw = image(dir, "image.raw", 5 * MIB + 123, &sample_ops());
    let mf = bitmap_path_for(&raw);
    write_bitmap(&mf, &bitmap_of(&raw, G), false).unwrap();
    let bytes = std::fs::read(&mf).unwrap();
    (mf, bytes)
}

fn reject(path: &Path, bytes: &[u8]) -> BitmapError {
    std::fs::write(path, bytes).unwrap();
    read_bitmap(path).unwrap_err()
}

#[test]
fn flipped_payload_bit_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let (mf, mut bytes) = written(dir.path());
    bytes[HEADER_LEN + 1] ^= 0x04;
    let err = reject(&mf, &bytes);
    assert!(matches!(err, BitmapError::PayloadChecksum { .. }), "{err}");
    assert!(err.to_string().contains("payload_crc32"), "{err}");
}

#[test]
fn flipped_header_bit_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let (mf, mut bytes) = written(dir.path());
    bytes[17] ^= 0x10; // granularity
    let err = reject(&mf, &bytes);
    assert!(matches!(err, BitmapError::HeaderChecksum { .. }), "{err}");
    assert!(err.to_string().contains("header_crc32"), "{err}");
}

#[test]
fn truncated_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let (mf, bytes) = written(dir.path());
    let err = reject(&mf, &bytes[..bytes.len() - 1]);
    assert!(matches!(err, BitmapError::Length { .. }), "{err}");
    assert!(err.to_string().contains("block_count"), "{err}");
    let err = reject(&mf, &bytes[..HEADER_LEN - 1]);
    assert!(matches!(err, BitmapError::TooShort { .. }), "{err}");
    assert!(err.to_string().contains("header"), "{err}");
    let err = reject(&mf, &[]);
    assert!(matches!(err, BitmapError::TooShort { len: 0, .. }), "{err}");
}

#[test]
fn bad_header_fields_are_rejected_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (mf, good) = written(dir.path());

    let mut bytes = good.clone();
    bytes[0] = b'X';
    let err = reject(&mf, &bytes);
    assert!(matches!(err, BitmapError::BadMagic { .. }), "{err}");
    assert!(err.to_string().contains("magic"), "{err}");

    let mut bytes = good.clone();
    bytes[8] = 2;
    let err = reject(&mf, &bytes);
    assert!(
        matches!(err, BitmapError::UnsupportedVersion { found: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("version"), "{err}");

    // A granularity that is not a power of two, or out of range.
    for value in [3u64 << 16, 2048, 64 << 20] {
        let mut bytes = good.clone();
        bytes[16..24].copy_from_slice(&value.to_le_bytes());
        reseal(&mut bytes);
        let err = reject(&mf, &bytes);
        assert!(
            matches!(
                err,
                BitmapError::Field {
                    field: "granularity",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("granularity"), "{err}");
    }

    // A valid granularity that does not fit the block count.
    let mut bytes = good.clone();
    bytes[16..24].copy_from_slice(&(128u64 << 10).to_le_bytes());
    reseal(&mut bytes);
    let err = reject(&mf, &bytes);
    assert!(
        matches!(
            err,
            BitmapError::Field {
                field: "block_count",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("block_count"), "{err}");

    // A block count so large the payload could not fit: rejected before
    // anything is allocated.
    let mut bytes = good.clone();
    bytes[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
    bytes[32..40].copy_from_slice(&(u64::MAX / G + 1).to_le_bytes());
    reseal(&mut bytes);
    let err = reject(&mf, &bytes);
    assert!(matches!(err, BitmapError::Length { .. }), "{err}");

    let mut bytes = good.clone();
    let wrong = u64::from_le_bytes(bytes[40..48].try_into().unwrap()) + 1;
    bytes[40..48].copy_from_slice(&wrong.to_le_bytes());
    reseal(&mut bytes);
    let err = reject(&mf, &bytes);
    assert!(matches!(err, BitmapError::DataBlockCount { .. }), "{err}");
    assert!(err.to_string().contains("data_block_count"), "{err}");

    let mut bytes = good.clone();
    bytes[12] = 0x03;
    reseal(&mut bytes);
    let err = reject(&mf, &bytes);
    assert!(
        matches!(err, BitmapError::Field { field: "flags", .. }),
        "{err}"
    );

    let mut bytes = good.clone();
    bytes[57] = 1;
    reseal(&mut bytes);
    let err = reject(&mf, &bytes);
    assert!(
        matches!(
            err,
            BitmapError::Field {
                field: "reserved",
                ..
            }
        ),
        "{err}"
    );

    // A set bit past the last block (81 blocks: byte 10, bits 1..8 unused),
    // with checksums and count fixed up so only that rule is broken.
    let mut bytes = good;
    let last = bytes.len() - 1;
    bytes[last] |= 0x80;
    let count = bytes[HEADER_LEN..]
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>();
    bytes[40..48].copy_from_slice(&count.to_le_bytes());
    let payload_crc = crc32fast::hash(&bytes[HEADER_LEN..]);
    bytes[52..56].copy_from_slice(&payload_crc.to_le_bytes());
    reseal(&mut bytes);
    let err = reject(&mf, &bytes);
    assert!(matches!(err, BitmapError::TrailingBits { .. }), "{err}");
    assert!(err.to_string().contains("block_count"), "{err}");
}

#[test]
fn wrong_granularity_is_a_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let raw = image(dir.path(), "image.raw", 5 * MIB + 123, &sample_ops());
    let bitmap = bitmap_of(&raw, G);
    let err = check_bitmap_against(&bitmap.map, &scan(&raw, 2 * MIB, 64 * MIB).map).unwrap_err();
    assert!(
        matches!(err, Mismatch::Granularity { bitmap: G, image } if image == 2 * MIB),
        "{err}"
    );
    assert!(err.to_string().contains("granularity"), "{err}");
}

#[test]
fn bitmap_for_another_image_is_a_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let raw = image(dir.path(), "image.raw", 5 * MIB + 123, &sample_ops());
    let bitmap = bitmap_of(&raw, G);

    let other_size = image(dir.path(), "bigger.raw", 6 * MIB, &sample_ops());
    let err = check_bitmap_against(&bitmap.map, &scan(&other_size, G, MIB).map).unwrap_err();
    assert!(matches!(err, Mismatch::ImageSize { .. }), "{err}");
    assert!(err.to_string().contains("image_size"), "{err}");

    let same_size = image(
        dir.path(),
        "other.raw",
        5 * MIB + 123,
        &[
            Op::Data {
                start: 2 * MIB + 5,
                len: 1,
                byte: 1,
            },
            Op::Data {
                start: 0,
                len: 1,
                byte: 1,
            },
        ],
    );
    let err = check_bitmap_against(&bitmap.map, &scan(&same_size, G, MIB).map).unwrap_err();
    let Mismatch::Blocks { count, first } = &err else {
        panic!("expected a block mismatch, got {err}");
    };
    // Image: blocks 0 and 32. Bitmap: 0, 20, 48 and 49.
    assert_eq!(*count, 4);
    let listed: Vec<(u64, bool)> = first.iter().map(|d| (d.block, d.in_bitmap)).collect();
    assert_eq!(
        listed,
        vec![(20, true), (32, false), (48, true), (49, true)]
    );
    assert_eq!(first[1].offset, 2 * MIB);
    assert!(
        err.to_string().contains("block 20 at byte 1310720"),
        "{err}"
    );
}

#[test]
fn encoding_is_stable() {
    // The layout is a published format: pin the header of a tiny map.
    let mut map = imsprep_scan::AllocationMap::new(4096, 3 * 4096 + 1).unwrap();
    map.set(1, true);
    map.set(3, true);
    let bytes = encode_bitmap(&Bitmap {
        map,
        image_crc32: Some(0xdead_beef),
    });
    assert_eq!(&bytes[..8], b"\x89IMSPMF\n");
    assert_eq!(&bytes[8..16], &[1, 0, 64, 0, 1, 0, 0, 0]);
    assert_eq!(u64::from_le_bytes(bytes[16..24].try_into().unwrap()), 4096);
    assert_eq!(
        u64::from_le_bytes(bytes[24..32].try_into().unwrap()),
        3 * 4096 + 1
    );
    assert_eq!(u64::from_le_bytes(bytes[32..40].try_into().unwrap()), 4);
    assert_eq!(u64::from_le_bytes(bytes[40..48].try_into().unwrap()), 2);
    assert_eq!(&bytes[48..52], &0xdead_beefu32.to_le_bytes());
    assert_eq!(&bytes[HEADER_LEN..], &[0b0000_1010]);
    assert_eq!(bytes.len(), HEADER_LEN + 1);
}
