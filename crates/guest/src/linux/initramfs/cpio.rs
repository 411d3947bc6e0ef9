//! A streaming reader of "new ASCII" cpio archives (magic `070701`, and
//! `070702` which adds a checksum the kernel ignores), the only cpio format
//! the kernel unpacks into its initramfs.
//!
//! Bytes are pushed in through [`std::io::Write`] so that every decompressor
//! can write straight into it: nothing but one header, one name and the
//! few small files asked for is ever held. Several archives may follow each
//! other in one stream with NUL padding between them, as the kernel allows.
//!
//! Refused: the old binary and `070707` (odc) formats (the kernel does not
//! read them), names longer than [`Limits::max_name_len`], more entries than
//! [`Limits::max_entries`], more output than [`Limits::max_output`].

use std::collections::BTreeMap;
use std::io;

use super::InitrdEntry;

/// newc header length: 6-byte magic and 13 eight-digit hex fields.
const HEADER_LEN: usize = 110;

/// Bounds applied while reading an initramfs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most entries listed over the whole initramfs.
    pub max_entries: usize,
    /// Longest entry name accepted (`namesize`, including its NUL).
    pub max_name_len: usize,
    /// Most bytes of cpio stream processed over the whole initramfs
    /// (decompressed); reaching it stops the listing.
    pub max_output: u64,
    /// Most bytes of entry names kept over the whole listing (with the
    /// entry count, this bounds the listing's memory).
    pub max_name_bytes: usize,
    /// Largest file kept when asked for.
    pub max_file_len: usize,
    /// Most bytes kept over all files asked for.
    pub max_files_total: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 500_000,
            max_name_len: 4096,
            max_output: 1 << 30,
            max_name_bytes: 64 << 20,
            max_file_len: 256 * 1024,
            max_files_total: 8 << 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between archives: skipping NUL padding, waiting for a magic.
    Padding,
    /// Collecting a header (bytes held in `buf`).
    Header,
    /// Collecting the name and its padding (`need` bytes in all).
    Name {
        need: usize,
        name_len: usize,
        data_len: u64,
        mode: u32,
    },
    /// Passing over (or keeping) file data and its padding.
    Data { left: u64, pad: u64, keep: bool },
}

/// Push-based cpio reader.
pub struct CpioSink<'a> {
    limits: Limits,
    wanted: &'a dyn Fn(&str) -> bool,
    state: State,
    buf: Vec<u8>,
    current: Option<String>,
    kept: Vec<u8>,
    kept_total: usize,
    name_bytes: usize,
    /// Entries listed so far.
    pub entries: Vec<InitrdEntry>,
    /// Files kept on request.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Bytes pushed in so far (for this and earlier members).
    pub total: u64,
    /// Why reading stopped, when it stopped on a limit or bad data.
    pub error: Option<String>,
    /// When set, stop at the end of the first archive (its TRAILER and
    /// padding) and report how many bytes it used in `archive_end`.
    pub stop_at_trailer: bool,
    /// Offset (in bytes pushed) just after the archive's trailer padding.
    pub archive_end: Option<u64>,
    /// Offset in the stream of the current header (for alignment).
    header_start: u64,
}

impl std::fmt::Debug for CpioSink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpioSink")
            .field("entries", &self.entries.len())
            .field("total", &self.total)
            .field("error", &self.error)
            .finish()
    }
}

fn pad4(n: u64) -> u64 {
    (4 - n % 4) % 4
}

fn hex_field(header: &[u8], index: usize) -> Option<u32> {
    let start = 6 + index * 8;
    let text = std::str::from_utf8(header.get(start..start + 8)?).ok()?;
    u32::from_str_radix(text, 16).ok()
}

/// Normalise an archive name: no leading `./` or `/`.
pub fn normalise_name(name: &str) -> String {
    let mut n = name;
    loop {
        if let Some(rest) = n.strip_prefix("./") {
            n = rest;
        } else if let Some(rest) = n.strip_prefix('/') {
            n = rest;
        } else {
            break;
        }
    }
    n.to_string()
}

