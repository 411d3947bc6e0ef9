//! Every volume of the disk with what the guest knows it by: its device
//! names, the file system's type, label and UUID, and the partition's
//! PARTUUID and PARTLABEL.

use std::sync::Arc;

use imsprep_disk::Disk;
use imsprep_probe::{probe_filesystem, read_layout, Filesystem, PartitionKind, PartitionTable};

use crate::btrfs::Btrfs;
use crate::bytes;
use crate::error::FsError;
use crate::filesystem::{FileSystem, FsInfo, FsKind};
use crate::volume::Volume;
use crate::volumes::{find_volumes, Origin};

/// What a volume holds, as far as the guest view reads it.
#[derive(Debug, Clone)]
pub enum Content {
    /// A file system that was opened.
    FileSystem(Arc<dyn FileSystem>),
    /// Linux swap.
    Swap,
    /// No signature of anything known (an empty or unformatted volume).
    Nothing,
    /// Something that is there but not read, with the reason (LUKS, a
    /// thin LV, a damaged superblock, a file system with no reader).
    Unread {
        /// What it is.
        what: String,
        /// Why it is not read.
        reason: String,
    },
}

/// One volume of the disk as the guest sees it.
#[derive(Debug, Clone)]
pub struct GuestVolume {
    /// The guest's device name (`/dev/vda1`, `/dev/VG/LV`).
    pub name: String,
    /// Other names of it (`/dev/mapper/VG-LV`).
    pub aliases: Vec<String>,
    /// Where it comes from (`None` for a volume that could not be
    /// mapped at all).
    pub origin: Option<Origin>,
    /// Size in bytes (0 when it could not be mapped).
    pub size: u64,
    /// The GPT unique partition GUID (lowercase), or for MBR the disk
    /// signature and partition number as Linux forms it (`1a2b3c4d-02`).
    pub partuuid: Option<String>,
    /// The GPT partition name, when set.
    pub partlabel: Option<String>,
    /// The partition's type as the table says (ESP, Linux, LVM, ...).
    pub partition_kind: Option<PartitionKind>,
    /// File-system (or swap) label.
    pub label: Option<String>,
    /// File-system (or swap) UUID, as the guest writes it in fstab.
    pub uuid: Option<String>,
    /// What the volume holds.
    pub content: Content,
    /// The volume's bytes, when it could be mapped (superblock fields such
    /// as free space are read from them).
    pub volume: Option<Volume>,
    /// The Btrfs reader itself, to choose subvolumes.
    pub(crate) btrfs: Option<Btrfs>,
}

impl GuestVolume {
    /// The file system, when one was opened.
    pub fn filesystem(&self) -> Option<&Arc<dyn FileSystem>> {
        match &self.content {
            Content::FileSystem(fs) => Some(fs),
            _ => None,
        }
    }

    /// What the file system's superblock says, when one was opened.
    pub fn info(&self) -> Option<&FsInfo> {
        self.filesystem().map(|fs| fs.info())
    }

    /// The type as fstab writes it (`ext4`, `swap`), when known.
    pub fn fs_type(&self) -> Option<&'static str> {
        match &self.content {
            Content::FileSystem(fs) => Some(fs.info().kind.fstab_type()),
            Content::Swap => Some("swap"),
            _ => None,
        }
    }

    /// Whether `name` is this volume's name or one of its aliases.
    pub fn is_named(&self, name: &str) -> bool {
        self.name == name || self.aliases.iter().any(|a| a == name)
    }

    /// The partition number, for a partition.
    pub fn partition_index(&self) -> Option<u32> {
        match self.origin {
            Some(Origin::Partition { index }) => Some(index),
            _ => None,
        }
    }
}

