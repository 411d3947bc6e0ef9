//! Values (`vk` cells), their data (resident, in one cell, or in big-data
//! segments) and typed decoding.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use crate::base_block::BASE_BLOCK_SIZE;
use crate::bytes::{latin1_name, le16, le32, slice, utf16_name, utf16_until_nul};
use crate::error::{RegfError, Result};
use crate::hive::Hive;
use crate::key::{Key, NO_CELL};

/// Values larger than this are split into big-data segments of at most
/// this many bytes (hive format 1.4 and later).
pub const BIG_DATA_SEGMENT: u32 = 16344;

/// Data size bit 31: the data (up to 4 bytes) is kept in the data offset
/// field itself.
const DATA_RESIDENT: u32 = 0x8000_0000;

/// Value flag: the name is stored one byte per character (Latin-1).
const VALUE_COMP_NAME: u16 = 0x0001;

/// Size of the fixed part of a value cell, before its name.
const VK_FIXED: usize = 20;

/// A value's stored type (`REG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ValueType(pub u32);

impl ValueType {
    /// REG_NONE.
    pub const NONE: ValueType = ValueType(0);
    /// REG_SZ.
    pub const SZ: ValueType = ValueType(1);
    /// REG_EXPAND_SZ.
    pub const EXPAND_SZ: ValueType = ValueType(2);
    /// REG_BINARY.
    pub const BINARY: ValueType = ValueType(3);
    /// REG_DWORD (little-endian).
    pub const DWORD: ValueType = ValueType(4);
    /// REG_DWORD_BIG_ENDIAN.
    pub const DWORD_BIG_ENDIAN: ValueType = ValueType(5);
    /// REG_LINK.
    pub const LINK: ValueType = ValueType(6);
    /// REG_MULTI_SZ.
    pub const MULTI_SZ: ValueType = ValueType(7);
    /// REG_RESOURCE_LIST.
    pub const RESOURCE_LIST: ValueType = ValueType(8);
    /// REG_FULL_RESOURCE_DESCRIPTOR.
    pub const FULL_RESOURCE_DESCRIPTOR: ValueType = ValueType(9);
    /// REG_RESOURCE_REQUIREMENTS_LIST.
    pub const RESOURCE_REQUIREMENTS_LIST: ValueType = ValueType(10);
    /// REG_QWORD (little-endian).
    pub const QWORD: ValueType = ValueType(11);

    /// The `REG_*` name, or `type N` for others.
    pub fn name(self) -> Cow<'static, str> {
        let n = match self.0 {
            0 => "REG_NONE",
            1 => "REG_SZ",
            2 => "REG_EXPAND_SZ",
            3 => "REG_BINARY",
            4 => "REG_DWORD",
            5 => "REG_DWORD_BIG_ENDIAN",
            6 => "REG_LINK",
            7 => "REG_MULTI_SZ",
            8 => "REG_RESOURCE_LIST",
            9 => "REG_FULL_RESOURCE_DESCRIPTOR",
            10 => "REG_RESOURCE_REQUIREMENTS_LIST",
            11 => "REG_QWORD",
            other => return Cow::Owned(format!("type {other:#x}")),
        };
        Cow::Borrowed(n)
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A value's data decoded by its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueData {
    /// REG_NONE: raw bytes (often empty).
    None(Vec<u8>),
    /// REG_SZ, up to the first NUL.
    String(String),
    /// REG_EXPAND_SZ, unexpanded (`%SystemRoot%\...`).
    ExpandString(String),
    /// REG_BINARY.
    Binary(Vec<u8>),
    /// REG_DWORD or REG_DWORD_BIG_ENDIAN, as a number.
    Dword(u32),
    /// REG_LINK: the target path (UTF-16, not NUL-terminated).
    Link(String),
    /// REG_MULTI_SZ: the strings before the empty one that ends the list.
    MultiString(Vec<String>),
    /// REG_QWORD.
    Qword(u64),
    /// Any other type (resource lists and unknown types) or a number whose
    /// data has the wrong length: the type and the raw bytes.
    Raw(ValueType, Vec<u8>),
}

