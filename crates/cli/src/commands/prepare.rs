//! `imsprep prepare`: from a disk image to a checked, ready-to-upload set.
//!
//! Every check that needs no long work runs first (the file's format and
//! layout, the request's fields, `min_disk`), so a mistake is reported in
//! milliseconds; then the one long pass (scan, conversion or verification);
//! then the small files. Whatever this run wrote is removed again if it
//! fails or is interrupted.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use imsprep_disk::OpenOptions;
use imsprep_ims::manifest::{
    bitmap_object_for, crc32_hex, object_name, FileRole, Manifest, ManifestFile,
};
use imsprep_ims::{has_errors, smallest_min_disk, validate, Code, Finding, ImageRequest};
use imsprep_probe::Format;
use imsprep_scan::{write_bitmap, Bitmap, DEFAULT_GRANULARITY};
use imsprep_zvhd2::{disk_to_raw, Control};
use serde::Serialize;

use super::convert::disk_to_zvhd2;
use super::endpoint::{is_block_device, open_input};
use super::findings;
use super::guard::output_allowed;
use super::inspect::inspection;
use super::request::build;
use super::scan_image::scan_with_progress;
use super::target::{intent, with_fields};
use super::verify::deep_verify;
use crate::args::PrepareArgs;
use crate::exit::{Outcome, UsageError};
use crate::output::{human_size, print_json, write_atomically};
use crate::progress::Session;

/// How the image goes into the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// A RAW image with a bitmap file beside it.
    RawWithBitmap,
    /// A RAW image, a block device or another format converted to ZVHD2.
    ConvertToZvhd2,
    /// A block device or another format copied to a sparse RAW file in the
    /// set, with a bitmap file beside it.
    RawCopyWithBitmap,
    /// A ZVHD2 image, verified and used as it is.
    Zvhd2AsIs,
}

/// The names of everything the set holds.
struct Names {
    out: PathBuf,
    image_object: String,
    image_local: PathBuf,
    bitmap: Option<(String, PathBuf)>,
    request: PathBuf,
    manifest: PathBuf,
}

/// What `prepare --json` prints.
#[derive(Serialize)]
struct PrepareReport<'a> {
    /// Always true here; a refusal prints `{"prepared": false, "findings": [...]}`.
    prepared: bool,
    out: String,
    request: &'a ImageRequest,
    manifest: &'a Manifest,
}

