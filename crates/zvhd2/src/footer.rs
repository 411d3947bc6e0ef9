//! The 512-byte footer: decoding, encoding, checksum and validation.

use byteorder::{ByteOrder, LittleEndian as LE};

use crate::error::{escape, Error};
use crate::geometry::Geometry;
use crate::layout::{
    block_size_ok, round_up, BITMAP_SEG_SIZE, BLOCKS_PER_BITMAP_SEG, CURR_SIZE_ALIGN,
    ENTRIES_PER_INDEX_SEG, FOOTER_LEN, INDEX_SEG_SIZE, PAGE, SECTOR,
};

/// The cookie of a ZVHD2 footer (the reader compares the first 6 bytes).
pub const COOKIE: [u8; 8] = *b"z2strm\0\0";
/// The cookie of a ZVHD (version 1) footer.
pub const ZVHD_COOKIE: &[u8] = b"stream";
/// The cookie of a plain VHD footer.
pub const VHD_COOKIE: &[u8] = b"conectix";
/// compress_method value for zlib.
pub const METHOD_ZLIB: u8 = 0;
/// compress_method value for zstd.
pub const METHOD_ZSTD: u8 = 1;

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniff {
    /// A ZVHD2 footer cookie.
    Zvhd2,
    /// A ZVHD (version 1) cookie.
    Zvhd,
    /// A VHD footer cookie.
    Vhd,
    /// None of these.
    Unknown,
}

/// Tells from the start of a footer (or of a file) which of the VHD family
/// it belongs to; needs only the first 8 bytes.
pub fn sniff(buf: &[u8]) -> Sniff {
    if buf.starts_with(&COOKIE[..6]) {
        Sniff::Zvhd2
    } else if buf.starts_with(VHD_COOKIE) {
        Sniff::Vhd
    } else if buf.starts_with(ZVHD_COOKIE) {
        Sniff::Zvhd
    } else {
        Sniff::Unknown
    }
}

/// A decoded ZVHD2 footer; every field of the on-disk structure, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footer {
    /// `z2strm` and two NUL bytes.
    pub cookie: [u8; 8],
    /// Always 2.
    pub features: u32,
    /// Always 0x00010000.
    pub ff_version: u32,
    /// Always all ones.
    pub data_offset: u64,
    /// Creation time, seconds since 2000-01-01 00:00:00 UTC.
    pub timestamp: u32,
    /// `tap` and a NUL byte.
    pub creator_app: [u8; 4],
    /// 0x00010004.
    pub creator_version: u32,
    /// 0.
    pub creator_os: u32,
    /// Virtual disk size, a multiple of 512.
    pub orig_size: u64,
    /// orig_size rounded up to 1 GiB: the disk size a consumer exposes.
    pub curr_size: u64,
    /// VHD CHS geometry of orig_size (see [`Geometry`]).
    pub geometry: u32,
    /// Disk type, 4.
    pub disk_type: u32,
    /// Bitwise NOT of the byte sum of the footer with this field zeroed.
    pub checksum: u32,
    /// Random identifier.
    pub uuid: [u8; 16],
    /// 0.
    pub saved: u8,
    /// 0.
    pub hidden: u8,
    /// 0.
    pub align_64: u8,
    /// 1; when non-zero in the head footer, the tail footer is authoritative.
    pub zvhd2_version: u8,
    /// Bytes per block, a power of two from 1 MiB to 32 MiB.
    pub block_size: u32,
    /// ceil(orig_size / block_size).
    pub max_blk_num: u32,
    /// Byte offset of the index (0 in the head footer).
    pub index_lba: u64,
    /// Byte offset of the bitmap (0 in the head footer).
    pub bitmap_lba: u64,
    /// index_seg_num * 524288.
    pub index_size: u32,
    /// bitmap_seg_num * 4096.
    pub bitmap_size: u32,
    /// 524288.
    pub index_seg_size: u32,
    /// 4096.
    pub bitmap_seg_size: u32,
    /// ceil(non_zero_blk_num / 32768).
    pub index_seg_num: u32,
    /// ceil(max_blk_num / 32768).
    pub bitmap_seg_num: u32,
    /// Number of data records.
    pub non_zero_blk_num: u32,
    /// 0; 1 would mean one index entry per block, which no writer produces.
    pub index_contains_zero_blk: u8,
    /// 1 = zstd, 0 = zlib.
    pub compress_method: u8,
    /// Unused, zero.
    pub reserved: [u8; 370],
}

