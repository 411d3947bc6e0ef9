//! `imsprep map`: which ranges of an image hold data, judged by content.

use std::path::Path;

use anyhow::Context;
use imsprep_probe::Format;
use imsprep_scan::AllocationMap;
use imsprep_zvhd2::Reader;
use serde::Serialize;

use super::endpoint::open_input;
use super::scan_image::{granularity, scan_disk_with_progress, scan_with_progress};
use crate::args::MapArgs;
use crate::exit::Outcome;
use crate::output::{human_size, print_json};
use crate::progress::Session;

/// One range of the map as `--json` prints it.
#[derive(Serialize)]
struct Range {
    start: u64,
    length: u64,
    data: bool,
}

/// Scans the image (or reads a ZVHD2's block bitmap) and prints its ranges.
pub fn run(args: MapArgs, session: &Session) -> anyhow::Result<Outcome> {
    let granularity = granularity(&args.granularity)?;
    let input = open_input(&args.image, "map", session.cancel_flag())?;
    let image = input.path();
    let report =
        imsprep_probe::inspect(image).with_context(|| format!("inspecting {}", input.shown()))?;
    let (map, summary) = if report.format == Format::Zvhd2 {
        zvhd2_map(image)?
    } else {
        let scan = if report.format == Format::Raw {
            scan_with_progress(session, image, granularity, false)?
        } else {
            let disk = imsprep_probe::open_disk(
                image,
                report.format,
                &imsprep_disk::OpenOptions::default(),
            )?;
            scan_disk_with_progress(session, &*disk, granularity, false)?
        };
        let stats = scan.stats;
        let summary = format!(
            "{} of {} blocks of {} hold data ({}); {} in holes were not read",
            stats.data_blocks,
            stats.blocks,
            human_size(granularity),
            human_size(
                stats
                    .data_blocks
                    .saturating_mul(granularity)
                    .min(scan.image_size())
            ),
            human_size(stats.hole_bytes),
        );
        (scan.map, summary)
    };
    let ranges = map.ranges().map(|r| Range {
        start: r.start,
        length: r.length,
        data: r.data,
    });
    if args.json {
        print_json(&ranges.collect::<Vec<_>>())?;
        return Ok(Outcome::Clean);
    }
    println!("{:>16}  {:>16}  kind", "start", "length");
    for range in ranges {
        let kind = if range.data { "data" } else { "zero" };
        println!("{:>#16x}  {:>#16x}  {kind}", range.start, range.length);
    }
    println!("{summary}");
    Ok(Outcome::Clean)
}

/// The virtual disk of a ZVHD2 file, one block per ZVHD2 block: data where
/// the file stores a record, zeros elsewhere (the file's own bytes say
/// nothing about the disk).
fn zvhd2_map(path: &Path) -> anyhow::Result<(AllocationMap, String)> {
    let reader = Reader::open(path).with_context(|| format!("reading {}", path.display()))?;
    let footer = reader.footer();
    let block_size = u64::from(footer.block_size);
    let mut map = AllocationMap::new(block_size, footer.orig_size)
        .with_context(|| format!("mapping {}", path.display()))?;
    for block in 0..map.block_count() {
        let present = u32::try_from(block).is_ok_and(|n| reader.is_block_present(n));
        map.set(block, present);
    }
    let summary = format!(
        "{} of {} blocks of {} hold data (ZVHD2 records; disk of {})",
        map.data_block_count(),
        map.block_count(),
        human_size(block_size),
        human_size(footer.orig_size),
    );
    Ok((map, summary))
}
