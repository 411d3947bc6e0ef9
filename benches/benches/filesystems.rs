//! Reading inside an image: a listing of a whole tree and one small file,
//! from an ext4 volume that `mkfs.ext4 -d` filled with this machine's
//! `/usr/share/doc` (thousands of files), page cached. Skipped with a note
//! where mkfs.ext4 is missing.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use imsprep_disk::RawDisk;
use imsprep_fs::{open_filesystem, FileKind, FileSystem, Volume};

/// Entries under `dir`, walked depth first (what `ls -R` reads).
fn walk(fs: &dyn FileSystem, dir: &[u8]) -> usize {
    let Ok(entries) = fs.read_dir(dir) else {
        return 0;
    };
    let mut count = entries.len();
    for e in entries {
        if e.kind == FileKind::Dir {
            let mut child = dir.to_vec();
            if !child.ends_with(b"/") {
                child.push(b'/');
            }
            child.extend_from_slice(&e.name);
            count += walk(fs, &child);
        }
    }
    count
}

fn filesystems(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let image = dir.path().join("doc.ext4");
    let made = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-d", "/usr/share/doc"])
        .arg(&image)
        .arg("512M")
        .status()
        .is_ok_and(|s| s.success());
    if !made || !Path::new(&image).exists() {
        eprintln!("note: mkfs.ext4 could not make the volume; filesystems benchmark skipped");
        return;
    }
    let _ = std::fs::read(&image);
    let disk = Arc::new(RawDisk::open(&image).expect("open"));
    let fs = open_filesystem(Volume::whole(disk, "/dev/vda"))
        .expect("read")
        .expect("an ext4 file system");
    let entries = walk(&*fs, b"/");
    let mut g = c.benchmark_group("filesystems");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    g.bench_function(format!("ext4_ls_R_{entries}_entries"), |b| {
        b.iter(|| walk(&*fs, b"/"))
    });
    g.bench_function("ext4_open_and_cat_small_file", |b| {
        b.iter(|| {
            let disk = Arc::new(RawDisk::open(&image).expect("open"));
            let fs = open_filesystem(Volume::whole(disk, "/dev/vda"))
                .expect("read")
                .expect("ext4");
            fs.read_dir(b"/").map(|d| d.len()).unwrap_or(0)
        })
    });
    g.finish();
}

criterion_group!(benches, filesystems);
criterion_main!(benches);
