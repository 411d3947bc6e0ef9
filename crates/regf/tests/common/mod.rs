//! Test hives: a minimal empty hive written here (hivex cannot create one
//! from nothing), then filled by `hivexsh -w`, the real tool.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Cell offset of the root key in [`empty_hive`].
pub const ROOT: u32 = 0x20;

/// Writes a little-endian u32 at `at`.
pub fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Reads a little-endian u32 at `at`.
pub fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Recomputes the base block checksum.
pub fn fix_checksum(b: &mut [u8]) {
    let sum = imsprep_regf::checksum(b).unwrap();
    put32(b, 508, sum);
}

/// The smallest hive hivex accepts: base block with checksum, one hbin,
/// the root key node (name "ROOT") and one security cell, the rest of the
/// bin one free cell.
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
    fix_checksum(&mut h);

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
    h[c + 2..c + 4].copy_from_slice(&0x002Cu16.to_le_bytes()); // hive entry, no delete, ASCII name
    h[c + 4..c + 12].copy_from_slice(&0x01DA_0000_0000_0000u64.to_le_bytes());
    put32(&mut h, c + 16, 0xFFFF_FFFF); // parent
    put32(&mut h, c + 28, 0xFFFF_FFFF); // subkey list
    put32(&mut h, c + 32, 0xFFFF_FFFF); // volatile subkey list
    put32(&mut h, c + 40, 0xFFFF_FFFF); // value list
    put32(&mut h, c + 44, sk_off);
    put32(&mut h, c + 48, 0xFFFF_FFFF); // class name
    h[c + 72..c + 74].copy_from_slice(&4u16.to_le_bytes());
    h[c + 76..c + 80].copy_from_slice(b"ROOT");

    // Security cell: 4 + 20 + a 20-byte self-relative descriptor = 44 -> 48.
    let sk = bin + sk_off as usize;
    put32(&mut h, sk, (-48i32) as u32);
    let c = sk + 4;
    h[c..c + 2].copy_from_slice(b"sk");
    put32(&mut h, c + 4, sk_off);
    put32(&mut h, c + 8, sk_off);
    put32(&mut h, c + 12, 1);
    put32(&mut h, c + 16, 20);
    h[c + 20] = 1; // revision
    h[c + 22..c + 24].copy_from_slice(&0x8004u16.to_le_bytes()); // self-relative, DACL present (null)

    // The rest of the bin is one free cell.
    let free = sk_off + 48;
    put32(&mut h, bin + free as usize, 4096 - free);
    h
}

/// Runs `hivexsh -w` with `script` (a `commit` is appended) on a copy of
/// `hive` in `dir` and returns the written hive.
pub fn hivexsh(dir: &Path, hive: &[u8], script: &str) -> Vec<u8> {
    let path = dir.join("hive");
    let script_path = dir.join("script");
    std::fs::write(&path, hive).unwrap();
    std::fs::write(&script_path, format!("{script}\ncommit\n")).unwrap();
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
    std::fs::read(&path).unwrap()
}

