//! Shared by the XFS and Btrfs tests: a source tree with every kind of
//! object the readers must show, images made from it by the real tools
//! (through a loop mount), and a comparison of a reader's view with the
//! source.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use imsprep_disk::{Disk, RawDisk};
use imsprep_fs::{FileKind, FileSystem, Volume};

/// Runs `cmd` with `args`, panicking with its output when it fails.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A sparse image file of `mib` MiB.
pub fn image(dir: &Path, name: &str, mib: u64) -> PathBuf {
    let path = dir.join(name);
    let f = fs::File::create(&path).unwrap();
    f.set_len(mib << 20).unwrap();
    path
}

/// The whole image as a volume.
pub fn volume(img: &Path) -> Volume {
    let disk: Arc<dyn Disk> = Arc::new(RawDisk::open(img).unwrap());
    Volume::whole(disk, "/dev/test")
}

/// A loop mount, unmounted when dropped.
pub struct Mount {
    pub dir: PathBuf,
}

impl Mount {
    pub fn new(img: &Path, at: &Path, options: &str) -> Mount {
        fs::create_dir_all(at).unwrap();
        let opts = if options.is_empty() {
            "loop".to_string()
        } else {
            format!("loop,{options}")
        };
        run(
            "mount",
            &["-o", &opts, img.to_str().unwrap(), at.to_str().unwrap()],
        );
        Mount { dir: at.to_owned() }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

/// Deterministic bytes that differ from block to block.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

thread_local! {
    static CHECK_TIMES: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Whether [`compare`] checks modification times (on by default; off
/// where the tool that made the image sets its own).
pub fn set_check_times(on: bool) {
    CHECK_TIMES.with(|c| c.set(on));
}

/// The fragmented file's size.
pub const FRAGMENTED_LEN: usize = 3 << 20;

/// Builds the source tree in `src`.
pub fn make_source(src: &Path) {
    fs::create_dir_all(src).unwrap();
    let w = |rel: &str, data: &[u8]| {
        let p = src.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, data).unwrap();
    };
    w("hello.txt", b"hello, world\n");
    w("empty", b"");
    w("odd", &pattern(12_345, 1));
    let long = "n".repeat(250) + ".long";
    w(&format!("{}/{}", "d".repeat(200), long), b"long name\n");
    let mut deep = String::new();
    for i in 0..24 {
        deep.push_str(&format!("level{i}/"));
    }
    w(&format!("{deep}bottom.txt"), b"deep\n");
    for (dir, count) in [("dir50", 50), ("dir200", 200), ("dir5000", 5000)] {
        fs::create_dir_all(src.join(dir)).unwrap();
        for i in 0..count {
            let name = format!("entry-{i:05}-{}", "x".repeat(i % 40));
            fs::write(src.join(dir).join(name), format!("{dir} {i}\n")).unwrap();
        }
    }
    // A sparse file: 300 islands of data separated by holes, so the data
    // fork has more extents than an inode holds.
    let sparse = fs::File::create(src.join("sparse")).unwrap();
    for i in 0..300u64 {
        sparse
            .write_all_at(&pattern(4096, i as u32 + 7), i * 65536 + 8192)
            .unwrap();
    }
    sparse.set_len(300 * 65536 + 100_000).unwrap();
    w("fragmented", &pattern(FRAGMENTED_LEN, 99));
    let text: String = (0..20_000)
        .map(|i| format!("line {i} of a compressible file\n"))
        .collect();
    w("compressible.txt", text.as_bytes());
    w("prealloc", &[]);
    // Hard links.
    w("links/original", b"one file, two names\n");
    fs::hard_link(src.join("links/original"), src.join("hardlink")).unwrap();
    // Symlinks: short (inside the inode), longer than a v4 inode's fork
    // (156 bytes) and a v5 one's (336), and a long one.
    std::os::unix::fs::symlink("hello.txt", src.join("sym-short")).unwrap();
    for len in [100usize, 200, 400, 1000] {
        let target: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        std::os::unix::fs::symlink(&target, src.join(format!("sym-{len}"))).unwrap();
    }
    run("mkfifo", &[src.join("fifo").to_str().unwrap()]);
    fs::create_dir(src.join("private")).unwrap();
    fs::set_permissions(src.join("private"), fs::Permissions::from_mode(0o750)).unwrap();
    w("setuid", b"#!/bin/sh\n");
    fs::set_permissions(src.join("setuid"), fs::Permissions::from_mode(0o4755)).unwrap();
    fs::set_permissions(src.join("odd"), fs::Permissions::from_mode(0o604)).unwrap();
    run("chown", &["1234:5678", src.join("odd").to_str().unwrap()]);
}

/// Copies the source into the mounted file system, then rewrites the
/// fragmented file in small pieces from its end (each piece synced, so the
/// allocator places them apart) and preallocates `prealloc` with one
/// written block in its middle.
pub fn fill(src: &Path, mnt: &Path) {
    run(
        "cp",
        &[
            "-a",
            "--sparse=always",
            &format!("{}/.", src.display()),
            mnt.to_str().unwrap(),
        ],
    );
    let data = fs::read(src.join("fragmented")).unwrap();
    let f = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(mnt.join("fragmented"))
        .unwrap();
    let piece = 16 * 1024;
    for (i, chunk) in data.chunks(piece).enumerate().rev() {
        f.write_all_at(chunk, (i * piece) as u64).unwrap();
        f.sync_data().unwrap();
    }
    drop(f);
    run(
        "fallocate",
        &["-l", "1048576", mnt.join("prealloc").to_str().unwrap()],
    );
    let f = fs::OpenOptions::new()
        .write(true)
        .open(mnt.join("prealloc"))
        .unwrap();
    f.write_all_at(&pattern(4096, 5), 300 * 1024).unwrap();
    f.sync_all().unwrap();
    // The source's copy: the same bytes.
    let s = fs::OpenOptions::new()
        .write(true)
        .open(src.join("prealloc"))
        .unwrap();
    s.set_len(1 << 20).unwrap();
    s.write_all_at(&pattern(4096, 5), 300 * 1024).unwrap();
    for name in ["fragmented", "prealloc"] {
        run(
            "touch",
            &[
                "-r",
                src.join(name).to_str().unwrap(),
                mnt.join(name).to_str().unwrap(),
            ],
        );
    }
}

fn kind_of(meta: &fs::Metadata) -> FileKind {
    let t = meta.file_type();
    use std::os::unix::fs::FileTypeExt;
    if t.is_symlink() {
        FileKind::Symlink
    } else if t.is_dir() {
        FileKind::Dir
    } else if t.is_file() {
        FileKind::File
    } else if t.is_fifo() {
        FileKind::Fifo
    } else if t.is_socket() {
        FileKind::Socket
    } else if t.is_char_device() {
        FileKind::CharDevice
    } else {
        FileKind::BlockDevice
    }
}

/// Asserts that `fs` under `root` shows exactly the tree at `src`: names,
/// kinds, modes, owners, sizes, link counts, times, link targets, bytes.
/// Returns the number of objects compared.
pub fn compare(fs: &dyn FileSystem, root: &str, src: &Path) -> usize {
    let mut count = 0;
    compare_dir(fs, root.trim_end_matches('/'), src, &mut count);
    count
}

fn compare_dir(fs: &dyn FileSystem, path: &str, src: &Path, count: &mut usize) {
    let shown = if path.is_empty() { "/" } else { path };
    let entries = fs.read_dir(shown.as_bytes()).unwrap();
    let got: BTreeMap<Vec<u8>, FileKind> =
        entries.iter().map(|e| (e.name.clone(), e.kind)).collect();
    assert_eq!(got.len(), entries.len(), "{shown}: duplicate names");
    let mut want = BTreeMap::new();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let meta = fs::symlink_metadata(e.path()).unwrap();
        use std::os::unix::ffi::OsStrExt;
        want.insert(e.file_name().as_bytes().to_vec(), kind_of(&meta));
    }
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "names in {shown}"
    );
    assert_eq!(got, want, "kinds in {shown}");
    for (name, kind) in want {
        let name_s = String::from_utf8(name).unwrap();
        let child = format!("{path}/{name_s}");
        let src_child = src.join(&name_s);
        let sm = fs::symlink_metadata(&src_child).unwrap();
        let m = fs.metadata(child.as_bytes()).unwrap();
        *count += 1;
        assert_eq!(m.kind, kind, "{child}");
        assert_eq!(m.mode, sm.mode() & 0o7777, "mode of {child}");
        assert_eq!((m.uid, m.gid), (sm.uid(), sm.gid()), "owner of {child}");
        match kind {
            FileKind::Dir => compare_dir(fs, &child, &src_child, count),
            FileKind::Symlink => {
                let target = fs.read_link(child.as_bytes()).unwrap();
                use std::os::unix::ffi::OsStrExt;
                assert_eq!(
                    target,
                    fs::read_link(&src_child).unwrap().as_os_str().as_bytes(),
                    "target of {child}"
                );
                assert_eq!(m.size, target.len() as u64, "size of {child}");
            }
            FileKind::File => {
                assert_eq!(m.size, sm.len(), "size of {child}");
                assert_eq!(m.nlink, sm.nlink(), "links of {child}");
                if CHECK_TIMES.with(|c| c.get()) {
                    assert_eq!(m.mtime.secs, sm.mtime(), "mtime of {child}");
                }
                let bytes = fs.read_file(child.as_bytes(), u64::MAX).unwrap();
                let want = fs::read(&src_child).unwrap();
                assert!(bytes == want, "bytes of {child} differ");
                if want.len() > 10_000 {
                    let mut buf = vec![0u8; 7777];
                    let n = fs.read_at(child.as_bytes(), 1234, &mut buf).unwrap();
                    assert_eq!(n, 7777);
                    assert!(buf == want[1234..1234 + 7777], "read_at of {child}");
                    let n = fs
                        .read_at(child.as_bytes(), want.len() as u64 - 5, &mut buf)
                        .unwrap();
                    assert_eq!(n, 5, "a read across the end of {child}");
                }
            }
            _ => {}
        }
    }
}

/// The hard links of the source tree name one inode.
pub fn assert_hard_links(fs: &dyn FileSystem, root: &str) {
    let a = fs
        .metadata(format!("{root}/links/original").as_bytes())
        .unwrap();
    let b = fs.metadata(format!("{root}/hardlink").as_bytes()).unwrap();
    assert_eq!(a.inode, b.inode);
    assert_eq!(a.nlink, 2);
}
