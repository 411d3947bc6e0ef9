//! The whole preparation: checks, the long pass, the small files.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use imsprep_disk::OpenOptions;
use imsprep_ims::manifest::{FileRole, Manifest, ManifestFile};
use imsprep_ims::{
    has_errors, smallest_min_disk, validate, Code, Finding, ImageRequest, ImageType,
};
use imsprep_probe::{disk_kind, open_disk, Format};
use imsprep_scan::{write_bitmap, Bitmap, DEFAULT_GRANULARITY};

use crate::error::PrepareError;
use crate::guest::{check_guest, GuestCheck, GuestSummary};
use crate::inspect::inspect_image;
use crate::passes::{disk_to_raw_file, disk_to_zvhd2, scan_path, verify_zvhd2};
use crate::plan::{refuse_existing, refuse_input_as_output, Names, Plan};
use crate::reporter::Reporter;
use crate::request::RequestSpec;
use crate::set::{entry, file_entry, write_atomically, Written};

/// What the caller asks the set to hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// A RAW file with its bitmap; a ZVHD2 as it is; anything else (a
    /// block device, a stream, another format) converted to ZVHD2.
    #[default]
    Auto,
    /// Convert to ZVHD2 whatever the input (a ZVHD2 is used as it is).
    Zvhd2,
    /// A RAW image with its bitmap: a RAW file as it is, anything else
    /// copied to a sparse RAW file in the set.
    Raw,
}

/// Where the image comes from, which decides whether the set may refer to
/// it in place.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Source {
    /// A file, referred to in place (or hard-linked with `link`).
    #[default]
    File,
    /// A block device: it cannot be uploaded as it is.
    Device,
    /// A temporary copy of a stream: it goes when the caller ends, so the
    /// set copies it or converts it.
    Stream,
}

/// Everything [`prepare`] needs.
#[derive(Debug, Clone)]
pub struct PrepareOptions {
    /// The image to read: a file, a block device, or a temporary copy of a
    /// stream.
    pub image: PathBuf,
    /// The name the image goes by in the set (the file name, or one made
    /// for a stream).
    pub file_name: String,
    /// What kind of source `image` is.
    pub source: Source,
    /// The input as the user named it, for messages ("standard input" for
    /// a stream's temporary copy).
    pub shown: String,
    /// The request's fields.
    pub request: RequestSpec,
    /// The bucket the files are uploaded to.
    pub bucket: String,
    /// Folder inside the bucket.
    pub prefix: Option<String>,
    /// The output folder (default `./STEM.upload`).
    pub out: Option<PathBuf>,
    /// What the set holds.
    pub mode: Mode,
    /// Hard-link a RAW or ZVHD2 file into the set instead of referring to
    /// it where it is.
    pub link: bool,
    /// `min_disk` in GiB; default: the smallest that covers the disk.
    pub min_disk: Option<u32>,
    /// zstd level of a conversion.
    pub level: i32,
    /// Replace existing files in the output folder.
    pub force: bool,
    /// Finding codes the user judged and lets pass (`LX-GROWPART`); they
    /// are recorded in the manifest.
    pub accept: Vec<String>,
}

/// What [`prepare`] did.
#[derive(Debug)]
pub enum Prepared {
    /// The set is written.
    Done(Box<PreparedSet>),
    /// Nothing was written: the findings say why (every error among them).
    Refused {
        /// Every finding, errors first not guaranteed.
        findings: Vec<Finding>,
        /// What the guest is, when it was inspected.
        guest: Option<Box<GuestSummary>>,
        /// Whether the image itself cannot be prepared (no plan or no
        /// size), as opposed to errors a user can fix in the request.
        unpreparable: bool,
    },
}

/// A written set.
#[derive(Debug)]
pub struct PreparedSet {
    /// The names of everything in it.
    pub names: Names,
    /// How the image went into it.
    pub plan: Plan,
    /// The input's format by content.
    pub format: Format,
    /// The request body, as written to `request.json`.
    pub request: ImageRequest,
    /// The manifest, as written to `manifest.json`.
    pub manifest: Manifest,
    /// What the guest is, when it was inspected (system disks).
    pub guest: Option<GuestSummary>,
}

