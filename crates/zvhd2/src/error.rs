//! The one error type of the crate.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong reading, verifying or writing a ZVHD2 file.
///
/// Variants about the file name the byte offset of the structure at fault
/// and what a valid file holds there, so a message alone is enough to find
/// the damage with a hex viewer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, e.g. "reading the tail footer".
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file is shorter than the smallest possible ZVHD2 file.
    #[error("file is {len} bytes long; a ZVHD2 image needs at least {needed} bytes")]
    TooShort {
        /// Length of the file.
        len: u64,
        /// The minimum length.
        needed: u64,
    },
    /// The file is a ZVHD (version 1) image.
    #[error(
        "this is a ZVHD (version 1) image (cookie \"stream\" at offset 0), not ZVHD2; \
         fast import needs ZVHD2, ZVHD has no block bitmap and cannot be lazily loaded"
    )]
    Zvhd,
    /// The file is a plain VHD image.
    #[error(
        "this is a VHD image (cookie \"conectix\" at offset {offset}), not ZVHD2; \
         fast import needs ZVHD2"
    )]
    Vhd {
        /// Where the VHD footer was found.
        offset: u64,
    },
    /// The footer cookie is not `z2strm`.
    #[error("footer at offset {offset}: cookie is {found}, expected \"z2strm\"")]
    BadCookie {
        /// Offset of the footer in the file.
        offset: u64,
        /// The 8 cookie bytes found, escaped.
        found: String,
    },
    /// The footer checksum does not match its bytes.
    #[error(
        "footer at offset {offset}: checksum is {stored:#010x}, its bytes give {computed:#010x}"
    )]
    BadChecksum {
        /// Offset of the footer in the file.
        offset: u64,
        /// The stored checksum.
        stored: u32,
        /// The checksum computed from the footer bytes.
        computed: u32,
    },
    /// A footer field has a value the format does not allow, or that
    /// disagrees with the other fields.
    #[error("footer at offset {offset}: {field} is {value}, expected {expected}")]
    BadField {
        /// Offset of the footer in the file.
        offset: u64,
        /// The field name as the format documentation spells it.
        field: &'static str,
        /// The value found.
        value: u64,
        /// What a valid footer holds there.
        expected: String,
    },
    /// A structure the footer locates lies outside the file or overlaps
    /// another structure.
    #[error("footer at offset {offset}: {what} at bytes {start}..{end} {problem}")]
    BadLayout {
        /// Offset of the footer in the file.
        offset: u64,
        /// The structure, e.g. "index".
        what: &'static str,
        /// First byte of the structure.
        start: u64,
        /// One past its last byte.
        end: u64,
        /// What is wrong with it.
        problem: String,
    },
    /// The file length does not leave the tail footer a page of its own.
    #[error("tail footer is not in the last page: file length {len} is not a multiple of 4096")]
    TailNotInLastPage {
        /// Length of the file.
        len: u64,
    },
    /// The bitmap and the footer disagree on how many blocks hold data.
    #[error("bitmap marks {set} blocks as present but non_zero_blk_num is {expected}")]
    BitmapCount {
        /// Set bits for blocks below max_blk_num.
        set: u64,
        /// The footer's non_zero_blk_num.
        expected: u32,
    },
    /// An index entry is out of place.
    #[error("index entry {entry} at offset {offset}: {detail}")]
    BadIndex {
        /// Entry number (0-based).
        entry: u32,
        /// Offset of the entry in the file.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// A data record header or trailer is wrong.
    #[error("record of block {block} at offset {offset}: {detail}")]
    BadRecord {
        /// The block the index says the record holds.
        block: u32,
        /// Offset of the record in the file.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// A payload does not decompress to exactly one block.
    #[error("record of block {block} at offset {offset}: payload {detail}")]
    BadPayload {
        /// The block.
        block: u32,
        /// Offset of the record in the file.
        offset: u64,
        /// What the decompressor said.
        detail: String,
    },
    /// A block number at or past max_blk_num was asked for.
    #[error("block {block} does not exist: the image has {max_blk_num} blocks")]
    BlockOutOfRange {
        /// The block asked for.
        block: u32,
        /// Blocks in the image.
        max_blk_num: u32,
    },
    /// A read reaches past the end of the virtual disk.
    #[error("reading {len} bytes at {offset} goes past the end of the {size}-byte virtual disk")]
    ReadPastEnd {
        /// Start of the read.
        offset: u64,
        /// Length of the read.
        len: u64,
        /// Size of the virtual disk (curr_size).
        size: u64,
    },
    /// A caller's buffer has the wrong length.
    #[error("buffer is {got} bytes, expected {expected}")]
    BufferSize {
        /// Length given.
        got: usize,
        /// Length needed.
        expected: usize,
    },
    /// The output file exists and overwriting was not asked for.
    #[error("{} already exists (use overwrite to replace it)", path.display())]
    OutputExists {
        /// The output path.
        path: PathBuf,
    },
    /// An option is out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// The source cannot be stored with the chosen block size.
    #[error("a {size}-byte disk needs more than 2^32-1 blocks of {block_size} bytes")]
    TooLarge {
        /// Source size.
        size: u64,
        /// Block size.
        block_size: u32,
    },
    /// The compressor failed.
    #[error("compressing block {block}: {detail}")]
    Compress {
        /// The block.
        block: u64,
        /// What the compressor said.
        detail: String,
    },
    /// The source changed while it was being converted, so the output
    /// would match no single version of it.
    #[error("the source changed while it was being read: {detail}")]
    SourceChanged {
        /// What changed.
        detail: String,
    },
    /// The caller set the cancellation flag.
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    /// Wraps an I/O error with what was being done.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Escapes bytes for a message: printable ASCII as is, the rest as `\xNN`.
pub(crate) fn escape(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        if b.is_ascii_graphic() || b == b' ' {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s.push('"');
    s
}
