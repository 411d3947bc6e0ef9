//! Hostile files from fixtures/hostile cost bounded memory: lying counts,
//! a bitmap of all ones and decompression bombs are rejected or reported
//! without allocating what they claim.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use imsprep_zvhd2::{verify, Control, Reader, VerifyOptions};

/// Counts live heap bytes and remembers the highest count.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/hostile/zvhd2")
        .join(name)
}

/// Runs `f` and returns how far live heap bytes rose above where they were.
fn rise(f: impl FnOnce()) -> usize {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    f();
    PEAK.load(Ordering::SeqCst).saturating_sub(base)
}

/// One test only, so no other test's allocations are counted.
#[test]
fn hostile_files_cost_bounded_memory() {
    // Warm up rayon's pool and the thread-local buffers' first use.
    let good = corpus("good.zvhd2");
    verify(&good, &VerifyOptions::default(), &Control::default()).unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let raw = tmp.path().join("small.raw");
    std::fs::write(&raw, vec![7u8; 1 << 20]).unwrap();
    let against = VerifyOptions {
        against: Some(&imsprep_disk::RawDisk::open(&raw).unwrap()),
    };
    // Bitmaps, index and payloads cost at most a few blocks of 1 MiB per
    // thread; what these files claim is 2^21 to 2^32 blocks, or 1 GiB
    // payloads.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let bound = (4 + 2 * threads) << 20;
    for name in [
        "bitmap-all-ones.zvhd2",
        "index-segments-past-end.zvhd2",
        "max-blocks.zvhd2",
        "index-outside.zvhd2",
        "zstd-payloads.zvhd2",
        "zlib-payloads.zvhd2",
    ] {
        let p = corpus(name);
        let used = rise(|| {
            let _ = Reader::open(&p);
            let _ = verify(&p, &VerifyOptions::default(), &Control::default());
        });
        assert!(used < bound, "{name}: {used} bytes at once");
    }
    // Compared with a RAW file, every one of the 2^21 blocks is visited.
    let p = corpus("bitmap-all-ones.zvhd2");
    let mut report = None;
    let used = rise(|| report = Some(verify(&p, &against, &Control::default()).unwrap()));
    assert!(used < bound, "against a RAW: {used} bytes at once");
    let report = report.unwrap();
    assert_eq!(report.blocks_compared, 1 << 21);
    assert!(!report.is_ok());
    // The bombs are all reported, each as its own block.
    let r = verify(
        &corpus("zstd-payloads.zvhd2"),
        &VerifyOptions::default(),
        &Control::default(),
    )
    .unwrap();
    assert_eq!(r.problems.len(), 4, "{:?}", r.problems);
}
