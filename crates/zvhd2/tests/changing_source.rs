//! A RAW image that changes while it is converted gives an error and no
//! output: the ZVHD2 would otherwise hold blocks of two versions of it.

mod common;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use common::text_pattern;
use imsprep_zvhd2::{convert_raw, Control, Error, WriteOptions};

const BLOCK: usize = 2 << 20;
const BLOCKS: usize = 24;

/// Converts `raw`, running `change` on it once, at the first progress report.
fn convert_while(raw: &Path, out: &Path, change: impl Fn(&Path) + Sync) -> Result<(), Error> {
    let done = AtomicBool::new(false);
    let progress = |_: u64| {
        if !done.swap(true, Ordering::SeqCst) {
            change(raw);
        }
    };
    let cancel = AtomicBool::new(false);
    let control = Control {
        progress: &progress,
        cancel: &cancel,
    };
    convert_raw(raw, out, &WriteOptions::default(), &control).map(drop)
}

fn image(dir: &Path) -> std::path::PathBuf {
    let raw = dir.join("disk.raw");
    std::fs::write(&raw, text_pattern("changing", BLOCK * BLOCKS)).unwrap();
    raw
}

fn only_the_input_is_left(dir: &Path) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["disk.raw".to_string()]);
}

#[test]
fn a_source_that_grows_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = image(tmp.path());
    let out = tmp.path().join("disk.zvhd2");
    let err = convert_while(&raw, &out, |raw| {
        let mut f = OpenOptions::new().append(true).open(raw).unwrap();
        f.write_all(b"more").unwrap();
    })
    .unwrap_err();
    assert!(matches!(err, Error::SourceChanged { .. }), "{err}");
    assert!(err.to_string().contains("length went from"), "{err}");
    only_the_input_is_left(tmp.path());
}

#[test]
fn a_source_that_shrinks_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = image(tmp.path());
    let out = tmp.path().join("disk.zvhd2");
    let err = convert_while(&raw, &out, |raw| {
        let f = OpenOptions::new().write(true).open(raw).unwrap();
        f.set_len((BLOCK * 2) as u64).unwrap();
    })
    .unwrap_err();
    assert!(matches!(err, Error::SourceChanged { .. }), "{err}");
    only_the_input_is_left(tmp.path());
}
