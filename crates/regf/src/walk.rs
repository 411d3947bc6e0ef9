//! A full traversal of a hive, for consistency checks and fuzzing.

use std::collections::HashSet;

use crate::error::{RegfError, Result};
use crate::hive::Hive;

/// Windows limits key nesting to 512 levels.
pub const MAX_KEY_DEPTH: usize = 512;

/// What [`walk_all`] visited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalkStats {
    /// Keys visited, the root included.
    pub keys: u64,
    /// Values visited.
    pub values: u64,
    /// Bytes of value data read.
    pub data_bytes: u64,
}

/// Visits every key and value of the hive, reading and decoding every
/// value's data, class name and security descriptor; returns the first
/// error met. Every key node is visited once (a key reached twice means
/// the subkey lists form a loop or share a key) and depth is bounded by
/// [`MAX_KEY_DEPTH`], so any input ends in bounded time.
pub fn walk_all(hive: &Hive) -> Result<WalkStats> {
    let mut stats = WalkStats::default();
    let mut seen = HashSet::new();
    let mut stack = vec![(hive.root()?, 0usize)];
    while let Some((key, depth)) = stack.pop() {
        if !seen.insert(key.offset()) {
            return Err(RegfError::malformed(
                "key node (nk)",
                crate::base_block::BASE_BLOCK_SIZE as u64 + u64::from(key.offset()),
                "key reached twice (subkey lists loop or share a key)",
            ));
        }
        stats.keys += 1;
        hive.class_name(&key)?;
        hive.security_descriptor(&key)?;
        for value in hive.values(&key)? {
            let data = value.data()?;
            stats.values += 1;
            stats.data_bytes += data.len() as u64;
            crate::value::decode(value.value_type(), &data);
        }
        let subkeys = hive.subkeys(&key)?;
        if !subkeys.is_empty() && depth + 1 > MAX_KEY_DEPTH {
            return Err(RegfError::malformed(
                "key node (nk)",
                crate::base_block::BASE_BLOCK_SIZE as u64 + u64::from(key.offset()),
                format!("keys nested deeper than {MAX_KEY_DEPTH} levels"),
            ));
        }
        stack.extend(subkeys.into_iter().map(|k| (k, depth + 1)));
    }
    Ok(stats)
}
