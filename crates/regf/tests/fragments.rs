//! Index roots (`ri`) and big data (`db`): hivex never writes either, and
//! no real hive with them could be fetched (no crate with test hives under
//! a compatible licence exists: notatin's package leaves its test data
//! out, nt-hive is GPL). So a hivex-made hive gets one extra hive bin,
//! appended by the test, holding the hand-built cells, and a key or value
//! written by hivex is pointed at them.

mod common;

use common::{append_bin, cell_at, list_cell, put32, subkey_entries};
use imsprep_regf::{walk_all, Hive, BIG_DATA_SEGMENT};

fn many_subkeys(dir: &std::path::Path) -> Vec<u8> {
    let mut script = String::from("add Many\ncd Many\n");
    for i in 0..1000 {
        script += &format!("add Sub{i:04}\n");
    }
    common::build(dir, &script)
}

fn names(hive: &Hive, path: &str) -> Vec<String> {
    let key = hive.key(path).unwrap().unwrap();
    hive.subkeys(&key)
        .unwrap()
        .iter()
        .map(|k| k.name().to_string())
        .collect()
}

#[test]
fn index_root_splits_a_list() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = many_subkeys(dir.path());
    let before = names(&Hive::open(bytes.clone()).unwrap(), "Many");
    let many = Hive::open(bytes.clone())
        .unwrap()
        .key("Many")
        .unwrap()
        .unwrap()
        .offset();
    let entries = subkey_entries(&bytes, many);
    assert_eq!(entries.len(), 1000);
    // Three leaves of each kind, then an index root over them.
    let leaves = append_bin(
        &mut bytes,
        &[
            list_cell(b"lh", &entries[..400]),
            list_cell(b"li", &entries[400..700]),
            list_cell(b"lf", &entries[700..]),
        ],
    );
    let ri = append_bin(&mut bytes, &[list_cell(b"ri", &leaves)]);
    put32(&mut bytes, cell_at(many) + 28, ri[0]);

    let hive = Hive::open(bytes).unwrap();
    assert_eq!(names(&hive, "Many"), before);
    assert!(hive.key("many\\sub0999").unwrap().is_some());
    assert_eq!(walk_all(&hive).unwrap().keys, 1002);
}

/// A hive with value `Big` of `len` bytes whose vk points at a hand-built
/// db cell; `segments` picks which segment cells the list names.
fn big_data_hive(
    dir: &std::path::Path,
    len: usize,
    segments: impl Fn(&[u32]) -> Vec<u32>,
) -> (Vec<u8>, Vec<u8>) {
    let mut bytes = common::build(dir, "add Blob\ncd Blob\nsetval 1\nBig\nhex:3:00\n");
    let pattern: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
    let chunks: Vec<Vec<u8>> = pattern
        .chunks(BIG_DATA_SEGMENT as usize)
        .map(<[u8]>::to_vec)
        .collect();
    let segs = append_bin(&mut bytes, &chunks);
    let listed = segments(&segs);
    let list: Vec<u8> = listed.iter().flat_map(|s| s.to_le_bytes()).collect();
    let list_off = append_bin(&mut bytes, &[list])[0];
    let mut db = b"db".to_vec();
    db.extend_from_slice(&(listed.len() as u16).to_le_bytes());
    db.extend_from_slice(&list_off.to_le_bytes());
    let db_off = append_bin(&mut bytes, &[db])[0];

    let hive = Hive::open(bytes.clone()).unwrap();
    let key = hive.key("Blob").unwrap().unwrap();
    let vk = hive.value(&key, "Big").unwrap().unwrap().offset();
    put32(&mut bytes, cell_at(vk) + 4, len as u32);
    put32(&mut bytes, cell_at(vk) + 8, db_off);
    (bytes, pattern)
}

#[test]
fn big_data_segments_are_joined() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, pattern) = big_data_hive(dir.path(), 40_000, <[u32]>::to_vec);
    let hive = Hive::open(bytes).unwrap();
    let key = hive.key("blob").unwrap().unwrap();
    let big = hive.value(&key, "big").unwrap().unwrap();
    assert_eq!(big.data_len(), 40_000);
    assert_eq!(big.data().unwrap().as_ref(), pattern.as_slice());
    assert_eq!(walk_all(&hive).unwrap().data_bytes, 40_000);
}

#[test]
fn big_data_segment_listed_twice_is_a_loop() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = big_data_hive(dir.path(), 40_000, |s| vec![s[0], s[1], s[0]]);
    let hive = Hive::open(bytes).unwrap();
    let key = hive.key("blob").unwrap().unwrap();
    let err = hive
        .value(&key, "big")
        .unwrap()
        .unwrap()
        .data()
        .unwrap_err();
    assert!(err.to_string().contains("listed twice"), "{err}");
    assert!(err.to_string().contains("big data (db)"), "{err}");
    assert!(walk_all(&hive).is_err());
}

#[test]
fn big_data_with_too_few_segments_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = big_data_hive(dir.path(), 40_000, |s| s[..2].to_vec());
    let hive = Hive::open(bytes).unwrap();
    let key = hive.key("blob").unwrap().unwrap();
    let err = hive
        .value(&key, "big")
        .unwrap()
        .unwrap()
        .data()
        .unwrap_err();
    assert!(err.to_string().contains("cannot hold 40000 bytes"), "{err}");
}

#[test]
fn big_data_in_an_old_format_hive_is_not_followed() {
    // Version 1.3 hives keep large values in one cell; a db cell there is
    // too small for the data and is refused, not guessed at.
    let dir = tempfile::tempdir().unwrap();
    let (mut bytes, _) = big_data_hive(dir.path(), 40_000, <[u32]>::to_vec);
    put32(&mut bytes, 24, 3);
    common::fix_checksum(&mut bytes);
    let hive = Hive::open(bytes).unwrap();
    let key = hive.key("blob").unwrap().unwrap();
    let err = hive
        .value(&key, "big")
        .unwrap()
        .unwrap()
        .data()
        .unwrap_err();
    assert!(err.to_string().contains("do not fit"), "{err}");
}
