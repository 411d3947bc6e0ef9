//! Hostile hives: a hivex-made hive with fields patched, as a damaged or
//! crafted file would have them. Each must give a clean error naming the
//! structure (or open as documented), never a panic, a hang or a huge
//! allocation.

mod common;

use common::{append_bin, cell_at, fix_checksum, get32, list_cell, put32};
use imsprep_regf::{walk_all, Hive, HiveState, RegfError};

/// A hive with a few keys and values, and the offsets tests patch.
struct Sample {
    bytes: Vec<u8>,
    /// Key node of `Services`, which has subkeys.
    services: u32,
    /// Key node of `Services\viostor`, which has values.
    viostor: u32,
    /// Value cell of `Services\viostor\ImagePath` (data in its own cell).
    image_path: u32,
}

fn sample(dir: &std::path::Path) -> Sample {
    let script = "add Services\ncd Services\nadd netkvm\nadd viostor\nadd vioscsi\ncd viostor\n\
                  setval 3\nStart\ndword:0\nImagePath\nexpandstring:System32\\drivers\\viostor.sys\nGroup\nstring:SCSI miniport\n";
    let bytes = common::build(dir, script);
    let hive = Hive::open(bytes.clone()).unwrap();
    let services = hive.key("Services").unwrap().unwrap().offset();
    let viostor_key = hive.key("Services\\viostor").unwrap().unwrap();
    let image_path = hive
        .value(&viostor_key, "ImagePath")
        .unwrap()
        .unwrap()
        .offset();
    Sample {
        services,
        viostor: viostor_key.offset(),
        image_path,
        bytes,
    }
}

/// Opens `bytes`, looks up and walks everything; returns the first error.
fn read_all(bytes: Vec<u8>) -> Result<(), RegfError> {
    let hive = Hive::open(bytes)?;
    if let Some(k) = hive.key("Services\\viostor")? {
        for v in hive.values(&k)? {
            v.decoded()?;
        }
    }
    walk_all(&hive).map(|_| ())
}

fn expect_err(bytes: Vec<u8>, wanted: &[&str]) -> String {
    let err = read_all(bytes)
        .expect_err("hostile hive must be refused")
        .to_string();
    for w in wanted {
        assert!(err.contains(w), "error {err:?} should mention {w:?}");
    }
    err
}

#[test]
fn the_sample_reads() {
    let dir = tempfile::tempdir().unwrap();
    read_all(sample(dir.path()).bytes).unwrap();
}

#[test]
fn bad_signature() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = sample(dir.path()).bytes;
    b[0] = b'R';
    expect_err(b, &["base block signature", "regf"]);
}

#[test]
fn too_short_for_a_base_block() {
    expect_err(b"regf".to_vec(), &["base block", "at least 4096"]);
}

#[test]
fn unsupported_version() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = sample(dir.path()).bytes;
    put32(&mut b, 20, 2);
    fix_checksum(&mut b);
    assert!(matches!(
        Hive::open(b),
        Err(RegfError::Unsupported { feature }) if feature.contains("2.5")
    ));
}

#[test]
fn a_log_given_as_the_hive() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = sample(dir.path()).bytes;
    put32(&mut b, 28, 6);
    fix_checksum(&mut b);
    expect_err(b, &["file type", "transaction log"]);
}

#[test]
fn hive_bins_size_past_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = sample(dir.path()).bytes;
    let size = get32(&b, 40);
    put32(&mut b, 40, size + 4096);
    fix_checksum(&mut b);
    expect_err(b.clone(), &["hive bins data size", "past the end"]);
    // A truncated copy of the hive says the same.
    let mut t = sample(dir.path()).bytes;
    t.truncate(t.len() - 100);
    expect_err(t, &["hive bins data size"]);
    put32(&mut b, 40, 1000);
    fix_checksum(&mut b);
    expect_err(b, &["multiple of 4096"]);
}

#[test]
fn broken_hbin_headers() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = sample(dir.path()).bytes;
    b[4096] = b'X';
    expect_err(b, &["hive bin header", "0x1000", "hbin"]);
    let mut b = sample(dir.path()).bytes;
    put32(&mut b, 4096 + 8, 0x10_0000);
    expect_err(b, &["hive bin header", "size"]);
    let mut b = sample(dir.path()).bytes;
    put32(&mut b, 4096 + 4, 0x2000);
    expect_err(b, &["hive bin header", "offset field"]);
}

