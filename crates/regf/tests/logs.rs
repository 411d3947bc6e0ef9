//! Dirty hives and transaction log replay. The hive states before and
//! after a change are written by hivexsh; no tool on this platform writes
//! registry transaction logs, so the logs are assembled here from the
//! pages that differ between the two states, in the layout the kernel
//! writes (new format: `HvLE` entries guarded by Marvin32; old format: a
//! `DIRT` bitmap and 512-byte pages).

mod common;

use common::{fix_checksum, get32, put32};
use imsprep_regf::{log_entry_hash, walk_all, Hive, HiveState};

const PAGE: usize = 4096;

/// A hive where viostor is demand-start, and the same hive after the
/// driver was made boot-start and netkvm was added (and, third, after
/// vioscsi was added too).
fn states(dir: &std::path::Path) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let h0 = common::build(
        dir,
        "add Services\ncd Services\nadd viostor\ncd viostor\nsetval 1\nStart\ndword:3\n",
    );
    let h1 = common::hivexsh(
        dir,
        &h0,
        "cd Services\\viostor\nsetval 1\nStart\ndword:0\ncd ..\nadd netkvm\n",
    );
    let h2 = common::hivexsh(dir, &h1, "cd Services\nadd vioscsi\n");
    (h0, h1, h2)
}

/// `h` marked as not flushed: primary sequence number one ahead.
fn dirty(h: &[u8]) -> Vec<u8> {
    let mut d = h.to_vec();
    let secondary = get32(&d, 8);
    put32(&mut d, 4, secondary + 1);
    fix_checksum(&mut d);
    d
}

fn bins_size(h: &[u8]) -> u32 {
    get32(h, 40)
}

/// Pages of `size` bytes of `new`'s hive bins that differ from `old`'s.
fn changed_pages(old: &[u8], new: &[u8], size: usize) -> Vec<(u32, Vec<u8>)> {
    let end = bins_size(new) as usize;
    (0..end / size)
        .map(|p| p * size)
        .filter(|&off| {
            old.get(PAGE + off..PAGE + off + size) != new.get(PAGE + off..PAGE + off + size)
        })
        .map(|off| (off as u32, new[PAGE + off..PAGE + off + size].to_vec()))
        .collect()
}

/// A new-format log entry taking `old` to `new`.
fn entry(sequence: u32, old: &[u8], new: &[u8]) -> Vec<u8> {
    let pages = changed_pages(old, new, PAGE);
    assert!(!pages.is_empty());
    let mut e = vec![0u8; 40];
    e[0..4].copy_from_slice(b"HvLE");
    put32(&mut e, 12, sequence);
    put32(&mut e, 16, bins_size(new));
    put32(&mut e, 20, pages.len() as u32);
    for (off, page) in &pages {
        e.extend_from_slice(&off.to_le_bytes());
        e.extend_from_slice(&(page.len() as u32).to_le_bytes());
    }
    for (_, page) in &pages {
        e.extend_from_slice(page);
    }
    e.resize(e.len().div_ceil(512) * 512, 0);
    let size = e.len() as u32;
    put32(&mut e, 4, size);
    let h1 = log_entry_hash(&e[40..]);
    e[24..32].copy_from_slice(&h1.to_le_bytes());
    let h2 = log_entry_hash(&e[..32]);
    e[32..40].copy_from_slice(&h2.to_le_bytes());
    e
}

/// A new-format log: the first sector of `base` (file type 6) and entries.
fn new_log(base: &[u8], entries: &[Vec<u8>]) -> Vec<u8> {
    let mut log = base[..512].to_vec();
    put32(&mut log, 28, 6);
    fix_checksum(&mut log);
    for e in entries {
        log.extend_from_slice(e);
    }
    log
}

fn start(hive: &Hive) -> u32 {
    let k = hive.key("Services\\viostor").unwrap().unwrap();
    hive.value(&k, "Start")
        .unwrap()
        .unwrap()
        .as_dword()
        .unwrap()
}

