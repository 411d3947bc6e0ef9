//! The registry hive reader over a hostile hive: open it (with the first
//! input byte choosing whether the rest is split into a hive and a LOG1
//! to replay), walk every key and value, and look up the keys the Windows
//! checks read. Nothing may panic or run away.
#![no_main]

use imsprep_regf::{walk_all, Hive};
use libfuzzer_sys::fuzz_target;

const KEYS: [&str; 4] = [
    "Select",
    "ControlSet001\\Services\\viostor",
    "Microsoft\\Windows NT\\CurrentVersion",
    "ControlSet001\\Control\\CriticalDeviceDatabase",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let hive = if pick & 1 == 1 && rest.len() > 8192 {
        // The tail after the first hive-sized part is a transaction log.
        let (primary, log) = rest.split_at(rest.len() / 2);
        Hive::open_with_logs(primary.to_vec(), Some(log), None)
    } else {
        Hive::open(rest.to_vec())
    };
    let Ok(hive) = hive else {
        return;
    };
    let _ = walk_all(&hive);
    for path in KEYS {
        if let Ok(Some(key)) = hive.key(path) {
            if let Ok(values) = hive.values(&key) {
                for value in values {
                    let _ = value.decoded();
                }
            }
        }
    }
});
