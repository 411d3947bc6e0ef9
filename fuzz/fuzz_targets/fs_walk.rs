//! The file-system readers over a hostile volume: the input is the whole
//! volume (ext2/3/4, XFS, Btrfs, FAT, whatever its superblock says); the
//! tree is walked breadth first, a bounded number of entries, every file's
//! first bytes and every link read. Nothing may panic or run away.
#![no_main]

use std::sync::Arc;

use imsprep_disk::RawDisk;
use imsprep_fs::{open_filesystem, FileKind, Volume};
use imsprep_fuzz::{scratch_path, write_file};
use libfuzzer_sys::fuzz_target;

/// Entries visited per input.
const MAX_ENTRIES: usize = 512;

fuzz_target!(|data: &[u8]| {
    let path = scratch_path("fs");
    write_file(&path, data);
    let Ok(disk) = RawDisk::open(&path) else {
        return;
    };
    let volume = Volume::whole(Arc::new(disk), "/dev/vda");
    let Ok(Some(fs)) = open_filesystem(volume) else {
        return;
    };
    let _ = fs.info();
    let mut queue: Vec<Vec<u8>> = vec![b"/".to_vec()];
    let mut seen = 0usize;
    let mut buf = vec![0u8; 4096];
    while let Some(dir) = queue.pop() {
        let Ok(entries) = fs.read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            seen += 1;
            if seen > MAX_ENTRIES {
                return;
            }
            let mut child = dir.clone();
            if !child.ends_with(b"/") {
                child.push(b'/');
            }
            child.extend_from_slice(&entry.name);
            let _ = fs.metadata(&child);
            match entry.kind {
                FileKind::Dir => queue.push(child),
                FileKind::Symlink => {
                    let _ = fs.read_link(&child);
                }
                _ => {
                    let _ = fs.read_at(&child, 0, &mut buf);
                }
            }
        }
    }
});
