//! Deep verification: every record, every payload, optionally every block
//! against the source disk.

use std::cell::RefCell;
use std::path::Path;

use imsprep_disk::Disk;

use rayon::prelude::*;

use crate::control::Control;
use crate::error::{escape, Error};
use crate::footer::Footer;
use crate::layout::{bit, round_up, IndexEntry, SECTOR};
use crate::meta::Meta;
use crate::problem::{check_footers, check_structure, Problem, ProblemKind, Problems};
use crate::record::{read_record, RecordFault};

/// What to verify beyond the file itself.
#[derive(Clone, Copy, Default)]
pub struct VerifyOptions<'a> {
    /// Compare every block with this disk (a RAW file, a block device, or
    /// any image the disk model reads).
    pub against: Option<&'a dyn Disk>,
}

/// The outcome of [`verify`].
#[derive(Debug, Clone)]
pub struct Report {
    /// The authoritative footer.
    pub footer: Footer,
    /// The problems found, in file order within each pass: every one, up
    /// to [`MAX_LISTED_PROBLEMS`](crate::MAX_LISTED_PROBLEMS).
    pub problems: Vec<Problem>,
    /// Problems found past that limit, counted but not listed.
    pub problems_omitted: u64,
    /// Data records checked.
    pub records_checked: u64,
    /// Blocks compared with the RAW file (0 without one).
    pub blocks_compared: u64,
}

impl Report {
    /// Whether no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && self.problems_omitted == 0
    }
}

/// Most blocks one group of the RAW comparison passes over when they need
/// no work, so cancellation is still seen often on a huge, empty image.
const SKIP_PER_GROUP: u64 = 4096;

