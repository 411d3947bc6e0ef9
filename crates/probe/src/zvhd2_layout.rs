//! The virtual disk inside a ZVHD2 file, read through the imsprep-zvhd2
//! reader, so its partition table and file systems can be probed like a
//! RAW disk's.

use std::cell::RefCell;
use std::io;
use std::path::Path;

use imsprep_zvhd2::Reader;

use crate::layout::read_layout;
use crate::report::{FormatDetail, Report};
use crate::DiskRead;

/// Largest block we cache; the format allows up to 32 MiB.
const MAX_CACHED_BLOCK: u64 = 32 * 1024 * 1024;

/// A ZVHD2 image seen as its virtual disk (`curr_size` bytes). The last
/// decoded block is kept, since the probe's reads cluster in a few blocks
/// and decoding a block costs a whole-block decompression.
pub struct Zvhd2Disk {
    reader: Reader,
    cache: RefCell<Option<(u64, Vec<u8>)>>,
}

impl Zvhd2Disk {
    /// Wrap an opened reader.
    pub fn new(reader: Reader) -> Self {
        Zvhd2Disk {
            reader,
            cache: RefCell::new(None),
        }
    }

    /// The reader inside.
    pub fn reader(&self) -> &Reader {
        &self.reader
    }
}

fn to_io(e: imsprep_zvhd2::Error) -> io::Error {
    io::Error::other(e)
}

impl DiskRead for Zvhd2Disk {
    fn size(&self) -> u64 {
        self.reader.footer().curr_size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let bs = u64::from(self.reader.footer().block_size);
        if bs == 0 || bs > MAX_CACHED_BLOCK {
            return self.reader.read_at(offset, buf).map_err(to_io);
        }
        let size = self.size();
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset
                .checked_add(done as u64)
                .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
            if pos >= size {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let block = pos / bs;
            let start = block * bs;
            let within = (pos - start) as usize;
            let mut cache = self.cache.borrow_mut();
            if cache.as_ref().map(|(b, _)| *b) != Some(block) {
                let len = bs.min(size - start) as usize;
                let mut data = vec![0u8; len];
                self.reader.read_at(start, &mut data).map_err(to_io)?;
                *cache = Some((block, data));
            }
            let Some((_, data)) = cache.as_ref() else {
                return Err(io::ErrorKind::UnexpectedEof.into());
            };
            let avail = data.get(within..).unwrap_or_default();
            let take = avail.len().min(buf.len() - done);
            if take == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            buf[done..done + take].copy_from_slice(&avail[..take]);
            done += take;
        }
        Ok(())
    }
}

/// Open the ZVHD2 file with the reader, record whether it opened, and read
/// the layout of its virtual disk.
pub(crate) fn attach(path: &Path, report: &mut Report) {
    match Reader::open(path) {
        Ok(reader) => {
            if let FormatDetail::Zvhd2(z) = &mut report.detail {
                z.reader_opened = true;
                z.reader_error = None;
            }
            let disk = Zvhd2Disk::new(reader);
            match read_layout(&disk) {
                Ok(layout) => report.layout = Some(layout),
                Err(e) => report.layout_error = Some(e.to_string()),
            }
        }
        Err(e) => {
            let why = e.to_string();
            if let FormatDetail::Zvhd2(z) = &mut report.detail {
                z.reader_opened = false;
                z.reader_error = Some(why.clone());
            }
            report.layout_error = Some(format!("the ZVHD2 reader refused the file: {why}"));
        }
    }
}
