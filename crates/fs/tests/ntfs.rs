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

/// Hard links of `/many/file`.
const MANY_LINKS: usize = 30;

fn many_name(i: usize) -> String {
    format!("link-{i:02}-{}", "x".repeat(180))
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
    // A directory marked for compression: ntfs-3g writes LZNT1 there.
    fs::create_dir(root.join("compressed")).unwrap();
    rustix::fs::setxattr(
        root.join("compressed").as_path(),
        "system.ntfs_attrib_be",
        &0x810u32.to_be_bytes(),
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    fs::write(root.join("compressed/text"), b"compress me ".repeat(20000)).unwrap();
    // So many long hard links that the names overflow the record: the
    // file gets an $ATTRIBUTE_LIST.
    fs::create_dir(root.join("many")).unwrap();
    fs::write(root.join("many/file"), noise(100_000, 5)).unwrap();
    for i in 0..MANY_LINKS {
        fs::hard_link(root.join("many/file"), root.join("many").join(many_name(i))).unwrap();
    }
    // A DOS 8.3 name beside a long one, and a read-only file.
    fs::write(root.join("links/Long File Name.text"), b"dos\n").unwrap();
    set_xattr(
        &root.join("links/Long File Name.text"),
        "system.ntfs_dos_name",
        b"LONGFI~1.TEX",
    );
    fs::write(root.join("links/readonly.txt"), b"ro\n").unwrap();
    set_xattr(
        &root.join("links/readonly.txt"),
        "system.ntfs_attrib_be",
        &0x21u32.to_be_bytes(),
    );
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

/// Sets one of ntfs-3g's NTFS attributes of `path`.
fn set_xattr(path: &Path, name: &str, data: &[u8]) {
    rustix::fs::setxattr(path, name, data, rustix::fs::XattrFlags::empty())
        .unwrap_or_else(|e| panic!("setxattr {name} on {path:?}: {e}"));
}

/// Makes `path` a reparse point through ntfs-3g.
fn set_reparse(path: &Path, data: &[u8]) {
    set_xattr(path, "system.ntfs_reparse_data", data);
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
        "compressed",
        "many",
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
            ("Long File Name.text".to_string(), FileKind::File),
            ("readonly.txt".to_string(), FileKind::File),
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

    // A file whose names fill an attribute list.
    let many = fs.metadata(b"/many/file").unwrap();
    assert_eq!(many.nlink, MANY_LINKS as u64 + 1);
    assert_eq!(fs.read_dir(b"/many").unwrap().len(), MANY_LINKS + 1);
    let last = format!("/many/{}", many_name(MANY_LINKS - 1));
    assert_eq!(fs.metadata(last.as_bytes()).unwrap().inode, many.inode);
    assert_eq!(
        fs.read_file(last.as_bytes(), u64::MAX).unwrap(),
        noise(100_000, 5)
    );

    // The DOS name resolves to the same file but is not listed; the
    // read-only attribute drops the write bits.
    assert_eq!(
        fs.metadata(b"/links/longfi~1.tex").unwrap().inode,
        fs.metadata(b"/links/Long File Name.text").unwrap().inode
    );
    assert_eq!(fs.metadata(b"/links/readonly.txt").unwrap().mode, 0o444);

    // LZNT1-compressed data is refused, naming the file; its size shows.
    assert_eq!(fs.metadata(b"/compressed/text").unwrap().size, 12 * 20000);
    match fs.read_at(b"/compressed/text", 0, &mut buf) {
        Err(e @ FsError::Unsupported { .. }) => {
            assert!(e.to_string().contains("LZNT1"), "{e}");
            assert!(e.to_string().contains("/compressed/text"), "{e}");
        }
        other => panic!("compressed data: {other:?}"),
    }

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

/// Where the pieces of an image lie, from its boot sector.
struct Layout {
    mft: u64,
    record_size: u64,
}

fn le16(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn layout(img: &Path) -> Layout {
    let f = fs::File::open(img).unwrap();
    let mut boot = [0u8; 512];
    f.read_exact_at(&mut boot, 0).unwrap();
    let cluster = le16(&boot, 11) as u64 * boot[13] as u64;
    let lcn = u64::from_le_bytes(boot[0x30..0x38].try_into().unwrap());
    let raw = boot[0x40] as i8;
    let record_size = if raw > 0 {
        raw as u64 * cluster
    } else {
        1 << -raw
    };
    Layout {
        mft: lcn * cluster,
        record_size,
    }
}

/// A multi-sector record (FILE or INDX) at `at` with its update sequence
/// applied: what the file system means, not what is stored.
fn read_record(img: &Path, at: u64, len: usize) -> Vec<u8> {
    let mut rec = vec![0u8; len];
    fs::File::open(img)
        .unwrap()
        .read_exact_at(&mut rec, at)
        .unwrap();
    let usa = le16(&rec, 4);
    for i in 0..len / 512 {
        let fix = [rec[usa + 2 + 2 * i], rec[usa + 3 + 2 * i]];
        rec[i * 512 + 510..i * 512 + 512].copy_from_slice(&fix);
    }
    rec
}

/// Writes `bytes` at offset `off` of the record at `at`, into its update
/// sequence array where they fall on a sector's last two bytes, so the
/// record stays valid.
fn patch_record(img: &Path, at: u64, off: usize, bytes: &[u8]) {
    let f = fs::OpenOptions::new()
        .write(true)
        .read(true)
        .open(img)
        .unwrap();
    let mut head = [0u8; 8];
    f.read_exact_at(&mut head, at).unwrap();
    let usa = le16(&head, 4);
    for (i, b) in bytes.iter().enumerate() {
        let o = off + i;
        let pos = if o % 512 >= 510 {
            usa + 2 + 2 * (o / 512) + (o % 512 - 510)
        } else {
            o
        };
        f.write_all_at(&[*b], at + pos as u64).unwrap();
    }
}

/// Offset in the record of the first attribute of type `ty`.
fn find_attribute(rec: &[u8], ty: u32) -> usize {
    let mut at = le16(rec, 0x14);
    while le32(rec, at) != 0xffff_ffff {
        if le32(rec, at) == ty {
            return at;
        }
        at += le32(rec, at + 4) as usize;
    }
    panic!("no attribute {ty:#x}");
}

/// Writes raw bytes at `at` of the image.
fn poke(img: &Path, at: u64, bytes: &[u8]) {
    fs::OpenOptions::new()
        .write(true)
        .open(img)
        .unwrap()
        .write_all_at(bytes, at)
        .unwrap();
}

#[test]
fn dirty_flag() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = copy(dir.path()) else { return };
    let l = layout(&img);
    let at = l.mft + 3 * l.record_size; // $Volume
    let rec = read_record(&img, at, l.record_size as usize);
    let attr = find_attribute(&rec, 0x70);
    let flags = attr + le16(&rec, attr + 0x14) + 0x0a;
    let value = le16(&rec, flags) as u16 | 1;
    patch_record(&img, at, flags, &value.to_le_bytes());
    let fs = open(&img).unwrap();
    assert_eq!(fs.info().state, vec![FsState::Dirty]);
    // ntfsfix -d clears the flag again: the field patched is the one the
    // real tools read.
    if common::have("ntfsfix") {
        run("ntfsfix", &["-d", img.to_str().unwrap()]);
        assert!(open(&img).unwrap().info().state.is_empty());
    }
}

#[test]
fn hibernation_file() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = copy(dir.path()) else { return };
    // A zeroed hiberfil.sys: Windows shut down fully.
    {
        let mnt = Mount::new(&img, &dir.path().join("mnt"));
        fs::write(mnt.dir.join("hiberfil.sys"), vec![0u8; 8192]).unwrap();
    }
    assert!(open(&img).unwrap().info().state.is_empty());
    // A hibernation image (ntfs-3g itself refuses to mount it after this).
    {
        let mnt = Mount::new(&img, &dir.path().join("mnt"));
        let mut data = b"HIBR".to_vec();
        data.resize(8192, 0);
        fs::write(mnt.dir.join("hiberfil.sys"), data).unwrap();
    }
    assert_eq!(open(&img).unwrap().info().state, vec![FsState::Hibernated]);
}

/// Asserts `result` is an error whose message holds `needle`.
fn assert_error<T: std::fmt::Debug>(result: Result<T, FsError>, needle: &str) {
    match result {
        Ok(v) => panic!("expected an error about {needle}; got {v:?}"),
        Err(e) => assert!(e.to_string().contains(needle), "{e} (expected {needle})"),
    }
}

#[test]
fn hostile_boot_sectors() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = copy(dir.path()) else { return };
    let pristine = fs::read(&img).unwrap();
    let cases: &[(usize, &[u8], &str)] = &[
        (0x0b, &[0, 0], "bytes per sector"),
        (0x0b, &[0, 0x20], "bytes per sector"),
        (0x0d, &[0], "sectors per cluster"),
        (0x0d, &[0xe0], "sectors per cluster"),
        (0x0d, &[3], "sectors per cluster"),
        (0x30, &[0, 0, 0, 0, 0, 0, 0, 0x10], "MFT cluster"),
        (0x30, &[0xff, 0xff, 0, 0, 0, 0, 0, 0], "MFT cluster"),
        (0x28, &[0xff; 8], "total sectors"),
        (0x40, &[0x7f], "file record"),
        (0x40, &[0xe0], "file record"),
        (0x44, &[0xe0], "index record"),
    ];
    for (at, bytes, needle) in cases {
        poke(&img, *at as u64, bytes);
        assert_error(open(&img).map(|_| ()), needle);
        poke(&img, *at as u64, &pristine[*at..*at + bytes.len()]);
    }
    // A huge cluster that is valid (2 MiB) puts the MFT where there is
    // none.
    poke(&img, 0x0d, &[0xf4]);
    poke(&img, 0x44, &[0xf4]);
    assert_error(open(&img).map(|_| ()), "MFT record");
}

#[test]
fn hostile_records() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = copy(dir.path()) else { return };
    let l = layout(&img);
    let fs = open(&img).unwrap();
    let hello = fs.metadata(b"/hello.txt").unwrap().inode;
    let large = fs.metadata(b"/large.bin").unwrap().inode;
    drop(fs);

    // A bad fixup in a file's record: that file (and its directory's
    // listing, which reads each record) fails; the rest reads.
    let at = l.mft + hello * l.record_size;
    let mut tail = [0u8; 2];
    fs::File::open(&img)
        .unwrap()
        .read_exact_at(&mut tail, at + 510)
        .unwrap();
    poke(&img, at + 510, &[tail[0] ^ 0xff, tail[1]]);
    let fs = open(&img).unwrap();
    assert_error(fs.metadata(b"/hello.txt"), &format!("MFT record {hello}"));
    assert!(fs.read_dir(b"/").is_err());
    assert_eq!(fs.read_dir(b"/big").unwrap().len(), BIG_DIR);
    drop(fs);
    poke(&img, at + 510, &tail);

    // The same in the root directory's record: nothing can be looked up.
    let root = l.mft + 5 * l.record_size;
    fs::File::open(&img)
        .unwrap()
        .read_exact_at(&mut tail, root + 510)
        .unwrap();
    poke(&img, root + 510, &[tail[0] ^ 0xff, tail[1]]);
    assert_error(open(&img).map(|_| ()), "MFT record 5");
    poke(&img, root + 510, &tail);

    // A data run that points past the volume.
    let at = l.mft + large * l.record_size;
    let rec = read_record(&img, at, l.record_size as usize);
    let attr = find_attribute(&rec, 0x80);
    assert_eq!(rec[attr + 8], 1, "large.bin's data is non-resident");
    let runs = attr + le16(&rec, attr + 0x20);
    let header = rec[runs];
    let (len_size, off_size) = ((header & 0xf) as usize, (header >> 4) as usize);
    let mut offset = vec![0xffu8; off_size];
    *offset.last_mut().unwrap() = 0x3f; // positive, far past the end
    patch_record(&img, at, runs + 1 + len_size, &offset);
    let fs = open(&img).unwrap();
    assert_eq!(fs.metadata(b"/large.bin").unwrap().size, 5 << 20);
    let mut buf = vec![0u8; 65536];
    assert!(fs.read_at(b"/large.bin", 0, &mut buf).is_err());
    assert_eq!(fs.read_file(b"/hello.txt", 100).unwrap(), b"hello, world\n");
}

