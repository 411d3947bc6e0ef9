//! The NTFS reader against volumes made by mkntfs and filled through an
//! ntfs-3g mount: names (long, Unicode, mixed case), a deep path, a
//! directory big enough for $INDEX_ALLOCATION, sparse, large and resident
//! files, hard links, symbolic links, a Windows-like layout; the label,
//! serial, dirty flag and hibernation file; then boot sectors, MFT
//! records, data runs and index records patched to be hostile, and a
//! damage test flipping bytes of the metadata.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use imsprep_fs::ntfs::Ntfs;
use imsprep_fs::{FileKind, FileSystem, FsError, FsKind, FsState, Volume};

use common::{noise, raw_disk, run};

const BIG_DIR: usize = 2000;
const LABEL: &str = "ImsTest";
const UNICODE_NAMES: [&str; 3] = ["日本語のファイル.txt", "Ünïcödé ñame.txt", "crab 🦀.txt"];

/// An ntfs-3g mount, unmounted when dropped.
struct Mount {
    dir: PathBuf,
}

impl Mount {
    fn new(img: &Path, at: &Path) -> Mount {
        fs::create_dir_all(at).unwrap();
        run("ntfs-3g", &[img.to_str().unwrap(), at.to_str().unwrap()]);
        Mount { dir: at.to_owned() }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

/// Whether mkntfs and an ntfs-3g (FUSE) mount can be used here.
fn tools() -> bool {
    common::have("mkntfs") && common::have("ntfs-3g") && Path::new("/dev/fuse").exists()
}

/// A fresh 64 MiB NTFS image at `path`.
fn mkntfs(path: &Path) {
    fs::File::create(path).unwrap().set_len(64 << 20).unwrap();
    run(
        "mkntfs",
        &["-F", "-f", "-Q", "-L", LABEL, path.to_str().unwrap()],
    );
}

fn long_name() -> String {
    "L".repeat(200) + &"n".repeat(55)
}

fn deep_path() -> String {
    (0..24)
        .map(|i| format!("/level-{i:02}"))
        .collect::<String>()
}

/// Fills a mounted volume with the tree the tests check.
fn fill(root: &Path) {
    fs::write(root.join("hello.txt"), b"hello, world\n").unwrap();
    fs::write(root.join("Mixed Case NAME.Txt"), b"mixed\n").unwrap();
    for (i, name) in UNICODE_NAMES.iter().enumerate() {
        fs::write(root.join(name), format!("unicode {i}\n")).unwrap();
    }
    fs::write(root.join(long_name()), b"long name\n").unwrap();
    let deep = root.join("deep").join(&deep_path()[1..]);
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("bottom.txt"), b"at the bottom\n").unwrap();
    fs::create_dir(root.join("big")).unwrap();
    for i in 0..BIG_DIR {
        fs::write(root.join(format!("big/entry-{i:05}.dat")), format!("{i}\n")).unwrap();
    }
    {
        let f = fs::File::create(root.join("sparse.bin")).unwrap();
        f.write_all_at(&noise(5000, 1), 0).unwrap();
        f.write_all_at(&noise(70000, 2), 5 << 20).unwrap();
        f.set_len(12 << 20).unwrap();
    }
    fs::write(root.join("large.bin"), noise(5 << 20, 3)).unwrap();
    fs::create_dir(root.join("links")).unwrap();
    fs::write(root.join("links/target.txt"), b"linked\n").unwrap();
    fs::hard_link(root.join("links/target.txt"), root.join("links/hard.txt")).unwrap();
    std::os::unix::fs::symlink("target.txt", root.join("links/rel")).unwrap();
    std::os::unix::fs::symlink("../deep", root.join("links/dirlink")).unwrap();
    // Windows links, set through ntfs-3g's reparse-data attribute.
    fs::write(root.join("links/winlink"), b"").unwrap();
    set_reparse(
        &root.join("links/winlink"),
        &link_data(
            0xA000_000C,
            r"\??\C:\Windows\System32",
            r"C:\Windows\System32",
            true,
        ),
    );
    fs::create_dir(root.join("links/junction")).unwrap();
    set_reparse(
        &root.join("links/junction"),
        &link_data(0xA000_0003, r"\??\C:\Users", "", false),
    );
    fs::write(root.join("links/wof"), b"x").unwrap();
    let mut wof = vec![0x17, 0, 0, 0x80, 16, 0, 0, 0];
    wof.extend_from_slice(&[1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    set_reparse(&root.join("links/wof"), &wof);
    let config = root.join("Windows/System32/config");
    fs::create_dir_all(&config).unwrap();
    fs::write(config.join("SYSTEM"), noise(300_000, 4)).unwrap();
}

/// Reparse data of a symbolic link (`flags`: with the symlink flags
/// word) or junction.
fn link_data(tag: u32, substitute: &str, print: &str, flags: bool) -> Vec<u8> {
    let u = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(|c| c.to_le_bytes()).collect() };
    let (s, p) = (u(substitute), u(print));
    let mut body = Vec::new();
    for v in [0, s.len(), s.len() + 2, p.len()] {
        body.extend_from_slice(&(v as u16).to_le_bytes());
    }
    if flags {
        body.extend_from_slice(&0u32.to_le_bytes());
    }
    body.extend_from_slice(&s);
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&p);
    body.extend_from_slice(&[0, 0]);
    let mut out = tag.to_le_bytes().to_vec();
    out.extend_from_slice(&(body.len() as u16).to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&body);
    out
}

/// Makes `path` a reparse point through ntfs-3g.
fn set_reparse(path: &Path, data: &[u8]) {
    rustix::fs::setxattr(
        path,
        "system.ntfs_reparse_data",
        data,
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
}

/// The pristine filled image, made once and shared by the tests (they
/// copy it before patching).
fn pristine() -> Option<&'static Path> {
    static IMAGE: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            if !tools() {
                return None;
            }
            let dir = tempfile::tempdir().unwrap();
            let img = dir.path().join("ntfs.img");
            mkntfs(&img);
            {
                let mnt = Mount::new(&img, &dir.path().join("mnt"));
                fill(&mnt.dir);
            }
            Some((dir, img))
        })
        .as_ref()
        .map(|(_, img)| img.as_path())
}