impl<'a> CpioSink<'a> {
    /// A reader that keeps the files for which `wanted` (on the normalised
    /// name) returns true.
    pub fn new(limits: Limits, wanted: &'a dyn Fn(&str) -> bool) -> CpioSink<'a> {
        CpioSink {
            limits,
            wanted,
            state: State::Padding,
            buf: Vec::new(),
            current: None,
            kept: Vec::new(),
            kept_total: 0,
            name_bytes: 0,
            entries: Vec::new(),
            files: BTreeMap::new(),
            total: 0,
            error: None,
            stop_at_trailer: false,
            archive_end: None,
            header_start: 0,
        }
    }

    /// True when the stream ended in the middle of an entry.
    pub fn mid_entry(&self) -> bool {
        !matches!(self.state, State::Padding)
    }

    /// Start a new member: position bookkeeping restarts at zero.
    pub fn reset_position(&mut self) {
        self.state = State::Padding;
        self.buf.clear();
        self.archive_end = None;
    }

    fn fail(&mut self, message: String) -> io::Error {
        self.error = Some(message.clone());
        io::Error::new(io::ErrorKind::InvalidData, message)
    }

    fn parse_header(&mut self) -> Result<(), io::Error> {
        let header = std::mem::take(&mut self.buf);
        let magic = header.get(..6).unwrap_or_default();
        if magic != b"070701" && magic != b"070702" {
            let shown = String::from_utf8_lossy(magic).into_owned();
            return Err(self.fail(format!(
                "cpio header at stream offset {}: expected magic 070701 or 070702; found {:?}",
                self.header_start, shown
            )));
        }
        let fields: Option<Vec<u32>> = (0..13).map(|i| hex_field(&header, i)).collect();
        let Some(fields) = fields else {
            return Err(self.fail(format!(
                "cpio header at stream offset {}: a field is not 8 hex digits",
                self.header_start
            )));
        };
        let mode = fields.get(1).copied().unwrap_or(0);
        let data_len = u64::from(fields.get(6).copied().unwrap_or(0));
        let name_len = fields.get(11).copied().unwrap_or(0) as usize;
        if name_len == 0 || name_len > self.limits.max_name_len {
            return Err(self.fail(format!(
                "cpio header at stream offset {}: field namesize is {}; expected 1..={}",
                self.header_start, name_len, self.limits.max_name_len
            )));
        }
        let need = name_len + pad4((HEADER_LEN + name_len) as u64) as usize;
        self.state = State::Name {
            need,
            name_len,
            data_len,
            mode,
        };
        Ok(())
    }

    fn finish_name(&mut self, name_len: usize, data_len: u64, mode: u32) -> Result<(), io::Error> {
        let raw = self
            .buf
            .get(..name_len.saturating_sub(1))
            .unwrap_or_default();
        let name = String::from_utf8_lossy(raw).into_owned();
        self.buf.clear();
        let pad = pad4(data_len);
        if name == "TRAILER!!!" {
            self.state = State::Data {
                left: data_len,
                pad,
                keep: false,
            };
            self.current = Some(name);
            return Ok(());
        }
        if self.entries.len() >= self.limits.max_entries {
            return Err(self.fail(format!(
                "more than {} entries: listing stopped",
                self.limits.max_entries
            )));
        }
        let name = normalise_name(&name);
        self.name_bytes = self.name_bytes.saturating_add(name.len());
        if self.name_bytes > self.limits.max_name_bytes {
            return Err(self.fail(format!(
                "more than {} bytes of entry names: listing stopped",
                self.limits.max_name_bytes
            )));
        }
        let is_file = mode & 0o170000 == 0o100000;
        let keep = is_file
            && data_len <= self.limits.max_file_len as u64
            && self.kept_total.saturating_add(data_len as usize) <= self.limits.max_files_total
            && (self.wanted)(&name);
        // The archive's own root (`.`) is not a file of the initramfs.
        if !name.is_empty() && name != "." {
            self.entries.push(InitrdEntry {
                name: name.clone(),
                mode,
                size: data_len,
            });
        }
        self.kept.clear();
        self.current = Some(name);
        self.state = State::Data {
            left: data_len,
            pad,
            keep,
        };
        Ok(())
    }

    fn end_entry(&mut self, keep: bool) {
        let name = self.current.take().unwrap_or_default();
        if name == "TRAILER!!!" {
            if self.stop_at_trailer && self.archive_end.is_none() {
                self.archive_end = Some(self.total);
            }
        } else if keep {
            self.kept_total += self.kept.len();
            self.files.insert(name, std::mem::take(&mut self.kept));
        }
        self.state = State::Padding;
    }
}

impl io::Write for CpioSink<'_> {
    fn write(&mut self, input: &[u8]) -> io::Result<usize> {
        if self.error.is_some() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "cpio stopped"));
        }
        if self.archive_end.is_some() {
            // The caller reads the position; nothing more is taken.
            return Ok(0);
        }
        let room = self.limits.max_output.saturating_sub(self.total);
        if room == 0 && !input.is_empty() {
            let cap = self.limits.max_output;
            return Err(self.fail(format!(
                "decompressed size cap of {cap} bytes reached: listing stopped"
            )));
        }
        let usable = input.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let mut rest = input.get(..usable).unwrap_or_default();
        while !rest.is_empty() && self.archive_end.is_none() {
            match self.state {
                State::Padding => {
                    let zeros = rest.iter().take_while(|b| **b == 0).count();
                    self.total += zeros as u64;
                    rest = rest.get(zeros..).unwrap_or_default();
                    if !rest.is_empty() {
                        self.header_start = self.total;
                        self.state = State::Header;
                    }
                }
                State::Header => {
                    let take = (HEADER_LEN - self.buf.len()).min(rest.len());
                    self.buf
                        .extend_from_slice(rest.get(..take).unwrap_or_default());
                    self.total += take as u64;
                    rest = rest.get(take..).unwrap_or_default();
                    if self.buf.len() == HEADER_LEN {
                        self.parse_header()?;
                    }
                }
                State::Name {
                    need,
                    name_len,
                    data_len,
                    mode,
                } => {
                    let take = (need - self.buf.len()).min(rest.len());
                    self.buf
                        .extend_from_slice(rest.get(..take).unwrap_or_default());
                    self.total += take as u64;
                    rest = rest.get(take..).unwrap_or_default();
                    if self.buf.len() == need {
                        self.finish_name(name_len, data_len, mode)?;
                    }
                }
                State::Data { left, pad, keep } => {
                    if left == 0 && pad == 0 {
                        self.end_entry(keep);
                        continue;
                    }
                    let in_data = left.min(rest.len() as u64) as usize;
                    if in_data > 0 {
                        if keep {
                            self.kept
                                .extend_from_slice(rest.get(..in_data).unwrap_or_default());
                        }
                        self.total += in_data as u64;
                        rest = rest.get(in_data..).unwrap_or_default();
                        self.state = State::Data {
                            left: left - in_data as u64,
                            pad,
                            keep,
                        };
                        continue;
                    }
                    let in_pad = pad.min(rest.len() as u64) as usize;
                    self.total += in_pad as u64;
                    rest = rest.get(in_pad..).unwrap_or_default();
                    self.state = State::Data {
                        left,
                        pad: pad - in_pad as u64,
                        keep,
                    };
                }
            }
        }
        // An entry that ends exactly at the end of the input is closed now,
        // so a trailer at the very end of a member is seen.
        if let State::Data {
            left: 0,
            pad: 0,
            keep,
        } = self.state
        {
            self.end_entry(keep);
        }
        let used = usable - rest.len();
        if usable < input.len() && used == usable && self.archive_end.is_none() {
            let cap = self.limits.max_output;
            return Err(self.fail(format!(
                "decompressed size cap of {cap} bytes reached: listing stopped"
            )));
        }
        Ok(used)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
