//! The XFS reader against file systems made by mkfs.xfs and filled
//! through a loop mount: v5 (the default), v4 without file types, and
//! 8 KiB directory blocks; then superblocks and inodes patched to be
//! hostile.

mod fstree;

use std::fs;
use std::path::{Path, PathBuf};

use imsprep_fs::xfs::Xfs;
use imsprep_fs::{FileSystem, FsError, FsState};

/// Makes an XFS image with `mkfs_args`, filled from a fresh source tree.
/// Returns the image and the source.
fn make(dir: &Path, mkfs_args: &[&str]) -> (PathBuf, PathBuf) {
    let src = dir.join("src");
    fstree::make_source(&src);
    let img = fstree::image(dir, "xfs.img", 320);
    let mut args = vec!["-q", "-f"];
    args.extend_from_slice(mkfs_args);
    args.push(img.to_str().unwrap());
    fstree::run("mkfs.xfs", &args);
    {
        let mnt = fstree::Mount::new(&img, &dir.join("mnt"), "");
        fstree::fill(&src, &mnt.dir);
    }
    (img, src)
}

fn check_variant(mkfs_args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (img, src) = make(dir.path(), mkfs_args);
    let fs = Xfs::open(fstree::volume(&img)).unwrap();
    let info = fs.info();
    assert_eq!(info.block_size, 4096);
    assert!(
        info.state.is_empty(),
        "a cleanly unmounted log: {:?}",
        info.state
    );
    let count = fstree::compare(&fs, "", &src);
    assert!(count > 5000, "compared {count} objects");
    fstree::assert_hard_links(&fs, "");
    // The same reader through the crate's entry point.
    let opened = imsprep_fs::open_filesystem(fstree::volume(&img))
        .unwrap()
        .unwrap();
    assert_eq!(opened.info().kind, imsprep_fs::FsKind::Xfs);
    assert!(matches!(
        fs.metadata(b"/nope"),
        Err(FsError::NotFound { .. })
    ));
    assert!(matches!(
        fs.metadata(b"/sym-short/x"),
        Err(FsError::SymlinkInPath { .. })
    ));
    assert!(matches!(
        fs.read_dir(b"/hello.txt"),
        Err(FsError::NotADirectory { .. })
    ));
}

#[test]
fn v5_default() {
    check_variant(&[]);
}

/// The protofile line(s) for the tree at `src`, depth first.
fn proto(src: &Path, out: &mut String) {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut names: Vec<_> = fs::read_dir(src).unwrap().map(|e| e.unwrap()).collect();
    names.sort_by_key(|e| e.file_name());
    for e in names {
        let m = fs::symlink_metadata(e.path()).unwrap();
        let name = e.file_name().into_string().unwrap();
        let t = m.file_type();
        let kind = if t.is_dir() {
            'd'
        } else if t.is_symlink() {
            'l'
        } else if t.is_fifo() {
            'p'
        } else {
            '-'
        };
        let suid = if m.mode() & 0o4000 != 0 { 'u' } else { '-' };
        let sgid = if m.mode() & 0o2000 != 0 { 'g' } else { '-' };
        let head = format!(
            "{name} {kind}{suid}{sgid}{:03o} {} {}",
            m.mode() & 0o777,
            m.uid(),
            m.gid()
        );
        if t.is_dir() {
            out.push_str(&format!("{head}\n"));
            proto(&e.path(), out);
            out.push_str("$\n");
        } else if t.is_symlink() {
            let target = fs::read_link(e.path()).unwrap();
            out.push_str(&format!("{head} {}\n", target.display()));
        } else if t.is_fifo() {
            out.push_str(&format!("{head}\n"));
        } else {
            out.push_str(&format!("{head} {}\n", e.path().display()));
        }
    }
}

