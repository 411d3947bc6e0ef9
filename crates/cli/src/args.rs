//! The command line: every command, argument and flag, and nothing else.
//!
//! Kept apart from the code that runs the commands so that `--help`, shell
//! completions and the tests all read one definition.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0    success: the image or request is fit for fast import
  1    the image, bitmap or request has errors (they are listed)
  2    usage error: a wrong command, flag or value
  3    I/O or internal failure (a file could not be read or written)
  130  interrupted (Ctrl-C or SIGTERM); no partial output is left";

/// Prepare and check disk images for Huawei Cloud IMS fast import, offline.
#[derive(Debug, Parser)]
#[command(name = "imsprep", version, about, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// No progress bar (it is drawn only when stderr is a terminal anyway).
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Tell what an image file is: format, sizes, partitions, file systems, findings.
    Inspect(InspectArgs),
    /// Show which ranges of an image hold data, judged by content (like `qemu-img map`).
    Map(MapArgs),
    /// Write the bitmap file (.mf) that a RAW image needs for fast import.
    Bitmap(BitmapArgs),
    /// Convert RAW to ZVHD2, or ZVHD2 back to RAW (the direction follows the input's content).
    Convert(ConvertArgs),
    /// Check a ZVHD2 file deeply, a RAW against its bitmap, or an upload set against its manifest.
    Verify(VerifyArgs),
    /// Print a quick-import request body built from flags.
    Request(RequestArgs),
    /// Check a request body (JSON file) against the service's rules.
    Lint(LintArgs),
    /// From a disk image to a checked, ready-to-upload set in one step.
    Prepare(PrepareArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// List the volumes and file systems of an image and where the guest mounts them.
    Fs(FsArgs),
    /// List a directory of the guest (or of one file system), like `ls`.
    Ls(LsArgs),
    /// Write a file of the guest (or of one file system) to standard output.
    Cat(CatArgs),
    /// List a registry key of a Windows guest (its subkeys and values), as the checks read it.
    Reg(RegArgs),
}

/// Where the image is going, as far as the image checks care.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Image type: system disk of a VM (ECS) or bare-metal server (BMS), or a data disk
    /// [default: ECS, or DataImage with --os-type].
    #[arg(long = "type", value_enum)]
    pub image_type: Option<ImageType>,
    /// CPU architecture of the guest; arm boots with UEFI only [default: what the guest is,
    /// else x86].
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// The cloud the image goes to: its OS list and rules decide the os_version string and some
    /// findings [default: either].
    #[arg(long, value_enum)]
    pub cloud: Option<CloudArg>,
    /// Boot firmware the image expects (default: bios on x86, uefi on arm).
    #[arg(long, value_enum)]
    pub firmware: Option<Firmware>,
}

/// `imsprep inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The image file.
    pub file: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the report as JSON (fields documented in docs/inspect.md).
    #[arg(long)]
    pub json: bool,
}

/// `imsprep map`.
#[derive(Debug, Args)]
pub struct MapArgs {
    /// The image file (RAW; a ZVHD2 is mapped by its own bitmap).
    pub image: PathBuf,
    /// Block size of the map: bytes, or with a binary suffix (4K, 2M); a power of two from 4K
    /// to 32M. A ZVHD2 is mapped at its own block size.
    #[arg(long, short, default_value = "2M")]
    pub granularity: String,
    /// Print a JSON array of {"start", "length", "data"} ranges.
    #[arg(long)]
    pub json: bool,
}

