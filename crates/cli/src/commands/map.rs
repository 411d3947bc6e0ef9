//! `imsprep map`: which ranges of an image hold data, judged by content.

use serde::Serialize;

use super::scan_image::{granularity, scan_with_progress};
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

/// Scans the image and prints its ranges.
pub fn run(args: MapArgs, session: &Session) -> anyhow::Result<Outcome> {
    let granularity = granularity(&args.granularity)?;
    let scan = scan_with_progress(session, &args.image, granularity, false)?;
    let ranges = scan.map.ranges().map(|r| Range {
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
    let stats = scan.stats;
    println!(
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
    Ok(Outcome::Clean)
}
