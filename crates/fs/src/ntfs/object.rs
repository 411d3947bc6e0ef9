//! One MFT record as the trait shows it: kind, metadata, link target, and
//! the bytes of its unnamed `$DATA` stream.

use std::io::SeekFrom;

use ::ntfs::structured_values::{NtfsFileAttributeFlags, NtfsStandardInformation};
use ::ntfs::{NtfsAttributeFlags, NtfsAttributeType, NtfsFile, NtfsReadSeek};

use super::reader::VolumeReader;
use super::reparse::{self, TAG_MOUNT_POINT, TAG_SYMLINK};
use super::{fail, Ntfs};
use crate::bytes::le64;
use crate::error::FsError;
use crate::filesystem::{FileKind, Metadata, Timestamp, MAX_LINK_LEN};

/// Reparse data holds an 8-byte header and at most 16 KiB.
const MAX_REPARSE_LEN: u64 = 8 + MAX_LINK_LEN as u64;

/// ntfs-3g makes `ln -s` links as Interix ones: a system file whose
/// data is this magic and the target in UTF-16.
const INTERIX_MAGIC: &[u8] = b"IntxLNK\x01";

/// An Interix link target is at most 4096 UTF-16 units.
const MAX_INTERIX_LEN: u64 = 8 + 2 * 4096;

/// Seconds from 1601-01-01 (FILETIME's epoch) to 1970-01-01.
const FILETIME_UNIX_OFFSET: i64 = 11_644_473_600;

/// What one record says of itself.
pub struct Object {
    /// The kind.
    pub kind: FileKind,
    /// The record number.
    pub inode: u64,
    /// The record's hard link count.
    pub nlink: u64,
    /// `$STANDARD_INFORMATION` attributes (read-only, compressed, ...).
    pub attributes: NtfsFileAttributeFlags,
    /// Last modification, from `$STANDARD_INFORMATION`.
    pub mtime: Timestamp,
    /// Length of the unnamed `$DATA` stream.
    pub data_len: u64,
    /// The target of a symbolic link or junction.
    pub link_target: Option<Vec<u8>>,
    /// What to say of a reparse point not followed.
    pub note: Option<String>,
}

impl Object {
    /// The trait's view.
    pub fn metadata(&self) -> Metadata {
        let mut mode = match self.kind {
            FileKind::Dir | FileKind::Symlink => 0o755,
            _ => 0o644,
        };
        if self.attributes.contains(NtfsFileAttributeFlags::READ_ONLY) {
            mode &= !0o222;
        }
        let size = match (&self.kind, &self.link_target) {
            (FileKind::Dir, _) => 0,
            (FileKind::Symlink, Some(t)) => t.len() as u64,
            _ => self.data_len,
        };
        Metadata {
            kind: self.kind,
            mode,
            uid: 0,
            gid: 0,
            size,
            mtime: self.mtime,
            nlink: self.nlink,
            inode: self.inode,
            note: self.note.clone(),
        }
    }
}

/// A FILETIME (100 ns units since 1601) as Unix time.
fn filetime(t: u64) -> Timestamp {
    let secs = (t / 10_000_000) as i64 - FILETIME_UNIX_OFFSET;
    let nanos = (t % 10_000_000) as u32 * 100;
    Timestamp { secs, nanos }
}

/// Reads what `file` says of itself.
pub fn read(ntfs: &Ntfs, r: &mut VolumeReader<'_>, file: &NtfsFile<'_>) -> Result<Object, FsError> {
    let record = file.file_record_number();
    let what = || format!("MFT record {record}");
    let err = |r: &VolumeReader<'_>, e| fail(ntfs.name(), r, what(), e);
    let mut object = Object {
        kind: if file.is_directory() {
            FileKind::Dir
        } else {
            FileKind::File
        },
        inode: record,
        nlink: u64::from(file.hard_link_count()),
        attributes: NtfsFileAttributeFlags::empty(),
        mtime: Timestamp::default(),
        data_len: 0,
        link_target: None,
        note: None,
    };
    let mut reparse_data = None;
    let mut attributes = file.attributes();
    for _ in 0..65536 {
        let Some(item) = attributes.next(r) else {
            break;
        };
        let item = item.map_err(|e| err(r, e))?;
        let attr = item.to_attribute().map_err(|e| err(r, e))?;
        match attr.ty() {
            Ok(NtfsAttributeType::StandardInformation) => {
                let info = attr
                    .resident_structured_value::<NtfsStandardInformation>()
                    .map_err(|e| err(r, e))?;
                object.attributes = info.file_attributes();
                object.mtime = filetime(info.modification_time().nt_timestamp());
            }
            Ok(NtfsAttributeType::Data) if attr.name_length() == 0 => {
                object.data_len = attr.value_length();
            }
            Ok(NtfsAttributeType::ReparsePoint) => {
                let len = attr.value_length();
                if len > MAX_REPARSE_LEN {
                    return Err(FsError::malformed(
                        ntfs.name(),
                        "ntfs",
                        format!("$REPARSE_POINT of {}", what()),
                        format!("{len} bytes; reparse data is at most {MAX_REPARSE_LEN}"),
                    ));
                }
                let mut value = attr.value(r).map_err(|e| err(r, e))?;
                let mut data = vec![0u8; len as usize];
                value.read_exact(r, &mut data).map_err(|e| err(r, e))?;
                reparse_data = Some(data);
            }
            _ => {}
        }
    }
    if object.kind == FileKind::File
        && object.attributes.contains(NtfsFileAttributeFlags::SYSTEM)
        && (INTERIX_MAGIC.len() as u64 + 2..=MAX_INTERIX_LEN).contains(&object.data_len)
        && reparse_data.is_none()
    {
        let data = read_small_data(ntfs, r, file, object.data_len)?;
        if let Some(target) = data.strip_prefix(INTERIX_MAGIC) {
            object.kind = FileKind::Symlink;
            object.link_target = Some(reparse::utf16(target).into_bytes());
            object.note = Some("Interix symbolic link (as ntfs-3g makes them)".into());
        }
    }
    if let Some(data) = reparse_data {
        let parsed = reparse::parse(&data);
        match (parsed.tag, parsed.target) {
            (TAG_SYMLINK | TAG_MOUNT_POINT, Some(target)) => {
                object.kind = FileKind::Symlink;
                object.link_target = Some(target);
            }
            (tag, _) => {
                object.kind = FileKind::Other;
                object.note = Some(reparse::tag_name(tag));
            }
        }
    }
    Ok(object)
}

