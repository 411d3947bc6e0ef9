//! The hive: its bytes, the index of its hive bins, and cell lookup.

use std::io::Read;

use crate::base_block::{BaseBlock, BASE_BLOCK_SIZE};
use crate::bytes::{le32, slice};
use crate::error::{RegfError, Result};
use crate::key::Key;
use crate::log;
use crate::value::Value;

/// Largest hive file accepted. Windows refuses to load hives past 2 GiB;
/// SYSTEM and SOFTWARE hives are tens to a few hundred MiB.
pub const MAX_HIVE_SIZE: u64 = 2 << 30;

/// Size of a hive bin header.
const HBIN_HEADER_SIZE: u32 = 32;

/// Hive bins are multiples of this size.
const HBIN_ALIGN: u32 = 4096;

/// Whether the hive's contents are known to be current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiveState {
    /// The base block says the last write completed.
    Clean,
    /// The last write did not complete (sequence numbers differ or the
    /// checksum is wrong) and no transaction log brought it up to date:
    /// recent changes may exist only in the `.LOG1`/`.LOG2` files. The
    /// hive is still read as it is on disk.
    Stale,
    /// The hive was dirty and log entries were replayed in memory.
    Recovered {
        /// Number of log entries (new format) or logs (old format) applied.
        applied: u32,
    },
}

/// A registry hive held in memory, read-only. Reads go through `&self`;
/// the type is `Send + Sync`.
#[derive(Debug)]
pub struct Hive {
    data: Vec<u8>,
    base: BaseBlock,
    /// Start of each hive bin, relative to the hive bins data, ascending.
    bins: Vec<u32>,
    state: HiveState,
}

impl Hive {
    /// Opens a hive from its bytes. A dirty hive opens with
    /// [`HiveState::Stale`].
    pub fn open(bytes: Vec<u8>) -> Result<Hive> {
        Hive::open_with_logs(bytes, None, None)
    }

    /// Reads a hive from `reader` (at most [`MAX_HIVE_SIZE`] bytes) and
    /// opens it.
    pub fn read_from(reader: impl Read) -> Result<Hive> {
        Hive::open(read_limited(reader)?)
    }

    /// Opens a hive and, if it is dirty, replays its transaction logs
    /// (`.LOG1` then `.LOG2`, either may be absent) in memory. Nothing is
    /// written anywhere. Logs that do not apply (wrong format, stale,
    /// corrupt entries) are skipped up to the first bad entry, as the
    /// kernel does; if nothing applies the hive opens as
    /// [`HiveState::Stale`].
    pub fn open_with_logs(
        mut bytes: Vec<u8>,
        log1: Option<&[u8]>,
        log2: Option<&[u8]>,
    ) -> Result<Hive> {
        if bytes.len() as u64 > MAX_HIVE_SIZE {
            return Err(RegfError::TooLarge {
                limit: MAX_HIVE_SIZE,
            });
        }
        if bytes.len() < BASE_BLOCK_SIZE {
            return Err(RegfError::malformed(
                "base block",
                0,
                format!(
                    "expected at least {BASE_BLOCK_SIZE} bytes; the file has {}",
                    bytes.len()
                ),
            ));
        }
        let mut base = BaseBlock::parse(&bytes)?;
        check_primary(&base)?;
        let mut state = HiveState::Clean;
        if base.is_dirty() {
            state = HiveState::Stale;
            let logs: Vec<&[u8]> = [log1, log2].into_iter().flatten().collect();
            if !logs.is_empty() {
                let applied = log::replay(&mut bytes, &base, &logs);
                if applied > 0 {
                    base = BaseBlock::parse(&bytes)?;
                    check_primary(&base)?;
                    state = HiveState::Recovered { applied };
                }
            }
        }
        let bins = index_bins(&bytes, &base)?;
        let hive = Hive {
            data: bytes,
            base,
            bins,
            state,
        };
        // A hive whose root is not a key node is not worth handing out.
        hive.root()?;
        Ok(hive)
    }

