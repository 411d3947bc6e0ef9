//! A whole ZVHD2 file through the reader and the verifier. The input is
//! the compact patch description of `imsprep_fuzz::expand_patches`.
#![no_main]

use imsprep_zvhd2::{verify, Control, Reader, VerifyOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        // The verifier checks blocks on the rayon pool. Left to itself the
        // pool's threads take work in a different order on every run, and
        // the fuzzer counts each new interleaving inside rayon as new
        // coverage (a quarter of this target's edges are rayon's). One pool
        // thread that is the fuzzing thread itself runs the work in order,
        // so coverage follows the input alone.
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .use_current_thread()
            .build_global()
            .expect("the global rayon pool is built once, before any use");
    },
    |data: &[u8]| {
        let path = imsprep_fuzz::scratch_path("zvhd2");
        imsprep_fuzz::expand_patches(&path, data);
        if let Ok(r) = Reader::open(&path) {
            let f = r.footer().clone();
            let mut block = vec![0u8; f.block_size as usize];
            // Every record, then a read straddling the first block boundary
            // and one reaching the end of the virtual disk.
            for n in r.records().iter().map(|r| r.0).take(16) {
                let _ = r.read_block(n, &mut block);
            }
            let mut small = [0u8; 4096];
            let _ = r.read_at(u64::from(f.block_size) - 2048, &mut small);
            let _ = r.read_at(f.curr_size.saturating_sub(4096), &mut small);
            let _ = r.read_at(f.orig_size.saturating_sub(100), &mut small);
        }
        let _ = verify(&path, &VerifyOptions::default(), &Control::default());
    }
);
