//! Which backend reads a file, and opening it.

use std::path::Path;

use crate::backing::{BackingPolicy, Chain};
use crate::disk::Disk;
use crate::error::DiskError;
use crate::formats;
use crate::io::ReadAt;
use crate::raw::RawDisk;

/// The image formats this crate reads (ZVHD2 is read by `imsprep-zvhd2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A RAW image file or a block device.
    Raw,
    /// QEMU copy-on-write v2 or v3.
    Qcow2,
    /// VMware virtual disk: a sparse extent, or a descriptor naming extents.
    Vmdk,
    /// Virtual PC / Hyper-V VHD, fixed, dynamic or differencing.
    Vhd,
    /// Hyper-V VHDX.
    Vhdx,
    /// VirtualBox VDI.
    Vdi,
    /// An OVA: a tar holding an OVF descriptor and its disks.
    Ova,
}

/// How to open an image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// How backing files are found.
    pub backing: BackingPolicy,
    /// The disk to read from an OVA holding several (its file name inside
    /// the archive).
    pub ova_disk: Option<String>,
}

/// Opens `path` as an image of format `kind` (told by its content; see
/// `imsprep-probe`), read-only.
pub fn open_as(path: &Path, kind: Kind, options: &OpenOptions) -> Result<Box<dyn Disk>, DiskError> {
    open_layer(path, kind, &Chain::top(options))
}

/// Opens one layer of a chain.
pub(crate) fn open_layer(
    path: &Path,
    kind: Kind,
    chain: &Chain<'_>,
) -> Result<Box<dyn Disk>, DiskError> {
    if kind == Kind::Raw {
        return Ok(Box::new(RawDisk::open(path)?));
    }
    let src = ReadAt::open(path)?;
    match kind {
        Kind::Raw => unreachable!("handled above"),
        Kind::Qcow2 => formats::qcow2::open(src, chain),
        Kind::Vmdk => formats::vmdk::open(src, chain),
        Kind::Vhd => formats::vhd::open(src, chain),
        Kind::Vhdx => formats::vhdx::open(src, chain),
        Kind::Vdi => formats::vdi::open(src, chain),
        Kind::Ova => formats::ova::open(src, chain),
    }
}

/// The format of a backing file that its child does not name, from its
/// first bytes (and a VHD's footer at its end); RAW when none matches.
pub(crate) fn sniff(path: &Path) -> Result<Kind, DiskError> {
    let src = ReadAt::open(path)?;
    let mut head = [0u8; 512];
    let n = head.len().min(src.len() as usize);
    src.read_exact_at(0, &mut head[..n])?;
    let head = &head[..n];
    let kind = if head.starts_with(b"QFI\xfb") {
        Kind::Qcow2
    } else if head.starts_with(b"KDMV") || head.starts_with(b"# Disk DescriptorFile") {
        Kind::Vmdk
    } else if head.starts_with(b"vhdxfile") {
        Kind::Vhdx
    } else if head.get(0x40..0x44) == Some(&[0x7f, 0x10, 0xda, 0xbe]) {
        Kind::Vdi
    } else if head.starts_with(b"conectix") || tail_is_vhd(&src)? {
        Kind::Vhd
    } else {
        Kind::Raw
    };
    Ok(kind)
}

fn tail_is_vhd(src: &ReadAt) -> Result<bool, DiskError> {
    if src.len() < 512 {
        return Ok(false);
    }
    let mut cookie = [0u8; 8];
    src.read_exact_at(src.len() - 512, &mut cookie)?;
    Ok(&cookie == b"conectix")
}