/// A value of a key. Data is read from the hive when asked for.
#[derive(Debug, Clone)]
pub struct Value<'h> {
    hive: &'h Hive,
    offset: u32,
    name: String,
    value_type: ValueType,
    data_size: u32,
    data_offset: u32,
}

/// Reads the value list of `key`.
pub(crate) fn list<'h>(hive: &'h Hive, key: &Key) -> Result<Vec<Value<'h>>> {
    const WHAT: &str = "value list";
    if key.value_count == 0 {
        return Ok(Vec::new());
    }
    let file_offset = BASE_BLOCK_SIZE as u64 + u64::from(key.value_list);
    if key.value_list == NO_CELL {
        return Err(RegfError::malformed(
            "key node (nk)",
            BASE_BLOCK_SIZE as u64 + u64::from(key.offset()),
            format!("{} values but no value list", key.value_count),
        ));
    }
    let cell = hive.cell(key.value_list, WHAT)?;
    let needed = u64::from(key.value_count) * 4;
    if needed > cell.len() as u64 {
        return Err(RegfError::malformed(
            WHAT,
            file_offset,
            format!(
                "{} values need {needed} bytes; the cell has {}",
                key.value_count,
                cell.len()
            ),
        ));
    }
    cell.chunks_exact(4)
        .take(key.value_count as usize)
        .filter_map(|c| <[u8; 4]>::try_from(c).ok())
        .map(|c| Value::parse(hive, u32::from_le_bytes(c)))
        .collect()
}

impl<'h> Value<'h> {
    fn parse(hive: &'h Hive, offset: u32) -> Result<Value<'h>> {
        const WHAT: &str = "key value (vk)";
        let cell = hive.cell(offset, WHAT)?;
        let file_offset = BASE_BLOCK_SIZE as u64 + u64::from(offset);
        let bad = |problem: String| RegfError::malformed(WHAT, file_offset, problem);
        if cell.get(0..2) != Some(b"vk".as_slice()) {
            return Err(bad(format!(
                "expected signature \"vk\"; found {:?}",
                String::from_utf8_lossy(cell.get(0..2).unwrap_or_default())
            )));
        }
        let short = || {
            bad(format!(
                "cell of {} bytes is too short for a value",
                cell.len()
            ))
        };
        let name_len = le16(cell, 2).ok_or_else(short)?;
        let flags = le16(cell, 16).ok_or_else(short)?;
        let raw_name = slice(cell, VK_FIXED, usize::from(name_len)).ok_or_else(|| {
            bad(format!(
                "name of {name_len} bytes runs past the end of the {}-byte cell",
                cell.len()
            ))
        })?;
        let name = if flags & VALUE_COMP_NAME != 0 {
            latin1_name(raw_name)
        } else {
            utf16_name(raw_name)
        };
        Ok(Value {
            hive,
            offset,
            name,
            data_size: le32(cell, 4).ok_or_else(short)?,
            data_offset: le32(cell, 8).ok_or_else(short)?,
            value_type: ValueType(le32(cell, 12).ok_or_else(short)?),
        })
    }

    /// The value's name; `""` is the key's default value.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The stored type.
    pub fn value_type(&self) -> ValueType {
        self.value_type
    }

    /// Length of the data in bytes.
    pub fn data_len(&self) -> u32 {
        self.data_size & !DATA_RESIDENT
    }

    /// Offset of the value cell relative to the hive bins.
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// The raw data. Borrowed from the hive unless it is split into
    /// big-data segments.
    pub fn data(&self) -> Result<Cow<'h, [u8]>> {
        let len = self.data_len();
        let file_offset = BASE_BLOCK_SIZE as u64 + u64::from(self.offset);
        let bad = |problem: String| {
            RegfError::malformed("key value (vk) data size", file_offset, problem)
        };
        if self.data_size & DATA_RESIDENT != 0 {
            if len > 4 {
                return Err(bad(format!(
                    "data kept in the offset field is {len} bytes; at most 4 fit"
                )));
            }
            let bytes = self.data_offset.to_le_bytes();
            return Ok(Cow::Owned(
                bytes.get(..len as usize).unwrap_or_default().to_vec(),
            ));
        }
        if len == 0 {
            return Ok(Cow::Borrowed(&[]));
        }
        // Checked before any allocation: no value is larger than the hive.
        if len > self.hive.bins_size() {
            return Err(bad(format!(
                "{len} bytes of data is more than the {} bytes of hive bins",
                self.hive.bins_size()
            )));
        }
        let cell = self.hive.cell(self.data_offset, "value data")?;
        if let Some(direct) = cell.get(..len as usize) {
            return Ok(Cow::Borrowed(direct));
        }
        if self.hive.minor_version() >= 4
            && len > BIG_DATA_SEGMENT
            && cell.get(0..2) == Some(b"db".as_slice())
        {
            return big_data(self.hive, self.data_offset, cell, len).map(Cow::Owned);
        }
        Err(RegfError::malformed(
            "value data",
            BASE_BLOCK_SIZE as u64 + u64::from(self.data_offset),
            format!(
                "{len} bytes of data do not fit the {}-byte cell",
                cell.len()
            ),
        ))
    }