/// Lists and opens every volume of `disk`, called `disk_name` by the
/// guest. Only a failure to read the disk itself is an error; a volume
/// that cannot be read is listed with the reason.
pub fn inventory(disk: Arc<dyn Disk>, disk_name: &str) -> Result<Vec<GuestVolume>, FsError> {
    let found = find_volumes(Arc::clone(&disk), disk_name)?;
    let whole = Volume::whole(Arc::clone(&disk), disk_name);
    let layout = read_layout(&whole)
        .map_err(|e| FsError::malformed(disk_name, "partition table", "layout", e.to_string()))?;
    type PartIds = (Option<String>, Option<String>, Option<PartitionKind>);
    let part_ids = |index: u32| -> PartIds {
        match layout.table {
            PartitionTable::Gpt => layout
                .gpt
                .as_ref()
                .and_then(|g| g.partitions.iter().find(|p| p.index == index))
                .map_or((None, None, None), |p| {
                    (
                        Some(p.unique_guid.to_ascii_lowercase()),
                        Some(p.name.clone()).filter(|n| !n.is_empty()),
                        Some(p.kind),
                    )
                }),
            PartitionTable::Mbr => layout.mbr.as_ref().map_or((None, None, None), |m| {
                (
                    Some(format!("{:08x}-{index:02x}", m.disk_signature)),
                    None,
                    m.partitions
                        .iter()
                        .find(|p| p.index == index)
                        .map(|p| p.kind),
                )
            }),
            PartitionTable::None => (None, None, None),
        }
    };
    let mut out = Vec::new();
    for v in found.volumes {
        let (partuuid, partlabel, partition_kind) = match v.origin {
            Origin::Partition { index } => part_ids(index),
            _ => (None, None, None),
        };
        let mut gv = GuestVolume {
            name: v.volume.name().to_owned(),
            aliases: v.aliases,
            origin: Some(v.origin),
            size: v.volume.len(),
            partuuid,
            partlabel,
            partition_kind,
            label: None,
            uuid: None,
            content: Content::Nothing,
            volume: Some(v.volume.clone()),
            btrfs: None,
        };
        open_content(&mut gv, v.volume)?;
        out.push(gv);
    }
    for u in found.unread {
        // The partition ids are known even when its content is not read.
        let index = u
            .name
            .strip_prefix(disk_name)
            .map(|rest| rest.trim_start_matches('p'))
            .and_then(|n| n.parse::<u32>().ok());
        let (partuuid, partlabel, partition_kind) = index.map_or((None, None, None), part_ids);
        out.push(GuestVolume {
            name: u.name,
            aliases: Vec::new(),
            origin: index.map(|index| Origin::Partition { index }),
            size: 0,
            partuuid,
            partlabel,
            partition_kind,
            label: None,
            uuid: None,
            content: Content::Unread {
                what: u.what,
                reason: u.reason,
            },
            volume: None,
            btrfs: None,
        });
    }
    Ok(out)
}

/// Opens what `volume` holds into `gv`. Errors about the image become
/// [`Content::Unread`]; an error reading the disk itself is returned.
fn open_content(gv: &mut GuestVolume, volume: Volume) -> Result<(), FsError> {
    let unread = |e: FsError| -> Result<Content, FsError> {
        if e.is_bad_image() {
            let what = match &e {
                FsError::Unsupported { feature, .. } => feature.clone(),
                _ => "file system".to_owned(),
            };
            Ok(Content::Unread {
                what,
                reason: e.to_string(),
            })
        } else {
            Err(e)
        }
    };
    let kind = probe_filesystem(&volume, 0).ok().flatten();
    if kind == Some(Filesystem::Swap) {
        let (label, uuid) = swap_ids(&volume);
        gv.label = label;
        gv.uuid = uuid;
        gv.content = Content::Swap;
        return Ok(());
    }
    gv.content = match crate::open_filesystem(volume.clone()) {
        Ok(Some(fs)) => {
            if fs.info().kind == FsKind::Btrfs {
                // The concrete reader chooses subvolumes; the trait
                // object cannot.
                gv.btrfs = Btrfs::open(volume).ok();
            }
            gv.label = fs.info().label.clone();
            gv.uuid = fs.info().uuid.clone();
            Content::FileSystem(Arc::from(fs))
        }
        Ok(None) => Content::Nothing,
        Err(e) => unread(e)?,
    };
    Ok(())
}

/// The label and UUID of a Linux swap area (`mkswap`'s header: version,
/// last page, bad pages, then the UUID at byte 1036 and the label at
/// 1052), for any page size the signature is found at.
fn swap_ids(volume: &Volume) -> (Option<String>, Option<String>) {
    let mut header = [0u8; 1068];
    if volume.read_at(0, &mut header).is_err() {
        return (None, None);
    }
    let uuid: [u8; 16] = bytes::slice(&header, 1036, 16)
        .try_into()
        .unwrap_or([0; 16]);
    let uuid = (uuid != [0; 16]).then(|| bytes::uuid_string(&uuid));
    let label = bytes::label(bytes::slice(&header, 1052, 16));
    (label, uuid)
}
