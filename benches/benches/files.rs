//! Whole-file operations on page-cached files: the scan behind `map` and
//! `bitmap`, and ZVHD2 writing, reading and verifying.
//!
//! The files live in the system's temporary folder and are read once before
//! measuring, so the figures are CPU and memory bound, not disk bound. The
//! ZVHD2 outputs are synced, as the library always does; on a slow disk
//! that shows in the write and convert-back figures.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use imsprep_benches::{write_dense, write_disk, BLOCK};
use imsprep_scan::{scan_file, ScanOptions};
use imsprep_zvhd2::{Control, VerifyOptions, WriteOptions};

/// Size of the scanned file.
const SCAN_LEN: usize = 256 << 20;
/// Blocks of the converted disk image (96 MiB).
const DISK_BLOCKS: usize = 48;

fn warm(path: &Path) {
    let _ = std::fs::read(path).expect("read into the page cache");
}

fn scan(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("dense.raw");
    write_dense(&path, SCAN_LEN).expect("write the image");
    warm(&path);
    let cancel = AtomicBool::new(false);
    let mut g = c.benchmark_group("scan_file");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Bytes(SCAN_LEN as u64));
    for (name, crc) in [("256MiB_with_crc", true), ("256MiB_map_only", false)] {
        let opts = ScanOptions {
            crc,
            ..ScanOptions::default()
        };
        g.bench_function(name, |b| {
            b.iter(|| scan_file(&path, &opts, &|_| {}, &cancel).expect("scan"))
        });
    }
    g.finish();
}

fn zvhd2(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let raw = dir.path().join("disk.raw");
    write_disk(&raw, DISK_BLOCKS).expect("write the image");
    warm(&raw);
    let len = (DISK_BLOCKS * BLOCK) as u64;
    let ctl = Control::default();
    let opts = WriteOptions {
        overwrite: true,
        ..WriteOptions::default()
    };
    let z = dir.path().join("disk.zvhd2");
    imsprep_zvhd2::convert_raw(&raw, &z, &opts, &ctl).expect("convert");
    warm(&z);

    let mut g = c.benchmark_group("zvhd2_96MiB_disk");
    g.sample_size(10).measurement_time(Duration::from_secs(6));
    g.throughput(Throughput::Bytes(len));
    let out = dir.path().join("out.zvhd2");
    g.bench_function("convert_raw", |b| {
        b.iter(|| imsprep_zvhd2::convert_raw(&raw, &out, &opts, &ctl).expect("convert"))
    });
    let back = dir.path().join("back.raw");
    g.bench_function("convert_to_raw", |b| {
        b.iter(|| imsprep_zvhd2::convert_to_raw(&z, &back, true, &ctl).expect("convert back"))
    });
    g.bench_function("verify", |b| {
        b.iter(|| {
            let r = imsprep_zvhd2::verify(&z, &VerifyOptions::default(), &ctl).expect("verify");
            assert!(r.is_ok());
            r
        })
    });
    g.finish();
}

criterion_group!(benches, scan, zvhd2);
criterion_main!(benches);