    /// The data decoded by the value's type.
    pub fn decoded(&self) -> Result<ValueData> {
        let data = self.data()?;
        Ok(decode(self.value_type, &data))
    }

    /// A REG_DWORD (or REG_DWORD_BIG_ENDIAN) as a number.
    pub fn as_dword(&self) -> Result<u32> {
        match self.decoded()? {
            ValueData::Dword(v) => Ok(v),
            _ => Err(self.wrong("REG_DWORD")),
        }
    }

    /// A REG_QWORD, or a REG_DWORD widened (some settings, e.g.
    /// `RealTimeIsUniversal`, are found as either).
    pub fn as_qword(&self) -> Result<u64> {
        match self.decoded()? {
            ValueData::Qword(v) => Ok(v),
            ValueData::Dword(v) => Ok(u64::from(v)),
            _ => Err(self.wrong("REG_QWORD")),
        }
    }

    /// A REG_SZ, REG_EXPAND_SZ (unexpanded) or REG_LINK as a string.
    pub fn as_string(&self) -> Result<String> {
        match self.decoded()? {
            ValueData::String(s) | ValueData::ExpandString(s) | ValueData::Link(s) => Ok(s),
            _ => Err(self.wrong("REG_SZ")),
        }
    }

    /// A REG_MULTI_SZ as its strings; a REG_SZ reads as one string (some
    /// writers store single-item lists that way).
    pub fn as_multi_string(&self) -> Result<Vec<String>> {
        match self.decoded()? {
            ValueData::MultiString(v) => Ok(v),
            ValueData::String(s) | ValueData::ExpandString(s) => Ok(vec![s]),
            _ => Err(self.wrong("REG_MULTI_SZ")),
        }
    }

    fn wrong(&self, expected: &'static str) -> RegfError {
        RegfError::WrongType {
            name: self.name.clone(),
            expected,
            found: self.value_type,
        }
    }
}

