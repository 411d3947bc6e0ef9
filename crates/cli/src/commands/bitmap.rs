//! `imsprep bitmap`: write the `.mf` bitmap file of a RAW image.

use anyhow::Context;
use imsprep_scan::{bitmap_path_for, write_bitmap, Bitmap};
use serde::Serialize;

use super::endpoint::{open_input, shown, Endpoint};
use super::guard::output_allowed;
use super::scan_image::{granularity, scan_with_progress};
use crate::args::BitmapArgs;
use crate::exit::Outcome;
use crate::output::{human_size, print_json};
use crate::progress::Session;

/// What `bitmap --json` prints.
#[derive(Serialize)]
struct BitmapReport {
    image: String,
    bitmap: String,
    image_size: u64,
    granularity: u64,
    blocks: u64,
    data_blocks: u64,
    image_crc32: Option<String>,
}

/// Scans the image and writes its bitmap file.
pub fn run(args: BitmapArgs, session: &Session) -> anyhow::Result<Outcome> {
    let granularity = granularity(&args.granularity)?;
    if Endpoint::of(&args.image).is_stream() && args.output.is_none() {
        return Err(crate::exit::UsageError(format!(
            "name the bitmap file of {} with -o",
            shown(&args.image)
        ))
        .into());
    }
    if args.output.is_none()
        && imsprep_disk::RawDisk::open(&args.image)
            .is_ok_and(|d| d.source_kind() == imsprep_disk::SourceKind::BlockDevice)
    {
        return Err(crate::exit::UsageError(format!(
            "{} is a block device: name the bitmap file with -o (it would go next to the device)",
            args.image.display()
        ))
        .into());
    }
    let output = args.output.unwrap_or_else(|| bitmap_path_for(&args.image));
    // An image named `x.mf` would be its own default bitmap path.
    output_allowed(&args.image, &output, args.force)?;
    let input = open_input(&args.image, "bitmap", session.cancel_flag())?;
    let scan = scan_with_progress(session, input.path(), granularity, true)?;
    let bitmap = Bitmap {
        map: scan.map,
        image_crc32: scan.crc32,
    };
    write_bitmap(&output, &bitmap, args.force).context("writing the bitmap")?;
    let report = BitmapReport {
        image: input.shown().to_string(),
        bitmap: output.display().to_string(),
        image_size: bitmap.map.image_size(),
        granularity,
        blocks: bitmap.map.block_count(),
        data_blocks: bitmap.map.data_block_count(),
        image_crc32: bitmap.image_crc32.map(|crc| format!("{crc:08x}")),
    };
    if args.json {
        print_json(&report)?;
    } else {
        println!(
            "wrote {}: {} of {} blocks of {} hold data (image {}, CRC-32 {})",
            report.bitmap,
            report.data_blocks,
            report.blocks,
            human_size(granularity),
            human_size(report.image_size),
            report.image_crc32.as_deref().unwrap_or("-"),
        );
    }
    Ok(Outcome::Clean)
}