/// Runs the whole preparation.
pub fn run(mut args: PrepareArgs, session: &Session) -> anyhow::Result<Outcome> {
    // A stream is copied to a temporary file first; from then on it is read
    // like a device (converted, or copied into the set), never referred to.
    let input = open_input(&args.image, "prepare", session.cancel_flag())?;
    let spooled = input.is_spooled();
    let file_name = if spooled {
        stream_file_name(&args.fields.name, input.path())
    } else {
        args.image
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| UsageError(format!("{} is not a file", args.image.display())))?
    };
    args.image = input.path().to_owned();

    // Quick checks: what the file is, and whether the request would pass.
    let target = with_fields(&args.target, &args.fields);
    let mut wanted = intent(&target);
    let probe = inspection(&args.image, &wanted)?;
    let device = is_block_device(&args.image) || spooled;
    let format = probe.file.format;
    let readable = imsprep_probe::disk_kind(format).is_some();
    let plan = match format {
        Format::Zvhd2 => Some(Plan::Zvhd2AsIs),
        Format::Raw if !device && !args.zvhd2 => Some(Plan::RawWithBitmap),
        // A device cannot be uploaded as it is; nor can a qcow2, VMDK...
        _ if readable && args.raw => Some(Plan::RawCopyWithBitmap),
        _ if readable => Some(Plan::ConvertToZvhd2),
        _ => None,
    };
    if device {
        if let Some(why) = imsprep_disk::device_in_use(&args.image) {
            eprintln!(
                "imsprep: warning: {} is in use ({why}); what is read may change while it is read",
                args.image.display()
            );
        }
    }
    let names = names(
        &args,
        &file_name,
        plan.unwrap_or(Plan::Zvhd2AsIs),
        args.link || spooled,
    );
    wanted.min_disk = args.min_disk;
    wanted.image_object = Some(names.image_object.clone());
    wanted.bitmap_object = names.bitmap.as_ref().map(|(object, _)| object.clone());
    // The checks again, now with the object names and the min_disk asked for.
    let probe = inspection(&args.image, &wanted)?;
    let disk_size = match plan {
        // A conversion makes a disk of curr_size: the RAW rounded up to 1 GiB.
        Some(Plan::ConvertToZvhd2) => probe.disk_size.map(round_up_gib),
        _ => probe.disk_size,
    };
    let min_disk = args
        .min_disk
        .unwrap_or_else(|| disk_size.map_or(1, smallest_min_disk));
    let image_url = format!("{}:{}", args.bucket, names.image_object);
    let request = build(&args.fields, &target, &image_url, min_disk)?;
    let mut all = probe.findings;
    if matches!(plan, Some(Plan::ConvertToZvhd2 | Plan::RawCopyWithBitmap)) {
        // What a RAW upload needs (a bitmap, whole sectors) does not concern
        // the ZVHD2 that is uploaded instead: the conversion pads the disk.
        // Nor does what fast import says of the input's own format: the set
        // holds what imsprep writes from it.
        all.retain(|f| !RAW_UPLOAD_ONLY.contains(&f.code) && !CONVERTED_AWAY.contains(&f.code));
    }
    all.extend(validate(&request));
    let (Some(plan), Some(disk_size)) = (plan, disk_size) else {
        return stop(&all, "the image cannot be prepared", args.json);
    };
    if has_errors(&all) {
        return stop(&all, "nothing was written", args.json);
    }
    let targets = targets(&names, plan);
    for target in &targets {
        // The image itself may sit in the output folder under a name the
        // set uses (`--link` into its own folder): never replace it.
        output_allowed(&args.image, target, true)?;
    }
    refuse_existing(&targets, args.force)?;

    // The long pass, then the small files; all removed again on failure.
    let mut written = Written::new(&names.out)?;
    let files = match plan {
        Plan::RawWithBitmap => prepare_raw(session, &args, &names, &mut written)?,
        Plan::ConvertToZvhd2 => prepare_conversion(session, &args, format, &names, &mut written)?,
        Plan::RawCopyWithBitmap => prepare_raw_copy(session, &args, format, &names, &mut written)?,
        Plan::Zvhd2AsIs => prepare_zvhd2(session, &args, &names, &mut written, spooled)?,
    };
    let warnings: Vec<Finding> = all.into_iter().filter(|f| !f.is_error()).collect();
    let manifest = Manifest {
        imsprep_version: env!("CARGO_PKG_VERSION").to_string(),
        format: if matches!(plan, Plan::RawWithBitmap | Plan::RawCopyWithBitmap) {
            "raw"
        } else {
            "zvhd2"
        }
        .to_string(),
        disk_size,
        image_url,
        min_disk,
        min_disk_reason: min_disk_reason(args.min_disk, disk_size, plan),
        request: "request.json".to_string(),
        files,
        findings: warnings,
    };
    let request_json = format!("{}\n", request.to_json_pretty());
    written.file(&names.request, || {
        write_atomically(&names.request, request_json.as_bytes(), args.force)
    })?;
    let manifest_json = format!("{}\n", serde_json::to_string_pretty(&manifest)?);
    written.file(&names.manifest, || {
        write_atomically(&names.manifest, manifest_json.as_bytes(), args.force)
    })?;
    written.keep();

    if args.json {
        print_json(&PrepareReport {
            prepared: true,
            out: names.out.display().to_string(),
            request: &request,
            manifest: &manifest,
        })?;
    } else {
        print_summary(&args, &names, &manifest, plan, format, device, spooled);
    }
    Ok(Outcome::Clean)
}