/// v4 cannot be mounted by current kernels, so mkfs.xfs builds it from a
/// prototype file (no hard links there: the source drops its second
/// name; times are mkfs's own, so they are not compared).
#[test]
fn v4_without_file_types_from_a_protofile() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fstree::make_source(&src);
    fs::remove_file(src.join("hardlink")).unwrap();
    let mut text = String::from("/dev/null\n0 0\nd--755 0 0\n");
    proto(&src, &mut text);
    text.push_str("$\n");
    let proto_file = dir.path().join("proto");
    fs::write(&proto_file, text).unwrap();
    let img = fstree::image(dir.path(), "v4.img", 320);
    fstree::run(
        "mkfs.xfs",
        &[
            "-q",
            "-f",
            "-m",
            "crc=0",
            "-n",
            "ftype=0",
            "-i",
            "size=256",
            "-p",
            proto_file.to_str().unwrap(),
            img.to_str().unwrap(),
        ],
    );
    let fs = Xfs::open(fstree::volume(&img)).unwrap();
    fstree::set_check_times(false);
    let count = fstree::compare(&fs, "", &src);
    assert!(count > 5000, "compared {count} objects");
}

#[test]
fn v5_with_8k_directory_blocks() {
    check_variant(&["-n", "size=8192"]);
}

/// A small v5 image with a few files, for the hostile cases.
fn small(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    fs::create_dir_all(src.join("d")).unwrap();
    fs::write(src.join("d/f"), fstree::pattern(100_000, 3)).unwrap();
    let img = fstree::image(dir, "small.img", 320);
    fstree::run("mkfs.xfs", &["-q", "-f", img.to_str().unwrap()]);
    {
        let mnt = fstree::Mount::new(&img, &dir.join("mnt"), "");
        fstree::run(
            "cp",
            &[
                "-a",
                &format!("{}/.", src.display()),
                mnt.dir.to_str().unwrap(),
            ],
        );
    }
    img
}

fn be32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(buf[at..at + 4].try_into().unwrap())
}

/// Rewrites the superblock with `patch` applied and its CRC recomputed.
fn patch_superblock(img: &Path, patch: impl Fn(&mut [u8])) {
    let mut data = fs::read(img).unwrap();
    let sector = u16::from_be_bytes([data[102], data[103]]) as usize;
    patch(&mut data[..sector]);
    fix_crc(&mut data[..sector], 224);
    fs::write(img, data).unwrap();
}

fn fix_crc(block: &mut [u8], at: usize) {
    block[at..at + 4].fill(0);
    let crc = crc32c::crc32c(block);
    block[at..at + 4].copy_from_slice(&crc.to_le_bytes());
}

fn open_err(img: &Path) -> String {
    match Xfs::open(fstree::volume(img)) {
        Ok(fs) => match fs.read_file(b"/d/f", u64::MAX) {
            Ok(_) => panic!("a hostile image read without error"),
            Err(e) => e.to_string(),
        },
        Err(e) => e.to_string(),
    }
}

#[test]
fn hostile_superblocks_are_refused_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let img = small(dir.path());
    let pristine = fs::read(&img).unwrap();
    type Patch = Box<dyn Fn(&mut [u8])>;
    let cases: Vec<(&str, Patch)> = vec![
        (
            "sb_blocksize",
            Box::new(|sb| sb[4..8].copy_from_slice(&0u32.to_be_bytes())),
        ),
        (
            "sb_blocksize",
            Box::new(|sb| sb[4..8].copy_from_slice(&(1u32 << 31).to_be_bytes())),
        ),
        (
            "sb_agcount",
            Box::new(|sb| sb[88..92].copy_from_slice(&u32::MAX.to_be_bytes())),
        ),
        (
            "sb_dblocks",
            Box::new(|sb| sb[8..16].copy_from_slice(&(1u64 << 40).to_be_bytes())),
        ),
        (
            "sb_agblocks",
            Box::new(|sb| sb[84..88].copy_from_slice(&1u32.to_be_bytes())),
        ),
        ("sb_inopblog", Box::new(|sb| sb[123] = 9)),
        ("sb_magicnum", Box::new(|sb| sb[0] = b'Y')),
        (
            "inode number",
            Box::new(|sb| sb[56..64].copy_from_slice(&u64::MAX.to_be_bytes())),
        ),
    ];
    for (field, patch) in cases {
        fs::write(&img, &pristine).unwrap();
        patch_superblock(&img, patch);
        let err = open_err(&img);
        assert!(err.contains(field), "{field}: {err}");
    }
    // A flipped byte without a new CRC.
    let mut data = pristine.clone();
    data[130] ^= 1;
    fs::write(&img, data).unwrap();
    assert!(open_err(&img).contains("sb_crc"));
}

