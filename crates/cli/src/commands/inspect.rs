//! `imsprep inspect`: what a file is, and whether fast import can take it.

use std::path::Path;

use anyhow::Context;
use imsprep_ims::Intent;
pub use imsprep_prepare::Inspection;
use imsprep_prepare::{add_guest_checks, inspect_image};
use imsprep_probe::{DiskLayout, FormatDetail, PartitionTable, Report};

use super::endpoint::{open_input, Input};
use super::findings;
use super::guest_print;
use super::target::intent;
use crate::args::InspectArgs;
use crate::exit::Outcome;
use crate::output::{human_size, print_json};
use crate::progress::Session;

/// Probes `path` (a file or device) and checks the facts for `intent`.
pub fn inspection(path: &Path, intent: &Intent) -> anyhow::Result<Inspection> {
    super::endpoint::needs_file(path, "inspect")?;
    let shown = path.display().to_string();
    inspect_image(path, &shown, intent).with_context(|| format!("inspecting {shown}"))
}

/// Probes an input opened with [`open_input`], reported under the name the
/// user gave it (`-` is "standard input").
pub fn input_inspection(input: &Input, intent: &Intent) -> anyhow::Result<Inspection> {
    inspect_image(input.path(), input.shown(), intent)
        .with_context(|| format!("inspecting {}", input.shown()))
}

/// Prints the inspection of one file.
pub fn run(args: InspectArgs, session: &Session) -> anyhow::Result<Outcome> {
    let input = open_input(&args.file, "inspect", session.cancel_flag())?;
    let intent = intent(&args.target);
    let mut inspection = input_inspection(&input, &intent)?;
    add_guest_checks(&mut inspection, input.path(), &intent, None, None)
        .with_context(|| format!("inspecting the guest in {}", input.shown()))?;
    if args.json {
        print_json(&inspection)?;
    } else {
        print_human(&inspection);
    }
    Ok(if inspection.fast_import_ready {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

fn print_human(inspection: &Inspection) {
    let report = &inspection.file;
    println!("file:      {}", report.path);
    println!("format:    {}{}", report.format, format_note(report));
    println!(
        "file size: {} ({} bytes)",
        human_size(report.file_size),
        report.file_size
    );
    if let FormatDetail::Zvhd2(z) = &report.detail {
        println!(
            "disk:      orig_size {} ({} bytes), curr_size {} ({} bytes); {} of {} blocks of {} hold data",
            human_size(z.orig_size),
            z.orig_size,
            human_size(z.curr_size),
            z.curr_size,
            z.non_zero_blk_num,
            z.max_blk_num,
            human_size(u64::from(z.block_size)),
        );
    } else if let Some(size) = report.virtual_size {
        println!("disk size: {} ({size} bytes)", human_size(size));
    }
    if let Some(layout) = &report.layout {
        print_layout(layout);
    } else if let Some(why) = &report.layout_error {
        println!("layout:    not read: {why}");
    }
    if let Some(min_disk) = inspection.min_disk {
        println!("min_disk:  {min_disk} GiB at least");
    }
    if let Some(guest) = &inspection.guest {
        guest_print::print(guest);
    }
    println!();
    findings::print(&inspection.findings);
    let verdict = if inspection.fast_import_ready {
        "fast import can take this file"
    } else {
        "fast import cannot take this file as it is"
    };
    println!("{verdict} ({})", findings::tally(&inspection.findings));
}

fn format_note(report: &Report) -> String {
    if report.ambiguous.len() > 1 {
        let all: Vec<String> = report.ambiguous.iter().map(ToString::to_string).collect();
        return format!(" (ambiguous: also {})", all.join(", "));
    }
    match &report.detail {
        FormatDetail::Qcow2(q) => format!(" version {}", q.version),
        FormatDetail::Vhd(v) => format!(" ({:?})", v.disk_type).to_lowercase(),
        _ => String::new(),
    }
}

fn print_layout(layout: &DiskLayout) {
    let table = match layout.table {
        PartitionTable::None => "none",
        PartitionTable::Mbr => "MBR",
        PartitionTable::Gpt => "GPT",
    };
    println!("partition table: {table}");
    if let Some(gpt) = &layout.gpt {
        for p in &gpt.partitions {
            let sectors = p.last_lba.saturating_sub(p.first_lba).saturating_add(1);
            println!(
                "  {:>3}  {:>10}  {:>10}  {:<20} {:<8} {}",
                p.index,
                p.first_lba,
                human_size(sectors.saturating_mul(u64::from(gpt.sector_size))),
                format!("{:?}", p.kind),
                p.filesystem
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| "-".into()),
                p.name
            );
        }
    } else if let Some(mbr) = &layout.mbr {
        for p in &mbr.partitions {
            println!(
                "  {:>3}  {:>10}  {:>10}  {:<20} {:<8} {}",
                p.index,
                p.first_lba,
                human_size(p.sectors.saturating_mul(512)),
                format!("{:?} (0x{:02x})", p.kind, p.type_code),
                p.filesystem
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| "-".into()),
                if p.bootable { "boot" } else { "" }
            );
        }
    }
    if let Some(fs) = layout.whole_disk_filesystem {
        println!("  whole disk: {fs} file system");
    }
}