/// The whole unnamed `$DATA` of `file`, `len` bytes (the caller
/// bounds it).
pub fn read_small_data(
    ntfs: &Ntfs,
    r: &mut VolumeReader<'_>,
    file: &NtfsFile<'_>,
    len: u64,
) -> Result<Vec<u8>, FsError> {
    let what = || format!("$DATA of MFT record {}", file.file_record_number());
    let Some(item) = file.data(r, "") else {
        return Ok(Vec::new());
    };
    let item = item.map_err(|e| fail(ntfs.name(), r, what(), e))?;
    let attr = item
        .to_attribute()
        .map_err(|e| fail(ntfs.name(), r, what(), e))?;
    if attr
        .flags()
        .intersects(NtfsAttributeFlags::COMPRESSED | NtfsAttributeFlags::ENCRYPTED)
    {
        return Ok(Vec::new());
    }
    let mut value = attr.value(r).map_err(|e| fail(ntfs.name(), r, what(), e))?;
    let mut data = vec![0u8; len.min(value.len()) as usize];
    value
        .read_exact(r, &mut data)
        .map_err(|e| fail(ntfs.name(), r, what(), e))?;
    Ok(data)
}

/// Reads the unnamed `$DATA` of `file` at `offset` into `buf`.
pub fn read_data(
    ntfs: &Ntfs,
    r: &mut VolumeReader<'_>,
    file: &NtfsFile<'_>,
    object: &Object,
    path: &[u8],
    offset: u64,
    buf: &mut [u8],
) -> Result<usize, FsError> {
    let what = || format!("$DATA of MFT record {}", file.file_record_number());
    let show = crate::error::show(path);
    if object
        .attributes
        .contains(NtfsFileAttributeFlags::ENCRYPTED)
    {
        return Err(FsError::unsupported(
            ntfs.name(),
            "ntfs",
            format!("EFS-encrypted file {show} (no key is ever asked for)"),
        ));
    }
    let Some(item) = file.data(r, "") else {
        return Ok(0);
    };
    let item = item.map_err(|e| fail(ntfs.name(), r, what(), e))?;
    let attr = item
        .to_attribute()
        .map_err(|e| fail(ntfs.name(), r, what(), e))?;
    let flags = attr.flags();
    if flags.contains(NtfsAttributeFlags::ENCRYPTED) {
        return Err(FsError::unsupported(
            ntfs.name(),
            "ntfs",
            format!("EFS-encrypted file {show} (no key is ever asked for)"),
        ));
    }
    if flags.contains(NtfsAttributeFlags::COMPRESSED) {
        return Err(FsError::unsupported(
            ntfs.name(),
            "ntfs",
            format!("LZNT1-compressed file {show} (decompress it in Windows: compact /u)"),
        ));
    }
    let mut value = attr.value(r).map_err(|e| fail(ntfs.name(), r, what(), e))?;
    let len = value.len();
    // Bytes past the valid data length were never written: zeros.
    let valid = if attr.is_resident() {
        len
    } else {
        initialized_size(ntfs, &attr)?.min(len)
    };
    if offset >= len {
        return Ok(0);
    }
    let want = usize::try_from(len - offset)
        .unwrap_or(usize::MAX)
        .min(buf.len());
    let from_disk = usize::try_from(valid.saturating_sub(offset))
        .unwrap_or(usize::MAX)
        .min(want);
    if from_disk > 0 {
        value
            .seek(r, SeekFrom::Start(offset))
            .map_err(|e| fail(ntfs.name(), r, what(), e))?;
    }
    let mut done = 0;
    while done < from_disk {
        let dst = buf.get_mut(done..from_disk).unwrap_or_default();
        let n = value
            .read(r, dst)
            .map_err(|e| fail(ntfs.name(), r, what(), e))?;
        if n == 0 {
            return Err(FsError::malformed(
                ntfs.name(),
                "ntfs",
                what(),
                format!("data runs end at byte {} of {len}", offset + done as u64),
            ));
        }
        done += n;
    }
    if let Some(rest) = buf.get_mut(from_disk..want) {
        rest.fill(0);
    }
    Ok(want)
}

/// The initialized size (valid data length) of a non-resident attribute,
/// at offset 0x38 of its header. The `ntfs` crate does not expose it, so
/// it is read from the record on the volume; the field never lies on a
/// sector's last two bytes, which the update sequence replaces.
fn initialized_size(ntfs: &Ntfs, attr: &::ntfs::NtfsAttribute<'_, '_>) -> Result<u64, FsError> {
    let Some(at) = attr.position().value() else {
        return Ok(u64::MAX);
    };
    let field = at.get().saturating_add(0x38);
    if field % 512 > 512 - 10 {
        // The field straddles a fixed-up sector end: trust the data size.
        return Ok(u64::MAX);
    }
    let mut bytes = [0u8; 8];
    ntfs.volume.read_at(field, &mut bytes)?;
    Ok(le64(&bytes, 0))
}