/// Where the structures of a validated file are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regions {
    /// Data records lie in `data_start..data_end`.
    pub data_start: u64,
    /// End of the data area: the footer copy page starts here.
    pub data_end: u64,
    /// Offset of the tail footer page.
    pub tail: u64,
}

impl Footer {
    /// A footer as the reference writes it at creation time (head footer):
    /// index and bitmap fields zero, checksum computed.
    pub fn new_head(
        orig_size: u64,
        block_size: u32,
        compress_method: u8,
        timestamp: u32,
        uuid: [u8; 16],
    ) -> Result<Footer, Error> {
        if !block_size_ok(block_size) {
            return Err(Error::InvalidOption(format!(
                "block size {block_size} is not a power of two from 1 MiB to 32 MiB"
            )));
        }
        let too_large = || Error::TooLarge {
            size: orig_size,
            block_size,
        };
        let orig = round_up(orig_size, SECTOR).ok_or_else(too_large)?;
        let curr = round_up(orig, CURR_SIZE_ALIGN).ok_or_else(too_large)?;
        let max_blk_num =
            u32::try_from(orig.div_ceil(u64::from(block_size))).map_err(|_| too_large())?;
        let mut f = Footer {
            cookie: COOKIE,
            features: 2,
            ff_version: 0x0001_0000,
            data_offset: u64::MAX,
            timestamp,
            creator_app: *b"tap\0",
            creator_version: 0x0001_0004,
            creator_os: 0,
            orig_size: orig,
            curr_size: curr,
            geometry: Geometry::for_size(orig).to_u32(),
            disk_type: 4,
            checksum: 0,
            uuid,
            saved: 0,
            hidden: 0,
            align_64: 0,
            zvhd2_version: 1,
            block_size,
            max_blk_num,
            index_lba: 0,
            bitmap_lba: 0,
            index_size: 0,
            bitmap_size: 0,
            index_seg_size: 0,
            bitmap_seg_size: 0,
            index_seg_num: 0,
            bitmap_seg_num: 0,
            non_zero_blk_num: 0,
            index_contains_zero_blk: 0,
            compress_method,
            reserved: [0; 370],
        };
        f.seal();
        Ok(f)
    }

    /// Decodes 512 bytes without any check. `None` if `buf` is shorter.
    pub fn decode(buf: &[u8]) -> Option<Footer> {
        let b: &[u8; FOOTER_LEN] = buf.get(..FOOTER_LEN)?.try_into().ok()?;
        let arr = |r: std::ops::Range<usize>| &b[r];
        let mut cookie = [0u8; 8];
        cookie.copy_from_slice(arr(0..8));
        let mut creator_app = [0u8; 4];
        creator_app.copy_from_slice(arr(28..32));
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(arr(68..84));
        let mut reserved = [0u8; 370];
        reserved.copy_from_slice(arr(142..512));
        Some(Footer {
            cookie,
            features: LE::read_u32(arr(8..12)),
            ff_version: LE::read_u32(arr(12..16)),
            data_offset: LE::read_u64(arr(16..24)),
            timestamp: LE::read_u32(arr(24..28)),
            creator_app,
            creator_version: LE::read_u32(arr(32..36)),
            creator_os: LE::read_u32(arr(36..40)),
            orig_size: LE::read_u64(arr(40..48)),
            curr_size: LE::read_u64(arr(48..56)),
            geometry: LE::read_u32(arr(56..60)),
            disk_type: LE::read_u32(arr(60..64)),
            checksum: LE::read_u32(arr(64..68)),
            uuid,
            saved: b[84],
            hidden: b[85],
            align_64: b[86],
            zvhd2_version: b[87],
            block_size: LE::read_u32(arr(88..92)),
            max_blk_num: LE::read_u32(arr(92..96)),
            index_lba: LE::read_u64(arr(96..104)),
            bitmap_lba: LE::read_u64(arr(104..112)),
            index_size: LE::read_u32(arr(112..116)),
            bitmap_size: LE::read_u32(arr(116..120)),
            index_seg_size: LE::read_u32(arr(120..124)),
            bitmap_seg_size: LE::read_u32(arr(124..128)),
            index_seg_num: LE::read_u32(arr(128..132)),
            bitmap_seg_num: LE::read_u32(arr(132..136)),
            non_zero_blk_num: LE::read_u32(arr(136..140)),
            index_contains_zero_blk: b[140],
            compress_method: b[141],
            reserved,
        })
    }

