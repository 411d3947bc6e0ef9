//! Key nodes (`nk` cells).

use crate::base_block::BASE_BLOCK_SIZE;
use crate::bytes::{latin1_name, le16, le32, le64, slice, utf16_name};
use crate::error::{RegfError, Result};
use crate::hive::Hive;
use crate::time::FileTime;

/// Size of the fixed part of a key node, before its name.
const NK_FIXED: usize = 76;

/// Key flag: the name is stored one byte per character (Latin-1).
const KEY_COMP_NAME: u16 = 0x0020;
/// Key flag: the key is a symbolic link (its `SymbolicLinkValue` value
/// names the target).
const KEY_SYM_LINK: u16 = 0x0010;

/// "No cell": the offset stored when a list or cell is absent.
pub(crate) const NO_CELL: u32 = 0xFFFF_FFFF;

/// A registry key as stored in its key node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    offset: u32,
    name: String,
    flags: u16,
    last_write: FileTime,
    pub(crate) subkey_count: u32,
    pub(crate) subkey_list: u32,
    pub(crate) value_count: u32,
    pub(crate) value_list: u32,
    pub(crate) security: u32,
    pub(crate) class_offset: u32,
    pub(crate) class_len: u16,
}

impl Key {
    /// Parses the key node at `offset` (relative to the hive bins).
    pub(crate) fn parse(hive: &Hive, offset: u32) -> Result<Key> {
        const WHAT: &str = "key node (nk)";
        let cell = hive.cell(offset, WHAT)?;
        let file_offset = BASE_BLOCK_SIZE as u64 + u64::from(offset);
        let bad = |problem: String| RegfError::malformed(WHAT, file_offset, problem);
        if cell.get(0..2) != Some(b"nk".as_slice()) {
            return Err(bad(format!(
                "expected signature \"nk\"; found {:?}",
                String::from_utf8_lossy(cell.get(0..2).unwrap_or_default())
            )));
        }
        let short = || {
            bad(format!(
                "cell of {} bytes is too short for a key node",
                cell.len()
            ))
        };
        let u32_at = |at| le32(cell, at).ok_or_else(short);
        let flags = le16(cell, 2).ok_or_else(short)?;
        let name_len = le16(cell, 72).ok_or_else(short)?;
        let raw_name = slice(cell, NK_FIXED, usize::from(name_len)).ok_or_else(|| {
            bad(format!(
                "name of {name_len} bytes runs past the end of the {}-byte cell",
                cell.len()
            ))
        })?;
        let name = if flags & KEY_COMP_NAME != 0 {
            latin1_name(raw_name)
        } else {
            utf16_name(raw_name)
        };
        Ok(Key {
            offset,
            name,
            flags,
            last_write: FileTime(le64(cell, 4).ok_or_else(short)?),
            subkey_count: u32_at(20)?,
            subkey_list: u32_at(28)?,
            value_count: u32_at(36)?,
            value_list: u32_at(40)?,
            security: u32_at(44)?,
            class_offset: u32_at(48)?,
            class_len: le16(cell, 74).ok_or_else(short)?,
        })
    }

    /// The key's name (the root's name is whatever the hive's creator gave
    /// it, e.g. `ROOT` or `CsiTool-CreateHive-{...}`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When the key (its values or its list of subkeys) last changed.
    pub fn last_write(&self) -> FileTime {
        self.last_write
    }

    /// Number of subkeys stored in the hive (volatile subkeys never are).
    pub fn subkey_count(&self) -> u32 {
        self.subkey_count
    }

    /// Number of values.
    pub fn value_count(&self) -> u32 {
        self.value_count
    }

    /// Key node flags (KEY_* bits).
    pub fn flags(&self) -> u16 {
        self.flags
    }

    /// True for a symbolic link key (e.g. `CurrentControlSet` in a live
    /// registry; offline hives hold the link, not the target).
    pub fn is_symlink(&self) -> bool {
        self.flags & KEY_SYM_LINK != 0
    }

    /// Offset of the key node relative to the hive bins: identifies the
    /// key within its hive.
    pub fn offset(&self) -> u32 {
        self.offset
    }
}

impl Hive {
    /// The key's class name, if it has one (a UTF-16 string, rarely used;
    /// some LSA keys keep data there).
    pub fn class_name(&self, key: &Key) -> Result<Option<String>> {
        if key.class_offset == NO_CELL || key.class_len == 0 {
            return Ok(None);
        }
        let cell = self.cell(key.class_offset, "class name")?;
        let raw = slice(cell, 0, usize::from(key.class_len)).ok_or_else(|| {
            RegfError::malformed(
                "class name",
                BASE_BLOCK_SIZE as u64 + u64::from(key.class_offset),
                format!(
                    "name of {} bytes runs past the end of the {}-byte cell",
                    key.class_len,
                    cell.len()
                ),
            )
        })?;
        Ok(Some(utf16_name(raw)))
    }

    /// The key's security descriptor (self-relative SECURITY_DESCRIPTOR
    /// bytes from its `sk` cell), if it has one.
    pub fn security_descriptor(&self, key: &Key) -> Result<Option<&[u8]>> {
        const WHAT: &str = "key security (sk)";
        if key.security == NO_CELL {
            return Ok(None);
        }
        let cell = self.cell(key.security, WHAT)?;
        let file_offset = BASE_BLOCK_SIZE as u64 + u64::from(key.security);
        if cell.get(0..2) != Some(b"sk".as_slice()) {
            return Err(RegfError::malformed(
                WHAT,
                file_offset,
                "expected signature \"sk\"",
            ));
        }
        let len = le32(cell, 16)
            .ok_or_else(|| RegfError::malformed(WHAT, file_offset, "cell too short"))?;
        slice(cell, 20, len as usize).map(Some).ok_or_else(|| {
            RegfError::malformed(
                WHAT,
                file_offset,
                format!(
                    "descriptor of {len} bytes runs past the end of the {}-byte cell",
                    cell.len()
                ),
            )
        })
    }
}
