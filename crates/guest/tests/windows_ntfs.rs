//! End to end: the ready Windows tree copied into an NTFS volume made by
//! `mkntfs` through an `ntfs-3g` mount, then read back by imsprep's own
//! NTFS reader (imsprep-fs) and inspected: the facts must be those of the
//! directory tree, and the file system's hibernation state must reach
//! WIN-NTFS-STATE.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use imsprep_disk::{Disk, RawDisk};
use imsprep_fs::{open_filesystem, FileSystem, FsError, FsState, Volume};
use imsprep_guest::files::resolve_path;
use imsprep_guest::test_support::WinTree;
use imsprep_guest::{
    inspect_windows, DiskFacts, FileKind, FileMeta, GuestError, GuestFiles, VolumeInfo, VolumeState,
};

/// [`GuestFiles`] over one imsprep-fs file system mounted at `/`.
struct FsGuest {
    fs: Box<dyn FileSystem>,
    device: String,
    disk: DiskFacts,
}

fn err(path: &str, e: FsError) -> GuestError {
    GuestError::Read {
        path: path.to_string(),
        message: e.to_string(),
    }
}

fn kind(k: imsprep_fs::FileKind) -> FileKind {
    match k {
        imsprep_fs::FileKind::File => FileKind::File,
        imsprep_fs::FileKind::Dir => FileKind::Dir,
        imsprep_fs::FileKind::Symlink => FileKind::Symlink,
        _ => FileKind::Other,
    }
}

impl FsGuest {
    fn lstat(&self, p: &str) -> Result<Option<imsprep_fs::Metadata>, GuestError> {
        match self.fs.metadata(p.as_bytes()) {
            Ok(m) => Ok(Some(m)),
            Err(FsError::NotFound { .. } | FsError::NotADirectory { .. }) => Ok(None),
            Err(e) => Err(err(p, e)),
        }
    }

    fn resolve(&self, path: &str, follow: bool) -> Result<Option<String>, GuestError> {
        resolve_path(
            path,
            follow,
            |p| Ok(self.lstat(p)?.map(|m| kind(m.kind))),
            |p| {
                Ok(self
                    .fs
                    .read_link(p.as_bytes())
                    .ok()
                    .map(|t| String::from_utf8_lossy(&t).into_owned()))
            },
        )
    }
}