/// The 4 KiB-aligned index records (INDX) of the image.
fn index_records(img: &Path) -> Vec<u64> {
    let data = fs::read(img).unwrap();
    (0..data.len() / 4096)
        .map(|i| i * 4096)
        .filter(|&at| &data[at..at + 4] == b"INDX")
        .map(|at| at as u64)
        .collect()
}

#[test]
fn index_loop() {
    let dir = tempfile::tempdir().unwrap();
    let Some(img) = copy(dir.path()) else { return };
    // An index node with subnodes whose every subnode pointer points at
    // itself.
    let mut patched = 0;
    for at in index_records(&img) {
        let rec = read_record(&img, at, 4096);
        let header = 0x18;
        if rec[header + 0x0c] & 1 == 0 {
            continue;
        }
        let vcn = rec[0x10..0x18].to_vec();
        let mut entry = header + le32(&rec, header) as usize;
        let end = header + le32(&rec, header + 4) as usize;
        while entry < end {
            let len = le16(&rec, entry + 8);
            if rec[entry + 12] & 1 != 0 {
                patch_record(&img, at, entry + len - 8, &vcn);
                patched += 1;
            }
            if rec[entry + 12] & 2 != 0 || len == 0 {
                break;
            }
            entry += len;
        }
    }
    assert!(patched > 0, "the big directory has a two-level index");
    let fs = open(&img).unwrap();
    let start = std::time::Instant::now();
    assert_error(fs.read_dir(b"/big"), "loop in the index");
    // A lookup that descends stops too (found or not, never a hang).
    for i in [0, 1000, BIG_DIR - 1] {
        let _ = fs.metadata(format!("/big/entry-{i:05}.dat").as_bytes());
    }
    assert!(start.elapsed().as_secs() < 20);
}

