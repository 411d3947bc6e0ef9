//! Lint of an import request file (JSON text).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = imsprep_ims::lint_json(text);
    }
});