impl GuestFiles for FsGuest {
    fn read_file(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, GuestError> {
        let Some(p) = self.resolve(path, true)? else {
            return Ok(None);
        };
        self.fs
            .read_file(p.as_bytes(), limit)
            .map(Some)
            .map_err(|e| err(path, e))
    }

    fn read_at(&self, path: &str, offset: u64, buf: &mut [u8]) -> Result<usize, GuestError> {
        let p = self.resolve(path, true)?.ok_or_else(|| GuestError::Read {
            path: path.to_string(),
            message: "no such file".into(),
        })?;
        self.fs
            .read_at(p.as_bytes(), offset, buf)
            .map_err(|e| err(path, e))
    }

    fn read_dir(&self, path: &str) -> Result<Option<Vec<(String, FileKind)>>, GuestError> {
        let Some(p) = self.resolve(path, true)? else {
            return Ok(None);
        };
        let entries = self.fs.read_dir(p.as_bytes()).map_err(|e| err(path, e))?;
        Ok(Some(
            entries
                .into_iter()
                .map(|e| (String::from_utf8_lossy(&e.name).into_owned(), kind(e.kind)))
                .collect(),
        ))
    }

    fn metadata(&self, path: &str) -> Result<Option<FileMeta>, GuestError> {
        let Some(p) = self.resolve(path, true)? else {
            return Ok(None);
        };
        Ok(self.lstat(&p)?.map(|m| FileMeta {
            kind: kind(m.kind),
            size: m.size,
            mode: m.mode & 0o7777,
        }))
    }

    fn symlink_metadata(&self, path: &str) -> Result<Option<FileMeta>, GuestError> {
        let Some(p) = self.resolve(path, false)? else {
            return Ok(None);
        };
        Ok(self.lstat(&p)?.map(|m| FileMeta {
            kind: kind(m.kind),
            size: m.size,
            mode: m.mode & 0o7777,
        }))
    }

    fn read_link(&self, path: &str) -> Result<Option<String>, GuestError> {
        let Some(p) = self.resolve(path, false)? else {
            return Ok(None);
        };
        Ok(self
            .fs
            .read_link(p.as_bytes())
            .ok()
            .map(|t| String::from_utf8_lossy(&t).into_owned()))
    }

    fn canonical(&self, path: &str) -> Result<Option<String>, GuestError> {
        self.resolve(path, true)
    }

    fn volumes(&self) -> Vec<VolumeInfo> {
        vec![VolumeInfo {
            device: self.device.clone(),
            fs_type: Some("ntfs".into()),
            mount_point: Some("/".into()),
            ..VolumeInfo::default()
        }]
    }

    fn disk(&self) -> DiskFacts {
        self.disk.clone()
    }

    fn volume_state(&self, device: &str) -> Option<Vec<VolumeState>> {
        (device == self.device).then(|| {
            self.fs
                .info()
                .state
                .iter()
                .map(|s| match s {
                    FsState::Dirty => VolumeState::Dirty,
                    FsState::NeedsRecovery => VolumeState::NeedsRecovery,
                    FsState::Errors => VolumeState::Errors,
                    FsState::Hibernated => VolumeState::Hibernated,
                    FsState::Other(o) => VolumeState::Other(o.clone()),
                })
                .collect()
        })
    }
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Unmounts when dropped, so a failing test leaves no mount behind.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Copies the host tree `from` into `to` (files and directories).
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// The tree written into a fresh 64 MiB NTFS image, opened with
/// imsprep-fs.
fn ntfs_guest(tree: &WinTree, dir: &Path) -> FsGuest {
    let host = dir.join("tree");
    let scratch = dir.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    tree.build(&host, &scratch);
    let img = dir.join("c.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    run(
        "mkntfs",
        &["-F", "-f", "-Q", "-L", "Windows", img.to_str().unwrap()],
    );
    let mnt = dir.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    run("ntfs-3g", &[img.to_str().unwrap(), mnt.to_str().unwrap()]);
    {
        let _mount = Mount(mnt.clone());
        copy_tree(&host, &mnt);
    }
    let disk: Arc<dyn Disk> = Arc::new(RawDisk::open(&img).unwrap());
    let fs = open_filesystem(Volume::whole(disk, "/dev/vda1"))
        .unwrap()
        .expect("an NTFS file system");
    FsGuest {
        fs,
        device: "/dev/vda1".into(),
        disk: tree.disk.clone(),
    }
}

fn tools() -> bool {
    let ok = have("mkntfs") && have("ntfs-3g") && Path::new("/dev/fuse").exists();
    if !ok {
        println!("skipped: mkntfs, ntfs-3g or /dev/fuse missing");
    }
    ok
}

#[test]
fn facts_read_out_of_an_ntfs_image() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tree = WinTree::server_2019(dir.path());
    let guest = ntfs_guest(&tree, dir.path());
    let f = inspect_windows(&guest);
    assert_eq!(f.root.get().unwrap().path, "/Windows");
    let id = f.identity.get().unwrap();
    assert_eq!(
        id.product_name.as_deref(),
        Some("Windows Server 2019 Standard")
    );
    let blk = f.virtio_blk.get().unwrap();
    assert_eq!(blk.viostor.service.start, Some(0));
    assert!(blk.viostor.service.file_present);
    assert_eq!(blk.viostor.mapped_ids(), ["1001", "1042"]);
    assert_eq!(blk.viostor.driver_store.len(), 1);
    assert!(f.boot.get().unwrap().bios());
    let n = f.ntfs.get().unwrap();
    assert!(!n.hibernated && n.dirty == Some(false) && !n.fs_hibernated);
    assert!(f.cloudbase_init.get().unwrap().installed());
    // Case-insensitive names are the file system's own here.
    assert!(guest.exists("/WINDOWS/system32/CONFIG/system"));
}

#[test]
fn hibernated_ntfs_image() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut tree = WinTree::server_2019(dir.path());
    let mut hiber = vec![0u8; 65536];
    hiber[..4].copy_from_slice(b"hibr");
    tree.files.insert("/hiberfil.sys".into(), hiber);
    let guest = ntfs_guest(&tree, dir.path());
    let f = inspect_windows(&guest);
    let n = f.ntfs.get().unwrap();
    assert!(n.hibernated && n.fs_hibernated, "{:?}", f.ntfs);
    assert_eq!(n.hiberfil_signature.as_deref(), Some("hibr"));
}