#[test]
fn root_cell_past_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = sample(dir.path()).bytes;
    put32(&mut b, 36, 0x7FFF_FFF8);
    fix_checksum(&mut b);
    expect_err(b.clone(), &["key node (nk)", "past the hive bins"]);
    put32(&mut b, 36, 0x21);
    fix_checksum(&mut b);
    expect_err(b.clone(), &["not a multiple of 8"]);
    put32(&mut b, 36, 0x8);
    fix_checksum(&mut b);
    expect_err(b, &["inside the header"]);
}

#[test]
fn cell_running_past_its_bin() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample(dir.path());
    let mut b = s.bytes;
    put32(&mut b, cell_at(s.viostor) - 4, (-0x40_0000i32) as u32);
    expect_err(b, &["key node (nk)", "runs past the end of its hive bin"]);
}

#[test]
fn reference_to_a_free_cell() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample(dir.path());
    let mut b = s.bytes;
    let size = get32(&b, cell_at(s.viostor) - 4) as i32;
    put32(&mut b, cell_at(s.viostor) - 4, (-size) as u32);
    expect_err(b, &["key node (nk)", "free cell"]);
}

#[test]
fn name_longer_than_its_cell() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample(dir.path());
    let mut b = s.bytes;
    let at = cell_at(s.viostor) + 72;
    b[at..at + 2].copy_from_slice(&0xFFFFu16.to_le_bytes());
    expect_err(b, &["key node (nk)", "name of 65535 bytes"]);
}

#[test]
fn subkey_list_pointing_to_itself() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample(dir.path());
    let mut b = s.bytes;
    let list = get32(&b, cell_at(s.services) + 28);
    put32(&mut b, cell_at(list) + 4, list);
    expect_err(b, &["key node (nk)", "expected signature \"nk\""]);
}

#[test]
fn subkey_pointing_to_an_ancestor() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample(dir.path());
    let mut b = s.bytes;
    let list = get32(&b, cell_at(s.services) + 28);
    put32(&mut b, cell_at(list) + 4, s.services);
    // Lookups by path still end (bounded by the path); the walk refuses.
    let hive = Hive::open(b.clone()).unwrap();
    assert!(hive.key("Services\\Services\\Services").unwrap().is_some());
    expect_err(b, &["key reached twice"]);
}

#[test]
fn index_root_pointing_to_itself() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample(dir.path());
    let mut b = s.bytes;
    // An ri cell whose single entry is its own offset: the appended bin
    // starts at the old hive bins size, and its first cell at +32.
    let own = get32(&b, 40) + 32;
    let ri = append_bin(&mut b, &[list_cell(b"ri", &[own])]);
    assert_eq!(ri[0], own);
    put32(&mut b, cell_at(s.services) + 28, own);
    expect_err(b, &["subkey list", "cycle"]);
}

#[test]
fn index_roots_nested_too_deep() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample(dir.path());
    let mut b = s.bytes;
    let leaf = get32(&b, cell_at(s.services) + 28);
    let r1 = append_bin(&mut b, &[list_cell(b"ri", &[leaf])])[0];
    let r2 = append_bin(&mut b, &[list_cell(b"ri", &[r1])])[0];
    let r3 = append_bin(&mut b, &[list_cell(b"ri", &[r2])])[0];
    put32(&mut b, cell_at(s.services) + 28, r2);
    read_all(b.clone()).unwrap();
    put32(&mut b, cell_at(s.services) + 28, r3);
    expect_err(b, &["subkey list", "nested deeper"]);
}

#[test]
fn subkey_count_disagrees_with_the_lists() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample(dir.path());
    let mut b = s.bytes;
    put32(&mut b, cell_at(s.services) + 20, 2);
    expect_err(
        b.clone(),
        &["subkey list", "more subkeys than the key's count of 2"],
    );
    put32(&mut b, cell_at(s.services) + 20, 4);
    expect_err(b, &["says 4 subkeys; its lists hold 3"]);
}

