//! The probe over bytes in memory: detection, every format's header
//! parser, partition tables and file-system magics. The first input byte
//! picks the file name (its extension matters to the report).
#![no_main]

use imsprep_probe::{inspect_disk, read_layout};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 12] = [
    "disk.raw",
    "disk.img",
    "disk.qcow2",
    "disk.vmdk",
    "disk.vhd",
    "disk.vhdx",
    "disk.vdi",
    "disk.zvhd2",
    "disk.iso",
    "disk",
    "disk.qed",
    "disk.tar.gz",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, disk)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    if let Ok(report) = inspect_disk(&disk, name) {
        assert_eq!(report.file_size, disk.len() as u64);
    }
    let _ = read_layout(&disk);
});
