//! The volume's $UpCase table: how Windows compares names on this volume
//! (case-insensitively, by upper-casing each UTF-16 unit).

use std::cmp::Ordering;

/// One upper-case UTF-16 unit per UTF-16 unit.
pub struct Upcase {
    table: Vec<u16>,
}

/// The table maps every one of the 65536 UTF-16 units.
pub const UPCASE_LEN: usize = 65536 * 2;

impl Upcase {
    /// The table from the bytes of `$UpCase` (at least [`UPCASE_LEN`];
    /// the caller checks).
    pub fn new(bytes: &[u8]) -> Upcase {
        let table = bytes
            .chunks_exact(2)
            .take(65536)
            .map(|c| crate::bytes::le16(c, 0))
            .collect();
        Upcase { table }
    }

    fn upper(&self, unit: u16) -> u16 {
        self.table.get(usize::from(unit)).copied().unwrap_or(unit)
    }

    /// Orders two names as the volume's directory indexes do.
    pub fn cmp(&self, a: &[u16], b: &[u16]) -> Ordering {
        a.iter()
            .map(|&u| self.upper(u))
            .cmp(b.iter().map(|&u| self.upper(u)))
    }
}
