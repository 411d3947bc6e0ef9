//! The VHD cylinder/head/sector geometry stored in the footer.

/// A disk geometry as the VHD specification computes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Cylinders.
    pub cylinders: u16,
    /// Heads.
    pub heads: u8,
    /// Sectors per track.
    pub sectors: u8,
}

impl Geometry {
    /// The geometry of a disk of `size` bytes, by the algorithm of the VHD
    /// specification (appendix "CHS calculation"): capped at
    /// 65535 * 16 * 255 sectors, 17, then 31, then 63 sectors per track,
    /// at least 4 heads.
    pub fn for_size(size: u64) -> Geometry {
        const MAX: u64 = 65535 * 16 * 255;
        let total = (size / 512).min(MAX);
        let (sectors, heads, cyl_times_heads) = if total >= 65535 * 16 * 63 {
            (255u64, 16u64, total / 255)
        } else {
            let mut spt = 17u64;
            let mut cth = total / spt;
            let mut heads = cth.div_ceil(1024).max(4);
            if cth >= heads * 1024 || heads > 16 {
                spt = 31;
                heads = 16;
                cth = total / spt;
            }
            if cth >= heads * 1024 {
                spt = 63;
                heads = 16;
                cth = total / spt;
            }
            (spt, heads, cth)
        };
        // The cap keeps every value in range: cylinders <= 65535, heads <= 16.
        Geometry {
            cylinders: u16::try_from(cyl_times_heads / heads).unwrap_or(u16::MAX),
            heads: u8::try_from(heads).unwrap_or(u8::MAX),
            sectors: u8::try_from(sectors).unwrap_or(u8::MAX),
        }
    }

    /// The footer encoding: cylinders in the high 16 bits, then heads, then
    /// sectors per track in the low byte.
    pub fn to_u32(self) -> u32 {
        (u32::from(self.cylinders) << 16) | (u32::from(self.heads) << 8) | u32::from(self.sectors)
    }

    /// Decodes the footer encoding.
    pub fn from_u32(v: u32) -> Geometry {
        Geometry {
            cylinders: (v >> 16) as u16,
            heads: (v >> 8) as u8,
            sectors: v as u8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Geometry;

    fn chs(size: u64) -> (u16, u8, u8) {
        let g = Geometry::for_size(size);
        (g.cylinders, g.heads, g.sectors)
    }

    #[test]
    fn hand_computed_values() {
        // 8192 sectors: 17 spt, 481 cyl*heads, 1 head -> 4, 120 cylinders.
        assert_eq!(chs(4 << 20), (120, 4, 17));
        // 32 sectors: 1 cyl*head, 4 heads, 0 cylinders.
        assert_eq!(chs(16384), (0, 4, 17));
        // 2097153 sectors: 17 spt needs 121 heads -> 31 spt, 16 heads gives
        // 67650 >= 16384 -> 63 spt: 33288 / 16 = 2080 cylinders.
        assert_eq!(chs((1 << 30) + 512), (2080, 16, 63));
        // 127 GiB and more: 255 spt, 16 heads, capped at 65535 cylinders.
        assert_eq!(chs(1 << 40), (65535, 16, 255));
        // Exactly 65535*16*63 sectors switches to 255 spt.
        let s = 65535u64 * 16 * 63;
        assert_eq!(chs(s * 512), ((s / 255 / 16) as u16, 16, 255));
        assert_eq!(chs(0), (0, 4, 17));
    }

    #[test]
    fn fixture_values() {
        // Geometry words of the reference vectors' footers.
        assert_eq!(Geometry::for_size(4_194_304).to_u32(), 0x0078_0411);
        assert_eq!(Geometry::for_size(3_146_240).to_u32(), 0x005a_0411);
        assert_eq!(Geometry::for_size(11_547_136).to_u32(), 0x014b_0411);
        assert_eq!(Geometry::for_size(16384).to_u32(), 0x0000_0411);
        assert_eq!(Geometry::for_size(1_073_742_336).to_u32(), 0x0820_103f);
        let g = Geometry::for_size(1_073_742_336);
        assert_eq!(Geometry::from_u32(g.to_u32()), g);
    }
}
