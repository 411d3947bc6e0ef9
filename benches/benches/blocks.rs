//! Per-block costs: the zero test, CRC-32, zstd, and parsing the small
//! structures every command reads first (ZVHD2 footer, bitmap file).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use imsprep_benches::{random_bytes, text_bytes, write_disk, BLOCK};
use imsprep_zvhd2::{Control, Footer, WriteOptions, PAGE};

fn zero_test(c: &mut Criterion) {
    let mut g = c.benchmark_group("is_zero");
    g.throughput(Throughput::Bytes(BLOCK as u64));
    let zeros = vec![0u8; BLOCK];
    g.bench_function("2MiB_zero", |b| {
        b.iter(|| imsprep_scan::is_zero(black_box(&zeros)))
    });
    // Past the sampled head, middle and tail bytes, so the loop must find it.
    let mut early = vec![0u8; BLOCK];
    early[4096] = 1;
    g.bench_function("2MiB_data_at_4KiB", |b| {
        b.iter(|| imsprep_scan::is_zero(black_box(&early)))
    });
    // The scan reads 256 KiB at a time into a buffer that stays in L2.
    g.throughput(Throughput::Bytes(256 << 10));
    g.bench_function("256KiB_zero_scan_buffer", |b| {
        b.iter(|| imsprep_scan::is_zero(black_box(&zeros[..256 << 10])))
    });
    g.throughput(Throughput::Bytes(BLOCK as u64));
    let text = text_bytes(BLOCK, 1);
    g.bench_function("2MiB_text", |b| {
        b.iter(|| imsprep_scan::is_zero(black_box(&text)))
    });
    // Larger than every cache: the speed the scan sees on a page-cached
    // image, bound by memory bandwidth rather than by the loop.
    // Written, so the pages are real memory and not the kernel's zero page.
    let mut big = vec![1u8; 512 << 20];
    big.fill(0);
    let big = black_box(big);
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.sample_size(10);
    g.bench_function("512MiB_zero_from_memory", |b| {
        b.iter(|| imsprep_scan::is_zero(black_box(&big)))
    });
    g.bench_function("512MiB_memcpy_reference", |b| {
        let mut dst = vec![0u8; 1 << 20];
        b.iter(|| {
            for chunk in big.chunks(dst.len()) {
                dst.copy_from_slice(black_box(chunk));
            }
            black_box(&dst);
        })
    });
    g.finish();
}

fn crc(c: &mut Criterion) {
    let mut g = c.benchmark_group("crc32");
    g.throughput(Throughput::Bytes(BLOCK as u64));
    let data = random_bytes(BLOCK, 9);
    g.bench_function("crc32fast_2MiB", |b| {
        b.iter(|| crc32fast::hash(black_box(&data)))
    });
    g.bench_function("zero_run_1TiB", |b| {
        b.iter(|| imsprep_scan::crc::zeros(black_box(1 << 40)).finalize())
    });
    g.finish();
}

fn zstd_block(c: &mut Criterion) {
    let mut g = c.benchmark_group("zstd_level3");
    g.throughput(Throughput::Bytes(BLOCK as u64));
    let mut ctx = zstd::bulk::Compressor::new(3).expect("zstd context");
    let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(BLOCK));
    for (name, data) in [
        ("2MiB_text", text_bytes(BLOCK, 1)),
        ("2MiB_random", random_bytes(BLOCK, 2)),
    ] {
        g.bench_function(format!("compress_{name}"), |b| {
            b.iter(|| {
                out.clear();
                ctx.compress_to_buffer(black_box(&data), &mut out)
                    .expect("compress")
            })
        });
        out.clear();
        ctx.compress_to_buffer(&data, &mut out).expect("compress");
        let frame = out.clone();
        let mut d = zstd::bulk::Decompressor::new().expect("zstd context");
        let mut back = vec![0u8; BLOCK];
        g.bench_function(format!("decompress_{name}"), |b| {
            b.iter(|| {
                d.decompress_to_buffer(black_box(&frame), &mut back)
                    .expect("decompress")
            })
        });
    }
    g.finish();
}

fn parsing(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    // A 32-block image gives a real tail footer to parse.
    let raw = dir.path().join("small.raw");
    write_disk(&raw, 32).expect("write the image");
    let out = dir.path().join("small.zvhd2");
    let summary =
        imsprep_zvhd2::convert_raw(&raw, &out, &WriteOptions::default(), &Control::default())
            .expect("convert");
    let bytes = std::fs::read(&out).expect("read the ZVHD2");
    let at = summary.file_len - PAGE;
    let tail = bytes[at as usize..].to_vec();
    let mut g = c.benchmark_group("parse");
    g.bench_function("footer_parse_check_fields", |b| {
        b.iter(|| {
            let f = Footer::parse(black_box(&tail)).expect("footer");
            f.check_fields(at).expect("fields");
            f
        })
    });

    // The bitmap of a 1 TiB image at 2 MiB: 512 Ki blocks, a 64 KiB payload.
    let mut map = imsprep_scan::AllocationMap::new(BLOCK as u64, 1 << 40).expect("map");
    for i in (0..map.block_count()).step_by(3) {
        map.set(i, true);
    }
    let bitmap = imsprep_scan::Bitmap {
        map,
        image_crc32: Some(0x1234_5678),
    };
    let mf = dir.path().join("big.mf");
    imsprep_scan::write_bitmap(&mf, &bitmap, true).expect("write the bitmap");
    g.throughput(Throughput::Bytes(
        std::fs::metadata(&mf).expect("size").len(),
    ));
    g.bench_function("read_bitmap_1TiB_image", |b| {
        b.iter(|| imsprep_scan::read_bitmap(black_box(&mf)).expect("bitmap"))
    });
    g.finish();
}

criterion_group!(benches, zero_test, crc, zstd_block, parsing);
criterion_main!(benches);