#[test]
fn list_count_larger_than_its_cell() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample(dir.path());
    let mut b = s.bytes;
    let list = get32(&b, cell_at(s.services) + 28);
    b[cell_at(list) + 2..cell_at(list) + 4].copy_from_slice(&0xFFFFu16.to_le_bytes());
    expect_err(b, &["subkey list", "65535 entries"]);
}

#[test]
fn value_count_larger_than_its_list() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample(dir.path());
    let mut b = s.bytes;
    put32(&mut b, cell_at(s.viostor) + 36, 0x4000_0000);
    expect_err(b, &["value list", "1073741824 values"]);
}

#[test]
fn value_length_of_two_to_the_31() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample(dir.path());
    // Not resident, 2^31 - 1 bytes: refused before reading or allocating.
    let mut b = s.bytes.clone();
    put32(&mut b, cell_at(s.image_path) + 4, 0x7FFF_FFFF);
    expect_err(b, &["data size", "2147483647 bytes", "more than"]);
    // Resident flag with a length that cannot fit the offset field.
    let mut b = s.bytes.clone();
    put32(&mut b, cell_at(s.image_path) + 4, 0xFFFF_FFFF);
    expect_err(b, &["data size", "at most 4"]);
    // Exactly 2^31: resident, zero bytes, which is a valid empty value.
    let mut b = s.bytes;
    put32(&mut b, cell_at(s.image_path) + 4, 0x8000_0000);
    let hive = Hive::open(b).unwrap();
    let k = hive.key("services\\viostor").unwrap().unwrap();
    assert!(hive
        .value(&k, "ImagePath")
        .unwrap()
        .unwrap()
        .data()
        .unwrap()
        .is_empty());
}

#[test]
fn value_data_longer_than_its_cell() {
    let dir = tempfile::tempdir().unwrap();
    let s = sample(dir.path());
    let mut b = s.bytes;
    put32(&mut b, cell_at(s.image_path) + 4, 3000);
    expect_err(b, &["value data", "do not fit"]);
}

#[test]
fn wrong_checksum_opens_stale_and_readable() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = sample(dir.path()).bytes;
    b[200] ^= 0xFF;
    let hive = Hive::open(b).unwrap();
    assert!(!hive.base_block().checksum_ok());
    assert_eq!(hive.state(), HiveState::Stale);
    let k = hive.key("Services\\viostor").unwrap().unwrap();
    assert_eq!(
        hive.value(&k, "Start")
            .unwrap()
            .unwrap()
            .as_dword()
            .unwrap(),
        0
    );
}

#[test]
fn sequence_numbers_differ_opens_stale() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = sample(dir.path()).bytes;
    let secondary = get32(&b, 8);
    put32(&mut b, 4, secondary + 1);
    fix_checksum(&mut b);
    let hive = Hive::open(b).unwrap();
    assert!(hive.base_block().checksum_ok());
    assert!(hive.base_block().is_dirty());
    assert_eq!(hive.state(), HiveState::Stale);
    // Logs that do not apply leave it stale.
    let mut b2 = sample(dir.path()).bytes;
    put32(&mut b2, 4, secondary + 1);
    fix_checksum(&mut b2);
    let junk = vec![0u8; 4096];
    let hive = Hive::open_with_logs(b2, Some(&junk), Some(b"regf")).unwrap();
    assert_eq!(hive.state(), HiveState::Stale);
}

/// Flips bytes all over the hive (a fixed pseudo-random sequence) and
/// reads everything: errors are fine, panics and hangs are not.
#[test]
fn random_corruption_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let mut script = String::from("add Many\ncd Many\n");
    for i in 0..60 {
        script += &format!("add Key{i}\ncd Key{i}\nsetval 3\nS\nstring:value {i}\nD\ndword:{i}\nM\nhex:7:61,00,00,00,62,00,00,00,00,00\ncd ..\n");
    }
    let base = common::build(dir.path(), &script);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut errors = 0;
    for _ in 0..3000 {
        let mut b = base.clone();
        for _ in 0..1 + next() % 4 {
            let at = 4096 + (next() as usize) % (b.len() - 4096);
            b[at] = next() as u8;
        }
        if read_all(b).is_err() {
            errors += 1;
        }
    }
    assert!(errors > 0, "some corruption must be noticed");
}