/// A copy of the pristine image in `dir`.
fn copy(dir: &Path) -> Option<PathBuf> {
    let src = pristine()?;
    let dst = dir.join("copy.img");
    fs::copy(src, &dst).unwrap();
    Some(dst)
}

fn volume(img: &Path) -> Volume {
    Volume::whole(raw_disk(img), "/dev/vdb1")
}

fn open(img: &Path) -> Result<Ntfs, FsError> {
    Ntfs::open(volume(img))
}

fn names(fs: &dyn FileSystem, path: &[u8]) -> BTreeSet<String> {
    fs.read_dir(path)
        .unwrap()
        .into_iter()
        .map(|e| String::from_utf8(e.name).unwrap())
        .collect()
}

#[test]
fn reads_a_filled_volume() {
    let Some(img) = pristine() else { return };
    let fs = imsprep_fs::open_filesystem(volume(img)).unwrap().unwrap();
    let info = fs.info();
    assert_eq!(info.kind, FsKind::Ntfs);
    assert_eq!(info.label.as_deref(), Some(LABEL));
    assert_eq!(info.block_size, 4096);
    assert!(info.state.is_empty(), "{:?}", info.state);
    let uuid = info.uuid.clone().unwrap();
    assert_eq!(uuid.len(), 16);
    if common::have("blkid") {
        let out = run(
            "blkid",
            &["-o", "value", "-s", "UUID", img.to_str().unwrap()],
        );
        assert_eq!(uuid, out.trim());
    }

    // The root: the tree, no metadata files, no "." entry.
    let mut want: BTreeSet<String> = [
        "hello.txt",
        "Mixed Case NAME.Txt",
        "deep",
        "big",
        "sparse.bin",
        "large.bin",
        "links",
        "Windows",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    want.extend(UNICODE_NAMES.iter().map(|s| s.to_string()));
    want.insert(long_name());
    assert_eq!(names(&*fs, b"/"), want);

    // Files: sizes and bytes; small ones are resident.
    let file = |path: &str, want: &[u8]| {
        let m = fs.metadata(path.as_bytes()).unwrap();
        assert_eq!(m.kind, FileKind::File, "{path}");
        assert_eq!(m.size, want.len() as u64, "{path}");
        assert_eq!(m.mode, 0o644, "{path}");
        assert!(
            fs.read_file(path.as_bytes(), u64::MAX).unwrap() == want,
            "{path}"
        );
    };
    file("/hello.txt", b"hello, world\n");
    file("/Mixed Case NAME.Txt", b"mixed\n");
    for (i, name) in UNICODE_NAMES.iter().enumerate() {
        file(&format!("/{name}"), format!("unicode {i}\n").as_bytes());
    }
    file(&format!("/{}", long_name()), b"long name\n");
    file(
        &format!("/deep{}/bottom.txt", deep_path()),
        b"at the bottom\n",
    );
    file("/large.bin", &noise(5 << 20, 3));
    let mut sparse = vec![0u8; 12 << 20];
    sparse[..5000].copy_from_slice(&noise(5000, 1));
    sparse[5 << 20..(5 << 20) + 70000].copy_from_slice(&noise(70000, 2));
    file("/sparse.bin", &sparse);
    file("/Windows/System32/config/SYSTEM", &noise(300_000, 4));

    // Reads at odd offsets and lengths, and at and past the end.
    let mut buf = vec![0u8; 7777];
    for off in [0u64, 1, 4095, 4096, 1 << 20, (5 << 20) - 100] {
        let n = fs.read_at(b"/large.bin", off, &mut buf).unwrap();
        let want = noise(5 << 20, 3);
        let end = (off as usize + 7777).min(want.len());
        assert_eq!(&buf[..n], &want[off as usize..end], "at {off}");
    }
    assert_eq!(fs.read_at(b"/large.bin", 5 << 20, &mut buf).unwrap(), 0);
    assert_eq!(fs.read_at(b"/large.bin", u64::MAX, &mut buf).unwrap(), 0);

    // Case-insensitive lookup, as Windows does.
    assert_eq!(
        fs.read_file(b"/windows/system32/CONFIG/system", u64::MAX)
            .unwrap(),
        noise(300_000, 4)
    );
    assert_eq!(
        fs.metadata(b"/HELLO.TXT").unwrap().inode,
        fs.metadata(b"/hello.txt").unwrap().inode
    );
    assert_eq!(
        fs.metadata("/ÜNÏCÖDÉ ÑAME.TXT".as_bytes()).unwrap().size,
        "unicode 1\n".len() as u64
    );

    // The big directory: every name once, each a file with its bytes.
    let big = fs.read_dir(b"/big").unwrap();
    assert_eq!(big.len(), BIG_DIR);
    let listed: BTreeSet<_> = big.iter().map(|e| e.name.clone()).collect();
    let want: BTreeSet<_> = (0..BIG_DIR)
        .map(|i| format!("entry-{i:05}.dat").into_bytes())
        .collect();
    assert_eq!(listed, want);
    assert!(big.iter().all(|e| e.kind == FileKind::File));
    for i in [0, 1, 999, 1500, BIG_DIR - 1] {
        let path = format!("/big/ENTRY-{i:05}.DAT");
        assert_eq!(
            fs.read_file(path.as_bytes(), 100).unwrap(),
            format!("{i}\n").as_bytes()
        );
    }

    // Directories, hard links, symbolic links.
    let d = fs.metadata(b"/deep").unwrap();
    assert_eq!((d.kind, d.mode), (FileKind::Dir, 0o755));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - d.mtime.secs).abs() < 3600, "mtime {:?}", d.mtime);
    let a = fs.metadata(b"/links/target.txt").unwrap();
    let b = fs.metadata(b"/links/hard.txt").unwrap();
    assert_eq!(a.inode, b.inode);
    assert_eq!((a.nlink, b.nlink), (2, 2));
    let links = fs.read_dir(b"/links").unwrap();
    let kinds: std::collections::BTreeMap<_, _> = links
        .iter()
        .map(|e| (String::from_utf8(e.name.clone()).unwrap(), e.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("dirlink".to_string(), FileKind::Symlink),
            ("hard.txt".to_string(), FileKind::File),
            ("junction".to_string(), FileKind::Symlink),
            ("rel".to_string(), FileKind::Symlink),
            ("target.txt".to_string(), FileKind::File),
            ("winlink".to_string(), FileKind::Symlink),
            ("wof".to_string(), FileKind::Other),
        ]
        .into_iter()
        .collect()
    );
    let rel = fs.metadata(b"/links/rel").unwrap();
    assert_eq!(rel.kind, FileKind::Symlink);
    assert_eq!(fs.read_link(b"/links/rel").unwrap(), b"target.txt");
    assert_eq!(rel.size, 10);
    // ntfs-3g's links are Interix ones, with the target as Linux wrote it.
    assert_eq!(fs.read_link(b"/links/dirlink").unwrap(), b"../deep");
    assert!(rel.note.unwrap().contains("Interix"));

    // Windows links give the target as Windows names it; other reparse
    // points are named, not read.
    assert_eq!(
        fs.read_link(b"/links/winlink").unwrap(),
        br"C:\Windows\System32"
    );
    assert_eq!(fs.read_link(b"/links/junction").unwrap(), br"C:\Users");
    assert!(matches!(
        fs.read_dir(b"/links/junction"),
        Err(FsError::WrongKind { .. })
    ));
    let wof = fs.metadata(b"/links/wof").unwrap();
    assert_eq!(wof.kind, FileKind::Other);
    assert!(wof.note.unwrap().contains("0x80000017"));
    assert!(fs.read_at(b"/links/wof", 0, &mut buf).is_err());

    // Errors.
    assert!(matches!(
        fs.metadata(b"/links/dirlink/level-00"),
        Err(FsError::SymlinkInPath { .. })
    ));
    assert!(matches!(
        fs.metadata(b"/nope"),
        Err(FsError::NotFound { .. })
    ));
    assert!(matches!(
        fs.metadata(b"/hello.txt/x"),
        Err(FsError::NotADirectory { .. })
    ));
    assert!(matches!(
        fs.read_dir(b"/hello.txt"),
        Err(FsError::NotADirectory { .. })
    ));
    assert!(matches!(
        fs.read_link(b"/hello.txt"),
        Err(FsError::WrongKind { .. })
    ));
    assert!(matches!(
        fs.read_at(b"/deep", 0, &mut buf),
        Err(FsError::WrongKind { .. })
    ));
    assert!(matches!(
        fs.metadata(b"/\xff"),
        Err(FsError::NotFound { .. })
    ));
}