/// Findings about uploading the RAW file itself.
const RAW_UPLOAD_ONLY: [Code; 3] = [
    Code::ImageRawNeedsBitmap,
    Code::ImageRawAlignment,
    Code::ImageBitmapName,
];

/// Findings about the input's format that writing the set's image makes
/// moot: the format itself, and the files a chain refers to (the image
/// written reads through them and stands alone; a chain that cannot be
/// followed fails the conversion with the name it asked for).
const CONVERTED_AWAY: [Code; 2] = [Code::ImageFormatConvert, Code::ImageExternalRef];

/// Checks the image and the request, then writes the set. See the crate
/// documentation.
pub fn prepare(opts: &PrepareOptions, reporter: &dyn Reporter) -> Result<Prepared, PrepareError> {
    let shown = opts.shown.as_str();
    let mut wanted = opts.request.intent();
    let probe = inspect_image(&opts.image, shown, &wanted)?;
    let format = probe.file.format;
    let plan = choose_plan(format, opts.source, opts.mode);
    if opts.source == Source::Device {
        if let Some(why) = imsprep_disk::device_in_use(&opts.image) {
            reporter.warn(&format!(
                "{shown} is in use ({why}); what is read may change while it is read"
            ));
        }
    }
    let names = Names::new(
        &opts.image,
        &opts.file_name,
        opts.out.as_deref(),
        opts.prefix.as_deref(),
        plan.unwrap_or(Plan::Zvhd2AsIs),
        opts.link || opts.source == Source::Stream,
    );
    wanted.min_disk = opts.min_disk;
    wanted.image_object = Some(names.image_object.clone());
    wanted.bitmap_object = names.bitmap.as_ref().map(|(object, _)| object.clone());
    // The checks again, now with the object names and the min_disk asked for.
    let probe = inspect_image(&opts.image, shown, &wanted)?;
    let disk_size = match plan {
        // A conversion makes a disk of curr_size: the RAW rounded up to 1 GiB.
        Some(Plan::ConvertToZvhd2) => probe.disk_size.map(round_up_gib),
        _ => probe.disk_size,
    };
    let min_disk = opts
        .min_disk
        .unwrap_or_else(|| disk_size.map_or(1, smallest_min_disk));
    let image_url = format!("{}:{}", opts.bucket, names.image_object);
    // The guest, before any long work: what it is fills in what the user
    // left out, and what it lacks stops the run like any other error.
    let guest = match plan {
        Some(_) if is_system_disk(&opts.request) => Some(check_guest(
            Arc::from(open_disk(&opts.image, format, &OpenOptions::default())?),
            &wanted,
            opts.request.os_version.as_deref(),
            opts.request.architecture,
        )),
        _ => None,
    };
    let spec = filled_in(&opts.request, guest.as_ref());
    let request = spec.build(&image_url, min_disk)?;
    let mut all = probe.findings;
    if let Some(guest) = &guest {
        all.extend(guest.findings.iter().cloned());
    }
    if plan.is_some_and(Plan::writes_image) {
        // What a RAW upload needs (a bitmap, whole sectors) does not concern
        // the image written instead, nor does what fast import says of the
        // input's own format.
        all.retain(|f| !RAW_UPLOAD_ONLY.contains(&f.code) && !CONVERTED_AWAY.contains(&f.code));
    }
    all.extend(validate(&request));
    let (accepted, mut all): (Vec<Finding>, Vec<Finding>) = all.into_iter().partition(|f| {
        opts.accept
            .iter()
            .any(|c| c.eq_ignore_ascii_case(f.code.id()))
    });
    let summary = guest.map(|g| g.summary);
    let boxed = || summary.clone().map(Box::new);
    let (Some(plan), Some(disk_size)) = (plan, disk_size) else {
        all.extend(accepted);
        return Ok(Prepared::Refused {
            findings: all,
            guest: boxed(),
            unpreparable: true,
        });
    };
    if has_errors(&all) {
        return Ok(Prepared::Refused {
            findings: all,
            guest: boxed(),
            unpreparable: false,
        });
    }
    let targets = names.targets();
    for target in &targets {
        refuse_input_as_output(&opts.image, target)?;
    }
    refuse_existing(&targets, opts.force)?;

    // The long pass, then the small files; all removed again on failure.
    let mut written = Written::new(&names.out)?;
    let files = match plan {
        Plan::RawWithBitmap => {
            let image = place_image(opts, &names, &mut written)?;
            bitmap_and_entries(reporter, opts, &names, &mut written, &image)?
        }
        Plan::ConvertToZvhd2 => {
            let out = &names.image_local;
            let disk = open_disk(&opts.image, format, &OpenOptions::default())?;
            written.file(out, || {
                disk_to_zvhd2(reporter, &*disk, out, opts.level, opts.force)
            })?;
            vec![checksummed(reporter, &names, out)?]
        }
        Plan::RawCopyWithBitmap => {
            let out = &names.image_local;
            let disk = open_disk(&opts.image, format, &OpenOptions::default())?;
            written.file(out, || disk_to_raw_file(reporter, &*disk, out, opts.force))?;
            bitmap_and_entries(reporter, opts, &names, &mut written, out)?
        }
        Plan::Zvhd2AsIs => {
            check_zvhd2(reporter, &opts.image, shown)?;
            let image = place_image(opts, &names, &mut written)?;
            vec![checksummed(reporter, &names, &image)?]
        }
    };
    let warnings: Vec<Finding> = all.into_iter().filter(|f| !f.is_error()).collect();
    let manifest = Manifest {
        imsprep_version: env!("CARGO_PKG_VERSION").to_string(),
        format: if plan.is_raw() { "raw" } else { "zvhd2" }.to_string(),
        disk_size,
        image_url,
        min_disk,
        min_disk_reason: min_disk_reason(opts.min_disk, disk_size, plan),
        request: "request.json".to_string(),
        files,
        findings: warnings,
        accepted,
    };
    let request_json = format!("{}\n", request.to_json_pretty());
    written.file(&names.request, || {
        write_atomically(&names.request, request_json.as_bytes(), opts.force)
    })?;
    let manifest_json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| PrepareError::io("encoding the manifest", e.into()))?;
    written.file(&names.manifest, || {
        write_atomically(
            &names.manifest,
            format!("{manifest_json}\n").as_bytes(),
            opts.force,
        )
    })?;
    written.keep();
    Ok(Prepared::Done(Box::new(PreparedSet {
        names,
        plan,
        format,
        request,
        manifest,
        guest: summary,
    })))
}