/// Findings about uploading the RAW file itself.
const RAW_UPLOAD_ONLY: [Code; 3] = [
    Code::ImageRawNeedsBitmap,
    Code::ImageRawAlignment,
    Code::ImageBitmapName,
];

/// The file name a stream stands under in the set: the image's name (white
/// space made `-`), with the extension of what the stream holds.
fn stream_file_name(image_name: &str, spooled: &Path) -> String {
    let stem: String = image_name
        .chars()
        .map(|c| {
            if c.is_whitespace() || c == '/' {
                '-'
            } else {
                c
            }
        })
        .collect();
    let zvhd2 = imsprep_probe::inspect(spooled).is_ok_and(|r| r.format == Format::Zvhd2);
    format!("{stem}.{}", if zvhd2 { "zvhd2" } else { "raw" })
}

/// Findings about the input's format that a conversion makes moot.
const CONVERTED_AWAY: [Code; 1] = [Code::ImageFormatConvert];

/// What `prepare --json` prints when it writes nothing.
#[derive(Serialize)]
struct Refusal<'a> {
    prepared: bool,
    findings: &'a [Finding],
}

fn stop(all: &[Finding], what: &str, json: bool) -> anyhow::Result<Outcome> {
    if json {
        print_json(&Refusal {
            prepared: false,
            findings: all,
        })?;
    } else {
        findings::print(all);
        println!("{what} ({})", findings::tally(all));
    }
    Ok(Outcome::Problems)
}

fn round_up_gib(bytes: u64) -> u64 {
    const GIB: u64 = 1 << 30;
    bytes.div_ceil(GIB).max(1).saturating_mul(GIB)
}

/// The names of the set; `in_set` when the image itself goes into the
/// folder (`--link`, or a copy of a stream).
fn names(args: &PrepareArgs, file_name: &str, plan: Plan, in_set: bool) -> Names {
    let stem = Path::new(file_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file_name.to_string());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{stem}.upload")));
    let local_name = match plan {
        Plan::ConvertToZvhd2 => format!("{stem}.zvhd2"),
        Plan::RawCopyWithBitmap => format!("{stem}.raw"),
        _ => file_name.to_string(),
    };
    let image_object = object_name(args.prefix.as_deref(), &local_name);
    // Local files are named like their objects, without the folder.
    let base = |object: &str| object.rsplit('/').next().unwrap_or(object).to_string();
    let image_local = match plan {
        Plan::ConvertToZvhd2 | Plan::RawCopyWithBitmap => out.join(base(&image_object)),
        _ if in_set => out.join(base(&image_object)),
        _ => args.image.clone(),
    };
    let bitmap = matches!(plan, Plan::RawWithBitmap | Plan::RawCopyWithBitmap).then(|| {
        let object = bitmap_object_for(&image_object);
        let local = out.join(base(&object));
        (object, local)
    });
    Names {
        request: out.join("request.json"),
        manifest: out.join("manifest.json"),
        out,
        image_object,
        image_local,
        bitmap,
    }
}

/// Every file this run will create in the output folder.
fn targets(names: &Names, plan: Plan) -> Vec<PathBuf> {
    let mut all = vec![names.request.clone(), names.manifest.clone()];
    if let Some((_, bitmap)) = &names.bitmap {
        all.push(bitmap.clone());
    }
    if plan == Plan::ConvertToZvhd2 || names.image_local.starts_with(&names.out) {
        all.push(names.image_local.clone());
    }
    all
}

fn refuse_existing(targets: &[PathBuf], force: bool) -> anyhow::Result<()> {
    if force {
        return Ok(());
    }
    let existing: Vec<String> = targets
        .iter()
        .filter(|p| p.symlink_metadata().is_ok())
        .map(|p| p.display().to_string())
        .collect();
    if existing.is_empty() {
        Ok(())
    } else {
        bail!(UsageError(format!(
            "{} already exist; pass --force to replace them",
            existing.join(", ")
        )))
    }
}

