//! LX-INITRD-PARSE: list the files of an initramfs.
use std::collections::BTreeMap;

/// Compression of one initramfs member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// An uncompressed cpio archive.
    None,
    /// gzip.
    Gzip,
    /// xz.
    Xz,
    /// LZMA alone (`.lzma`).
    Lzma,
    /// bzip2.
    Bzip2,
    /// LZ4 legacy format (what the kernel's `lz4 -l` reads).
    Lz4Legacy,
    /// LZ4 frame format.
    Lz4Frame,
    /// zstd.
    Zstd,
}

/// One file in the initramfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitrdEntry {
    /// Normalised name (no leading `./` or `/`).
    pub name: String,
    /// cpio mode (file type and permissions).
    pub mode: u32,
    /// Data size.
    pub size: u64,
}

/// One archive member of the initramfs (a cpio, possibly compressed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitrdMember {
    /// Byte offset in the initramfs file.
    pub offset: u64,
    /// Its compression.
    pub compression: Compression,
    /// Entries in it (including directories).
    pub entries: usize,
}

/// What an initramfs contains.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitrdListing {
    /// Archive members in file order.
    pub members: Vec<InitrdMember>,
    /// Every entry, in archive order.
    pub entries: Vec<InitrdEntry>,
    /// Small files read on request: normalised name → contents.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Why the listing stopped early (limit hit, damaged member, unknown
    /// format); the entries before it are still listed.
    pub incomplete: Option<String>,
}