    /// Encodes the footer with its `checksum` field as stored (see [`Footer::seal`]).
    pub fn to_bytes(&self) -> [u8; FOOTER_LEN] {
        let mut b = [0u8; FOOTER_LEN];
        b[0..8].copy_from_slice(&self.cookie);
        LE::write_u32(&mut b[8..12], self.features);
        LE::write_u32(&mut b[12..16], self.ff_version);
        LE::write_u64(&mut b[16..24], self.data_offset);
        LE::write_u32(&mut b[24..28], self.timestamp);
        b[28..32].copy_from_slice(&self.creator_app);
        LE::write_u32(&mut b[32..36], self.creator_version);
        LE::write_u32(&mut b[36..40], self.creator_os);
        LE::write_u64(&mut b[40..48], self.orig_size);
        LE::write_u64(&mut b[48..56], self.curr_size);
        LE::write_u32(&mut b[56..60], self.geometry);
        LE::write_u32(&mut b[60..64], self.disk_type);
        LE::write_u32(&mut b[64..68], self.checksum);
        b[68..84].copy_from_slice(&self.uuid);
        b[84] = self.saved;
        b[85] = self.hidden;
        b[86] = self.align_64;
        b[87] = self.zvhd2_version;
        LE::write_u32(&mut b[88..92], self.block_size);
        LE::write_u32(&mut b[92..96], self.max_blk_num);
        LE::write_u64(&mut b[96..104], self.index_lba);
        LE::write_u64(&mut b[104..112], self.bitmap_lba);
        LE::write_u32(&mut b[112..116], self.index_size);
        LE::write_u32(&mut b[116..120], self.bitmap_size);
        LE::write_u32(&mut b[120..124], self.index_seg_size);
        LE::write_u32(&mut b[124..128], self.bitmap_seg_size);
        LE::write_u32(&mut b[128..132], self.index_seg_num);
        LE::write_u32(&mut b[132..136], self.bitmap_seg_num);
        LE::write_u32(&mut b[136..140], self.non_zero_blk_num);
        b[140] = self.index_contains_zero_blk;
        b[141] = self.compress_method;
        b[142..512].copy_from_slice(&self.reserved);
        b
    }

    /// The checksum of 512 footer bytes: the bitwise NOT of the sum of all
    /// bytes, with the 4 checksum bytes counted as zero.
    pub fn compute_checksum(bytes: &[u8; FOOTER_LEN]) -> u32 {
        let sum = bytes
            .iter()
            .enumerate()
            .filter(|(i, _)| !(64..68).contains(i))
            .fold(0u32, |acc, (_, &b)| acc.wrapping_add(u32::from(b)));
        !sum
    }

    /// Sets `checksum` to match the other fields.
    pub fn seal(&mut self) {
        self.checksum = Footer::compute_checksum(&self.to_bytes());
    }

