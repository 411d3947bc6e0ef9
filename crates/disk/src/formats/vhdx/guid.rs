//! GUIDs as VHDX stores them: the first three fields little-endian, the
//! last eight bytes in order (Microsoft's layout).

use std::fmt;

/// A GUID as its 16 bytes in the file.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Guid(pub [u8; 16]);

impl Guid {
    /// The GUID written `{d1-d2-d3-d4[0..2]-d4[2..8]}`, in its file layout.
    pub const fn new(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> Guid {
        let a = d1.to_le_bytes();
        let b = d2.to_le_bytes();
        let c = d3.to_le_bytes();
        Guid([
            a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d4[0], d4[1], d4[2], d4[3], d4[4],
            d4[5], d4[6], d4[7],
        ])
    }

    /// The 16 bytes at `at` of `buf`, or the zero GUID past its end.
    pub fn read(buf: &[u8], at: usize) -> Guid {
        buf.get(at..at.saturating_add(16))
            .and_then(|s| <[u8; 16]>::try_from(s).ok())
            .map_or(Guid([0; 16]), Guid)
    }

    /// Whether every byte is zero.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{{{:08X}-{:04X}-{:04X}-{:02X}{:02X}-",
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u16::from_le_bytes([b[4], b[5]]),
            u16::from_le_bytes([b[6], b[7]]),
            b[8],
            b[9]
        )?;
        for byte in &b[10..] {
            write!(f, "{byte:02X}")?;
        }
        write!(f, "}}")
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::Guid;

    #[test]
    fn stores_the_first_fields_little_endian_and_prints_them_back() {
        let bat = Guid::new(
            0x2DC2_7766,
            0xF623,
            0x4200,
            [0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD, 0x4A, 0x08],
        );
        assert_eq!(
            bat.0,
            [
                0x66, 0x77, 0xC2, 0x2D, 0x23, 0xF6, 0x00, 0x42, 0x9D, 0x64, 0x11, 0x5E, 0x9B, 0xFD,
                0x4A, 0x08
            ]
        );
        assert_eq!(bat.to_string(), "{2DC27766-F623-4200-9D64-115E9BFD4A08}");
        assert_eq!(Guid::read(&bat.0, 0), bat);
        assert!(Guid::read(&bat.0, 1).is_zero());
    }
}