/// Finds the inode of `d/f` and the bytes of its core on the image.
fn inode_of_f(img: &Path) -> usize {
    let fs = Xfs::open(fstree::volume(img)).unwrap();
    let ino = fs.metadata(b"/d/f").unwrap().inode;
    let data = fs::read(img).unwrap();
    let block_log = data[120] as u32;
    let inopb_log = data[123] as u32;
    let agblk_log = data[124] as u32;
    let ag_blocks = be32_at(&data, 84) as u64;
    let inode_log = data[122] as u32;
    let ag = ino >> (agblk_log + inopb_log);
    let block = (ino >> inopb_log) & ((1 << agblk_log) - 1);
    let index = ino & ((1 << inopb_log) - 1);
    (((ag * ag_blocks + block) << block_log) + (index << inode_log)) as usize
}

#[test]
fn hostile_inodes_are_refused_by_structure() {
    let dir = tempfile::tempdir().unwrap();
    let img = small(dir.path());
    let at = inode_of_f(&img);
    let pristine = fs::read(&img).unwrap();
    let inode_size = u16::from_be_bytes([pristine[104], pristine[105]]) as usize;
    let patch_inode = |patch: &dyn Fn(&mut [u8])| {
        let mut data = pristine.clone();
        patch(&mut data[at..at + inode_size]);
        fix_crc(&mut data[at..at + inode_size], 100);
        fs::write(&img, data).unwrap();
    };
    // An extent past the device.
    patch_inode(&|inode| {
        let rec = &mut inode[176..192];
        let l1 = u64::from_be_bytes(rec[8..16].try_into().unwrap());
        let l1 = (l1 & ((1 << 21) - 1)) | (0x7ff_ffff << 21);
        rec[8..16].copy_from_slice(&l1.to_be_bytes());
        rec[7] |= 0xff;
    });
    let err = open_err(&img);
    assert!(err.contains("data fork extent"), "{err}");
    // An extent count larger than the fork.
    patch_inode(&|inode| inode[76..80].copy_from_slice(&1_000_000u32.to_be_bytes()));
    let err = open_err(&img);
    assert!(err.contains("data fork"), "{err}");
    // A B+tree root whose child is the inode's own block, at a level the
    // child does not have.
    patch_inode(&|inode| {
        inode[5] = 3;
        inode[176..180].copy_from_slice(&[0, 5, 0, 1]);
    });
    let err = open_err(&img);
    assert!(err.contains("B+tree"), "{err}");
    // Bad magic and a bad CRC.
    patch_inode(&|inode| inode[0] = b'X');
    assert!(open_err(&img).contains("di_magic"));
    let mut data = pristine.clone();
    data[at + 60] ^= 0x40;
    fs::write(&img, data).unwrap();
    assert!(open_err(&img).contains("di_crc"));
}

#[test]
fn a_dirty_log_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let img = small(dir.path());
    // A forced shutdown after a synced write leaves the log without an
    // unmount record.
    let copy = dir.path().join("dirty.img");
    {
        let clean = Xfs::open(fstree::volume(&img)).unwrap();
        assert!(clean.info().state.is_empty(), "{:?}", clean.info().state);
        let mnt = fstree::Mount::new(&img, &dir.path().join("mnt2"), "");
        fs::write(mnt.dir.join("new"), b"x").unwrap();
        fstree::run("sync", &[]);
        fstree::run(
            "xfs_io",
            &["-x", "-c", "shutdown -f", mnt.dir.to_str().unwrap()],
        );
        fs::copy(&img, &copy).unwrap();
    }
    let fs = Xfs::open(fstree::volume(&copy)).unwrap();
    assert!(
        fs.info().state.contains(&FsState::NeedsRecovery),
        "{:?}",
        fs.info().state
    );
}