/// `imsprep bitmap`.
#[derive(Debug, Args)]
pub struct BitmapArgs {
    /// The RAW image.
    pub image: PathBuf,
    /// Where to write the bitmap (default: the image's path with `.mf` for its extension).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Block size of the bitmap: bytes, or with a binary suffix (4K, 2M).
    #[arg(long, short, default_value = "2M")]
    pub granularity: String,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `imsprep convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The input image, told by content: a RAW file, a block device, a ZVHD2 (or another disk
    /// format imsprep reads), or "-" for a RAW disk on standard input (with --size).
    pub input: PathBuf,
    /// The output file, or "-" for standard output. Its extension (.zvhd2, .raw) chooses what is
    /// written unless --to does.
    pub output: PathBuf,
    /// What to write: zvhd2 or raw (default: from the output's extension, else ZVHD2, or RAW
    /// for a ZVHD2 input).
    #[arg(long, value_enum)]
    pub to: Option<OutputFormat>,
    /// Size in bytes of a RAW disk read from standard input or a FIFO (suffixes K, M, G, T).
    #[arg(long)]
    pub size: Option<String>,
    /// Read the input as RAW whatever its name says (its content must show no other format).
    #[arg(long, value_enum)]
    pub format: Option<DeclaredFormat>,
    /// zstd compression level for RAW -> ZVHD2 (1-19; 3 is what Huawei's tool writes).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=19))]
    pub level: i32,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `imsprep verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A ZVHD2 file to check deeply, or a RAW image with --bitmap (not needed with --manifest).
    #[arg(required_unless_present = "manifest")]
    pub file: Option<PathBuf>,
    /// Also compare every block of the ZVHD2 with this RAW image.
    #[arg(long, conflicts_with_all = ["bitmap", "manifest"])]
    pub against: Option<PathBuf>,
    /// Check that this bitmap file matches the RAW image FILE.
    #[arg(long, conflicts_with = "manifest")]
    pub bitmap: Option<PathBuf>,
    /// Re-check the sizes and CRC-32s of an upload set written by `prepare`.
    #[arg(long, conflicts_with = "file")]
    pub manifest: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Fields of a quick-import request, shared by `request` and `prepare`.
#[derive(Debug, Clone, Args)]
pub struct RequestFields {
    /// Image name: 1-128 letters, digits, spaces, `-`, `_`, `.`.
    #[arg(long)]
    pub name: String,
    /// OS version string of a system-disk image, e.g. "Ubuntu 22.04 server 64bit".
    #[arg(long, conflicts_with = "os_type")]
    pub os_version: Option<String>,
    /// OS type of a data-disk image: Linux or Windows (implies --type DataImage).
    #[arg(long)]
    pub os_type: Option<String>,
    /// Image description (at most 1024 characters).
    #[arg(long)]
    pub description: Option<String>,
    /// A tag KEY=VALUE (repeatable).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Enterprise project ID ("0" is the default project).
    #[arg(long)]
    pub enterprise_project_id: Option<String>,
    /// License type of a Windows image: platform or byol.
    #[arg(long)]
    pub license_type: Option<String>,
}

/// `imsprep request`.
#[derive(Debug, Args)]
pub struct RequestArgs {
    #[command(flatten)]
    pub fields: RequestFields,
    /// Where the image is in object storage: BUCKET:OBJECT.
    #[arg(long)]
    pub image_url: String,
    /// Smallest system disk in GiB (1-1024); filled in from --image when omitted.
    #[arg(long, required_unless_present = "image")]
    pub min_disk: Option<u32>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// The image file, to fill in and check min_disk.
    #[arg(long)]
    pub image: Option<PathBuf>,
}

/// `imsprep lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// The request body, a JSON file ("-" for standard input).
    pub request: PathBuf,
    /// Also check the request against this image file.
    #[arg(long)]
    pub image: Option<PathBuf>,
    /// Print the findings as a JSON array.
    #[arg(long)]
    pub json: bool,
}

