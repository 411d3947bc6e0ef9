//! A footer claiming absurd sizes in a small file fails without allocating.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use imsprep_zvhd2::{verify, Control, Error, Footer, Reader, VerifyOptions, PAGE};

/// Records the largest single allocation.
struct Peak;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::SeqCst);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

/// A 1 MiB file whose footers claim `max_blk_num` blocks and `nz` records.
fn file(dir: &std::path::Path, max_blk_num: u32, nz: u32) -> std::path::PathBuf {
    let mut head = Footer::new_head(1 << 20, 2 << 20, 1, 0, [1; 16]).unwrap();
    head.max_blk_num = max_blk_num;
    head.orig_size = u64::from(max_blk_num) * (2 << 20);
    head.curr_size = head.orig_size.div_ceil(1 << 30) * (1 << 30);
    head.seal();
    let mut tail = head.clone();
    tail.non_zero_blk_num = nz;
    tail.bitmap_seg_num = max_blk_num.div_ceil(32768);
    tail.bitmap_size = tail.bitmap_seg_num.wrapping_mul(4096);
    tail.bitmap_seg_size = 4096;
    tail.index_seg_num = nz.div_ceil(32768);
    tail.index_size = tail.index_seg_num.wrapping_mul(524_288);
    tail.index_seg_size = 524_288;
    tail.index_lba = 8192;
    tail.bitmap_lba = 8192 + u64::from(tail.index_size);
    tail.seal();
    let mut bytes = vec![0u8; 1 << 20];
    bytes[..512].copy_from_slice(&head.to_bytes());
    let at = bytes.len() - PAGE as usize;
    bytes[at..at + 512].copy_from_slice(&tail.to_bytes());
    let p = dir.join(format!("huge-{max_blk_num}-{nz}.zvhd2"));
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn absurd_claims_fail_cleanly_without_allocating() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (u32::MAX, 0),
        (u32::MAX, 8191 * 32768),
        (u32::MAX, u32::MAX),
        (8 << 20, 8 << 20),
    ];
    for (max, nz) in cases {
        let p = file(tmp.path(), max, nz);
        LARGEST.store(0, Ordering::SeqCst);
        let e = Reader::open(&p).expect_err("must not open");
        assert!(
            matches!(e, Error::BadLayout { .. } | Error::BadField { .. }),
            "{max} {nz}: {e}"
        );
        assert!(verify(&p, &VerifyOptions::default(), &Control::default()).is_err());
        let peak = LARGEST.load(Ordering::SeqCst);
        assert!(peak < 1 << 20, "{max} {nz}: allocated {peak} bytes at once");
    }
}
