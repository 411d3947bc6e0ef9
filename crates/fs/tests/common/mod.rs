//! What the file-system tests share: a source tree with the awkward cases,
//! running the real tools, and checking that a reader shows exactly the
//! source tree.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use imsprep_disk::{Disk, RawDisk};
use imsprep_fs::{FileKind, FileSystem, Volume};

/// Whether `program` can be run; prints why a test is skipped when not.
pub fn have(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        println!("skipped: {program} is not installed");
    }
    found
}

/// Runs a tool and panics with its output when it fails; returns stdout.
pub fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Poorly compressible bytes from `seed`.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// What the source tree holds, for the tests' own checks.
pub struct TreeOptions {
    /// Entries of the big directory.
    pub big_dir: usize,
    /// Include symlinks and hard links (not on FAT).
    pub links: bool,
    /// Include a 255-byte name (FAT long names are at most 255 UTF-16
    /// units, so it fits everywhere).
    pub long_name: bool,
}

/// Fills `root` with: a long name, a deep path, a big directory, a sparse
/// file, a few-MiB file, an empty file, and (with `links`) hard links and
/// fast and slow symlinks.
pub fn make_tree(root: &Path, opts: &TreeOptions) {
    std::fs::create_dir_all(root).unwrap();
    std::fs::write(root.join("hello.txt"), b"hello, world\n").unwrap();
    std::fs::write(root.join("empty"), b"").unwrap();
    if opts.long_name {
        let long = "L".repeat(200) + &"n".repeat(55);
        std::fs::write(root.join(long), b"long name\n").unwrap();
    }
    let mut deep = root.join("deep");
    for i in 0..24 {
        deep = deep.join(format!("level-{i:02}"));
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("bottom.txt"), b"at the bottom\n").unwrap();
    let big = root.join("big");
    std::fs::create_dir(&big).unwrap();
    for i in 0..opts.big_dir {
        std::fs::write(big.join(format!("entry-{i:05}.dat")), format!("{i}\n")).unwrap();
    }
    // A sparse file: data at the start, at 5 MiB, a hole to 12 MiB.
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(root.join("sparse.bin")).unwrap();
        f.write_all(&noise(5000, 1)).unwrap();
        f.seek(SeekFrom::Start(5 << 20)).unwrap();
        f.write_all(&noise(70000, 2)).unwrap();
        f.set_len(12 << 20).unwrap();
    }
    std::fs::write(root.join("large.bin"), noise(3 << 20 | 12345, 3)).unwrap();
    let script = root.join("run.sh");
    std::fs::write(&script, b"#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    if opts.links {
        std::fs::create_dir(root.join("links")).unwrap();
        std::fs::write(root.join("links/target.txt"), b"linked\n").unwrap();
        std::fs::hard_link(root.join("links/target.txt"), root.join("links/hard.txt")).unwrap();
        std::os::unix::fs::symlink("target.txt", root.join("links/fast")).unwrap();
        let slow = "../".repeat(10) + &"x".repeat(150) + "/target";
        std::os::unix::fs::symlink(slow, root.join("links/slow")).unwrap();
        std::os::unix::fs::symlink("/nowhere/at/all", root.join("links/dangling")).unwrap();
        std::os::unix::fs::symlink("../deep", root.join("links/dirlink")).unwrap();
    }
}

/// Opens `path` (a RAW file) as a disk.
pub fn raw_disk(path: &Path) -> Arc<dyn Disk> {
    Arc::new(RawDisk::open(path).unwrap())
}

/// How strictly a reader must match the source.
pub struct Expect {
    /// Permission bits and owners are stored.
    pub unix_metadata: bool,
    /// Hard links share an inode number and count their links.
    pub hard_links: bool,
    /// Names the file system adds to its root (`lost+found`,
    /// `$Extend`...), left out of the comparison there.
    pub root_extras: &'static [&'static str],
}