thread_local! {
    static BUFS: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Checks a ZVHD2 file deeply and reports every problem found. Fails
/// (rather than reporting) only when the footer is unusable, so nothing
/// else can be located, on I/O errors of the RAW file, and on cancel.
/// The reference's harmless quirks (garbage footer padding, stale footer
/// copy checksum, bytes before `end`, garbage unused index entries) are
/// not problems. Progress is in virtual-disk bytes.
pub fn verify(path: &Path, opts: &VerifyOptions<'_>, ctl: &Control<'_>) -> Result<Report, Error> {
    let meta = Meta::load(path)?;
    let f = meta.footer.clone();
    let mut problems = Problems::default();
    check_footers(&meta, &mut problems);
    let pairs = check_structure(&meta, &mut problems);

    let raw = match opts.against {
        Some(disk) => {
            let len = disk.size();
            let rounded = round_up(len, SECTOR).unwrap_or(u64::MAX);
            if rounded != f.orig_size {
                problems.push(Problem {
                    offset: meta.footer_offset + 40,
                    kind: ProblemKind::SizeMismatch {
                        raw_size: len,
                        rounded,
                        orig_size: f.orig_size,
                    },
                });
            }
            Some((disk, len))
        }
        None => None,
    };

    // Blocks to visit: every block when comparing, else the present ones.
    // Built a group at a time: max_blk_num can be 2^32 - 1 in a file whose
    // bitmap is only 512 MiB, too many blocks to list at once.
    let bs = f.block_size as usize;
    let chunk = (2 * rayon::current_num_threads()).max(4);
    let (mut records_checked, mut blocks_compared) = (0u64, 0u64);
    let mut paired = pairs.iter().peekable();
    let mut next = 0u64;
    loop {
        ctl.check()?;
        let mut group: Vec<(u32, Option<Option<IndexEntry>>)> = Vec::with_capacity(chunk);
        // Blocks passed over in this group, including those with nothing to do.
        let mut visited = 0u64;
        if raw.is_some() {
            let max = u64::from(f.max_blk_num);
            while group.len() < chunk && next < max && visited < SKIP_PER_GROUP {
                let Ok(n) = u32::try_from(next) else { break };
                next += 1;
                visited += 1;
                let item = match paired.peek() {
                    Some((b, e)) if *b == n => {
                        paired.next();
                        (n, Some(*e))
                    }
                    // A set bit past the pairable ones: its content is unknown.
                    _ if bit(&meta.bitmap, u64::from(n)) => (n, Some(None)),
                    _ => (n, None),
                };
                // A block whose record is unusable was reported already and
                // has no content to compare: no need to hand it to a thread.
                if item.1 != Some(None) {
                    group.push(item);
                }
            }
            blocks_compared += visited;
        } else {
            group.extend(paired.by_ref().take(chunk).map(|&(b, e)| (b, Some(e))));
            visited = group.len() as u64;
            next = group.last().map_or(next, |&(b, _)| u64::from(b) + 1);
        }
        if visited == 0 {
            break;
        }
        let results: Vec<Result<(Vec<Problem>, bool), Error>> = group
            .par_iter()
            .map(|&(block, entry)| check_block(&meta, raw.as_ref(), block, entry, bs))
            .collect();
        for r in results {
            let (p, checked_record) = r?;
            problems.extend(p);
            records_checked += u64::from(checked_record);
        }
        (ctl.progress)(next.saturating_mul(bs as u64).min(f.orig_size));
    }
    ctl.check()?;
    (ctl.progress)(f.orig_size);
    Ok(Report {
        footer: f,
        problems: problems.list,
        problems_omitted: problems.omitted,
        records_checked,
        blocks_compared,
    })
}

/// Checks one block: its record if present (`entry` is `Some`), and its
/// content against the RAW file if given.
fn check_block(
    meta: &Meta,
    raw: Option<&(&dyn Disk, u64)>,
    block: u32,
    entry: Option<Option<IndexEntry>>,
    bs: usize,
) -> Result<(Vec<Problem>, bool), Error> {
    BUFS.with(|cell| {
        let mut bufs = cell.borrow_mut();
        let (data, expect) = &mut *bufs;
        data.resize(bs, 0);
        let mut problems = Vec::new();
        let mut checked = false;
        // Whether `data` holds the block's true content.
        let mut known = true;
        let mut at = 0;
        match entry {
            None => data.fill(0),
            // The index problem was reported already; nothing to read.
            Some(None) => known = false,
            Some(Some(e)) => {
                at = e.offset;
                checked = true;
                if let Err(fault) =
                    read_record(&meta.file, &e, block, meta.footer.compress_method, data)
                {
                    known = false;
                    let kind = match fault {
                        RecordFault::Io(err) => ProblemKind::RecordUnreadable {
                            block,
                            detail: err.to_string(),
                        },
                        RecordFault::Magic(m) => ProblemKind::RecordMagic {
                            block,
                            found: escape(&m),
                        },
                        RecordFault::Block(found) => ProblemKind::RecordBlock { block, found },
                        RecordFault::Length {
                            payload_len,
                            expected_record,
                        } => ProblemKind::RecordLength {
                            block,
                            payload_len,
                            index_len: e.len,
                            expected: expected_record,
                        },
                        RecordFault::End(m) => ProblemKind::RecordEnd {
                            block,
                            found: escape(&m),
                        },
                        RecordFault::Payload(detail) => ProblemKind::Payload { block, detail },
                    };
                    problems.push(Problem {
                        offset: e.offset,
                        kind,
                    });
                }
            }
        }
        if let (Some((disk, len)), true) = (raw, known) {
            expect.resize(bs, 0);
            let start = u64::from(block) * bs as u64;
            let n = len.saturating_sub(start).min(bs as u64) as usize;
            let (head, tail) = expect.split_at_mut(n);
            disk.read_at(start, head).map_err(|e| {
                Error::io(
                    format!("reading the disk compared with at {start}"),
                    std::io::Error::other(e),
                )
            })?;
            tail.fill(0);
            if data != expect {
                problems.push(Problem {
                    offset: at,
                    kind: ProblemKind::BlockDiffers { block },
                });
            }
        }
        Ok((problems, checked))
    })
}
