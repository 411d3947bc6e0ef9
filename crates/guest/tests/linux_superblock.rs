//! Free space and clean state from superblocks of file systems made by
//! mkfs.ext4, mkfs.xfs and mkfs.btrfs; the reference values come from
//! dumpe2fs, xfs_db and btrfs inspect-internal on the same image.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use imsprep_guest::linux::storage::superblock::{fs_usage, CleanState, SUPERBLOCK_AREA};

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn image(dir: &Path, size: u64) -> String {
    let p = dir.join("fs.img");
    fs::File::create(&p).unwrap().set_len(size).unwrap();
    p.to_string_lossy().into_owned()
}

fn head(path: &str) -> Vec<u8> {
    let mut buf = Vec::new();
    fs::File::open(path)
        .unwrap()
        .take(SUPERBLOCK_AREA as u64)
        .read_to_end(&mut buf)
        .unwrap();
    buf
}

/// `Key:   value` from tool output.
fn field(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| {
            v.trim_start_matches([':', ' ', '\t', '='])
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .unwrap_or_else(|| panic!("{key} not in output"))
}

#[test]
fn ext4_free_space_and_state() {
    let d = tempfile::tempdir().unwrap();
    let img = image(d.path(), 64 << 20);
    run("mkfs.ext4", &["-F", "-q", &img]);
    let dump = run("dumpe2fs", &["-h", &img]);
    let mut area = head(&img);
    let u = fs_usage(&area).unwrap();
    let block = field(&dump, "Block size");
    assert_eq!(u.fs_type, "ext4");
    assert_eq!(u.size, field(&dump, "Block count") * block);
    assert_eq!(u.free, field(&dump, "Free blocks") * block);
    assert_eq!(u.reserved, field(&dump, "Reserved block count") * block);
    assert_eq!(u.clean, CleanState::Clean);
    assert!(u
        .fields
        .iter()
        .any(|f| f.starts_with("s_free_blocks_count=")));

    // Patched as the kernel leaves it: state not clean, journal to replay.
    area[1024 + 0x3A] = 0;
    area[1024 + 0x60] |= 0x4;
    let CleanState::NotClean(flags) = fs_usage(&area).unwrap().clean else {
        panic!()
    };
    assert_eq!(flags, ["not cleanly unmounted", "journal needs recovery"]);
    area[1024 + 0x3A] = 0x3;
    assert!(
        matches!(fs_usage(&area).unwrap().clean, CleanState::NotClean(f) if f.contains(&"errors recorded".to_string()))
    );

    // Hostile: block-size exponent out of range; free above total.
    let mut bad = head(&img);
    bad[1024 + 0x18] = 40;
    assert!(fs_usage(&bad).is_none());
    let mut bad = head(&img);
    bad[1024 + 0x0C..1024 + 0x10].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(fs_usage(&bad).is_none());
}

#[test]
fn xfs_free_space() {
    let d = tempfile::tempdir().unwrap();
    let img = image(d.path(), 320 << 20);
    run("mkfs.xfs", &["-f", "-q", &img]);
    let db = run(
        "xfs_db",
        &[
            "-r",
            "-c",
            "sb 0",
            "-c",
            "p dblocks fdblocks blocksize",
            &img,
        ],
    );
    let u = fs_usage(&head(&img)).unwrap();
    let block = field(&db, "blocksize");
    assert_eq!(u.fs_type, "xfs");
    assert_eq!(u.size, field(&db, "dblocks") * block);
    assert_eq!(u.free, field(&db, "fdblocks") * block);
    assert!(matches!(u.clean, CleanState::Unknown(_)));
    let mut bad = head(&img);
    bad[4..8].copy_from_slice(&3u32.to_be_bytes());
    assert!(fs_usage(&bad).is_none());
}

#[test]
fn btrfs_free_space_and_tree_log() {
    let d = tempfile::tempdir().unwrap();
    let img = image(d.path(), 256 << 20);
    run("mkfs.btrfs", &["-f", "-q", &img]);
    let dump = run("btrfs", &["inspect-internal", "dump-super", &img]);
    let mut area = head(&img);
    let u = fs_usage(&area).unwrap();
    assert_eq!(u.fs_type, "btrfs");
    assert_eq!(u.size, field(&dump, "total_bytes"));
    assert_eq!(
        u.free,
        field(&dump, "total_bytes") - field(&dump, "bytes_used")
    );
    assert_eq!(u.clean, CleanState::Clean);
    area[65536 + 0x60] = 1;
    assert!(matches!(
        fs_usage(&area).unwrap().clean,
        CleanState::NotClean(_)
    ));
    area[65536 + 0x78..65536 + 0x80].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(fs_usage(&area).is_none(), "used above total");
}

#[test]
fn not_a_superblock() {
    assert!(fs_usage(&[]).is_none());
    assert!(fs_usage(&vec![0u8; SUPERBLOCK_AREA]).is_none());
    let mut short = vec![0u8; 1100];
    short[1024 + 0x38..1024 + 0x3A].copy_from_slice(&0xEF53u16.to_le_bytes());
    assert!(fs_usage(&short).is_none(), "magic but truncated");
    assert!(fs_usage(b"XFSB").is_none());
}
