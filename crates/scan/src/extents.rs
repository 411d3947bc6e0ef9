//! Data extents of a sparse file, found with `SEEK_DATA`/`SEEK_HOLE`.

use std::fs::File;
use std::io;
use std::ops::Range;

use rustix::fs::{seek, SeekFrom};
use rustix::io::Errno;

/// A byte range of a file that the file system says may hold data.
pub type Extent = Range<u64>;

/// Lists the data extents of `file`, whose size is `len`, in ascending order.
///
/// Holes are the ranges between extents; they read as zeros and need not be
/// read at all. A file system without `SEEK_DATA` support yields one extent
/// covering the whole file. Extents are clipped to `len`, so a file that
/// grows while this runs does not extend the result.
pub fn data_extents(file: &File, len: u64) -> io::Result<Vec<Extent>> {
    let mut extents = Vec::new();
    let mut pos = 0u64;
    while pos < len {
        let start = match seek(file, SeekFrom::Data(to_offset(pos)?)) {
            Ok(start) => start,
            // ENXIO: no data at or after `pos`; the rest is a hole.
            Err(Errno::NXIO) => break,
            Err(Errno::INVAL | Errno::NOTSUP | Errno::OPNOTSUPP) if pos == 0 => {
                #[allow(clippy::single_range_in_vec_init)]
                return Ok(vec![Extent { start: 0, end: len }]);
            }
            Err(e) => return Err(e.into()),
        };
        if start >= len {
            break;
        }
        let end = match seek(file, SeekFrom::Hole(to_offset(start)?)) {
            Ok(end) => end.min(len),
            Err(Errno::NXIO) => len,
            Err(e) => return Err(e.into()),
        };
        if end <= start {
            // A file system answering nonsense: fall back to reading the rest.
            extents.push(start..len);
            break;
        }
        extents.push(start..end);
        pos = end;
    }
    Ok(extents)
}

/// Converts a file position to the signed offset `lseek` takes.
fn to_offset(pos: u64) -> io::Result<i64> {
    i64::try_from(pos)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file offset past 2^63"))
}
