//! The allocation map and CRC-32 equal a byte-by-byte reference on sparse
//! files with holes, written zeros and data, at every granularity.

mod common;

use std::sync::atomic::AtomicBool;

use common::{build, read_all, reference_blocks, scan, Op};
use imsprep_scan::{data_extents, scan_file, BlockRange, ScanOptions};
use proptest::prelude::*;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;

fn op(size_hint: u64) -> impl Strategy<Value = Op> {
    let span = size_hint.max(1);
    prop_oneof![
        (0..span, 1..64 * KIB, 1u8..=255).prop_map(|(start, len, byte)| Op::Data {
            start,
            len,
            byte
        }),
        (0..span, 1..256 * KIB).prop_map(|(start, len)| Op::Zeros { start, len }),
        (0..span / 4096 + 1, any::<bool>(), 1u8..=255).prop_map(|(block, last, byte)| Op::Edge {
            block,
            last,
            byte
        }),
    ]
}

/// Granularity shift, file size, operations, window shift.
fn layout() -> impl Strategy<Value = (u32, u64, Vec<Op>, u32)> {
    let size = prop_oneof![
        Just(0u64),
        1..3 * MIB,
        (1..768u64).prop_map(|k| k * 4 * KIB),
        (1..12u64).prop_map(|k| k * 256 * KIB + 1),
    ];
    (12u32..=25, size).prop_flat_map(|(shift, size)| {
        (
            Just(shift),
            Just(size),
            // Edge ops need a block index in this granularity.
            prop::collection::vec(op(size), 0..12).prop_map(move |ops| {
                ops.into_iter()
                    .map(|o| match o {
                        Op::Edge { block, last, byte } => Op::Edge {
                            block: block % size.div_ceil(1 << shift).max(1),
                            last,
                            byte,
                        },
                        other => other,
                    })
                    .collect::<Vec<_>>()
            }),
            12u32..=21,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn map_and_crc_match_the_bytes((shift, size, ops, window_shift) in layout()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("image.raw");
        let g = 1u64 << shift;
        build(&path, size, g, &ops);
        let bytes = read_all(&path);
        prop_assert_eq!(bytes.len() as u64, size);

        let result = scan(&path, g, 1 << window_shift);
        let expected = reference_blocks(&bytes, g);
        let found: Vec<bool> = result.map.bits().iter().map(|b| *b).collect();
        prop_assert_eq!(&found, &expected);
        prop_assert_eq!(result.crc32, Some(crc32fast::hash(&bytes)));

        let stats = result.stats;
        prop_assert_eq!(stats.blocks, expected.len() as u64);
        prop_assert_eq!(stats.data_blocks, expected.iter().filter(|d| **d).count() as u64);
        prop_assert_eq!(stats.hole_bytes + stats.bytes_read, size);
        let extents = data_extents(&std::fs::File::open(&path).unwrap(), size).unwrap();
        let in_extents: u64 = extents.iter().map(|e| e.end - e.start).sum();
        prop_assert_eq!(stats.bytes_read, in_extents);
        prop_assert!(stats.zero_bytes_read <= stats.bytes_read);

        // Ranges tile the file and agree with the bits.
        let mut next = 0;
        let mut last_kind = None;
        for BlockRange { start, length, data } in result.map.ranges() {
            prop_assert_eq!(start, next);
            prop_assert!(length > 0);
            prop_assert_ne!(Some(data), last_kind);
            let bytes_here = &bytes[start as usize..(start + length) as usize];
            prop_assert_eq!(data, bytes_here.iter().any(|&b| b != 0));
            next = start + length;
            last_kind = Some(data);
        }
        prop_assert_eq!(next, size);

        // Without the CRC the map is the same.
        let options = ScanOptions { granularity: g, crc: false, window: 1 << window_shift };
        let quick = scan_file(&path, &options, &|_| {}, &AtomicBool::new(false)).unwrap();
        prop_assert_eq!(&quick.map, &result.map);
        prop_assert_eq!(quick.crc32, None);
    }
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.raw");
    build(&path, 0, 4096, &[]);
    let result = scan(&path, 2 * MIB, 64 * MIB);
    assert_eq!(result.map.block_count(), 0);
    assert_eq!(result.map.ranges().count(), 0);
    assert_eq!(result.crc32, Some(0));
}

#[test]
fn every_granularity_on_a_boundary_layout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edges.raw");
    let size = 3 * MIB + 4097;
    for shift in 12..=25u32 {
        let g = 1u64 << shift;
        let blocks = size.div_ceil(g);
        let ops: Vec<Op> = (0..blocks)
            .flat_map(|b| {
                [
                    Op::Edge {
                        block: b,
                        last: b % 2 == 0,
                        byte: 0x5a,
                    },
                    Op::Zeros {
                        start: b * g + g / 2,
                        len: 4096,
                    },
                ]
            })
            .collect();
        build(&path, size, g, &ops);
        let bytes = read_all(&path);
        for window in [4096, 64 * KIB, 64 * MIB] {
            let result = scan(&path, g, window);
            let found: Vec<bool> = result.map.bits().iter().map(|b| *b).collect();
            assert_eq!(
                found,
                reference_blocks(&bytes, g),
                "granularity {g}, window {window}"
            );
            assert_eq!(result.crc32, Some(crc32fast::hash(&bytes)));
        }
    }
}

#[test]
fn progress_is_monotone_and_reaches_the_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("progress.raw");
    let size = 5 * MIB + 3;
    build(
        &path,
        size,
        4096,
        &[Op::Data {
            start: MIB,
            len: 10,
            byte: 1,
        }],
    );
    let seen = std::sync::Mutex::new(Vec::new());
    let options = ScanOptions {
        granularity: 64 * KIB,
        crc: true,
        window: MIB,
    };
    scan_file(
        &path,
        &options,
        &|done| seen.lock().unwrap().push(done),
        &AtomicBool::new(false),
    )
    .unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(seen.last(), Some(&size));
    assert_eq!(seen.len(), 6);
}
