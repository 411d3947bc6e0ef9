//! `imsprep convert`: any disk imsprep reads to ZVHD2 or to RAW, between
//! files, block devices and streams.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context;
use imsprep_disk::{Disk, OpenOptions};
use imsprep_ims::{Code, Finding, Intent};
use imsprep_probe::{open_disk, Format, FormatDetail};
use imsprep_zvhd2::{
    convert_to_raw, disk_to_raw, disk_to_raw_stream, write, write_stream, BlockSource, Compression,
    Control, DiskSource, StreamSource, WriteOptions, WriteSummary,
};
use serde::Serialize;

use super::endpoint::{is_block_device, parse_size, shown, Endpoint};
use super::findings;
use super::guard::output_allowed;
use super::inspect::inspection;
use crate::args::{ConvertArgs, DeclaredFormat, OutputFormat};
use crate::exit::{BadInput, Outcome, UsageError};
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

/// Findings about an input that make converting it wrong: there is no disk
/// to convert, or the name promises another format than the bytes hold.
/// (A RAW that ends inside a sector is padded, as the reference does; one
/// shorter than a sector holds no disk at all.)
const REFUSING: [Code; 3] = [
    Code::ImageEmpty,
    Code::ImageNameContradicts,
    Code::ImageAmbiguous,
];

/// Converts the input to the format the output calls for.
pub fn run(args: ConvertArgs, session: &Session) -> anyhow::Result<Outcome> {
    let out = Endpoint::of(&args.output);
    if out == Endpoint::Path {
        output_allowed(&args.input, &args.output, args.force)?;
    }
    if Endpoint::of(&args.input).is_stream() {
        return convert_stream(&args, out, session);
    }
    if args.size.is_some() {
        return Err(UsageError(format!(
            "--size is for a RAW disk read from a stream; {} is sized by its content",
            args.input.display()
        ))
        .into());
    }
    let mut inspection = inspection(&args.input, &Intent::default())?;
    if args.format == Some(DeclaredFormat::Raw) {
        declare_raw(&mut inspection)?;
    }
    let refusing: Vec<Finding> = inspection
        .findings
        .iter()
        .filter(|f| {
            f.is_error()
                && (REFUSING.contains(&f.code)
                    || (f.code == Code::ImageRawAlignment && inspection.file.file_size < 512))
        })
        .cloned()
        .collect();
    if !refusing.is_empty() {
        findings::eprint(&refusing);
        eprintln!(
            "imsprep: {} was not converted; nothing was written",
            args.input.display()
        );
        return Ok(Outcome::Problems);
    }
    let from = inspection.file.format;
    let to = target(&args, from)?;
    check_output_name(&args.output, to)?;
    let device = inspection.file.file_size > 0 && is_block_device(&args.input);
    if to == from && !device {
        return Err(UsageError(format!(
            "{} is {from} already; nothing to convert",
            args.input.display()
        ))
        .into());
    }
    if let Some(why) = imsprep_disk::device_in_use(&args.input) {
        eprintln!(
            "imsprep: warning: {} is in use ({why}); what is read may change while it is read",
            args.input.display()
        );
    }
    let disk = open_disk(&args.input, from, &OpenOptions::default())
        .map_err(|e| not_convertible(from, &inspection.findings, e))?;
    let started = std::time::Instant::now();
    // A ZVHD2 goes back to the orig_size bytes it was made from.
    let len = match &inspection.file.detail {
        FormatDetail::Zvhd2(z) => z.orig_size,
        _ => disk.size(),
    };
    let written = write_disk(&args, &*disk, len, to, out, session)?;
    let report = ConvertReport {
        input: shown(&args.input),
        output: output_name(&args.output),
        from,
        to,
        input_size: inspection.file.file_size,
        output_size: written.output_size,
        disk_size: written.disk_size,
        data_blocks: written.data_blocks,
        seconds: started.elapsed().as_secs_f64(),
    };
    print_report(&args, out, &report)?;
    Ok(Outcome::Clean)
}

/// `--format raw`: the user says the file is a RAW disk whatever its name
/// says; the bytes must not show another format.
fn declare_raw(inspection: &mut super::inspect::Inspection) -> anyhow::Result<()> {
    let format = inspection.file.format;
    if format != Format::Raw {
        return Err(BadInput(format!(
            "--format raw: the content is {format}, not a plain disk"
        ))
        .into());
    }
    inspection
        .findings
        .retain(|f| f.code != Code::ImageNameContradicts);
    Ok(())
}