/// `imsprep prepare`.
#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// The disk image: a RAW file, a block device, a ZVHD2, or another format imsprep reads.
    pub image: PathBuf,
    #[command(flatten)]
    pub fields: RequestFields,
    /// The object-storage bucket the files will be uploaded to.
    #[arg(long)]
    pub bucket: String,
    /// Folder inside the bucket for the objects (no spaces).
    #[arg(long)]
    pub prefix: Option<String>,
    /// Output folder (default: ./STEM.upload/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Convert a RAW image to ZVHD2 instead of writing a bitmap for it (the default for a block
    /// device and for every format other than RAW and ZVHD2).
    #[arg(long, conflicts_with = "raw")]
    pub zvhd2: bool,
    /// For a block device or a non-RAW image: write a sparse RAW copy of it and its bitmap into
    /// the set instead of converting it to ZVHD2.
    #[arg(long)]
    pub raw: bool,
    /// Hard-link the RAW image into the output folder (same file system only).
    #[arg(long)]
    pub link: bool,
    /// Smallest system disk in GiB; default: the smallest that covers the disk.
    #[arg(long)]
    pub min_disk: Option<u32>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// zstd compression level with --zvhd2.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=19))]
    pub level: i32,
    /// Replace existing files in the output folder.
    #[arg(long)]
    pub force: bool,
    /// Go on past a finding you have judged, by its code (repeatable, e.g. `--accept
    /// LX-GROWPART`); the manifest records every accepted finding.
    #[arg(long = "accept", value_name = "CODE")]
    pub accept: Vec<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `imsprep fs`.
#[derive(Debug, Args)]
pub struct FsArgs {
    /// The disk image: a RAW file, a block device, or another format imsprep reads.
    pub image: PathBuf,
    /// Print the volumes, root and mounts as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `imsprep ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// The disk image: a RAW file, a block device, or another format imsprep reads.
    pub image: PathBuf,
    /// The path inside the guest, e.g. /etc (symbolic links resolve inside the guest).
    #[arg(default_value = "/")]
    pub path: String,
    /// Long listing: type, mode, owner, size, modification time, link target.
    #[arg(long, short)]
    pub long: bool,
    /// List subdirectories recursively (symbolic links to directories are not entered).
    #[arg(long, short = 'R')]
    pub recursive: bool,
    /// Read one file system directly instead of the guest's tree: a device (/dev/vda1),
    /// UUID=..., LABEL=..., PARTUUID=... or PARTLABEL=...; paths start at its root.
    #[arg(long = "fs", value_name = "DEVICE")]
    pub filesystem: Option<String>,
    /// Print a JSON array of entries.
    #[arg(long)]
    pub json: bool,
}

/// `imsprep cat`.
#[derive(Debug, Args)]
pub struct CatArgs {
    /// The disk image: a RAW file, a block device, or another format imsprep reads.
    pub image: PathBuf,
    /// The file's path inside the guest (symbolic links resolve inside the guest).
    pub path: String,
    /// Read one file system directly instead of the guest's tree: a device (/dev/vda1),
    /// UUID=..., LABEL=..., PARTUUID=... or PARTLABEL=...; paths start at its root.
    #[arg(long = "fs", value_name = "DEVICE")]
    pub filesystem: Option<String>,
}

/// `imsprep reg`.
#[derive(Debug, Args)]
pub struct RegArgs {
    /// The disk image: a RAW file, a block device, or another format imsprep reads.
    pub image: PathBuf,
    /// The key: HKLM\SYSTEM\Select, HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion ...
    /// (the hives of Windows\System32\config; CurrentControlSet does not exist offline).
    pub key: String,
    /// Print the key as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `imsprep completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// A format `convert` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// ZVHD2, for fast import.
    Zvhd2,
    /// A RAW disk (sparse when written to a file).
    Raw,
}

/// A format the user declares an input to be, over what its name says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeclaredFormat {
    /// A plain disk.
    Raw,
}

/// Image type as the request's `type` field names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImageType {
    /// System disk of an elastic cloud server.
    #[value(name = "ECS", alias = "ecs")]
    Ecs,
    /// System disk of a bare-metal server.
    #[value(name = "BMS", alias = "bms")]
    Bms,
    /// A data disk.
    #[value(name = "DataImage", alias = "dataimage", alias = "data")]
    DataImage,
}

/// A cloud of the Huawei stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudArg {
    /// Huawei Cloud.
    #[value(name = "huaweicloud", alias = "huawei")]
    HuaweiCloud,
    /// Open Telekom Cloud.
    #[value(name = "otc")]
    Otc,
}

/// Guest CPU architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Arch {
    /// x86-64.
    X86,
    /// AArch64.
    Arm,
}

/// Boot firmware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Firmware {
    /// Legacy BIOS boot.
    Bios,
    /// UEFI boot.
    Uefi,
}
