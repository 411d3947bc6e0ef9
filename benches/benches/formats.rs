//! Reading the virtual disk of each image format through the disk model:
//! the whole disk as RAW (what `convert X OUT.raw` does) and straight to a
//! ZVHD2 stream (what `convert X OUT.zvhd2` and `prepare` do), from
//! page-cached files that `qemu-img` made from the same 96 MiB disk.
//!
//! Formats `qemu-img` cannot make here are skipped with a note.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use imsprep_benches::{write_disk, BLOCK};
use imsprep_disk::{open_as, Kind, OpenOptions};
use imsprep_zvhd2::{disk_to_raw_stream, write_stream, Control, DiskSource, WriteOptions};

/// Blocks of the disk every format is made from (96 MiB).
const DISK_BLOCKS: usize = 48;

/// `qemu-img convert` arguments and the backend of each variant.
const VARIANTS: [(&str, &[&str], Kind); 7] = [
    ("qcow2", &["-O", "qcow2"], Kind::Qcow2),
    ("qcow2_zlib", &["-c", "-O", "qcow2"], Kind::Qcow2),
    (
        "qcow2_zstd",
        &["-c", "-O", "qcow2", "-o", "compression_type=zstd"],
        Kind::Qcow2,
    ),
    (
        "vmdk_stream",
        &["-O", "vmdk", "-o", "subformat=streamOptimized"],
        Kind::Vmdk,
    ),
    (
        "vhd_dynamic",
        &["-O", "vpc", "-o", "subformat=dynamic,force_size=on"],
        Kind::Vhd,
    ),
    ("vhdx_dynamic", &["-O", "vhdx"], Kind::Vhdx),
    ("vdi_dynamic", &["-O", "vdi"], Kind::Vdi),
];

fn make(raw: &Path, dir: &Path, name: &str, args: &[&str]) -> Option<PathBuf> {
    let out = dir.join(name);
    let status = Command::new("qemu-img")
        .args(["convert", "-f", "raw"])
        .args(args)
        .arg(raw)
        .arg(&out)
        .status()
        .ok()?;
    if !status.success() {
        eprintln!("note: qemu-img could not make {name}; skipped");
        return None;
    }
    let _ = std::fs::read(&out);
    Some(out)
}

fn formats(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let raw = dir.path().join("disk.raw");
    write_disk(&raw, DISK_BLOCKS).expect("write the image");
    let len = (DISK_BLOCKS * BLOCK) as u64;
    let ctl = Control::default();
    let mut g = c.benchmark_group("formats");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Bytes(len));
    for (name, args, kind) in VARIANTS {
        let Some(image) = make(&raw, dir.path(), name, args) else {
            continue;
        };
        let disk = open_as(&image, kind, &OpenOptions::default()).expect("open");
        g.bench_function(format!("{name}_to_raw"), |b| {
            b.iter(|| {
                disk_to_raw_stream(&*disk, len, &mut std::io::sink(), "sink", &ctl).expect("read")
            })
        });
        let opts = WriteOptions::default();
        g.bench_function(format!("{name}_to_zvhd2"), |b| {
            b.iter(|| {
                write_stream(
                    &DiskSource::new(&*disk),
                    &mut std::io::sink(),
                    "sink",
                    &opts,
                    &ctl,
                )
                .expect("convert")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, formats);
criterion_main!(benches);
