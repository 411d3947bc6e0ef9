//! Reading registry values with evidence.
//!
//! Every read records what was looked at: the location is written
//! `HIVE\key\value` (`SYSTEM\ControlSet001\Services\viostor\Start`), as a
//! user would find it in `reg load` / regedit, and the value as found,
//! `absent`, or `unreadable: <reason>`. A damaged key or value is recorded
//! and read as absent; it never stops the inspection.

use imsprep_regf::{Hive, Key, ValueData};

use crate::evidence::Evidence;

/// Most subkeys or values listed from one key: a SOFTWARE hive's
/// Uninstall or Component Based Servicing key holds a few thousand.
pub const MAX_LISTED: usize = 20_000;

/// One loaded hive and the name it is reported under (`SYSTEM`).
#[derive(Clone, Copy)]
pub struct Reg<'a> {
    /// The hive.
    pub hive: &'a Hive,
    /// Its name in evidence.
    pub name: &'a str,
}

impl<'a> Reg<'a> {
    /// A hive reported as `name`.
    pub fn new(hive: &'a Hive, name: &'a str) -> Reg<'a> {
        Reg { hive, name }
    }

    /// `HIVE\key` as written in evidence.
    pub fn location(&self, key: &str) -> String {
        if key.is_empty() {
            self.name.to_string()
        } else {
            format!("{}\\{}", self.name, key)
        }
    }

    fn open(&self, key: &str, ev: &mut Vec<Evidence>) -> Option<Key> {
        match self.hive.key(key) {
            Ok(k) => k,
            Err(e) => {
                ev.push(Evidence::registry(
                    self.location(key),
                    format!("unreadable: {e}"),
                ));
                None
            }
        }
    }

    /// Whether `key` exists; recorded as `key present` / `key absent`.
    pub fn exists(&self, key: &str, ev: &mut Vec<Evidence>) -> bool {
        let found = self.open(key, ev).is_some();
        ev.push(Evidence::registry(
            self.location(key),
            if found { "key present" } else { "key absent" },
        ));
        found
    }

    /// Whether `key` exists, without evidence.
    pub fn has_key(&self, key: &str) -> bool {
        matches!(self.hive.key(key), Ok(Some(_)))
    }

    /// The decoded data of `key\value`, recorded in evidence.
    pub fn data(&self, key: &str, value: &str, ev: &mut Vec<Evidence>) -> Option<ValueData> {
        let at = format!("{}\\{}", self.location(key), value);
        let Some(k) = self.open(key, ev) else {
            ev.push(Evidence::registry(at, "absent"));
            return None;
        };
        let found = match self.hive.value(&k, value) {
            Ok(Some(v)) => v.decoded(),
            Ok(None) => {
                ev.push(Evidence::registry(at, "absent"));
                return None;
            }
            Err(e) => Err(e),
        };
        match found {
            Ok(d) => {
                ev.push(Evidence::registry(at, show(&d)));
                Some(d)
            }
            Err(e) => {
                ev.push(Evidence::registry(at, format!("unreadable: {e}")));
                None
            }
        }
    }

    /// The raw data of `key\\value`, recorded in evidence by its decoded
    /// form.
    pub fn raw(&self, key: &str, value: &str, ev: &mut Vec<Evidence>) -> Option<Vec<u8>> {
        self.data(key, value, ev)?;
        let k = self.hive.key(key).ok()??;
        let v = self.hive.value(&k, value).ok()??;
        v.data().ok().map(|d| d.into_owned())
    }

    /// Every string of a REG_MULTI_SZ, empty ones included. Lists such as
    /// `PendingFileRenameOperations` pair a source with an empty target
    /// (delete), so an empty string does not end them; only the end of
    /// the data does.
    pub fn multi_all(&self, key: &str, value: &str, ev: &mut Vec<Evidence>) -> Option<Vec<String>> {
        let raw = self.raw(key, value, ev)?;
        let units: Vec<u16> = raw
            .chunks_exact(2)
            .filter_map(|c| <[u8; 2]>::try_from(c).ok().map(u16::from_le_bytes))
            .collect();
        let mut items: Vec<String> = units
            .split(|u| *u == 0)
            .map(String::from_utf16_lossy)
            .collect();
        // The data ends with the last string's NUL and the list's NUL.
        while items.last().is_some_and(|s| s.is_empty()) {
            items.pop();
        }
        Some(items)
    }

    /// A number (REG_DWORD, or REG_QWORD when it fits).
    pub fn dword(&self, key: &str, value: &str, ev: &mut Vec<Evidence>) -> Option<u32> {
        match self.data(key, value, ev)? {
            ValueData::Dword(v) => Some(v),
            ValueData::Qword(v) => u32::try_from(v).ok(),
            _ => None,
        }
    }

    /// A number of either width (REG_DWORD or REG_QWORD).
    pub fn qword(&self, key: &str, value: &str, ev: &mut Vec<Evidence>) -> Option<u64> {
        match self.data(key, value, ev)? {
            ValueData::Dword(v) => Some(u64::from(v)),
            ValueData::Qword(v) => Some(v),
            _ => None,
        }
    }

    /// A string (REG_SZ, REG_EXPAND_SZ unexpanded); a number is written
    /// in decimal (some writers store numbers as strings and back).
    pub fn string(&self, key: &str, value: &str, ev: &mut Vec<Evidence>) -> Option<String> {
        match self.data(key, value, ev)? {
            ValueData::String(s) | ValueData::ExpandString(s) | ValueData::Link(s) => Some(s),
            ValueData::Dword(v) => Some(v.to_string()),
            ValueData::Qword(v) => Some(v.to_string()),
            _ => None,
        }
    }

    /// A list of strings (REG_MULTI_SZ, or a REG_SZ as one item).
    pub fn multi(&self, key: &str, value: &str, ev: &mut Vec<Evidence>) -> Option<Vec<String>> {
        match self.data(key, value, ev)? {
            ValueData::MultiString(v) => Some(v),
            ValueData::String(s) | ValueData::ExpandString(s) => Some(vec![s]),
            _ => None,
        }
    }

    /// Names of the subkeys of `key` (at most [`MAX_LISTED`]), without
    /// evidence; empty when absent or unreadable.
    pub fn subkey_names(&self, key: &str) -> Vec<String> {
        let Ok(Some(k)) = self.hive.key(key) else {
            return Vec::new();
        };
        self.hive
            .subkeys(&k)
            .map(|v| {
                v.into_iter()
                    .take(MAX_LISTED)
                    .map(|s| s.name().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Names and decoded data of the values of `key` (at most
    /// [`MAX_LISTED`]); values that cannot be read are left out.
    pub fn values(&self, key: &str) -> Vec<(String, ValueData)> {
        let Ok(Some(k)) = self.hive.key(key) else {
            return Vec::new();
        };
        self.hive
            .values(&k)
            .map(|v| {
                v.into_iter()
                    .take(MAX_LISTED)
                    .filter_map(|v| v.decoded().ok().map(|d| (v.name().to_string(), d)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A value as the user would read it in regedit (long binaries cut).
pub fn show(d: &ValueData) -> String {
    match d {
        ValueData::String(s) | ValueData::ExpandString(s) | ValueData::Link(s) => {
            format!("\"{s}\"")
        }
        ValueData::Dword(v) => format!("{v} ({v:#x})"),
        ValueData::Qword(v) => format!("{v} ({v:#x})"),
        ValueData::MultiString(v) => {
            let items: Vec<String> = v.iter().map(|s| format!("\"{s}\"")).collect();
            format!("[{}]", items.join(", "))
        }
        ValueData::None(b) | ValueData::Binary(b) | ValueData::Raw(_, b) => {
            let hex: Vec<String> = b.iter().take(32).map(|x| format!("{x:02x}")).collect();
            let more = if b.len() > 32 { " …" } else { "" };
            format!("hex:{}{more} ({} bytes)", hex.join(","), b.len())
        }
    }
}