#[test]
fn new_format_entry_is_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let (h0, h1, _) = states(dir.path());
    let primary = dirty(&h0);
    let seq = get32(&primary, 8);
    let log1 = new_log(&h1, &[entry(seq, &h0, &h1)]);

    let stale = Hive::open(primary.clone()).unwrap();
    assert_eq!(stale.state(), HiveState::Stale);
    assert_eq!(start(&stale), 3);
    assert!(stale.key("Services\\netkvm").unwrap().is_none());

    let hive = Hive::open_with_logs(primary.clone(), Some(&log1), None).unwrap();
    assert_eq!(hive.state(), HiveState::Recovered { applied: 1 });
    assert_eq!(start(&hive), 0);
    assert!(hive.key("Services\\netkvm").unwrap().is_some());
    assert!(!hive.base_block().is_dirty());
    walk_all(&hive).unwrap();

    // The same log as LOG2 works as well.
    let hive = Hive::open_with_logs(primary, None, Some(&log1)).unwrap();
    assert_eq!(start(&hive), 0);
}

#[test]
fn entries_split_over_both_logs_apply_in_sequence_order() {
    let dir = tempfile::tempdir().unwrap();
    let (h0, h1, h2) = states(dir.path());
    let primary = dirty(&h0);
    let seq = get32(&primary, 8);
    let first = new_log(&h1, &[entry(seq, &h0, &h1)]);
    let second = new_log(&h2, &[entry(seq + 1, &h1, &h2)]);
    for (log1, log2) in [(&first, &second), (&second, &first)] {
        let hive = Hive::open_with_logs(primary.clone(), Some(log1), Some(log2)).unwrap();
        assert_eq!(hive.state(), HiveState::Recovered { applied: 2 });
        assert_eq!(start(&hive), 0);
        assert!(hive.key("Services\\vioscsi").unwrap().is_some());
    }
}

#[test]
fn replay_stops_at_a_bad_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (h0, h1, h2) = states(dir.path());
    let primary = dirty(&h0);
    let seq = get32(&primary, 8);
    let mut bad = entry(seq + 1, &h1, &h2);
    let last = bad.len() - 1;
    bad[last] ^= 1; // Hash-1 no longer matches.
    let log1 = new_log(&h2, &[entry(seq, &h0, &h1), bad]);
    let hive = Hive::open_with_logs(primary.clone(), Some(&log1), None).unwrap();
    assert_eq!(hive.state(), HiveState::Recovered { applied: 1 });
    assert!(hive.key("Services\\netkvm").unwrap().is_some());
    assert!(hive.key("Services\\vioscsi").unwrap().is_none());

    // An entry whose page references run past its hive bins size.
    let mut e = entry(seq, &h0, &h1);
    put32(&mut e, 16, 4096);
    let h1hash = log_entry_hash(&e[40..]);
    e[24..32].copy_from_slice(&h1hash.to_le_bytes());
    let h2hash = log_entry_hash(&e[..32]);
    e[32..40].copy_from_slice(&h2hash.to_le_bytes());
    let log1 = new_log(&h1, &[e]);
    let hive = Hive::open_with_logs(primary, Some(&log1), None).unwrap();
    assert_eq!(hive.state(), HiveState::Stale);
    assert_eq!(start(&hive), 3);
}

#[test]
fn entries_older_than_the_hive_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let (h0, h1, _) = states(dir.path());
    let primary = dirty(&h0);
    let seq = get32(&primary, 8);
    let log1 = new_log(&h1, &[entry(seq - 1, &h0, &h1)]);
    let hive = Hive::open_with_logs(primary, Some(&log1), None).unwrap();
    assert_eq!(hive.state(), HiveState::Stale);
    assert_eq!(start(&hive), 3);
}

