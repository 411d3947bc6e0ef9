//! Test hives: the crate's own empty hive filled by `hivexsh -w`, the real
//! tool (`imsprep_regf::test_support`), plus what only these tests need:
//! big values through libhivex, hand-built bins for cells hivex never
//! writes, and byte helpers for hostile cases.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

// Not every test file uses every helper.
#[allow(unused_imports)]
pub use imsprep_regf::test_support::{build, empty_hive, hivexsh, ROOT};

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