    /// Decodes a footer and checks its cookie and checksum. Recognises ZVHD
    /// and VHD cookies and says so. `offset` only labels errors.
    pub fn parse_at(buf: &[u8], offset: u64) -> Result<Footer, Error> {
        match sniff(buf) {
            Sniff::Zvhd2 => {}
            Sniff::Zvhd => return Err(Error::Zvhd),
            Sniff::Vhd => return Err(Error::Vhd { offset }),
            Sniff::Unknown => {
                return Err(Error::BadCookie {
                    offset,
                    found: escape(buf.get(..8).unwrap_or(buf)),
                })
            }
        }
        let bytes: &[u8; FOOTER_LEN] = buf
            .get(..FOOTER_LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(Error::TooShort {
                len: buf.len() as u64,
                needed: FOOTER_LEN as u64,
            })?;
        let f = Footer::decode(bytes).ok_or(Error::TooShort {
            len: buf.len() as u64,
            needed: FOOTER_LEN as u64,
        })?;
        let computed = Footer::compute_checksum(bytes);
        if computed != f.checksum {
            return Err(Error::BadChecksum {
                offset,
                stored: f.checksum,
                computed,
            });
        }
        Ok(f)
    }

    /// [`Footer::parse_at`] for a buffer holding the footer at offset 0:
    /// cookie and checksum. Cheap; works on one 512-byte buffer, head or
    /// tail footer. A tail footer should then pass [`Footer::check_fields`].
    pub fn parse(buf: &[u8]) -> Result<Footer, Error> {
        Footer::parse_at(buf, 0)
    }

    /// Checks that the fields of a final (tail) footer agree with each other.
    pub fn check_fields(&self, offset: u64) -> Result<(), Error> {
        let bad = |field: &'static str, value: u64, expected: String| Error::BadField {
            offset,
            field,
            value,
            expected,
        };
        if !block_size_ok(self.block_size) {
            return Err(bad(
                "block_size",
                self.block_size.into(),
                "a power of two from 1048576 to 33554432".into(),
            ));
        }
        if self.orig_size % SECTOR != 0 {
            return Err(bad("orig_size", self.orig_size, "a multiple of 512".into()));
        }
        let curr = round_up(self.orig_size, CURR_SIZE_ALIGN).ok_or_else(|| {
            bad(
                "orig_size",
                self.orig_size,
                "a size below 2^64 - 1 GiB".into(),
            )
        })?;
        if self.curr_size != curr {
            return Err(bad(
                "curr_size",
                self.curr_size,
                format!("{curr} (orig_size rounded up to 1 GiB)"),
            ));
        }
        let blocks = self.orig_size.div_ceil(u64::from(self.block_size));
        if u64::from(self.max_blk_num) != blocks {
            return Err(bad(
                "max_blk_num",
                self.max_blk_num.into(),
                format!("{blocks} (orig_size / block_size rounded up)"),
            ));
        }
        if self.non_zero_blk_num > self.max_blk_num {
            return Err(bad(
                "non_zero_blk_num",
                self.non_zero_blk_num.into(),
                format!("at most max_blk_num ({})", self.max_blk_num),
            ));
        }
        let bitmap_segs = self.max_blk_num.div_ceil(BLOCKS_PER_BITMAP_SEG);
        if self.bitmap_seg_num != bitmap_segs {
            return Err(bad(
                "bitmap_seg_num",
                self.bitmap_seg_num.into(),
                format!("{bitmap_segs} (max_blk_num / 32768 rounded up)"),
            ));
        }
        if self.bitmap_seg_size != BITMAP_SEG_SIZE {
            return Err(bad(
                "bitmap_seg_size",
                self.bitmap_seg_size.into(),
                "4096".into(),
            ));
        }
        let bitmap_size = u64::from(bitmap_segs) * u64::from(BITMAP_SEG_SIZE);
        if u64::from(self.bitmap_size) != bitmap_size {
            return Err(bad(
                "bitmap_size",
                self.bitmap_size.into(),
                format!("{bitmap_size} (bitmap_seg_num * 4096)"),
            ));
        }
        let index_segs = self.non_zero_blk_num.div_ceil(ENTRIES_PER_INDEX_SEG);
        if self.index_seg_num != index_segs {
            return Err(bad(
                "index_seg_num",
                self.index_seg_num.into(),
                format!("{index_segs} (non_zero_blk_num / 32768 rounded up)"),
            ));
        }
        if self.index_seg_size != INDEX_SEG_SIZE {
            return Err(bad(
                "index_seg_size",
                self.index_seg_size.into(),
                "524288".into(),
            ));
        }
        let index_size = u64::from(index_segs) * u64::from(INDEX_SEG_SIZE);
        if u64::from(self.index_size) != index_size {
            return Err(bad(
                "index_size",
                self.index_size.into(),
                format!("{index_size} (index_seg_num * 524288)"),
            ));
        }
        if self.index_contains_zero_blk != 0 {
            return Err(bad(
                "index_contains_zero_blk",
                self.index_contains_zero_blk.into(),
                "0 (an index with an entry per block is not supported)".into(),
            ));
        }
        if self.compress_method > METHOD_ZSTD {
            return Err(bad(
                "compress_method",
                self.compress_method.into(),
                "0 (zlib) or 1 (zstd)".into(),
            ));
        }
        for (field, value) in [
            ("index_lba", self.index_lba),
            ("bitmap_lba", self.bitmap_lba),
        ] {
            if value % PAGE != 0 {
                return Err(bad(field, value, "a multiple of 4096".into()));
            }
        }
        Ok(())
    }

