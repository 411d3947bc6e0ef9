//! The `Read + Seek` view of a volume the `ntfs` crate reads through, with
//! a budget so that no request can read without end.

use std::io::{self, Read, Seek, SeekFrom};

use crate::volume::Volume;

/// Bytes of metadata one request may read besides the file data it asks
/// for: far more than any real lookup or listing of a million-entry
/// directory needs, small enough that a damaged volume whose structures
/// lead the reader in circles stops in seconds.
pub const METADATA_BUDGET: u64 = 4 << 30;

/// Reads one request may make (a loop of tiny reads is as endless as one
/// of large reads).
pub const READ_CALL_BUDGET: u64 = 8 << 20;

/// A cursor over a volume. One is made per request (it is a few words),
/// so the shared reader needs no lock: every read is positioned.
pub struct VolumeReader<'v> {
    volume: &'v Volume,
    pos: u64,
    bytes_left: u64,
    calls_left: u64,
    /// Set when the budget ran out, so the caller can tell that error
    /// from damage.
    pub exhausted: bool,
}

impl<'v> VolumeReader<'v> {
    /// A cursor at offset 0 that may read [`METADATA_BUDGET`] plus
    /// `extra` bytes.
    pub fn new(volume: &'v Volume, extra: u64) -> Self {
        VolumeReader {
            volume,
            pos: 0,
            bytes_left: METADATA_BUDGET.saturating_add(extra),
            calls_left: READ_CALL_BUDGET,
            exhausted: false,
        }
    }
}

impl Read for VolumeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let len = self.volume.len();
        if self.pos >= len || buf.is_empty() {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(len - self.pos);
        if self.calls_left == 0 || want > self.bytes_left {
            self.exhausted = true;
            return Err(io::Error::other("read budget of one request exhausted"));
        }
        self.calls_left -= 1;
        self.bytes_left -= want;
        // `want` fits in usize: it is at most `buf.len()`.
        let dst = buf.get_mut(..want as usize).unwrap_or_default();
        self.volume
            .read_at(self.pos, dst)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.pos += want;
        Ok(dst.len())
    }
}

impl Seek for VolumeReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.volume.len().checked_add_signed(d),
        };
        let new = new.ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "seek before 0 or past 2^64")
        })?;
        self.pos = new;
        Ok(new)
    }
}