/// The format to write: `--to`, else what the output's extension names,
/// else ZVHD2 (RAW for a ZVHD2 input).
fn target(args: &ConvertArgs, from: Format) -> anyhow::Result<Format> {
    if let Some(to) = args.to {
        return Ok(match to {
            OutputFormat::Zvhd2 => Format::Zvhd2,
            OutputFormat::Raw => Format::Raw,
        });
    }
    Ok(match extension_format(&args.output) {
        Some(f @ (Format::Raw | Format::Zvhd2)) => f,
        _ if from == Format::Zvhd2 => Format::Raw,
        _ => Format::Zvhd2,
    })
}

/// The format an output file name promises, if it names one.
fn extension_format(path: &Path) -> Option<Format> {
    if Endpoint::of(path) != Endpoint::Path {
        return None;
    }
    let ext = path.extension()?.to_str()?;
    Format::from_extension(ext)
}

/// An output whose name says another format than the one written would
/// mislead every later step (and the service, which goes by content).
fn check_output_name(output: &Path, to: Format) -> anyhow::Result<()> {
    match extension_format(output) {
        Some(named) if named != to => Err(UsageError(format!(
            "{} is named as {named}, but {to} would be written; name it .{} or pass --to",
            output.display(),
            to.extensions().first().copied().unwrap_or("raw")
        ))
        .into()),
        _ => Ok(()),
    }
}

/// What a conversion wrote.
struct Written {
    output_size: u64,
    disk_size: u64,
    data_blocks: Option<u32>,
}

/// Writes `disk` as `to` to the output: a file (whole or not at all) or
/// standard output.
fn write_disk(
    args: &ConvertArgs,
    disk: &dyn Disk,
    len: u64,
    to: Format,
    out: Endpoint,
    session: &Session,
) -> anyhow::Result<Written> {
    let input = shown(&args.input);
    let bar = session.bar("converting", disk.size());
    let control = Control {
        progress: &|done| bar.set(done),
        cancel: session.cancel_flag(),
    };
    let context = || format!("converting {input} to {to}");
    match (to, out) {
        (Format::Zvhd2, _) => {
            let options = zvhd2_options(args.level, args.force);
            let summary = write_zvhd2(
                &DiskSource::new(disk),
                &args.output,
                out,
                &options,
                &control,
            )
            .with_context(context)?;
            Ok(Written::from(&summary))
        }
        (_, out) => {
            let written = if out == Endpoint::Path {
                if disk.info().format == "zvhd2" {
                    // Its own path writes only the blocks its index lists.
                    convert_to_raw(&args.input, &args.output, args.force, &control)
                } else {
                    disk_to_raw(disk, len, &args.output, args.force, &control)
                }
            } else {
                let mut sink = open_sink(&args.output, out)?;
                disk_to_raw_stream(disk, len, &mut sink, &output_name(&args.output), &control)
            }
            .with_context(context)?;
            Ok(Written {
                output_size: written,
                disk_size: written,
                data_blocks: None,
            })
        }
    }
}

/// Standard output, or a FIFO / character device opened for writing
/// (never created: it exists, or the path would not be a stream).
fn open_sink(path: &Path, out: Endpoint) -> anyhow::Result<Box<dyn Write>> {
    Ok(match out {
        Endpoint::Stdio => Box::new(std::io::stdout().lock()),
        _ => Box::new(
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("opening {} for writing", path.display()))?,
        ),
    })
}

fn output_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "standard output".to_string()
    } else {
        path.display().to_string()
    }
}