/// Whether the request registers a system disk (which must boot), not a
/// data disk.
fn is_system_disk(spec: &RequestSpec) -> bool {
    spec.image_type() != ImageType::DataImage
}

/// The request's fields with what the guest says filled in where the user
/// gave nothing: the `os_version` string for the target cloud, the
/// architecture. What the user gave stays (contradictions are findings).
fn filled_in(spec: &RequestSpec, guest: Option<&GuestCheck>) -> RequestSpec {
    let mut spec = spec.clone();
    let Some(guest) = guest else {
        return spec;
    };
    if spec.os_version.is_none() && spec.os_type.is_none() {
        spec.os_version = guest.summary.os_version.clone();
    }
    if spec.architecture.is_none() {
        spec.architecture = guest.architecture();
    }
    spec
}

/// How an input of `format` from `source` goes into the set, if it can.
fn choose_plan(format: Format, source: Source, mode: Mode) -> Option<Plan> {
    let readable = disk_kind(format).is_some();
    match (format, source, mode) {
        (Format::Zvhd2, _, _) => Some(Plan::Zvhd2AsIs),
        (Format::Raw, Source::File, Mode::Auto | Mode::Raw) => Some(Plan::RawWithBitmap),
        // A device or a stream cannot be uploaded as it is; nor can a
        // qcow2, VMDK ...
        _ if readable && mode == Mode::Raw => Some(Plan::RawCopyWithBitmap),
        _ if readable => Some(Plan::ConvertToZvhd2),
        _ => None,
    }
}

fn round_up_gib(bytes: u64) -> u64 {
    const GIB: u64 = 1 << 30;
    bytes.div_ceil(GIB).max(1).saturating_mul(GIB)
}