/// Assembles a value split into big-data segments. Every segment must be
/// distinct (a repeated segment is a loop) and hold its share.
fn big_data(hive: &Hive, db_offset: u32, db: &[u8], len: u32) -> Result<Vec<u8>> {
    const WHAT: &str = "big data (db)";
    let file_offset = BASE_BLOCK_SIZE as u64 + u64::from(db_offset);
    let bad = |problem: String| RegfError::malformed(WHAT, file_offset, problem);
    let count = le16(db, 2).ok_or_else(|| bad("cell too short".into()))?;
    let list_offset = le32(db, 4).ok_or_else(|| bad("cell too short".into()))?;
    let needed = len.div_ceil(BIG_DATA_SEGMENT);
    if u32::from(count) < needed {
        return Err(bad(format!(
            "{count} segments cannot hold {len} bytes (need {needed})"
        )));
    }
    let list = hive.cell(list_offset, "big data segment list")?;
    if usize::from(count) * 4 > list.len() {
        return Err(RegfError::malformed(
            "big data segment list",
            BASE_BLOCK_SIZE as u64 + u64::from(list_offset),
            format!(
                "{count} segments need {} bytes; the cell has {}",
                usize::from(count) * 4,
                list.len()
            ),
        ));
    }
    // `len` was checked against the hive bins size by the caller.
    let mut out = Vec::with_capacity(len as usize);
    let mut seen = HashSet::new();
    let mut remaining = len;
    for seg in list.chunks_exact(4).take(usize::from(count)) {
        if remaining == 0 {
            break;
        }
        let seg = <[u8; 4]>::try_from(seg).map_or(NO_CELL, u32::from_le_bytes);
        if !seen.insert(seg) {
            return Err(bad(format!(
                "segment {seg:#x} is listed twice (the segments loop)"
            )));
        }
        let cell = hive.cell(seg, "big data segment")?;
        let take = remaining.min(BIG_DATA_SEGMENT);
        let part = cell.get(..take as usize).ok_or_else(|| {
            RegfError::malformed(
                "big data segment",
                BASE_BLOCK_SIZE as u64 + u64::from(seg),
                format!("expected {take} bytes; the cell has {}", cell.len()),
            )
        })?;
        out.extend_from_slice(part);
        remaining -= take;
    }
    if remaining != 0 {
        return Err(bad(format!("segments ended {remaining} bytes short")));
    }
    Ok(out)
}

/// Decodes raw data by type. Numbers of the wrong length and unknown
/// types come back as [`ValueData::Raw`].
pub fn decode(ty: ValueType, data: &[u8]) -> ValueData {
    match ty {
        ValueType::NONE => ValueData::None(data.to_vec()),
        ValueType::SZ => ValueData::String(utf16_until_nul(data)),
        ValueType::EXPAND_SZ => ValueData::ExpandString(utf16_until_nul(data)),
        ValueType::BINARY => ValueData::Binary(data.to_vec()),
        ValueType::DWORD => match <[u8; 4]>::try_from(data) {
            Ok(b) => ValueData::Dword(u32::from_le_bytes(b)),
            Err(_) => ValueData::Raw(ty, data.to_vec()),
        },
        ValueType::DWORD_BIG_ENDIAN => match <[u8; 4]>::try_from(data) {
            Ok(b) => ValueData::Dword(u32::from_be_bytes(b)),
            Err(_) => ValueData::Raw(ty, data.to_vec()),
        },
        ValueType::LINK => ValueData::Link(utf16_until_nul(data)),
        ValueType::MULTI_SZ => ValueData::MultiString(multi_sz(data)),
        ValueType::QWORD => match <[u8; 8]>::try_from(data) {
            Ok(b) => ValueData::Qword(u64::from_le_bytes(b)),
            Err(_) => ValueData::Raw(ty, data.to_vec()),
        },
        _ => ValueData::Raw(ty, data.to_vec()),
    }
}

/// Splits REG_MULTI_SZ data: UTF-16 strings each ended by NUL, the list
/// ended by an empty string (or by the end of the data).
fn multi_sz(data: &[u8]) -> Vec<String> {
    let units: Vec<u16> = data
        .chunks_exact(2)
        .map(|c| <[u8; 2]>::try_from(c).map_or(0, u16::from_le_bytes))
        .collect();
    units
        .split(|&u| u == 0)
        .take_while(|s| !s.is_empty())
        .map(String::from_utf16_lossy)
        .collect()
}
