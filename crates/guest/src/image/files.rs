//! The guest view of a disk image as [`GuestFiles`].

use std::sync::Arc;

use imsprep_disk::Disk;
use imsprep_fs::guest::{Guest, GuestVolume};
use imsprep_fs::volumes::Origin;
use imsprep_fs::{FileKind as FsKind, FsError, FsState, Metadata};
use imsprep_probe::PartitionKind;

use super::disk_facts::disk_facts;
use crate::files::{
    DiskFacts, FileKind, FileMeta, GuestError, GuestFiles, VolumeInfo, VolumeState,
};

/// A disk image's guest, read through its volumes and file systems.
#[derive(Debug, Clone)]
pub struct ImageGuest {
    guest: Guest,
    volumes: Vec<VolumeInfo>,
    disk: DiskFacts,
}

impl ImageGuest {
    /// Opens the guest view of `disk`.
    pub fn open(disk: Arc<dyn Disk>) -> Result<ImageGuest, FsError> {
        let guest = Guest::open(Arc::clone(&disk))?;
        let volumes: Vec<VolumeInfo> = guest
            .volumes()
            .iter()
            .map(|v| volume_info(&guest, v))
            .collect();
        let esp = volumes.iter().find(|v| v.is_esp).map(|v| v.device.clone());
        let disk = disk_facts(&*disk, esp);
        Ok(ImageGuest {
            guest,
            volumes,
            disk,
        })
    }

    /// The guest view itself (volumes, roots, mounts).
    pub fn view(&self) -> &Guest {
        &self.guest
    }
}

/// What the inspection knows of one volume.
fn volume_info(guest: &Guest, v: &GuestVolume) -> VolumeInfo {
    let (vg_name, lv_name) = match &v.origin {
        Some(Origin::LogicalVolume { vg, lv }) => (Some(vg.clone()), Some(lv.clone())),
        _ => (None, None),
    };
    VolumeInfo {
        device: v.name.clone(),
        fs_type: v.fs_type().map(str::to_string),
        uuid: v.uuid.clone(),
        label: v.label.clone(),
        partuuid: v.partuuid.clone(),
        partlabel: v.partlabel.clone(),
        vg_name,
        lv_name,
        mount_point: guest
            .mount_points_of(&v.name)
            .first()
            .map(|m| String::from_utf8_lossy(&m.mount_point).into_owned()),
        is_esp: v.partition_kind == Some(PartitionKind::Esp),
    }
}

/// Absent is `None`; anything else that went wrong is kept with its reason.
fn absent_or<T>(path: &str, r: Result<T, FsError>) -> Result<Option<T>, GuestError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(FsError::NotFound { .. } | FsError::NotADirectory { .. }) => Ok(None),
        Err(FsError::SymlinkInPath { .. }) => Err(GuestError::LinkLoop {
            path: path.to_string(),
        }),
        Err(e) => Err(GuestError::Read {
            path: path.to_string(),
            message: e.to_string(),
        }),
    }
}

fn kind_of(kind: FsKind) -> FileKind {
    match kind {
        FsKind::File => FileKind::File,
        FsKind::Dir => FileKind::Dir,
        FsKind::Symlink => FileKind::Symlink,
        _ => FileKind::Other,
    }
}

fn meta_of(m: &Metadata) -> FileMeta {
    FileMeta {
        kind: kind_of(m.kind),
        size: m.size,
        mode: m.mode,
    }
}

impl GuestFiles for ImageGuest {
    fn read_file(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, GuestError> {
        let Some(meta) = absent_or(path, self.guest.metadata(path.as_bytes()))? else {
            return Ok(None);
        };
        if meta.size > limit {
            return Err(GuestError::TooLarge {
                path: path.to_string(),
                limit,
                size: meta.size,
            });
        }
        absent_or(path, self.guest.read_file(path.as_bytes(), limit))
    }

    fn read_at(&self, path: &str, offset: u64, buf: &mut [u8]) -> Result<usize, GuestError> {
        absent_or(path, self.guest.read_at(path.as_bytes(), offset, buf))?.ok_or_else(|| {
            GuestError::Read {
                path: path.to_string(),
                message: "no such file".to_string(),
            }
        })
    }

    fn read_dir(&self, path: &str) -> Result<Option<Vec<(String, FileKind)>>, GuestError> {
        let entries = absent_or(path, self.guest.read_dir(path.as_bytes()))?;
        Ok(entries.map(|list| {
            list.into_iter()
                .map(|e| {
                    (
                        String::from_utf8_lossy(&e.name).into_owned(),
                        kind_of(e.kind),
                    )
                })
                .collect()
        }))
    }

    fn metadata(&self, path: &str) -> Result<Option<FileMeta>, GuestError> {
        Ok(absent_or(path, self.guest.metadata(path.as_bytes()))?.map(|m| meta_of(&m)))
    }

    fn symlink_metadata(&self, path: &str) -> Result<Option<FileMeta>, GuestError> {
        Ok(absent_or(path, self.guest.symlink_metadata(path.as_bytes()))?.map(|m| meta_of(&m)))
    }

    fn read_link(&self, path: &str) -> Result<Option<String>, GuestError> {
        let target = absent_or(path, self.guest.read_link(path.as_bytes()))?;
        Ok(target.map(|t| String::from_utf8_lossy(&t).into_owned()))
    }

    fn canonical(&self, path: &str) -> Result<Option<String>, GuestError> {
        let at = absent_or(path, self.guest.locate(path.as_bytes()))?;
        Ok(at.map(|(guest_path, _, _)| String::from_utf8_lossy(&guest_path).into_owned()))
    }

    fn volumes(&self) -> Vec<VolumeInfo> {
        self.volumes.clone()
    }

    fn disk(&self) -> DiskFacts {
        self.disk.clone()
    }

    fn volume_state(&self, device: &str) -> Option<Vec<VolumeState>> {
        let volume = self.guest.volumes().iter().find(|v| v.is_named(device))?;
        let info = volume.info()?;
        Some(
            info.state
                .iter()
                .map(|state| match state {
                    FsState::Dirty => VolumeState::Dirty,
                    FsState::NeedsRecovery => VolumeState::NeedsRecovery,
                    FsState::Errors => VolumeState::Errors,
                    FsState::Hibernated => VolumeState::Hibernated,
                    FsState::Other(text) => VolumeState::Other(text.clone()),
                })
                .collect(),
        )
    }

    fn volume_files(&self, device: &str) -> Option<Box<dyn GuestFiles + '_>> {
        let guest = self.guest.only(device).ok()?;
        Some(Box::new(ImageGuest {
            guest,
            volumes: self.volumes.clone(),
            disk: self.disk.clone(),
        }))
    }
}