fn prepare_raw(
    session: &Session,
    args: &PrepareArgs,
    names: &Names,
    written: &mut Written,
) -> anyhow::Result<Vec<ManifestFile>> {
    let image_path = place_image(args, names, written, false)?;
    bitmap_and_entries(session, args, names, written, &image_path)
}

/// Scans the RAW image at `image` for its bitmap and CRC-32, writes the
/// bitmap, and gives the manifest entries of both.
fn bitmap_and_entries(
    session: &Session,
    args: &PrepareArgs,
    names: &Names,
    written: &mut Written,
    image_path: &Path,
) -> anyhow::Result<Vec<ManifestFile>> {
    let scan = scan_with_progress(session, image_path, DEFAULT_GRANULARITY, true)?;
    let crc = scan.crc32.context("the scan computed no CRC-32")?;
    let size = scan.image_size();
    let (bitmap_object, bitmap_path) = names
        .bitmap
        .clone()
        .context("a RAW image needs a bitmap name")?;
    let bitmap = Bitmap {
        map: scan.map,
        image_crc32: Some(crc),
    };
    written.file(&bitmap_path, || {
        write_bitmap(&bitmap_path, &bitmap, args.force).context("writing the bitmap")
    })?;
    Ok(vec![
        entry(
            &names.out,
            FileRole::Image,
            image_path,
            &names.image_object,
            size,
            crc,
        ),
        file_entry(&names.out, FileRole::Bitmap, &bitmap_path, &bitmap_object)?,
    ])
}

fn prepare_conversion(
    session: &Session,
    args: &PrepareArgs,
    format: Format,
    names: &Names,
    written: &mut Written,
) -> anyhow::Result<Vec<ManifestFile>> {
    let out = &names.image_local;
    let disk = imsprep_probe::open_disk(&args.image, format, &OpenOptions::default())?;
    written.file(out, || {
        disk_to_zvhd2(session, &*disk, out, args.level, args.force).map(drop)
    })?;
    Ok(vec![checksummed(session, names, FileRole::Image, out)?])
}

/// A sparse RAW copy of a block device or another format, and its bitmap.
fn prepare_raw_copy(
    session: &Session,
    args: &PrepareArgs,
    format: Format,
    names: &Names,
    written: &mut Written,
) -> anyhow::Result<Vec<ManifestFile>> {
    let out = &names.image_local;
    let disk = imsprep_probe::open_disk(&args.image, format, &OpenOptions::default())?;
    written.file(out, || {
        let bar = session.bar("copying", disk.size());
        let control = Control {
            progress: &|done| bar.set(done),
            cancel: session.cancel_flag(),
        };
        disk_to_raw(&*disk, disk.size(), out, args.force, &control)
            .map(drop)
            .with_context(|| format!("copying {} to {}", args.image.display(), out.display()))
    })?;
    bitmap_and_entries(session, args, names, written, out)
}

fn prepare_zvhd2(
    session: &Session,
    args: &PrepareArgs,
    names: &Names,
    written: &mut Written,
    spooled: bool,
) -> anyhow::Result<Vec<ManifestFile>> {
    let report = deep_verify(session, &args.image, None)?;
    if !report.is_ok() {
        let problems: Vec<String> = report
            .problems
            .iter()
            .take(8)
            .map(ToString::to_string)
            .collect();
        bail!(crate::exit::BadInput(format!(
            "{} is not a sound ZVHD2 file ({} problems; `imsprep verify` lists them all): {}",
            args.image.display(),
            report.problems.len(),
            problems.join("; ")
        )));
    }
    let image_path = place_image(args, names, written, spooled)?;
    Ok(vec![checksummed(
        session,
        names,
        FileRole::Image,
        &image_path,
    )?])
}

