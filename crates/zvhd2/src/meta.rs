//! Loading footers, bitmap and index: everything but the data records.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::error::{escape, Error};
use crate::footer::{sniff, tail_page_offset, Footer, Regions, Sniff};
use crate::layout::{bit, IndexEntry, FOOTER_LEN, INDEX_ENTRY_LEN, PAGE};

/// The metadata of a ZVHD2 file whose footer passed every check.
#[derive(Debug)]
pub(crate) struct Meta {
    pub file: File,
    /// The head footer as found (checksum not required to be valid).
    pub head: Footer,
    /// Whether the head footer's checksum is valid.
    pub head_checksum_ok: bool,
    /// The authoritative footer and where it is.
    pub footer: Footer,
    pub footer_offset: u64,
    pub regions: Regions,
    /// bitmap_size bytes.
    pub bitmap: Vec<u8>,
    /// The first non_zero_blk_num index entries.
    pub entries: Vec<IndexEntry>,
}

pub(crate) fn read_exact_at(
    file: &File,
    buf: &mut [u8],
    offset: u64,
    what: &str,
) -> Result<(), Error> {
    file.read_exact_at(buf, offset)
        .map_err(|e| Error::io(format!("reading {what} at offset {offset}"), e))
}

impl Meta {
    /// Opens `path` read-only and loads and checks its metadata.
    pub fn load(path: &Path) -> Result<Meta, Error> {
        let file =
            File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        let file_len = file
            .metadata()
            .map_err(|e| Error::io(format!("reading metadata of {}", path.display()), e))?
            .len();
        let mut head_bytes = [0u8; FOOTER_LEN];
        let head_len = usize::try_from(file_len.min(FOOTER_LEN as u64)).unwrap_or(FOOTER_LEN);
        read_exact_at(&file, &mut head_bytes[..head_len], 0, "the head footer")?;
        match sniff(&head_bytes[..head_len]) {
            Sniff::Zvhd2 => {}
            Sniff::Zvhd => return Err(Error::Zvhd),
            Sniff::Vhd => return Err(Error::Vhd { offset: 0 }),
            Sniff::Unknown => {
                // A fixed VHD has its only footer in the last 512 bytes.
                if file_len >= FOOTER_LEN as u64 {
                    let mut tail = [0u8; 8];
                    let at = file_len - FOOTER_LEN as u64;
                    read_exact_at(&file, &mut tail, at, "the last 512 bytes")?;
                    if sniff(&tail) == Sniff::Vhd {
                        return Err(Error::Vhd { offset: at });
                    }
                }
                return Err(Error::BadCookie {
                    offset: 0,
                    found: escape(&head_bytes[..head_len.min(8)]),
                });
            }
        }
        if head_len < FOOTER_LEN {
            return Err(Error::TooShort {
                len: file_len,
                needed: 3 * PAGE,
            });
        }
        let head_checksum_ok = Footer::parse_at(&head_bytes, 0).is_ok();
        let head = Footer::decode(&head_bytes).ok_or(Error::TooShort {
            len: file_len,
            needed: FOOTER_LEN as u64,
        })?;
        let (footer, footer_offset) = if head.zvhd2_version != 0 {
            let at = tail_page_offset(file_len)?;
            let mut tail = [0u8; FOOTER_LEN];
            read_exact_at(&file, &mut tail, at, "the tail footer")?;
            (Footer::parse_at(&tail, at)?, at)
        } else {
            (Footer::parse_at(&head_bytes, 0)?, 0)
        };
        footer.check_fields(footer_offset)?;
        let regions = footer.check_layout(footer_offset, file_len)?;
        // Both sizes are bounded by the file length, checked just above.
        let mut bitmap = vec![0u8; footer.bitmap_size as usize];
        read_exact_at(&file, &mut bitmap, footer.bitmap_lba, "the bitmap")?;
        let n = footer.non_zero_blk_num as usize;
        let mut raw = vec![0u8; n * INDEX_ENTRY_LEN];
        read_exact_at(&file, &mut raw, footer.index_lba, "the index")?;
        let entries = raw
            .chunks_exact(INDEX_ENTRY_LEN)
            .filter_map(IndexEntry::parse)
            .collect();
        Ok(Meta {
            file,

            head,
            head_checksum_ok,
            footer,
            footer_offset,
            regions,
            bitmap,
            entries,
        })
    }

    /// Blocks below max_blk_num whose bit is set, ascending.
    pub fn present_blocks(&self) -> impl Iterator<Item = u32> + '_ {
        let max = self.footer.max_blk_num;
        self.bitmap
            .iter()
            .enumerate()
            .filter(|(_, b)| **b != 0)
            .flat_map(|(i, b)| {
                (0..8u32)
                    .filter(move |k| b & (1 << k) != 0)
                    .map(move |k| i as u64 * 8 + u64::from(k))
            })
            .take_while(move |&n| n < u64::from(max))
            .map(|n| n as u32)
    }

    /// Set bits at or past max_blk_num (bitmap padding that should be zero).
    pub fn bits_past_end(&self) -> Vec<u64> {
        let total = self.bitmap.len() as u64 * 8;
        (u64::from(self.footer.max_blk_num)..total)
            .filter(|&n| bit(&self.bitmap, n))
            .collect()
    }

    /// Offset of index entry `k` in the file.
    pub fn entry_offset(&self, k: usize) -> u64 {
        self.footer
            .index_lba
            .saturating_add((k as u64).saturating_mul(INDEX_ENTRY_LEN as u64))
    }
}
