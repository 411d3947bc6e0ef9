//! Test support (feature `test-support`): hives made by the real tool.
//!
//! hivex cannot create a hive from nothing, so [`empty_hive`] writes the
//! smallest hive it accepts (base block, one hive bin, the root key and
//! one security cell); [`hivexsh`] then fills it with `hivexsh -w`
//! (package libhivex-bin). Tests of other crates use this to put real
//! hives into guest trees. Panics on failure: it is only for tests.

use std::path::Path;
use std::process::Command;

/// Cell offset of the root key in [`empty_hive`].
pub const ROOT: u32 = 0x20;

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// The smallest hive hivex accepts, format version 1.`minor`.
pub fn empty_hive(minor: u32) -> Vec<u8> {
    let mut h = vec![0u8; 8192];
    h[0..4].copy_from_slice(b"regf");
    put32(&mut h, 4, 1);
    put32(&mut h, 8, 1);
    h[12..20].copy_from_slice(&0x01DA_0000_0000_0000u64.to_le_bytes());
    put32(&mut h, 20, 1);
    put32(&mut h, 24, minor);
    put32(&mut h, 28, 0);
    put32(&mut h, 32, 1);
    put32(&mut h, 36, ROOT);
    put32(&mut h, 40, 4096);
    put32(&mut h, 44, 1);
    let sum = crate::checksum(&h).expect("base block is complete");
    put32(&mut h, 508, sum);

    let bin = 4096;
    h[bin..bin + 4].copy_from_slice(b"hbin");
    put32(&mut h, bin + 4, 0);
    put32(&mut h, bin + 8, 4096);

    // Root key node: 4 (size) + 76 (fixed) + 4 (name) = 84, aligned to 88.
    let nk = bin + ROOT as usize;
    let sk_off = ROOT + 88;
    put32(&mut h, nk, (-88i32) as u32);
    let c = nk + 4;
    h[c..c + 2].copy_from_slice(b"nk");
    h[c + 2..c + 4].copy_from_slice(&0x002Cu16.to_le_bytes());
    h[c + 4..c + 12].copy_from_slice(&0x01DA_0000_0000_0000u64.to_le_bytes());
    put32(&mut h, c + 16, 0xFFFF_FFFF);
    put32(&mut h, c + 28, 0xFFFF_FFFF);
    put32(&mut h, c + 32, 0xFFFF_FFFF);
    put32(&mut h, c + 40, 0xFFFF_FFFF);
    put32(&mut h, c + 44, sk_off);
    put32(&mut h, c + 48, 0xFFFF_FFFF);
    h[c + 72..c + 74].copy_from_slice(&4u16.to_le_bytes());
    h[c + 76..c + 80].copy_from_slice(b"ROOT");

    // Security cell with a 20-byte self-relative descriptor (null DACL).
    let sk = bin + sk_off as usize;
    put32(&mut h, sk, (-48i32) as u32);
    let c = sk + 4;
    h[c..c + 2].copy_from_slice(b"sk");
    put32(&mut h, c + 4, sk_off);
    put32(&mut h, c + 8, sk_off);
    put32(&mut h, c + 12, 1);
    put32(&mut h, c + 16, 20);
    h[c + 20] = 1;
    h[c + 22..c + 24].copy_from_slice(&0x8004u16.to_le_bytes());

    let free = sk_off + 48;
    put32(&mut h, bin + free as usize, 4096 - free);
    h
}

/// Runs `hivexsh -w` with `script` (a `commit` is appended) on a copy of
/// `hive` in `dir` and returns the written hive.
pub fn hivexsh(dir: &Path, hive: &[u8], script: &str) -> Vec<u8> {
    let path = dir.join("hivexsh-hive");
    let script_path = dir.join("hivexsh-script");
    std::fs::write(&path, hive).expect("write hive");
    std::fs::write(&script_path, format!("{script}\ncommit\n")).expect("write script");
    let out = Command::new("hivexsh")
        .arg("-w")
        .arg("-f")
        .arg(&script_path)
        .arg(&path)
        .output()
        .expect("hivexsh (package libhivex-bin) must be installed");
    assert!(
        out.status.success(),
        "hivexsh failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::read(&path).expect("read hive")
}

/// A hive built from the empty one (format 1.5) by a `hivexsh` script.
pub fn build(dir: &Path, script: &str) -> Vec<u8> {
    hivexsh(dir, &empty_hive(5), script)
}
