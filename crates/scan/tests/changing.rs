//! A file that changes during a scan is reported, not mapped wrongly;
//! cancellation and a writer's exclusive lock stop a scan cleanly.
//!
//! Growth, rewrites and replacement are exercised here; a file shrunk under
//! the scan (a short read) is covered by a unit test in `src/scan.rs`.

mod common;

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use common::{build, open_append, Op};
use imsprep_scan::{scan_file, scan_open, Change, ScanError, ScanOptions};
use rustix::fs::{flock, FlockOperation};

const MIB: u64 = 1 << 20;

fn options() -> ScanOptions {
    ScanOptions {
        granularity: 64 << 10,
        crc: true,
        window: MIB,
    }
}

fn data_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("image.raw");
    build(
        &path,
        8 * MIB,
        4096,
        &[Op::Data {
            start: 0,
            len: 8 * MIB,
            byte: 3,
        }],
    );
    path
}

#[test]
fn growth_during_the_scan_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = data_file(dir.path());
    let writer = Mutex::new(Some(open_append(&path)));
    let progress = |done: u64| {
        if done >= 2 * MIB {
            if let Some(mut file) = writer.lock().unwrap().take() {
                file.write_all(b"more").unwrap();
            }
        }
    };
    let err = scan_file(&path, &options(), &progress, &AtomicBool::new(false)).unwrap_err();
    let ScanError::Changed { change, .. } = &err else {
        panic!("expected Changed, got {err}");
    };
    assert_eq!(
        *change,
        Change::Size {
            before: 8 * MIB,
            after: 8 * MIB + 4
        }
    );
    assert!(err.to_string().contains("changed during the scan"), "{err}");
    assert!(writer.lock().unwrap().is_none(), "the callback never ran");
}

#[test]
fn rewrite_of_the_same_size_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = data_file(dir.path());
    let writer = File::options().write(true).open(&path).unwrap();
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    let done_once = AtomicBool::new(false);
    let progress = |done: u64| {
        if done >= 2 * MIB && !done_once.swap(true, Ordering::SeqCst) {
            // Make sure the clock moves past the file's time before writing,
            // so the modification time visibly changes.
            while std::time::SystemTime::now() <= before + std::time::Duration::from_millis(20) {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            writer.write_all_at(&[0], 5 * MIB).unwrap();
        }
    };
    let err = scan_file(&path, &options(), &progress, &AtomicBool::new(false)).unwrap_err();
    assert!(
        matches!(
            err,
            ScanError::Changed {
                change: Change::Modified { .. },
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn replaced_path_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = data_file(dir.path());
    let other = dir.path().join("other.raw");
    build(&other, 8 * MIB, 4096, &[]);
    let done_once = AtomicBool::new(false);
    let progress = |_: u64| {
        if !done_once.swap(true, Ordering::SeqCst) {
            std::fs::rename(&other, &path).unwrap();
        }
    };
    let err = scan_file(&path, &options(), &progress, &AtomicBool::new(false)).unwrap_err();
    assert!(
        matches!(
            err,
            ScanError::Changed {
                change: Change::Replaced,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn cancellation_stops_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let path = data_file(dir.path());
    let cancel = AtomicBool::new(false);
    let calls = Mutex::new(0);
    let progress = |_: u64| {
        *calls.lock().unwrap() += 1;
        cancel.store(true, Ordering::SeqCst);
    };
    let err = scan_file(&path, &options(), &progress, &cancel).unwrap_err();
    assert!(matches!(err, ScanError::Cancelled), "{err}");
    assert_eq!(*calls.lock().unwrap(), 1);
}

#[test]
fn exclusive_lock_of_a_writer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = data_file(dir.path());
    let writer = File::options().write(true).open(&path).unwrap();
    flock(&writer, FlockOperation::LockExclusive).unwrap();
    let err = scan_file(&path, &options(), &|_| {}, &AtomicBool::new(false)).unwrap_err();
    assert!(matches!(err, ScanError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("lock"), "{err}");
    flock(&writer, FlockOperation::Unlock).unwrap();

    // The scan's own shared lock is released afterwards.
    let file = File::open(&path).unwrap();
    scan_open(&file, &path, &options(), &|_| {}, &AtomicBool::new(false)).unwrap();
    flock(&writer, FlockOperation::NonBlockingLockExclusive).unwrap();
}

#[test]
fn bad_granularity_and_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = ScanOptions {
        granularity: 3000,
        ..ScanOptions::default()
    };
    let err = scan_file(
        &dir.path().join("x"),
        &bad,
        &|_| {},
        &AtomicBool::new(false),
    )
    .unwrap_err();
    assert!(matches!(err, ScanError::Granularity(_)), "{err}");
    let err = scan_file(
        &dir.path().join("x"),
        &options(),
        &|_| {},
        &AtomicBool::new(false),
    )
    .unwrap_err();
    assert!(matches!(err, ScanError::Io { .. }), "{err}");
    assert!(err.to_string().contains("open"), "{err}");
    let err = scan_file(dir.path(), &options(), &|_| {}, &AtomicBool::new(false)).unwrap_err();
    assert!(matches!(err, ScanError::NotAFile { .. }), "{err}");
}