/// Reads everything reachable from `path`, ignoring errors: what is
/// checked is that nothing panics or hangs. `budget` bounds the objects
/// visited.
fn read_everything(fs: &dyn FileSystem, path: &[u8], depth: usize, budget: &mut usize) {
    let Ok(entries) = fs.read_dir(path) else {
        return;
    };
    for entry in entries.into_iter().take(64) {
        if *budget == 0 || depth > 40 {
            return;
        }
        *budget -= 1;
        let mut child = path.to_vec();
        if child.last() != Some(&b'/') {
            child.push(b'/');
        }
        child.extend_from_slice(&entry.name);
        let Ok(m) = fs.metadata(&child) else {
            continue;
        };
        match m.kind {
            FileKind::Dir => read_everything(fs, &child, depth + 1, budget),
            FileKind::Symlink => {
                let _ = fs.read_link(&child);
            }
            _ => {
                let _ = fs.read_file(&child, 16 << 20);
            }
        }
    }
}

/// Puts the pristine bytes back when a damage case ends, even when it
/// fails, so the next case (or the shrinker) starts clean.
struct Restore<'a> {
    img: &'a Path,
    pristine: &'a [u8],
    touched: Vec<u64>,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        for &at in &self.touched {
            poke(self.img, at, &[self.pristine[at as usize]]);
        }
    }
}

