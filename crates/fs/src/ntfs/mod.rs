//! NTFS, read-only, partly through the `ntfs` crate.
//!
//! The `ntfs` crate (Colin Finck; MIT OR Apache-2.0) is used for what it
//! does well and boundedly: MFT records with their update-sequence
//! fixups, attribute iteration (attribute lists included), resident
//! values, data runs (sparse runs read as zeros), `$STANDARD_INFORMATION`
//! and `$VOLUME_INFORMATION`. A damage test (bytes flipped in the boot
//! sector, MFT and index records of an mkntfs image) and a reading of its
//! code showed where it is not safe on hostile input, so those parts are
//! checked or done here:
//! - the boot sector is checked first (`boot`): the crate accepts file
//!   records of up to 254 MiB and index records of 4 GiB, allocated
//!   before use, and an MFT anywhere;
//! - directory indexes are parsed and walked here (`index`): the crate
//!   slices index nodes by unchecked header offsets (a panic) and its
//!   walkers follow subnode pointers and zero-length entries forever;
//! - the $UpCase table is read and applied here (`upcase`);
//! - every request reads through a fresh `VolumeReader` (no lock: reads
//!   are positioned) with a budget, so no damaged structure makes a
//!   request read without end;
//! - reparse points and Interix links are parsed here (`reparse`,
//!   `object`), and so is the valid data length of non-resident data,
//!   which the crate does not expose (bytes past it read as zeros).
//!
//! What is shown: names are UTF-16 converted to UTF-8 (an unpaired
//! surrogate becomes U+FFFD); lookups are case-insensitive through the
//! volume's $UpCase table, as Windows does; DOS 8.3 names are left out of
//! listings (they still resolve); the metadata files (`$MFT` ...
//! `$Extend`, MFT records below 16) are left out of the root listing. A
//! file's size and bytes are those of its unnamed `$DATA` stream;
//! alternate streams are not shown. Modes are made up (0o755 for
//! directories, 0o644 for files, without write bits when the read-only
//! attribute is set); owners are 0; mtime is `$STANDARD_INFORMATION`'s;
//! the inode is the MFT record number and the link count the record's.
//! Symbolic links and junctions are [`FileKind::Symlink`] whose target is
//! what Windows shows (`C:\Users`, or a relative `..\x`); the Interix
//! links ntfs-3g makes for `ln -s` (a system file holding `IntxLNK`) are
//! links too, with the target as Linux wrote it.
//!
//! Refused: LZNT1-compressed and EFS-encrypted data
//! ([`FsError::Unsupported`], naming the file); reparse points other than
//! symbolic links and junctions are [`FileKind::Other`] with a note naming
//! the tag and are not read; an MFT fragmented enough that its own runs
//! continue in other records (an `$ATTRIBUTE_LIST` in record 0) is read
//! only as far as record 0 maps it, and a record past that is
//! [`FsError::Unsupported`]. `$LogFile` is never replayed: a volume
//! Windows did not close cleanly is reported [`FsState::Dirty`], and a
//! `hiberfil.sys` holding a hibernation image (`hibr`/`wake`, which
//! Windows Fast Startup also leaves) is reported [`FsState::Hibernated`].

mod boot;
mod index;
mod object;
mod reader;
mod reparse;
mod upcase;

use std::fmt;

use ::ntfs::structured_values::NtfsVolumeFlags;
use ::ntfs::{NtfsAttributeType, NtfsError, NtfsFile, NtfsFileFlags};

use crate::error::FsError;
use crate::filesystem::{DirEntry, FileKind, FileSystem, FsInfo, FsKind, FsState, Metadata};
use crate::path;
use crate::volume::Volume;
use index::{IndexError, Listed};
use object::Object;
use reader::VolumeReader;
use upcase::{Upcase, UPCASE_LEN};

/// MFT record of the root directory.
const ROOT_RECORD: u64 = 5;

