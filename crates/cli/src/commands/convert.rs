//! `imsprep convert`: RAW to ZVHD2, or ZVHD2 back to RAW.

use std::path::Path;

use anyhow::Context;
use imsprep_ims::{Finding, Intent};
use imsprep_probe::{Format, FormatDetail};
use imsprep_zvhd2::{
    convert_raw, convert_to_raw, Compression, Control, WriteOptions, WriteSummary,
};
use serde::Serialize;

use super::guard::output_allowed;
use super::inspect::inspection;
use crate::args::ConvertArgs;
use crate::exit::{BadInput, Outcome};
use crate::output::{human_size, print_json};
use crate::progress::Session;

/// What `convert --json` prints.
#[derive(Serialize)]
struct ConvertReport {
    input: String,
    output: String,
    from: Format,
    to: Format,
    input_size: u64,
    output_size: u64,
    disk_size: u64,
    data_blocks: Option<u32>,
    seconds: f64,
}

/// Converts in the direction the input's content calls for.
pub fn run(args: ConvertArgs, session: &Session) -> anyhow::Result<Outcome> {
    output_allowed(&args.input, &args.output, args.force)?;
    let inspection = inspection(&args.input, &Intent::default())?;
    let format = inspection.file.format;
    let input_size = inspection.file.file_size;
    let started = std::time::Instant::now();
    let (to, disk_size, data_blocks) = match format {
        Format::Raw => {
            let summary = raw_to_zvhd2(session, &args.input, &args.output, args.level, args.force)?;
            (
                Format::Zvhd2,
                summary.footer.curr_size,
                Some(summary.footer.non_zero_blk_num),
            )
        }
        Format::Zvhd2 => {
            // Progress comes in bytes of RAW written: orig_size.
            let orig = match &inspection.file.detail {
                FormatDetail::Zvhd2(z) => z.orig_size,
                _ => inspection.disk_size.unwrap_or(0),
            };
            let bar = session.bar("converting", orig);
            let control = Control {
                progress: &|done| bar.set(done),
                cancel: session.cancel_flag(),
            };
            let written = convert_to_raw(&args.input, &args.output, args.force, &control)
                .with_context(|| format!("converting {} to RAW", args.input.display()))?;
            (Format::Raw, written, None)
        }
        other => return Err(not_convertible(other, &inspection.findings).into()),
    };
    let output_size = std::fs::metadata(&args.output)
        .with_context(|| format!("reading {}", args.output.display()))?
        .len();
    let report = ConvertReport {
        input: args.input.display().to_string(),
        output: args.output.display().to_string(),
        from: format,
        to,
        input_size,
        output_size,
        disk_size,
        data_blocks,
        seconds: started.elapsed().as_secs_f64(),
    };
    if args.json {
        print_json(&report)?;
    } else {
        println!(
            "wrote {} ({}, {}) from {} ({}, {}) in {:.1} s",
            report.output,
            to,
            human_size(output_size),
            report.input,
            format,
            human_size(input_size),
            report.seconds
        );
    }
    Ok(Outcome::Clean)
}

/// The error for an input imsprep does not convert, with the fix the
/// image checks name for it.
fn not_convertible(format: Format, findings: &[Finding]) -> BadInput {
    let fix = findings
        .iter()
        .find(|f| f.is_error())
        .map(|f| format!("; {}", f.fix))
        .unwrap_or_default();
    BadInput(format!(
        "the input is {format}; imsprep converts RAW to ZVHD2 and ZVHD2 to RAW{fix}"
    ))
}

/// Converts a RAW image to ZVHD2 with a progress bar in source bytes.
pub fn raw_to_zvhd2(
    session: &Session,
    input: &Path,
    output: &Path,
    level: i32,
    force: bool,
) -> anyhow::Result<WriteSummary> {
    let size = std::fs::metadata(input)
        .with_context(|| format!("reading {}", input.display()))?
        .len();
    let bar = session.bar("converting", size);
    let options = WriteOptions {
        compression: Compression::Zstd { level },
        overwrite: force,
        ..WriteOptions::default()
    };
    let control = Control {
        progress: &|done| bar.set(done),
        cancel: session.cancel_flag(),
    };
    convert_raw(input, output, &options, &control)
        .with_context(|| format!("converting {} to ZVHD2", input.display()))
}
