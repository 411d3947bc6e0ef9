//! `imsprep prepare`: from a disk image to a checked, ready-to-upload set.
//!
//! The pipeline is `imsprep-prepare`'s; this command turns flags into its
//! options and prints what it did.

use std::path::{Path, PathBuf};

use imsprep_ims::manifest::Manifest;
use imsprep_ims::{Finding, ImageRequest};
use imsprep_prepare::{
    prepare, stream_file_name, GuestSummary, Mode, Plan, PrepareOptions, Prepared, PreparedSet,
    Source,
};
use imsprep_probe::Format;
use serde::Serialize;

use super::endpoint::{is_block_device, open_input};
use super::findings;
use super::guest_print;
use super::request::spec;
use crate::args::PrepareArgs;
use crate::exit::{Outcome, UsageError};
use crate::output::{human_size, print_json};
use crate::progress::Session;

/// What `prepare --json` prints.
#[derive(Serialize)]
struct PrepareReport<'a> {
    /// Always true here; a refusal prints `{"prepared": false, "findings": [...]}`.
    prepared: bool,
    out: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    guest: Option<&'a GuestSummary>,
    request: &'a ImageRequest,
    manifest: &'a Manifest,
}

/// What `prepare --json` prints when it writes nothing.
#[derive(Serialize)]
struct Refusal<'a> {
    prepared: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    guest: Option<&'a GuestSummary>,
    findings: &'a [Finding],
}

/// Runs the whole preparation.
pub fn run(args: PrepareArgs, session: &Session) -> anyhow::Result<Outcome> {
    // A stream is copied to a temporary file first; from then on it is read
    // like a device (converted, or copied into the set), never referred to.
    let input = open_input(&args.image, "prepare", session.cancel_flag())?;
    let source = if input.is_spooled() {
        Source::Stream
    } else if is_block_device(&args.image) {
        Source::Device
    } else {
        Source::File
    };
    let file_name = if source == Source::Stream {
        let format = imsprep_probe::inspect(input.path()).map_or(Format::Raw, |r| r.format);
        stream_file_name(&args.fields.name, format)
    } else {
        args.image
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| UsageError(format!("{} is not a file", args.image.display())))?
    };
    let options = PrepareOptions {
        image: input.path().to_owned(),
        file_name,
        source,
        shown: input.shown().to_string(),
        request: spec(&args.fields, &args.target),
        bucket: args.bucket.clone(),
        prefix: args.prefix.clone(),
        out: args.out.clone(),
        mode: if args.zvhd2 {
            Mode::Zvhd2
        } else if args.raw {
            Mode::Raw
        } else {
            Mode::Auto
        },
        link: args.link,
        min_disk: args.min_disk,
        level: args.level,
        force: args.force,
        accept: args.accept.clone(),
    };
    match prepare(&options, session)? {
        Prepared::Refused {
            findings,
            guest,
            unpreparable,
        } => {
            let what = if unpreparable {
                "the image cannot be prepared"
            } else {
                "nothing was written"
            };
            if !args.json {
                if let Some(guest) = &guest {
                    guest_print::print(guest);
                    println!();
                }
            }
            stop(&findings, guest.as_deref(), what, args.json)
        }
        Prepared::Done(set) => {
            if args.json {
                print_json(&PrepareReport {
                    prepared: true,
                    out: set.names.out.display().to_string(),
                    guest: set.guest.as_ref(),
                    request: &set.request,
                    manifest: &set.manifest,
                })?;
            } else {
                print_summary(&args, &set, source);
            }
            Ok(Outcome::Clean)
        }
    }
}

fn stop(
    all: &[Finding],
    guest: Option<&GuestSummary>,
    what: &str,
    json: bool,
) -> anyhow::Result<Outcome> {
    if json {
        print_json(&Refusal {
            prepared: false,
            guest,
            findings: all,
        })?;
    } else {
        findings::print(all);
        println!("{what} ({})", findings::tally(all));
    }
    Ok(Outcome::Problems)
}

fn print_summary(args: &PrepareArgs, set: &PreparedSet, source: Source) {
    let (names, manifest) = (&set.names, &set.manifest);
    if let Some(guest) = &set.guest {
        guest_print::print(guest);
        println!();
    }
    println!("upload set ready in {}", names.out.display());
    let what = match source {
        Source::Stream => "the stream".to_string(),
        Source::Device => "the block device".to_string(),
        Source::File => format!("the {} image", set.format),
    };
    match set.plan {
        Plan::ConvertToZvhd2 if source != Source::File || set.format != Format::Raw => println!(
            "{what} was converted to ZVHD2 (it cannot be uploaded as it is; --raw writes a sparse RAW copy and its bitmap instead)"
        ),
        Plan::RawCopyWithBitmap => {
            println!("{what} was copied to a sparse RAW file with its bitmap (--raw)")
        }
        _ => {}
    }
    println!();
    println!("files to upload (bucket {}):", args.bucket);
    for file in &manifest.files {
        println!(
            "  {:<40} -> {}  {:>10}  crc32 {}",
            file.path,
            file.object,
            human_size(file.size),
            file.crc32
        );
    }
    println!();
    println!(
        "request: {} (image_url {}, min_disk {} GiB: {})",
        names.request.display(),
        manifest.image_url,
        manifest.min_disk,
        manifest.min_disk_reason
    );
    if !manifest.findings.is_empty() {
        println!();
        findings::print(&manifest.findings);
    }
    if !manifest.accepted.is_empty() {
        println!();
        println!("accepted with --accept (recorded in the manifest):");
        findings::print(&manifest.accepted);
    }
    println!();
    println!("next steps (imsprep itself never touches the network):");
    for file in &manifest.files {
        let local = if Path::new(&file.path).is_absolute() {
            PathBuf::from(&file.path)
        } else {
            names.out.join(&file.path)
        };
        println!(
            "  obsutil cp {} obs://{}/{}",
            shell_quote(&local.display().to_string()),
            args.bucket,
            file.object
        );
    }
    println!(
        "  curl -X POST \"https://ims.$REGION.myhuaweicloud.com/v2/cloudimages/quickimport/action\" \\\n       \
         -H \"Content-Type: application/json\" -H \"X-Auth-Token: $TOKEN\" \\\n       -d @{}",
        shell_quote(&names.request.display().to_string())
    );
    println!(
        "  imsprep verify --manifest {}   # on the upload host, before uploading",
        names.manifest.display()
    );
}

fn shell_quote(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
