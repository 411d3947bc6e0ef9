//! Data ranges agree with `qemu-img map` on files whose only zeros are holes.

mod common;

use std::path::Path;
use std::process::Command;

use common::{build, scan, Op};
use proptest::prelude::*;

const PAGE: u64 = 4096;

/// Merged `data: true` ranges reported by qemu-img, or None without qemu-img.
fn qemu_data_ranges(path: &Path) -> Option<Vec<(u64, u64)>> {
    let output = match Command::new("qemu-img")
        .args(["map", "--output=json", "-f", "raw"])
        .arg(path)
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("running qemu-img: {e}"),
    };
    assert!(output.status.success(), "qemu-img map failed: {output:?}");
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let ranges = entries
        .iter()
        .filter(|e| e["data"].as_bool().unwrap())
        .map(|e| {
            let start = e["start"].as_u64().unwrap();
            (start, start + e["length"].as_u64().unwrap())
        });
    Some(merge(ranges))
}

fn merge(ranges: impl Iterator<Item = (u64, u64)>) -> Vec<(u64, u64)> {
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if last.1 == start => last.1 = end,
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Data written in whole non-zero pages, so every allocated byte is
/// non-zero and the file's only zeros are its holes.
fn page_ops() -> impl Strategy<Value = (u64, Vec<Op>)> {
    (1..512u64, 0..PAGE).prop_flat_map(|(pages, tail)| {
        let size = pages * PAGE + tail;
        let ops = prop::collection::vec(
            (0..pages, 1..32u64, 1u8..=255).prop_map(|(page, count, byte)| Op::Data {
                start: page * PAGE,
                len: count * PAGE,
                byte,
            }),
            0..10,
        );
        (Just(size), ops)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn data_ranges_match_qemu_img((size, ops) in page_ops()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("image.raw");
        build(&path, size, PAGE, &ops);
        let Some(expected) = qemu_data_ranges(&path) else {
            eprintln!("note: qemu-img not found, skipping the comparison with qemu-img map");
            return Ok(());
        };
        let result = scan(&path, PAGE, 1 << 20);
        let found = merge(result.map.data_ranges().map(|r| (r.start, r.start + r.length)));
        prop_assert_eq!(found, expected);
    }
}