/// MFT record of $UpCase.
const UPCASE_RECORD: u64 = 10;

/// MFT records below this are the file system's own ($MFT ... $Extend
/// and reserved ones).
const FIRST_USER_RECORD: u64 = 16;

/// A read-only NTFS file system.
pub struct Ntfs {
    volume: Volume,
    fs: ::ntfs::Ntfs,
    upcase: Upcase,
    /// $MFT's own record holds an attribute list: its data runs are
    /// split over several records, and the `ntfs` crate maps only those
    /// in record 0.
    mft_has_attribute_list: bool,
    info: FsInfo,
}

impl fmt::Debug for Ntfs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ntfs")
            .field("volume", &self.volume.name())
            .field("info", &self.info)
            .finish()
    }
}

impl Ntfs {
    /// Opens the NTFS file system on `volume`: checks the boot sector,
    /// reads the $UpCase table, the label and the dirty flag, and looks
    /// for a hibernation image.
    pub fn open(volume: Volume) -> Result<Ntfs, FsError> {
        let name = volume.name().to_owned();
        let mut sector = [0u8; 512];
        volume.read_at(0, &mut sector)?;
        let boot = boot::check(&name, &sector, volume.len())?;
        let mut r = VolumeReader::new(&volume, 0);
        let fs = ::ntfs::Ntfs::new(&mut r).map_err(|e| fail(&name, &r, "boot sector", e))?;
        let mut state = Vec::new();
        let flags = fs
            .volume_info(&mut r)
            .map_err(|e| fail(&name, &r, "$Volume (MFT record 3) $VOLUME_INFORMATION", e))?
            .flags();
        if flags.contains(NtfsVolumeFlags::IS_DIRTY) {
            state.push(FsState::Dirty);
        }
        let label = match fs.volume_name(&mut r) {
            None => None,
            Some(v) => {
                let v = v.map_err(|e| fail(&name, &r, "$Volume (MFT record 3) $VOLUME_NAME", e))?;
                let text = String::from_utf16_lossy(&v.name().u16_iter().collect::<Vec<u16>>());
                (!text.is_empty()).then_some(text)
            }
        };
        let info = FsInfo {
            kind: FsKind::Ntfs,
            label,
            uuid: Some(format!("{:016X}", boot.serial)),
            size: boot.size,
            block_size: boot.cluster_size,
            state,
        };
        let mut ntfs = Ntfs {
            volume,
            fs,
            upcase: Upcase::new(&[]),
            mft_has_attribute_list: false,
            info,
        };
        ntfs.mft_has_attribute_list = ntfs.mft_attribute_list()?;
        ntfs.upcase = ntfs.read_upcase()?;
        if ntfs.hibernated()? {
            ntfs.info.state.push(FsState::Hibernated);
        }
        Ok(ntfs)
    }

    /// Whether record 0 ($MFT) holds an `$ATTRIBUTE_LIST`.
    fn mft_attribute_list(&self) -> Result<bool, FsError> {
        let mut r = self.reader(0);
        let mft = self
            .fs
            .file(&mut r, 0)
            .map_err(|e| fail(self.name(), &r, "$MFT (MFT record 0)", e))?;
        let found = mft
            .attributes_raw()
            .take(4096)
            .any(|a| a.is_ok_and(|a| a.ty().is_ok_and(|t| t == NtfsAttributeType::AttributeList)));
        Ok(found)
    }

    /// The $UpCase table (MFT record 10): 65536 UTF-16 units.
    fn read_upcase(&self) -> Result<Upcase, FsError> {
        let mut r = self.reader(UPCASE_LEN as u64);
        let file = self.record(&mut r, UPCASE_RECORD)?;
        let object = object::read(self, &mut r, &file)?;
        if object.data_len != UPCASE_LEN as u64 {
            return Err(FsError::malformed(
                self.name(),
                "ntfs",
                "$UpCase (MFT record 10)",
                format!("{} bytes; expected {UPCASE_LEN}", object.data_len),
            ));
        }
        let bytes = object::read_small_data(self, &mut r, &file, UPCASE_LEN as u64)?;
        if bytes.len() != UPCASE_LEN {
            return Err(FsError::malformed(
                self.name(),
                "ntfs",
                "$UpCase (MFT record 10)",
                "its data is compressed or encrypted",
            ));
        }
        Ok(Upcase::new(&bytes))
    }

