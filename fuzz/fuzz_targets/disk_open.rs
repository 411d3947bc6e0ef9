//! Every backend of the disk model over a hostile file: the first input
//! byte picks the format (qcow2, VMDK, OVA, VHD, VHDX, VDI), the rest is
//! the file. Opening must fail cleanly or give a disk whose reads and
//! allocation answers stay inside it; every read of a bounded part of the
//! disk must return or fail, never panic or run away.
#![no_main]

use imsprep_disk::{extents, open_as, Kind, OpenOptions};
use imsprep_fuzz::{scratch_path, write_file};
use libfuzzer_sys::fuzz_target;

const KINDS: [Kind; 6] = [
    Kind::Qcow2,
    Kind::Vmdk,
    Kind::Ova,
    Kind::Vhd,
    Kind::Vhdx,
    Kind::Vdi,
];

/// Bytes of the virtual disk read per input: enough to reach several
/// tables and clusters, bounded so a 2^60-byte claim costs nothing.
const READ_LIMIT: u64 = 4 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, image)) = data.split_first() else {
        return;
    };
    let kind = KINDS[usize::from(pick) % KINDS.len()];
    let path = scratch_path("img");
    write_file(&path, image);
    let Ok(disk) = open_as(&path, kind, &OpenOptions::default()) else {
        return;
    };
    let size = disk.size();
    let end = size.min(READ_LIMIT);
    if let Ok(runs) = extents(&*disk, 0, end) {
        let mut pos = 0;
        for run in runs {
            assert_eq!(run.start, pos);
            assert!(run.end > run.start && run.end <= end);
            pos = run.end;
        }
    }
    let mut buf = vec![0u8; 65_536];
    let mut pos = 0;
    while pos < end {
        let n = (end - pos).min(buf.len() as u64) as usize;
        if disk.read_at(pos, &mut buf[..n]).is_err() {
            break;
        }
        pos += n as u64;
    }
    // The last bytes too, where tables of a large disk end.
    if size > 0 {
        let _ = disk.read_at(size - 1, &mut [0u8; 1]);
    }
    assert!(disk.read_at(size, &mut [0u8; 1]).is_err());
});