/// Runs read-only `hivexsh` commands on `hive` and returns its output.
pub fn hivexsh_query(dir: &Path, hive: &[u8], script: &str) -> String {
    let path = dir.join("query-hive");
    let script_path = dir.join("query-script");
    std::fs::write(&path, hive).unwrap();
    std::fs::write(&script_path, script).unwrap();
    let out = Command::new("hivexsh")
        .arg("-f")
        .arg(&script_path)
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A hive built from the empty one by `script`.
pub fn build(dir: &Path, script: &str) -> Vec<u8> {
    hivexsh(dir, &empty_hive(5), script)
}

/// Sets one value on the key at `path` (backslash separated, below the
/// root) through libhivex itself (`hivex_node_set_value`, called from
/// Python ctypes): `hivexsh` reads at most about 8 KiB per input line, too
/// little for values past the 16344-byte big-data threshold.
pub fn hivex_set_value(
    dir: &Path,
    hive: &[u8],
    path: &str,
    name: &str,
    ty: u32,
    data: &[u8],
) -> Vec<u8> {
    let hive_path = dir.join("lib-hive");
    let data_path = dir.join("lib-data");
    std::fs::write(&hive_path, hive).unwrap();
    std::fs::write(&data_path, data).unwrap();
    let script = r#"
import ctypes, sys
lib = ctypes.CDLL("libhivex.so.0")
lib.hivex_open.restype = ctypes.c_void_p
lib.hivex_open.argtypes = [ctypes.c_char_p, ctypes.c_int]
lib.hivex_root.restype = ctypes.c_size_t
lib.hivex_root.argtypes = [ctypes.c_void_p]
lib.hivex_node_get_child.restype = ctypes.c_size_t
lib.hivex_node_get_child.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
class SetValue(ctypes.Structure):
    _fields_ = [("key", ctypes.c_char_p), ("t", ctypes.c_int), ("len", ctypes.c_size_t), ("value", ctypes.c_char_p)]
lib.hivex_node_set_value.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(SetValue), ctypes.c_int]
lib.hivex_commit.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
lib.hivex_close.argtypes = [ctypes.c_void_p]
hive_path, key_path, name, ty, data_path = sys.argv[1:6]
h = lib.hivex_open(hive_path.encode(), 4)  # HIVEX_OPEN_WRITE
assert h, "hivex_open failed"
node = lib.hivex_root(h)
for part in filter(None, key_path.split("\\")):
    node = lib.hivex_node_get_child(h, node, part.encode())
    assert node, "no key " + part
data = open(data_path, "rb").read()
v = SetValue(name.encode(), int(ty), len(data), data)
assert lib.hivex_node_set_value(h, node, ctypes.byref(v), 0) == 0, "set_value failed"
assert lib.hivex_commit(h, None, 0) == 0, "commit failed"
lib.hivex_close(h)
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&hive_path)
        .arg(path)
        .arg(name)
        .arg(ty.to_string())
        .arg(&data_path)
        .output()
        .expect("python3 runs libhivex");
    assert!(
        out.status.success(),
        "libhivex: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&hive_path).unwrap()
}

/// Appends a hive bin holding `cells` (each an allocated cell with that
/// data) and a free cell for the rest; updates the hive bins size and the
/// checksum. Returns the cell offsets. Used for the structures hivex never
/// writes (index roots, big data), and for hostile cases.
pub fn append_bin(hive: &mut Vec<u8>, cells: &[Vec<u8>]) -> Vec<u32> {
    let bins_size = get32(hive, 40);
    hive.truncate(4096 + bins_size as usize);
    let sizes: Vec<usize> = cells
        .iter()
        .map(|c| (4 + c.len()).div_ceil(8) * 8)
        .collect();
    let used = 32 + sizes.iter().sum::<usize>();
    let bin_size = (used + 8).div_ceil(4096) * 4096;
    let start = hive.len();
    hive.resize(start + bin_size, 0);
    hive[start..start + 4].copy_from_slice(b"hbin");
    put32(hive, start + 4, bins_size);
    put32(hive, start + 8, bin_size as u32);
    let mut at = 32;
    let mut offsets = Vec::new();
    for (cell, size) in cells.iter().zip(&sizes) {
        put32(hive, start + at, (-(*size as i32)) as u32);
        hive[start + at + 4..start + at + 4 + cell.len()].copy_from_slice(cell);
        offsets.push(bins_size + at as u32);
        at += size;
    }
    put32(hive, start + at, (bin_size - at) as u32);
    put32(hive, 40, bins_size + bin_size as u32);
    fix_checksum(hive);
    offsets
}

/// File offset of the cell data (past the size field) of cell `offset`.
pub fn cell_at(offset: u32) -> usize {
    4096 + offset as usize + 4
}

/// A subkey list cell: `sig` ("li", "lh", "lf", "ri") and its entries
/// (lh/lf entries get a zero hash/hint).
pub fn list_cell(sig: &[u8; 2], entries: &[u32]) -> Vec<u8> {
    let mut c = sig.to_vec();
    c.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for e in entries {
        c.extend_from_slice(&e.to_le_bytes());
        if sig == b"lh" || sig == b"lf" {
            c.extend_from_slice(&[0; 4]);
        }
    }
    c
}

/// The subkey entries of key node `nk` (offset), read from its list.
pub fn subkey_entries(hive: &[u8], nk: u32) -> Vec<u32> {
    let list = get32(hive, cell_at(nk) + 28);
    let c = cell_at(list);
    let stride = if &hive[c..c + 2] == b"li" { 4 } else { 8 };
    let count = u16::from_le_bytes([hive[c + 2], hive[c + 3]]) as usize;
    (0..count)
        .map(|i| get32(hive, c + 4 + i * stride))
        .collect()
}