    /// The base block as read (after any log replay).
    pub fn base_block(&self) -> &BaseBlock {
        &self.base
    }

    /// Whether the contents are current (see [`HiveState`]).
    pub fn state(&self) -> HiveState {
        self.state
    }

    /// The root key.
    pub fn root(&self) -> Result<Key> {
        Key::parse(self, self.base.root_cell)
    }

    /// The key at `path` below the root: backslash separated, matched
    /// case-insensitively (e.g. `ControlSet001\Services\viostor`); empty
    /// components are ignored, so `""` and `"\\"` name the root. `None`
    /// when some component does not exist.
    pub fn key(&self, path: &str) -> Result<Option<Key>> {
        let mut key = self.root()?;
        for part in path.split('\\').filter(|p| !p.is_empty()) {
            match self.subkey(&key, part)? {
                Some(k) => key = k,
                None => return Ok(None),
            }
        }
        Ok(Some(key))
    }

    /// The subkey of `key` named `name` (case-insensitive), if any.
    pub fn subkey(&self, key: &Key, name: &str) -> Result<Option<Key>> {
        for off in crate::subkeys::offsets(self, key)? {
            let k = Key::parse(self, off)?;
            if crate::names::eq_ignore_case(k.name(), name) {
                return Ok(Some(k));
            }
        }
        Ok(None)
    }

    /// The subkeys of `key`, in stored order (sorted by uppercase name).
    pub fn subkeys(&self, key: &Key) -> Result<Vec<Key>> {
        crate::subkeys::offsets(self, key)?
            .into_iter()
            .map(|off| Key::parse(self, off))
            .collect()
    }

    /// The values of `key`, in stored order. Value data is read when asked
    /// for, so listing is cheap.
    pub fn values<'h>(&'h self, key: &Key) -> Result<Vec<Value<'h>>> {
        crate::value::list(self, key)
    }

    /// The value of `key` named `name` (case-insensitive; `""` is the
    /// default value), if any.
    pub fn value<'h>(&'h self, key: &Key, name: &str) -> Result<Option<Value<'h>>> {
        Ok(self
            .values(key)?
            .into_iter()
            .find(|v| crate::names::eq_ignore_case(v.name(), name)))
    }

    /// Minor format version (large values use big-data cells from 4 on).
    pub(crate) fn minor_version(&self) -> u32 {
        self.base.minor_version
    }

    /// Size of the hive bins data: no value or list can be larger.
    pub(crate) fn bins_size(&self) -> u32 {
        self.base.hive_bins_size
    }

    /// The data of the allocated cell at `offset` (relative to the hive
    /// bins), without its size field. The cell must lie inside one hive
    /// bin, past its header, and be allocated (negative size).
    pub(crate) fn cell(&self, offset: u32, what: &'static str) -> Result<&[u8]> {
        let file_offset = BASE_BLOCK_SIZE as u64 + u64::from(offset);
        let bad = |problem: String| RegfError::malformed(what, file_offset, problem);
        if offset % 8 != 0 {
            return Err(bad(format!(
                "cell offset {offset:#x} is not a multiple of 8"
            )));
        }
        if offset >= self.base.hive_bins_size {
            return Err(bad(format!(
                "cell offset {offset:#x} is past the hive bins data ({:#x} bytes)",
                self.base.hive_bins_size
            )));
        }
        let i = self.bins.partition_point(|&start| start <= offset);
        let bin_start = i
            .checked_sub(1)
            .and_then(|j| self.bins.get(j))
            .copied()
            .ok_or_else(|| bad("cell offset is before the first hive bin".into()))?;
        let bin_end = self
            .bins
            .get(i)
            .copied()
            .unwrap_or(self.base.hive_bins_size);
        if offset < bin_start + HBIN_HEADER_SIZE {
            return Err(bad(format!(
                "cell offset {offset:#x} is inside the header of the hive bin at {bin_start:#x}"
            )));
        }
        let at = BASE_BLOCK_SIZE + offset as usize;
        let raw = le32(&self.data, at)
            .ok_or_else(|| bad("cell size field is past the end of the file".into()))?
            as i32;
        if raw >= 0 {
            return Err(bad(format!(
                "expected an allocated cell (negative size); found a free cell of {raw} bytes"
            )));
        }
        let size = raw.unsigned_abs();
        if size < 8 {
            return Err(bad(format!("cell size {size} is below the minimum of 8")));
        }
        if u64::from(offset) + u64::from(size) > u64::from(bin_end) {
            return Err(bad(format!(
                "cell of {size} bytes runs past the end of its hive bin at {bin_end:#x}"
            )));
        }
        slice(&self.data, at + 4, size as usize - 4)
            .ok_or_else(|| bad("cell runs past the end of the file".into()))
    }
}

