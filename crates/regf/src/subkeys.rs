//! Subkey lists: `li` (offsets), `lf` (offsets with name hints), `lh`
//! (offsets with name hashes) and `ri` (a list of lists).

use std::collections::HashSet;

use crate::base_block::BASE_BLOCK_SIZE;
use crate::bytes::{le16, le32};
use crate::error::{RegfError, Result};
use crate::hive::Hive;
use crate::key::{Key, NO_CELL};

/// Windows never nests `ri` lists (an index root points only to leaves);
/// one extra level is tolerated, deeper is refused.
const MAX_RI_DEPTH: u32 = 2;

const WHAT: &str = "subkey list";

/// The key-node offsets of `key`'s subkeys, in stored order. Every list
/// cell is visited at most once (a list reached twice is a cycle), and the
/// total must equal the key's subkey count.
pub(crate) fn offsets(hive: &Hive, key: &Key) -> Result<Vec<u32>> {
    if key.subkey_count == 0 {
        return Ok(Vec::new());
    }
    let file_offset = BASE_BLOCK_SIZE as u64 + u64::from(key.offset());
    if key.subkey_list == NO_CELL {
        return Err(RegfError::malformed(
            "key node (nk)",
            file_offset,
            format!("{} subkeys but no subkey list", key.subkey_count),
        ));
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    collect(
        hive,
        key.subkey_list,
        0,
        key.subkey_count,
        &mut seen,
        &mut out,
    )?;
    if out.len() as u64 != u64::from(key.subkey_count) {
        return Err(RegfError::malformed(
            "key node (nk)",
            file_offset,
            format!(
                "the key says {} subkeys; its lists hold {}",
                key.subkey_count,
                out.len()
            ),
        ));
    }
    Ok(out)
}

fn collect(
    hive: &Hive,
    list: u32,
    depth: u32,
    expected: u32,
    seen: &mut HashSet<u32>,
    out: &mut Vec<u32>,
) -> Result<()> {
    let file_offset = BASE_BLOCK_SIZE as u64 + u64::from(list);
    let bad = |problem: String| RegfError::malformed(WHAT, file_offset, problem);
    if !seen.insert(list) {
        return Err(bad("list reached twice (the lists form a cycle)".into()));
    }
    let cell = hive.cell(list, WHAT)?;
    let sig = cell.get(0..2).unwrap_or_default();
    let count = le16(cell, 2).ok_or_else(|| bad("cell too short for a list header".into()))?;
    let stride = match sig {
        b"li" | b"ri" => 4,
        b"lf" | b"lh" => 8,
        _ => {
            return Err(bad(format!(
                "expected signature li, lf, lh or ri; found {:?}",
                String::from_utf8_lossy(sig)
            )))
        }
    };
    let needed = 4 + usize::from(count) * stride;
    if needed > cell.len() {
        return Err(bad(format!(
            "{count} entries need {needed} bytes; the cell has {}",
            cell.len()
        )));
    }
    for i in 0..usize::from(count) {
        let entry = le32(cell, 4 + i * stride).ok_or_else(|| bad("entry past the cell".into()))?;
        if sig == b"ri" {
            if depth >= MAX_RI_DEPTH {
                return Err(bad(format!(
                    "index roots (ri) nested deeper than {MAX_RI_DEPTH}"
                )));
            }
            collect(hive, entry, depth + 1, expected, seen, out)?;
        } else {
            if out.len() as u64 >= u64::from(expected) {
                return Err(bad(format!(
                    "the lists hold more subkeys than the key's count of {expected}"
                )));
            }
            out.push(entry);
        }
    }
    Ok(())
}