/// Checks that `fs` at `fs_path` shows exactly the tree at `src`: the
/// same names, kinds, sizes, file bytes and link targets; with
/// `unix_metadata` the same permission bits; with `hard_links` equal
/// inode numbers and link counts for hard links.
pub fn assert_same_tree(fs: &dyn FileSystem, src: &Path, fs_path: &[u8], expect: &Expect) -> usize {
    let mut checked = 0;
    let mut want: BTreeMap<Vec<u8>, std::fs::Metadata> = BTreeMap::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        want.insert(
            entry.file_name().as_bytes().to_vec(),
            entry.path().symlink_metadata().unwrap(),
        );
    }
    let listed = fs
        .read_dir(fs_path)
        .unwrap_or_else(|e| panic!("read_dir {fs_path:?}: {e}"));
    let got: BTreeMap<Vec<u8>, _> = listed
        .iter()
        .filter(|e| fs_path != b"/" || !expect.root_extras.iter().any(|x| x.as_bytes() == e.name))
        .map(|e| (e.name.clone(), e))
        .collect();
    assert_eq!(
        got.keys()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect::<Vec<_>>(),
        want.keys()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect::<Vec<_>>(),
        "listing of {}",
        String::from_utf8_lossy(fs_path)
    );
    for (name, meta) in &want {
        let mut child = fs_path.to_vec();
        if child.last() != Some(&b'/') {
            child.push(b'/');
        }
        child.extend_from_slice(name);
        let src_child = src.join(std::ffi::OsStr::from_bytes(name));
        let m = fs
            .metadata(&child)
            .unwrap_or_else(|e| panic!("metadata {src_child:?}: {e}"));
        let entry = got[name];
        assert_eq!(
            entry.kind, m.kind,
            "{src_child:?}: listing and metadata kinds"
        );
        if expect.hard_links {
            assert_eq!(
                entry.inode, m.inode,
                "{src_child:?}: listing and metadata inode"
            );
        }
        let ft = meta.file_type();
        if ft.is_dir() {
            assert_eq!(m.kind, FileKind::Dir, "{src_child:?}");
            checked += assert_same_tree(fs, &src_child, &child, expect);
        } else if ft.is_symlink() {
            assert_eq!(m.kind, FileKind::Symlink, "{src_child:?}");
            let target = std::fs::read_link(&src_child).unwrap();
            assert_eq!(
                fs.read_link(&child).unwrap(),
                target.as_os_str().as_bytes(),
                "{src_child:?}"
            );
            assert_eq!(m.size, meta.len(), "{src_child:?} link size");
        } else {
            assert_eq!(m.kind, FileKind::File, "{src_child:?}");
            assert_eq!(m.size, meta.len(), "{src_child:?} size");
            let bytes = fs.read_file(&child, u64::MAX).unwrap();
            assert!(
                bytes == std::fs::read(&src_child).unwrap(),
                "{src_child:?}: content differs"
            );
            if expect.hard_links {
                assert_eq!(m.nlink, meta.nlink(), "{src_child:?} nlink");
            }
        }
        if expect.unix_metadata {
            assert_eq!(m.mode, meta.mode() & 0o7777, "{src_child:?} mode");
            assert_eq!(m.mtime.secs, meta.mtime(), "{src_child:?} mtime");
        }
        checked += 1;
    }
    checked
}

/// Reads a file in small unaligned pieces and compares with the source.
pub fn assert_pieces(fs: &dyn FileSystem, path: &[u8], src: &Path) {
    let want = std::fs::read(src).unwrap();
    let mut pos = 0u64;
    let mut buf = vec![0u8; 7777];
    while (pos as usize) < want.len() {
        let n = fs.read_at(path, pos, &mut buf).unwrap();
        assert!(n > 0);
        assert_eq!(&buf[..n], &want[pos as usize..pos as usize + n], "at {pos}");
        pos += n as u64 * 37; // skip ahead, reading across block edges
    }
    assert_eq!(fs.read_at(path, want.len() as u64, &mut buf).unwrap(), 0);
}

/// Opens the file system on the whole of `image`.
pub fn open_whole(image: &Path, name: &str) -> Box<dyn FileSystem> {
    let volume = Volume::whole(raw_disk(image), name);
    imsprep_fs::open_filesystem(volume)
        .unwrap()
        .expect("a file system")
}