/// The image and its metadata regions, made once for the damage test.
struct Damage {
    _dir: tempfile::TempDir,
    img: PathBuf,
    pristine: Vec<u8>,
    regions: Vec<(u64, u64)>,
}

fn damage_setup() -> Option<&'static Damage> {
    static SETUP: OnceLock<Option<Damage>> = OnceLock::new();
    SETUP
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let img = copy(dir.path())?;
            let l = layout(&img);
            let mut regions = vec![(0, 512), (l.mft, 128 * l.record_size)];
            // The records of the files made after the big directory (the
            // attribute-list file and its extension records among them).
            let fs = open(&img).unwrap();
            for (path, records) in [
                (&b"/many/file"[..], 20),
                (b"/links/target.txt", 12),
                (b"/Windows/System32/config/SYSTEM", 1),
                (b"/compressed/text", 1),
            ] {
                let inode = fs.metadata(path).unwrap().inode;
                regions.push((l.mft + inode * l.record_size, records * l.record_size));
            }
            drop(fs);
            regions.extend(index_records(&img).into_iter().map(|at| (at, 4096)));
            let pristine = fs::read(&img).unwrap();
            Some(Damage {
                _dir: dir,
                img,
                pristine,
                regions,
            })
        })
        .as_ref()
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        // NTFS_DAMAGE_CASES=5000 for a longer run.
        cases: std::env::var("NTFS_DAMAGE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        failure_persistence: None,
        ..Default::default()
    })]

    /// Bytes flipped in the boot sector, the first MFT records (the
    /// metadata files, the root and the first files) and the index
    /// records: opening and reading everything gives errors, never a
    /// panic or a hang.
    #[test]
    fn damaged_metadata(flips in proptest::collection::vec((0usize..1000, 0u64..u64::MAX, 1u8..=255), 1..8)) {
        let Some(d) = damage_setup() else { return Ok(()) };
        let mut restore = Restore { img: &d.img, pristine: &d.pristine, touched: Vec::new() };
        for (region, pos, xor) in flips {
            let (start, len) = d.regions[region % d.regions.len()];
            let at = start + pos % len;
            poke(&d.img, at, &[d.pristine[at as usize] ^ xor]);
            restore.touched.push(at);
        }
        let start = std::time::Instant::now();
        if let Ok(fs) = open(&d.img) {
            let mut budget = 400;
            read_everything(&fs, b"/", 0, &mut budget);
        }
        proptest::prop_assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
    }
}

#[test]
fn parallel_reads() {
    let Some(img) = pristine() else { return };
    let fs = std::sync::Arc::new(open(img).unwrap());
    let want = noise(5 << 20, 3);
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let fs = fs.clone();
            let want = &want;
            s.spawn(move || {
                let mut buf = vec![0u8; 100_000];
                for i in 0..20u64 {
                    let off = (t * 1_000_003 + i * 250_007) % (5 << 20);
                    let n = fs.read_at(b"/large.bin", off, &mut buf).unwrap();
                    assert_eq!(&buf[..n], &want[off as usize..off as usize + n]);
                }
                assert_eq!(fs.read_dir(b"/big").unwrap().len(), BIG_DIR);
            });
        }
    });
}