    /// Checks that the index and bitmap lie inside a file of `file_len`
    /// bytes, after the data area and its footer copy page, before the tail
    /// footer page, and apart from each other. Assumes
    /// [`Footer::check_fields`] passed. `offset` labels errors.
    pub fn check_layout(&self, offset: u64, file_len: u64) -> Result<Regions, Error> {
        let tail = tail_page_offset(file_len)?;
        let layout = |what, start, end, problem: String| Error::BadLayout {
            offset,
            what,
            start,
            end,
            problem,
        };
        let index = (
            self.index_lba,
            self.index_lba.checked_add(self.index_size.into()),
        );
        let bitmap = (
            self.bitmap_lba,
            self.bitmap_lba.checked_add(self.bitmap_size.into()),
        );
        let mut meta_start = u64::MAX;
        for (what, (start, end)) in [("index", index), ("bitmap", bitmap)] {
            let end = end.ok_or_else(|| layout(what, start, u64::MAX, "overflows".into()))?;
            if end > tail {
                return Err(layout(
                    what,
                    start,
                    end,
                    format!("reaches past the tail footer page at {tail}"),
                ));
            }
            if start < 2 * PAGE {
                return Err(layout(
                    what,
                    start,
                    end,
                    "overlaps the head footer page or leaves no room for the footer copy".into(),
                ));
            }
            meta_start = meta_start.min(start);
        }
        let (is, ie) = (index.0, index.1.unwrap_or(u64::MAX));
        let (bs, be) = (bitmap.0, bitmap.1.unwrap_or(u64::MAX));
        if is < ie && bs < be && is < be && bs < ie {
            return Err(layout(
                "index",
                is,
                ie,
                format!("overlaps the bitmap at {bs}..{be}"),
            ));
        }
        Ok(Regions {
            data_start: PAGE,
            data_end: meta_start - PAGE,
            tail,
        })
    }
}