/// A RAW disk read once from standard input or a FIFO, to ZVHD2. Its size
/// must be given: the ZVHD2's first footer, written first, holds it.
fn convert_stream(args: &ConvertArgs, out: Endpoint, session: &Session) -> anyhow::Result<Outcome> {
    let input = shown(&args.input);
    let Some(size_text) = &args.size else {
        return Err(UsageError(format!(
            "reading a disk from {input} needs its size in bytes: pass --size (the ZVHD2 \
             header written first holds it), or save it to a file first"
        ))
        .into());
    };
    let size = parse_size(size_text)?;
    let to = match args.to {
        Some(OutputFormat::Raw) => Format::Raw,
        _ => extension_format(&args.output).unwrap_or(Format::Zvhd2),
    };
    if to != Format::Zvhd2 {
        return Err(UsageError(format!(
            "a RAW stream converts to ZVHD2 only ({} names {to}); to copy a stream use `cat`",
            output_name(&args.output)
        ))
        .into());
    }
    let mut reader: Box<dyn Read + Send> = if args.input.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(&args.input)
                .with_context(|| format!("opening {}", args.input.display()))?,
        )
    };
    // The first bytes tell what the stream holds; they are then read again
    // as the start of the disk.
    let mut head = vec![0u8; imsprep_probe::HEAD_LEN.min(size as usize)];
    reader
        .read_exact(&mut head)
        .with_context(|| format!("reading the first {} bytes of {input}", head.len()))?;
    let detection = imsprep_probe::detect(&head, &[], size);
    if detection.format != Format::Raw {
        return Err(BadInput(format!(
            "{input} holds a {} image; imsprep reads a stream only as a RAW disk: save it to a \
             file and convert the file",
            detection.format
        ))
        .into());
    }
    let source = StreamSource::new(std::io::Cursor::new(head).chain(reader), size);
    let bar = session.bar("converting", size);
    let control = Control {
        progress: &|done| bar.set(done),
        cancel: session.cancel_flag(),
    };
    let options = zvhd2_options(args.level, args.force);
    let started = std::time::Instant::now();
    let summary = write_zvhd2(&source, &args.output, out, &options, &control)
        .with_context(|| format!("converting {input} to ZVHD2"))?;
    let report = ConvertReport {
        input,
        output: output_name(&args.output),
        from: Format::Raw,
        to: Format::Zvhd2,
        input_size: size,
        output_size: summary.file_len,
        disk_size: summary.footer.curr_size,
        data_blocks: Some(summary.footer.non_zero_blk_num),
        seconds: started.elapsed().as_secs_f64(),
    };
    print_report(args, out, &report)?;
    Ok(Outcome::Clean)
}

/// The summary, on stdout, or on stderr when stdout carries the image.
fn print_report(args: &ConvertArgs, out: Endpoint, report: &ConvertReport) -> anyhow::Result<()> {
    if args.json {
        if out == Endpoint::Stdio {
            eprintln!("{}", serde_json::to_string_pretty(report)?);
            return Ok(());
        }
        return print_json(report);
    }
    let line = format!(
        "wrote {} ({}, {}) from {} ({}, {}) in {:.1} s",
        report.output,
        report.to,
        human_size(report.output_size),
        report.input,
        report.from,
        human_size(report.input_size),
        report.seconds
    );
    if out == Endpoint::Stdio {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
    Ok(())
}

/// The error for an input no backend reads, with the fix the image checks
/// name for it.
fn not_convertible(
    format: Format,
    findings: &[Finding],
    e: imsprep_disk::DiskError,
) -> anyhow::Error {
    if !matches!(e, imsprep_disk::DiskError::Unsupported { .. }) {
        return e.into();
    }
    let fix = findings
        .iter()
        .find(|f| f.is_error())
        .map(|f| format!("; {}", f.fix))
        .unwrap_or_default();
    BadInput(format!("{e}; the input is {format}{fix}")).into()
}

/// How imsprep writes ZVHD2: zstd at `level`, as the reference does.
fn zvhd2_options(level: i32, force: bool) -> WriteOptions {
    WriteOptions {
        compression: Compression::Zstd { level },
        overwrite: force,
        ..WriteOptions::default()
    }
}

/// Writes `source` as ZVHD2 to a file (whole or not at all) or a stream.
fn write_zvhd2(
    source: &dyn BlockSource,
    output: &Path,
    out: Endpoint,
    options: &WriteOptions,
    control: &Control<'_>,
) -> anyhow::Result<WriteSummary> {
    if out == Endpoint::Path {
        return Ok(write(source, output, options, control)?);
    }
    let mut sink = open_sink(output, out)?;
    Ok(write_stream(
        source,
        &mut sink,
        &output_name(output),
        options,
        control,
    )?)
}

impl From<&WriteSummary> for Written {
    fn from(summary: &WriteSummary) -> Self {
        Written {
            output_size: summary.file_len,
            disk_size: summary.footer.curr_size,
            data_blocks: Some(summary.footer.non_zero_blk_num),
        }
    }
}