#[test]
fn clean_hive_ignores_its_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (h0, h1, _) = states(dir.path());
    let seq = get32(&h0, 8);
    let log1 = new_log(&h1, &[entry(seq, &h0, &h1)]);
    let hive = Hive::open_with_logs(h0, Some(&log1), None).unwrap();
    assert_eq!(hive.state(), HiveState::Clean);
    assert_eq!(start(&hive), 3);
}

#[test]
fn wrong_checksum_recovers_the_base_block_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (h0, h1, _) = states(dir.path());
    let seq = get32(&h0, 8);
    let mut primary = h0.clone();
    primary[300] ^= 0xFF;
    let mut log1 = new_log(&h1, &[entry(seq, &h0, &h1)]);
    put32(&mut log1, 8, seq);
    fix_checksum(&mut log1);
    let hive = Hive::open_with_logs(primary, Some(&log1), None).unwrap();
    assert_eq!(hive.state(), HiveState::Recovered { applied: 1 });
    assert!(hive.base_block().checksum_ok());
    assert_eq!(start(&hive), 0);
}

/// An old-format log taking `old` (the primary's state) to `new`.
fn old_log(primary: &[u8], new: &[u8]) -> Vec<u8> {
    let mut log = new[..512].to_vec();
    put32(&mut log, 28, 1);
    let seq = get32(primary, 4);
    put32(&mut log, 4, seq);
    put32(&mut log, 8, seq);
    log[12..20].copy_from_slice(&primary[12..20]);
    fix_checksum(&mut log);
    let pages = changed_pages(primary, new, 512);
    let bits = bins_size(new) as usize / 512;
    let mut bitmap = vec![0u8; bits / 8];
    for (off, _) in &pages {
        let bit = *off as usize / 512;
        bitmap[bit / 8] |= 1 << (bit % 8);
    }
    log.extend_from_slice(b"DIRT");
    log.extend_from_slice(&bitmap);
    log.resize(log.len().div_ceil(512) * 512, 0);
    for (_, page) in &pages {
        log.extend_from_slice(page);
    }
    log
}

#[test]
fn old_format_log_is_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let (h0, h1, _) = states(dir.path());
    let primary = dirty(&h0);
    let log = old_log(&primary, &h1);
    let hive = Hive::open_with_logs(primary.clone(), Some(&log), None).unwrap();
    assert_eq!(hive.state(), HiveState::Recovered { applied: 1 });
    assert_eq!(start(&hive), 0);
    assert!(hive.key("Services\\netkvm").unwrap().is_some());
    walk_all(&hive).unwrap();

    // A log from another write (different last-written stamp) is not used.
    let mut other = log.clone();
    other[12] ^= 1;
    fix_checksum(&mut other);
    let hive = Hive::open_with_logs(primary.clone(), Some(&other), None).unwrap();
    assert_eq!(hive.state(), HiveState::Stale);

    // A log cut short of its pages is not used either.
    let cut = &log[..log.len() - 512];
    let hive = Hive::open_with_logs(primary, Some(cut), None).unwrap();
    assert_eq!(hive.state(), HiveState::Stale);
}

#[test]
fn a_log_cannot_grow_the_hive_past_the_pages_it_carries() {
    let dir = tempfile::tempdir().unwrap();
    let (h0, h1, _) = states(dir.path());
    let primary = dirty(&h0);
    let seq = get32(&primary, 8);
    // One page, but a hive bins size of 1 GiB.
    let mut e = entry(seq, &h0, &h1);
    put32(&mut e, 16, 1 << 30);
    let hash1 = log_entry_hash(&e[40..]);
    e[24..32].copy_from_slice(&hash1.to_le_bytes());
    let hash2 = log_entry_hash(&e[..32]);
    e[32..40].copy_from_slice(&hash2.to_le_bytes());
    let log1 = new_log(&h1, &[e]);
    let hive = Hive::open_with_logs(primary, Some(&log1), None).unwrap();
    assert_eq!(hive.state(), HiveState::Stale);
}