    /// Whether `/hiberfil.sys` holds a hibernation image (its first
    /// bytes are `hibr` or `wake`, in either case; a zeroed or missing
    /// file means Windows resumed or shut down fully).
    fn hibernated(&self) -> Result<bool, FsError> {
        let path = b"/hiberfil.sys";
        let meta = match self.metadata(path) {
            Ok(m) => m,
            Err(FsError::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        if meta.kind != FileKind::File || meta.size < 4 {
            return Ok(false);
        }
        let mut magic = [0u8; 4];
        let got = self.read_at(path, 0, &mut magic)?;
        let magic = magic.to_ascii_lowercase();
        Ok(got == 4 && (&magic == b"hibr" || &magic == b"wake"))
    }

    fn name(&self) -> &str {
        self.volume.name()
    }

    /// A reader for one request that may read `extra` bytes of file data
    /// besides metadata.
    fn reader(&self, extra: u64) -> VolumeReader<'_> {
        VolumeReader::new(&self.volume, extra)
    }

    /// MFT record `record`, in use.
    fn record<'a>(
        &'a self,
        r: &mut VolumeReader<'_>,
        record: u64,
    ) -> Result<NtfsFile<'a>, FsError> {
        let what = || format!("MFT record {record}");
        let file = self.fs.file(r, record).map_err(|e| {
            if self.mft_has_attribute_list && !r.exhausted {
                FsError::unsupported(
                    self.name(),
                    "ntfs",
                    format!(
                        "{} in a fragmented $MFT whose runs continue in other records \
                         (its attribute list), which is not read ({e})",
                        what()
                    ),
                )
            } else {
                fail(self.name(), r, what(), e)
            }
        })?;
        if !file.flags().contains(NtfsFileFlags::IN_USE) {
            return Err(FsError::malformed(
                self.name(),
                "ntfs",
                what(),
                "is not in use, yet a directory names it",
            ));
        }
        Ok(file)
    }

    /// An index error of the directory at `what` as an [`FsError`].
    fn index_error(&self, r: &VolumeReader<'_>, what: &[u8], e: IndexError) -> FsError {
        let structure = format!("index of directory {}", crate::error::show(what));
        match e {
            IndexError::Ntfs(e) => fail(self.name(), r, structure, e),
            IndexError::Bad(problem) => FsError::malformed(self.name(), "ntfs", structure, problem),
            IndexError::Limit(e) => e,
        }
    }

    /// Walks `path` from the root without following links; returns the
    /// object and its record.
    fn lookup<'a>(
        &'a self,
        r: &mut VolumeReader<'_>,
        path: &[u8],
    ) -> Result<(NtfsFile<'a>, Object), FsError> {
        let parts = path::components(self.name(), path)?;
        let mut file = self.record(r, ROOT_RECORD)?;
        let mut object = object::read(self, r, &file)?;
        for (i, part) in parts.iter().enumerate() {
            let here = path::prefix(&parts, i);
            match object.kind {
                FileKind::Dir => {}
                FileKind::Symlink => {
                    return Err(FsError::SymlinkInPath {
                        volume: self.name().to_owned(),
                        fs: "ntfs",
                        path: here,
                    })
                }
                _ => return Err(FsError::not_a_directory(self.name(), "ntfs", &here)),
            }
            let not_found = || FsError::not_found(self.name(), "ntfs", path);
            // Names are UTF-16 on disk: a name that is not UTF-8 cannot
            // be one of them.
            let name = std::str::from_utf8(part).map_err(|_| not_found())?;
            let found = index::find(&self.fs, &self.upcase, r, &file, name)
                .map_err(|e| self.index_error(r, &here, e))?;
            let (record, sequence) = found.ok_or_else(not_found)?;
            let child = self.record(r, record)?;
            if sequence != 0 && child.sequence_number() != sequence {
                return Err(FsError::malformed(
                    self.name(),
                    "ntfs",
                    format!("MFT record {record}"),
                    format!(
                        "has sequence number {}; the entry in {} expects {sequence} (a stale entry)",
                        child.sequence_number(),
                        crate::error::show(&here)
                    ),
                ));
            }
            object = object::read(self, r, &child)?;
            file = child;
        }
        Ok((file, object))
    }
}