/// Refuses base blocks this reader cannot read as a primary hive.
fn check_primary(base: &BaseBlock) -> Result<()> {
    if base.major_version != 1 || !(1..=6).contains(&base.minor_version) {
        return Err(RegfError::Unsupported {
            feature: format!(
                "hive format version {}.{} (known: 1.1 to 1.6)",
                base.major_version, base.minor_version
            ),
        });
    }
    if base.file_type != 0 {
        return Err(RegfError::malformed(
            "base block field file type",
            28,
            format!(
                "expected 0 (primary hive); found {} (a transaction log?)",
                base.file_type
            ),
        ));
    }
    Ok(())
}

/// Walks the hive bins once, checking each header, and returns their
/// starts. Cells are later looked up in this index so that none can
/// straddle two bins.
fn index_bins(data: &[u8], base: &BaseBlock) -> Result<Vec<u32>> {
    let size = base.hive_bins_size;
    let field = "base block field hive bins data size";
    if size == 0 || size % HBIN_ALIGN != 0 {
        return Err(RegfError::malformed(
            field,
            40,
            format!("expected a non-zero multiple of 4096; found {size:#x}"),
        ));
    }
    if BASE_BLOCK_SIZE as u64 + u64::from(size) > data.len() as u64 {
        return Err(RegfError::malformed(
            field,
            40,
            format!(
                "hive bins of {size:#x} bytes run past the end of the {:#x}-byte file",
                data.len()
            ),
        ));
    }
    let mut bins = Vec::new();
    let mut offset: u32 = 0;
    // Each bin is at least 4096 bytes, so this ends after size/4096 steps.
    while offset < size {
        let at = BASE_BLOCK_SIZE + offset as usize;
        let file_offset = at as u64;
        let bad = |problem: String| RegfError::malformed("hive bin header", file_offset, problem);
        if slice(data, at, 4) != Some(b"hbin".as_slice()) {
            return Err(bad("expected signature \"hbin\"".into()));
        }
        let stored = le32(data, at + 4).ok_or_else(|| bad("truncated".into()))?;
        if stored != offset {
            return Err(bad(format!(
                "offset field says {stored:#x}; the bin is at {offset:#x}"
            )));
        }
        let bin_size = le32(data, at + 8).ok_or_else(|| bad("truncated".into()))?;
        if bin_size == 0 || bin_size % HBIN_ALIGN != 0 || bin_size > size - offset {
            return Err(bad(format!(
                "size {bin_size:#x} is not a non-zero multiple of 4096 within the {:#x} bytes left",
                size - offset
            )));
        }
        bins.push(offset);
        offset += bin_size;
    }
    Ok(bins)
}

/// Reads all of `reader`, refusing more than [`MAX_HIVE_SIZE`] bytes.
fn read_limited(reader: impl Read) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(MAX_HIVE_SIZE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_HIVE_SIZE {
        return Err(RegfError::TooLarge {
            limit: MAX_HIVE_SIZE,
        });
    }
    Ok(bytes)
}