fn min_disk_reason(given: Option<u32>, disk_size: u64, plan: Plan) -> String {
    let what = match plan {
        Plan::RawWithBitmap => "the RAW file size",
        Plan::RawCopyWithBitmap => "the RAW copy's size",
        _ => "the ZVHD2 curr_size",
    };
    match given {
        Some(g) => format!("given as {g} GiB; covers the {disk_size}-byte disk ({what})"),
        None => format!("the smallest whole GiB that covers the {disk_size}-byte disk ({what})"),
    }
}

/// Refuses a ZVHD2 the verifier finds fault with, naming the first problems.
fn check_zvhd2(reporter: &dyn Reporter, path: &Path, shown: &str) -> Result<(), PrepareError> {
    let report = verify_zvhd2(reporter, path, None)?;
    if report.is_ok() {
        return Ok(());
    }
    let problems: Vec<String> = report
        .problems
        .iter()
        .take(8)
        .map(ToString::to_string)
        .collect();
    Err(PrepareError::BadImage(format!(
        "{shown} is not a sound ZVHD2 file ({} problems; `imsprep verify` lists them all): {}",
        report.problems.len() as u64 + report.problems_omitted,
        problems.join("; ")
    )))
}

/// Scans the RAW image at `image` for its bitmap and CRC-32, writes the
/// bitmap, and gives the manifest entries of both.
fn bitmap_and_entries(
    reporter: &dyn Reporter,
    opts: &PrepareOptions,
    names: &Names,
    written: &mut Written,
    image: &Path,
) -> Result<Vec<ManifestFile>, PrepareError> {
    let scan = scan_path(reporter, image, DEFAULT_GRANULARITY, true)?;
    let crc = scan
        .crc32
        .ok_or_else(|| PrepareError::BadImage("the scan computed no CRC-32".to_string()))?;
    let size = scan.image_size();
    let Some((bitmap_object, bitmap_path)) = names.bitmap.clone() else {
        return Err(PrepareError::Usage(
            "a RAW image needs a bitmap name".to_string(),
        ));
    };
    let bitmap = Bitmap {
        map: scan.map,
        image_crc32: Some(crc),
    };
    written.file(&bitmap_path, || {
        Ok(write_bitmap(&bitmap_path, &bitmap, opts.force)?)
    })?;
    Ok(vec![
        entry(
            &names.out,
            FileRole::Image,
            image,
            &names.image_object,
            size,
            crc,
        ),
        file_entry(&names.out, FileRole::Bitmap, &bitmap_path, &bitmap_object)?,
    ])
}

/// The entry of the set's large image file, its CRC-32 from a scan (holes
/// not read).
fn checksummed(
    reporter: &dyn Reporter,
    names: &Names,
    path: &Path,
) -> Result<ManifestFile, PrepareError> {
    let scan = scan_path(reporter, path, DEFAULT_GRANULARITY, true)?;
    let crc = scan
        .crc32
        .ok_or_else(|| PrepareError::BadImage("the scan computed no CRC-32".to_string()))?;
    Ok(entry(
        &names.out,
        FileRole::Image,
        path,
        &names.image_object,
        scan.image_size(),
        crc,
    ))
}

/// Puts the input into the set when it goes there (hard-linked with
/// `link`, copied when it is a temporary copy of a stream); otherwise the
/// set refers to it where it is. Returns the path the manifest records.
fn place_image(
    opts: &PrepareOptions,
    names: &Names,
    written: &mut Written,
) -> Result<PathBuf, PrepareError> {
    let copy = opts.source == Source::Stream;
    if !opts.link && !copy {
        return std::path::absolute(&opts.image)
            .map_err(|e| PrepareError::io(format!("resolving {}", opts.image.display()), e));
    }
    let target = &names.image_local;
    if opts.force && target.symlink_metadata().is_ok() {
        fs::remove_file(target)
            .map_err(|e| PrepareError::io(format!("replacing {}", target.display()), e))?;
    }
    written.file(target, || {
        if copy {
            fs::copy(&opts.image, target).map(drop).map_err(|e| {
                PrepareError::io(format!("copying the image into {}", target.display()), e)
            })
        } else {
            fs::hard_link(&opts.image, target).map_err(|e| {
                PrepareError::io(
                    format!(
                        "linking {} to {} (--link needs both on one file system)",
                        opts.image.display(),
                        target.display()
                    ),
                    e,
                )
            })
        }
    })?;
    Ok(target.clone())
}