/// Where the tail footer page of a `file_len`-byte file starts: the last
/// page, in a file of whole pages with room for the head page, the footer
/// copy page and the tail page.
pub(crate) fn tail_page_offset(file_len: u64) -> Result<u64, Error> {
    if file_len % PAGE != 0 {
        return Err(Error::TailNotInLastPage { len: file_len });
    }
    if file_len < 3 * PAGE {
        return Err(Error::TooShort {
            len: file_len,
            needed: 3 * PAGE,
        });
    }
    Ok(file_len - PAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Footer {
        let mut f = Footer::new_head(4 << 20, 2 << 20, METHOD_ZSTD, 849_159_765, [7; 16]).unwrap();
        f.index_lba = 49152;
        f.bitmap_lba = 573_440;
        f.index_size = INDEX_SEG_SIZE;
        f.bitmap_size = BITMAP_SEG_SIZE;
        f.index_seg_size = INDEX_SEG_SIZE;
        f.bitmap_seg_size = BITMAP_SEG_SIZE;
        f.index_seg_num = 1;
        f.bitmap_seg_num = 1;
        f.non_zero_blk_num = 2;
        f.seal();
        f
    }

    #[test]
    fn round_trip_and_checksum() {
        let f = sample();
        let b = f.to_bytes();
        assert_eq!(Footer::decode(&b), Some(f.clone()));
        assert_eq!(Footer::parse(&b).unwrap(), f);
        f.check_fields(0).unwrap();
        assert_eq!(Footer::compute_checksum(&b), f.checksum);
        // The checksum ignores its own bytes.
        let mut c = b;
        c[64..68].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(Footer::compute_checksum(&c), f.checksum);
    }

    #[test]
    fn checksum_by_hand() {
        let mut b = [0u8; 512];
        b[0] = 1;
        b[511] = 2;
        b[64] = 0xff;
        assert_eq!(Footer::compute_checksum(&b), !3u32);
    }

    #[test]
    fn head_footer_matches_reference_fields() {
        let f = Footer::new_head(4 << 20, 2 << 20, METHOD_ZSTD, 0, [0; 16]).unwrap();
        assert_eq!(f.max_blk_num, 2);
        assert_eq!(f.curr_size, 1 << 30);
        assert_eq!(f.geometry, 0x0078_0411);
        let f = Footer::new_head(3_145_828, 2 << 20, METHOD_ZSTD, 0, [0; 16]).unwrap();
        assert_eq!(f.orig_size, 3_146_240);
        assert!(Footer::new_head(0, 3 << 20, METHOD_ZSTD, 0, [0; 16]).is_err());
        assert!(Footer::new_head(u64::MAX - 5, 2 << 20, METHOD_ZSTD, 0, [0; 16]).is_err());
        assert!(Footer::new_head(u64::from(u32::MAX) << 22, 1 << 20, 1, 0, [0; 16]).is_err());
    }

    #[test]
    fn sniffs_relatives() {
        let mut b = sample().to_bytes();
        assert_eq!(sniff(&b), Sniff::Zvhd2);
        b[..8].copy_from_slice(b"conectix");
        assert!(matches!(Footer::parse(&b), Err(Error::Vhd { offset: 0 })));
        b[..8].copy_from_slice(b"stream\0\0");
        assert!(matches!(Footer::parse(&b), Err(Error::Zvhd)));
        b[..8].copy_from_slice(b"garbage!");
        assert!(matches!(Footer::parse(&b), Err(Error::BadCookie { .. })));
        assert!(matches!(
            Footer::parse(&b"z2strm"[..]),
            Err(Error::TooShort { .. })
        ));
    }

    #[test]
    fn bad_fields_are_named() {
        let check = |edit: &dyn Fn(&mut Footer), field: &str| {
            let mut f = sample();
            edit(&mut f);
            f.seal();
            match Footer::parse(&f.to_bytes()).and_then(|f| f.check_fields(0)) {
                Err(Error::BadField { field: got, .. }) => assert_eq!(got, field),
                other => panic!("{field}: {other:?}"),
            }
        };
        check(&|f| f.block_size = 3 << 20, "block_size");
        check(&|f| f.block_size = 64 << 20, "block_size");
        check(&|f| f.orig_size += 1, "orig_size");
        check(&|f| f.curr_size = f.orig_size, "curr_size");
        check(&|f| f.max_blk_num = 3, "max_blk_num");
        check(&|f| f.non_zero_blk_num = 3, "non_zero_blk_num");
        check(&|f| f.bitmap_seg_num = 2, "bitmap_seg_num");
        check(&|f| f.index_seg_num = 0, "index_seg_num");
        check(&|f| f.index_size = 4096, "index_size");
        check(&|f| f.bitmap_size = 0, "bitmap_size");
        check(&|f| f.index_seg_size = 0, "index_seg_size");
        check(&|f| f.bitmap_seg_size = 0, "bitmap_seg_size");
        check(&|f| f.compress_method = 2, "compress_method");
        check(
            &|f| f.index_contains_zero_blk = 1,
            "index_contains_zero_blk",
        );
        check(&|f| f.index_lba += 1, "index_lba");
    }

    #[test]
    fn layout_checks() {
        let f = sample();
        let r = f.check_layout(0, 581_632).unwrap();
        assert_eq!(
            r,
            Regions {
                data_start: 4096,
                data_end: 45056,
                tail: 577_536
            }
        );
        assert!(matches!(
            f.check_layout(0, 581_633),
            Err(Error::TailNotInLastPage { .. })
        ));
        assert!(matches!(
            f.check_layout(0, 577_536),
            Err(Error::BadLayout { .. })
        ));
        let mut g = f.clone();
        g.bitmap_lba = g.index_lba + 4096;
        assert!(matches!(
            g.check_layout(0, 581_632),
            Err(Error::BadLayout { .. })
        ));
        g.bitmap_lba = 4096;
        assert!(matches!(
            g.check_layout(0, 581_632),
            Err(Error::BadLayout { .. })
        ));
    }
}
