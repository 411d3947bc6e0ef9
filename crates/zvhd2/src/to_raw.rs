//! Converting a ZVHD2 file back to a RAW image.

use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;

use crate::control::Control;
use crate::error::Error;
use crate::output::Output;
use crate::pipeline;
use crate::reader::Reader;

/// Writes the first orig_size bytes of the virtual disk to a RAW file at
/// `out`, leaving holes where blocks are absent. Blocks are decompressed in
/// parallel and written in order, a bounded number at a time. The file
/// appears only when complete and synced. Returns the bytes written
/// (orig_size); progress is in virtual-disk bytes.
pub fn to_raw(
    reader: &Reader,
    out: &Path,
    overwrite: bool,
    ctl: &Control<'_>,
) -> Result<u64, Error> {
    let f = reader.footer();
    let (orig, bs) = (f.orig_size, u64::from(f.block_size));
    let output = Output::create(out, overwrite)?;
    let werr = |e| Error::io(format!("writing {}", out.display()), e);
    let file = output.file();
    // Absent blocks stay holes: nothing is written there.
    file.set_len(orig).map_err(werr)?;
    let records = reader.records();
    let pool: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    pipeline::ordered(
        records.len(),
        pipeline::default_in_flight(),
        ctl,
        |k| {
            let block = records.get(k).map_or(0, |r| r.0);
            let mut buf = pool
                .lock()
                .ok()
                .and_then(|mut p| p.pop())
                .unwrap_or_default();
            buf.resize(bs as usize, 0);
            reader.read_block(block, &mut buf)?;
            Ok((block, buf))
        },
        |_, (block, buf)| {
            let start = u64::from(block) * bs;
            let n = orig.saturating_sub(start).min(bs) as usize;
            file.write_all_at(buf.get(..n).unwrap_or(&buf), start)
                .map_err(werr)?;
            if let Ok(mut p) = pool.lock() {
                p.push(buf);
            }
            (ctl.progress)((start + bs).min(orig));
            Ok(())
        },
    )?;
    ctl.check()?;
    output.finish()?;
    (ctl.progress)(orig);
    Ok(orig)
}

/// [`to_raw`] for a path: opens the ZVHD2 file first.
pub fn convert_to_raw(
    input: &Path,
    out: &Path,
    overwrite: bool,
    ctl: &Control<'_>,
) -> Result<u64, Error> {
    let reader = Reader::open(input)?;
    to_raw(&reader, out, overwrite, ctl)
}