/// An `ntfs` crate error as an [`FsError`] about `structure`; a read
/// budget that ran out is a limit, not damage.
fn fail(volume: &str, r: &VolumeReader<'_>, structure: impl Into<String>, e: NtfsError) -> FsError {
    let structure = structure.into();
    if r.exhausted {
        return FsError::limit(
            volume,
            "ntfs",
            format!("bytes read for one request (at {structure})"),
            reader::METADATA_BUDGET,
            reader::METADATA_BUDGET,
        );
    }
    FsError::malformed(volume, "ntfs", structure, e.to_string())
}

impl FileSystem for Ntfs {
    fn info(&self) -> &FsInfo {
        &self.info
    }

    fn metadata(&self, path: &[u8]) -> Result<Metadata, FsError> {
        let mut r = self.reader(0);
        let (_, object) = self.lookup(&mut r, path)?;
        Ok(object.metadata())
    }

    fn read_dir(&self, path: &[u8]) -> Result<Vec<DirEntry>, FsError> {
        let mut r = self.reader(0);
        let (file, object) = self.lookup(&mut r, path)?;
        match object.kind {
            FileKind::Dir => {}
            found => {
                return Err(if found == FileKind::File {
                    FsError::not_a_directory(self.name(), "ntfs", path)
                } else {
                    FsError::wrong_kind(self.name(), "ntfs", path, "directory", found)
                })
            }
        }
        let is_root = file.file_record_number() == ROOT_RECORD;
        let listed = index::list(
            &self.fs,
            &mut r,
            &file,
            &crate::error::show(path),
            self.name(),
        )
        .map_err(|e| self.index_error(&r, path, e))?;
        let mut out = Vec::with_capacity(listed.len());
        for Listed { name, record } in listed {
            if record == file.file_record_number() || (is_root && record < FIRST_USER_RECORD) {
                continue;
            }
            // The name's copy of the flags is not enough: ntfs-3g does not
            // mark a symbolic link's name as a reparse point, and a
            // junction is a directory. The record says.
            let child = self.record(&mut r, record)?;
            let kind = object::read(self, &mut r, &child)?.kind;
            out.push(DirEntry {
                name: name.into_bytes(),
                kind,
                inode: record,
            });
        }
        Ok(out)
    }

    fn read_link(&self, path: &[u8]) -> Result<Vec<u8>, FsError> {
        let mut r = self.reader(0);
        let (_, object) = self.lookup(&mut r, path)?;
        match (object.kind, object.link_target) {
            (FileKind::Symlink, Some(target)) => Ok(target),
            (found, _) => Err(FsError::wrong_kind(
                self.name(),
                "ntfs",
                path,
                "symbolic link",
                found,
            )),
        }
    }

    fn read_at(&self, path: &[u8], offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let mut r = self.reader(buf.len() as u64);
        let (file, object) = self.lookup(&mut r, path)?;
        if object.kind != FileKind::File {
            return Err(FsError::wrong_kind(
                self.name(),
                "ntfs",
                path,
                "regular file",
                object.kind,
            ));
        }
        object::read_data(self, &mut r, &file, &object, path, offset, buf)
    }
}