/// Hard-links the image into the set with `--link`; otherwise the set
/// refers to it where it is. Returns the path the manifest records.
fn place_image(
    args: &PrepareArgs,
    names: &Names,
    written: &mut Written,
    copy: bool,
) -> anyhow::Result<PathBuf> {
    if !args.link && !copy {
        return absolute(&args.image);
    }
    let link = &names.image_local;
    if args.force && link.symlink_metadata().is_ok() {
        fs::remove_file(link).with_context(|| format!("replacing {}", link.display()))?;
    }
    if copy {
        // A temporary copy of a stream: it goes when the command ends.
        written.file(link, || {
            fs::copy(&args.image, link)
                .map(drop)
                .with_context(|| format!("copying the image into {}", link.display()))
        })?;
        return Ok(link.clone());
    }
    written.file(link, || {
        fs::hard_link(&args.image, link).with_context(|| {
            format!(
                "linking {} to {} (--link needs both on one file system)",
                args.image.display(),
                link.display()
            )
        })
    })?;
    Ok(link.clone())
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))
}

/// The entry of a large file, its CRC-32 from a scan (holes not read).
fn checksummed(
    session: &Session,
    names: &Names,
    role: FileRole,
    path: &Path,
) -> anyhow::Result<ManifestFile> {
    let scan = scan_with_progress(session, path, DEFAULT_GRANULARITY, true)?;
    let crc = scan.crc32.context("the scan computed no CRC-32")?;
    Ok(entry(
        &names.out,
        role,
        path,
        &names.image_object,
        scan.image_size(),
        crc,
    ))
}

/// The entry of a small file the set holds (the bitmap), read back whole.
fn file_entry(
    out: &Path,
    role: FileRole,
    path: &Path,
    object: &str,
) -> anyhow::Result<ManifestFile> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(entry(
        out,
        role,
        path,
        object,
        bytes.len() as u64,
        crc32fast::hash(&bytes),
    ))
}

fn entry(
    out: &Path,
    role: FileRole,
    path: &Path,
    object: &str,
    size: u64,
    crc: u32,
) -> ManifestFile {
    // Files inside the set are written as bare names, so the set can move;
    // an image referred to in place, by its absolute path.
    let shown = match path.strip_prefix(out) {
        Ok(inside) => inside.display().to_string(),
        Err(_) => path.display().to_string(),
    };
    ManifestFile {
        role,
        path: shown,
        object: object.to_string(),
        size,
        crc32: crc32_hex(crc),
    }
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

fn print_summary(
    args: &PrepareArgs,
    names: &Names,
    manifest: &Manifest,
    plan: Plan,
    format: Format,
    device: bool,
    spooled: bool,
) {
    println!("upload set ready in {}", names.out.display());
    let what = if spooled {
        "the stream".to_string()
    } else if device {
        "the block device".to_string()
    } else {
        format!("the {format} image")
    };
    match plan {
        Plan::ConvertToZvhd2 if device || format != Format::Raw => println!(
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

/// The files (and the output folder) one run created; removed again unless
/// the run completes.
struct Written {
    dir: Option<PathBuf>,
    files: Vec<PathBuf>,
    keep: bool,
}

impl Written {
    fn new(out: &Path) -> anyhow::Result<Written> {
        let created = !out.exists();
        fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        Ok(Written {
            dir: created.then(|| out.to_path_buf()),
            files: Vec::new(),
            keep: false,
        })
    }

    /// Runs `make`, which creates `path`, and remembers the file if it did.
    fn file(
        &mut self,
        path: &Path,
        make: impl FnOnce() -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        make()?;
        self.files.push(path.to_path_buf());
        Ok(())
    }

    fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for Written {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        for file in &self.files {
            let _ = fs::remove_file(file);
        }
        if let Some(dir) = &self.dir {
            // Only when empty: never remove what someone else put there.
            let _ = fs::remove_dir(dir);
        }
    }
}
