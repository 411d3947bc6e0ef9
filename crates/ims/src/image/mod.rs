//! Checks of an image file against fast import, from plain facts.
//!
//! [`ImageFacts`] holds what the rules need to know about a file and
//! [`Intent`] what the user asks for; [`check_image`] turns them into
//! findings. [`ImageFacts::from_probe`] fills the facts from a probe report,
//! but the rules never touch a file, so they are tested with hand-made facts.

mod from_probe;

pub use imsprep_probe::{Format, PartitionTable};

use crate::finding::{Code, Finding};
use crate::model::{Architecture, Firmware, ImageRequest, ImageType};
use crate::os::Cloud;
use crate::shown::quoted;

/// One GiB; `min_disk` is in these units.
pub const GIB: u64 = 1 << 30;
/// The largest file and virtual disk fast import takes: 1 TiB.
pub const MAX_IMAGE_BYTES: u64 = 1 << 40;
/// Largest `min_disk` in GiB.
pub const MAX_MIN_DISK: u32 = 1024;

/// The smallest `min_disk` (GiB) that covers a disk of `disk_bytes`:
/// `max(1, ceil(bytes / GiB))`, saturating at `u32::MAX`.
pub fn smallest_min_disk(disk_bytes: u64) -> u32 {
    let gib = disk_bytes / GIB + u64::from(disk_bytes % GIB != 0);
    u32::try_from(gib.max(1)).unwrap_or(u32::MAX)
}

/// What is known about the partition table and file systems of a disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutFacts {
    /// The partition table found.
    pub table: PartitionTable,
    /// For an MBR table: whether bytes 510..512 are 55 AA.
    pub mbr_boot_signature: bool,
    /// For GPT: the primary header's CRC is valid.
    pub gpt_header_crc_ok: bool,
    /// For GPT: the primary partition-entry array's CRC is valid.
    pub gpt_entries_crc_ok: bool,
    /// For GPT: the backup header's CRCs are valid (`None`: no backup found).
    pub gpt_backup_crc_ok: Option<bool>,
    /// An EFI System Partition exists (GPT type or MBR type 0xEF).
    pub has_esp: bool,
    /// Any file system was found, on a partition or on the whole disk.
    pub has_filesystem: bool,
    /// Partitions (by number) that hold a LUKS volume.
    pub luks_partitions: Vec<u32>,
}

/// What the image checks need to know about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    /// The file as named by the user, for messages and commands.
    pub file_name: String,
    /// Detected format (untrusted when `ambiguous` is not empty).
    pub format: Format,
    /// Every candidate format when more than one claims the file.
    pub ambiguous: Vec<Format>,
    /// File name extension, lowercase, without dot.
    pub extension: Option<String>,
    /// The format the extension suggests.
    pub extension_format: Option<Format>,
    /// Size of the file in bytes.
    pub file_size: u64,
    /// Size of the disk the image holds: the file size for RAW, `curr_size`
    /// for ZVHD2, the header's virtual size for other formats.
    pub disk_size: Option<u64>,
    /// A tar file whose first member is an `.ovf`.
    pub ova: bool,
    /// The image format itself is encrypted (LUKS, encrypted QCOW2, LUKS on the whole disk).
    pub encrypted: bool,
    /// Other files the image refers to, described (e.g. "backing file base.qcow2").
    pub external_refs: Vec<String>,
    /// Why a ZVHD2 file is not well formed, if it is not.
    pub zvhd2_problem: Option<String>,
    /// Partition table facts, when the format could be read as a disk.
    pub layout: Option<LayoutFacts>,
}

impl ImageFacts {
    /// Facts for a file of `format` and `file_size`, with nothing else known.
    pub fn new(file_name: impl Into<String>, format: Format, file_size: u64) -> ImageFacts {
        let file_name = file_name.into();
        let extension = file_name
            .rsplit('/')
            .next()
            .and_then(|n| n.rsplit_once('.'))
            .map(|(_, e)| e.to_ascii_lowercase())
            .filter(|e| !e.is_empty());
        let extension_format = extension.as_deref().and_then(Format::from_extension);
        ImageFacts {
            file_name,
            format,
            ambiguous: Vec::new(),
            extension,
            extension_format,
            file_size,
            disk_size: (format == Format::Raw).then_some(file_size),
            ova: false,
            encrypted: false,
            external_refs: Vec::new(),
            zvhd2_problem: None,
            layout: None,
        }
    }
}

/// What the user intends to do with the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// System disk (ECS, BMS) or data disk.
    pub image_type: ImageType,
    /// Guest architecture.
    pub architecture: Architecture,
    /// Firmware asked for; see [`Intent::effective_firmware`].
    pub firmware: Option<Firmware>,
    /// `min_disk` of the request, if known.
    pub min_disk: Option<u32>,
    /// Object name of the image in the bucket (the part after `bucket:`).
    pub image_object: Option<String>,
    /// Object name of the bitmap file, for a RAW image.
    pub bitmap_object: Option<String>,
    /// The cloud the image goes to, when known: it decides which
    /// `os_version` spelling is chosen and how UEFI is registered.
    pub cloud: Option<Cloud>,
}

impl Default for Intent {
    fn default() -> Self {
        Intent {
            image_type: ImageType::Ecs,
            architecture: Architecture::X86,
            firmware: None,
            min_disk: None,
            image_object: None,
            bitmap_object: None,
            cloud: None,
        }
    }
}

impl Intent {
    /// The firmware the image will boot with: arm always UEFI; x86 BIOS unless UEFI is asked for.
    pub fn effective_firmware(&self) -> Firmware {
        match (self.architecture, self.firmware) {
            (Architecture::Arm, _) => Firmware::Uefi,
            (Architecture::X86, f) => f.unwrap_or(Firmware::Bios),
        }
    }

    /// The intent a request expresses; invalid enum values fall back to the defaults
    /// (validation reports them).
    pub fn from_request(req: &ImageRequest) -> Intent {
        Intent {
            image_type: req.effective_type().unwrap_or(ImageType::Ecs),
            architecture: req.effective_architecture().unwrap_or(Architecture::X86),
            firmware: req.hw_firmware_type.as_deref().and_then(|f| f.parse().ok()),
            min_disk: req.min_disk,
            image_object: req.object_name().map(str::to_owned),
            bitmap_object: None,
            cloud: None,
        }
    }
}

/// Quotes a file name for a shell command when it needs it.
fn sh(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '+' | ':'));
    if plain {
        name.to_owned()
    } else {
        format!("'{}'", name.replace('\'', "'\\''"))
    }
}

/// `name` without its last extension (folders kept).
fn stem(name: &str) -> &str {
    let base_start = name.rfind('/').map_or(0, |i| i + 1);
    match name.rfind('.') {
        Some(dot) if dot > base_start => name.get(..dot).unwrap_or(name),
        _ => name,
    }
}

/// qemu-img's name for a format it can read.
fn qemu_format(f: Format) -> Option<&'static str> {
    Some(match f {
        Format::Qcow2 => "qcow2",
        Format::Vmdk => "vmdk",
        Format::Vhd => "vpc",
        Format::Vhdx => "vhdx",
        Format::Vdi => "vdi",
        Format::Qed => "qed",
        _ => return None,
    })
}

/// The command that unpacks an archive of `format`.
fn unpack_command(format: Format, name: &str) -> String {
    let n = sh(name);
    match format {
        Format::Gzip => format!("gzip -dk {n}"),
        Format::Xz => format!("xz -dk {n}"),
        Format::Zstd => format!("zstd -d {n}"),
        Format::Bzip2 => format!("bzip2 -dk {n}"),
        Format::Zip => format!("unzip {n}"),
        _ => format!("tar -xf {n}"),
    }
}

/// Every finding about an image file for the given intent.
pub fn check_image(facts: &ImageFacts, intent: &Intent) -> Vec<Finding> {
    let mut out = Vec::new();
    let img = "image";
    let name = facts.file_name.as_str();
    if facts.file_size == 0 {
        out.push(Finding::new(
            Code::ImageEmpty,
            img,
            format!("{name} is empty"),
        ));
        return out;
    }
    if facts.file_size > MAX_IMAGE_BYTES {
        out.push(Finding::new(
            Code::ImageFileTooLarge,
            img,
            format!("the file has {} bytes, more than 1 TiB", facts.file_size),
        ));
    }
    if facts.ambiguous.len() > 1 {
        let list: Vec<String> = facts.ambiguous.iter().map(|f| f.to_string()).collect();
        out.push(Finding::new(
            Code::ImageAmbiguous,
            img,
            format!("the file matches the signatures of {}", list.join(", ")),
        ));
        return out;
    }
    if let Some(ext_format) = facts.extension_format {
        if ext_format != facts.format && ext_format != Format::Raw && facts.format == Format::Raw {
            // A name that promises a structured format over bytes that show
            // none: reading them as RAW would turn a broken download into a
            // "valid" disk of garbage.
            out.push(Finding::new(
                Code::ImageNameContradicts,
                img,
                format!(
                    "the name ends in .{} ({ext_format}) but the bytes carry no {ext_format} signature: {}",
                    facts.extension.as_deref().unwrap_or(""),
                    if facts.file_size < 1024 {
                        format!("at {} bytes it is too short to be one (truncated?)", facts.file_size)
                    } else {
                        "it is truncated, damaged, or another kind of file".to_string()
                    }
                ),
            ));
            return out;
        }
        if ext_format != facts.format {
            let ext = facts.extension.as_deref().unwrap_or("");
            let fix = match facts.format.extensions().first() {
                Some(want) => format!("Rename it to {}.{want}.", sh(stem(name))),
                None => Code::ImageExtensionMismatch.fix().to_owned(),
            };
            out.push(
                Finding::new(
                    Code::ImageExtensionMismatch,
                    img,
                    format!(
                        "the name ends in .{ext} ({ext_format}) but the content is {}",
                        facts.format
                    ),
                )
                .with_fix(fix),
            );
        }
    }
    let format_ok = check_format(facts, intent, &mut out);
    for r in &facts.external_refs {
        out.push(Finding::new(
            Code::ImageExternalRef,
            img,
            format!("the image refers to another file: {r}"),
        ));
    }
    if facts.encrypted && facts.format != Format::Luks {
        out.push(Finding::new(
            Code::ImageEncrypted,
            img,
            format!("the {} image is encrypted", facts.format),
        ));
    }
    check_sizes(facts, intent, &mut out);
    if format_ok {
        if let Some(layout) = &facts.layout {
            check_layout(layout, intent, &mut out);
        }
    }
    out
}

/// Format findings; true when the format is one fast import takes (so the
/// disk layout is worth judging).
fn check_format(facts: &ImageFacts, intent: &Intent, out: &mut Vec<Finding>) -> bool {
    let img = "image";
    let name = facts.file_name.as_str();
    let base = stem(name);
    match facts.format {
        Format::Zvhd2 => {
            if let Some(p) = &facts.zvhd2_problem {
                out.push(
                    Finding::new(Code::Zvhd2Structure, img, p.clone()).with_fix(format!(
                        "Convert the RAW disk again: `imsprep convert {} {}`.",
                        sh(&format!("{base}.raw")),
                        sh(name)
                    )),
                );
                return false;
            }
            true
        }
        Format::Raw => {
            if facts.file_size % 512 != 0 {
                out.push(Finding::new(
                    Code::ImageRawAlignment,
                    img,
                    format!(
                        "the file has {} bytes, {} more than a whole number of 512-byte sectors",
                        facts.file_size,
                        facts.file_size % 512
                    ),
                ));
            }
            check_bitmap(facts, intent, out);
            true
        }
        Format::Zvhd => {
            out.push(
                Finding::new(Code::ImageZvhdOld, img, "the file is ZVHD (version 1)").with_fix(
                    format!(
                        "Convert it to RAW (`qemu-img-hw convert -O raw {} {}`), then `imsprep convert {} {}`.",
                        sh(name),
                        sh(&format!("{base}.raw")),
                        sh(&format!("{base}.raw")),
                        sh(&format!("{base}.zvhd2"))
                    ),
                ),
            );
            false
        }
        Format::Iso9660 => {
            out.push(Finding::new(
                Code::ImageIso,
                img,
                "the file is an ISO 9660 image",
            ));
            false
        }
        Format::Luks => {
            out.push(Finding::new(
                Code::ImageEncrypted,
                img,
                "the file is a LUKS encrypted volume",
            ));
            false
        }
        f if f.is_archive() => {
            let (what, fix) = if facts.ova {
                (
                    "an OVA (a tar holding an OVF descriptor and disks)".to_owned(),
                    format!(
                        "Unpack it (`{}`), convert the system disk's .vmdk with `qemu-img convert -f vmdk -O raw DISK.vmdk {}`, then `imsprep convert {} {}`.",
                        unpack_command(f, name),
                        sh(&format!("{base}.raw")),
                        sh(&format!("{base}.raw")),
                        sh(&format!("{base}.zvhd2"))
                    ),
                )
            } else {
                (
                    format!("{f} data"),
                    format!(
                        "Unpack it (`{}`) and check the file inside with `imsprep inspect`.",
                        unpack_command(f, name)
                    ),
                )
            };
            out.push(
                Finding::new(
                    Code::ImageArchive,
                    img,
                    format!("the file is {what}, not a disk image"),
                )
                .with_fix(fix),
            );
            false
        }
        f => {
            match qemu_format(f) {
                Some(q) => out.push(
                    Finding::new(
                        Code::ImageFormatConvert,
                        img,
                        format!("the file is {f}; fast import takes only RAW and ZVHD2"),
                    )
                    .with_fix(format!(
                        "Convert it: `qemu-img convert -f {q} -O raw {} {}`, then `imsprep convert {} {}`.",
                        sh(name),
                        sh(&format!("{base}.raw")),
                        sh(&format!("{base}.raw")),
                        sh(&format!("{base}.zvhd2"))
                    )),
                ),
                None => out.push(Finding::new(
                    Code::ImageUnknownFormat,
                    img,
                    format!("the file's format ({f}) is not one fast import takes"),
                )),
            }
            false
        }
    }
}

/// RAW bitmap: needed, and named after the image.
fn check_bitmap(facts: &ImageFacts, intent: &Intent, out: &mut Vec<Finding>) {
    let name = facts.file_name.as_str();
    let Some(bitmap) = &intent.bitmap_object else {
        out.push(
            Finding::new(
                Code::ImageRawNeedsBitmap,
                "image",
                "a RAW image is imported together with its bitmap file",
            )
            .with_fix(format!(
                "Write the bitmap with `imsprep bitmap {}` and upload it next to the image, or convert: `imsprep convert {} {}`.",
                sh(name),
                sh(name),
                sh(&format!("{}.zvhd2", stem(name)))
            )),
        );
        return;
    };
    if let Some(image) = &intent.image_object {
        let want = format!("{}.mf", stem(image));
        if *bitmap != want {
            out.push(
                Finding::new(
                    Code::ImageBitmapName,
                    "bitmap",
                    format!(
                        "bitmap object {} does not match image object {}",
                        quoted(bitmap),
                        quoted(image)
                    ),
                )
                .with_fix(format!("Name the bitmap object \"{want}\".")),
            );
        }
    }
}

/// File and disk size limits and `min_disk`.
fn check_sizes(facts: &ImageFacts, intent: &Intent, out: &mut Vec<Finding>) {
    let Some(disk) = facts.disk_size else { return };
    let needed = smallest_min_disk(disk);
    if needed > MAX_MIN_DISK {
        out.push(Finding::new(
            Code::ImageDiskTooLarge,
            "image",
            format!("the disk is {disk} bytes ({needed} GiB rounded up), more than 1 TiB"),
        ));
        return;
    }
    if let Some(min_disk) = intent.min_disk {
        if min_disk < needed {
            out.push(
                Finding::new(
                    Code::ImageMinDiskSmall,
                    "$.min_disk",
                    format!(
                        "min_disk is {min_disk} GiB but the disk is {disk} bytes, which needs {needed} GiB"
                    ),
                )
                .with_fix(format!("Set min_disk to {needed} or more.")),
            );
        }
    }
}

/// Partition table and boot findings.
fn check_layout(layout: &LayoutFacts, intent: &Intent, out: &mut Vec<Finding>) {
    let img = "image";
    if layout.table == PartitionTable::Gpt {
        let mut bad = Vec::new();
        if !layout.gpt_header_crc_ok {
            bad.push("primary header");
        }
        if !layout.gpt_entries_crc_ok {
            bad.push("primary partition entries");
        }
        if layout.gpt_backup_crc_ok == Some(false) {
            bad.push("backup header or entries");
        }
        if !bad.is_empty() {
            out.push(Finding::new(
                Code::DiskGptCrc,
                img,
                format!("GPT CRC-32 mismatch in the {}", bad.join(", ")),
            ));
        }
    }
    for p in &layout.luks_partitions {
        out.push(Finding::new(
            Code::ImageEncrypted,
            img,
            format!("partition {p} is a LUKS encrypted volume"),
        ));
    }
    if !intent.image_type.is_system_disk() {
        return;
    }
    if layout.table == PartitionTable::None && !layout.has_filesystem {
        out.push(Finding::new(
            Code::DiskNotBootable,
            img,
            "no partition table and no file system were found",
        ));
        return;
    }
    if layout.table == PartitionTable::Mbr && !layout.mbr_boot_signature {
        out.push(Finding::new(
            Code::DiskMbrSignature,
            img,
            "the MBR lacks the 55 AA boot signature",
        ));
    }
    if intent.effective_firmware() == Firmware::Uefi {
        let why = if intent.architecture == Architecture::Arm {
            "arm boots with UEFI"
        } else {
            "UEFI boot is requested"
        };
        if layout.table == PartitionTable::Mbr {
            out.push(Finding::new(
                Code::DiskMbrUefi,
                img,
                format!("{why} but the disk has an MBR partition table"),
            ));
        }
        if layout.table != PartitionTable::None && !layout.has_esp {
            out.push(Finding::new(
                Code::DiskNoEsp,
                img,
                format!("{why} but the disk has no EFI System Partition"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smallest_min_disk_rounds_up() {
        assert_eq!(smallest_min_disk(0), 1);
        assert_eq!(smallest_min_disk(1), 1);
        assert_eq!(smallest_min_disk(GIB), 1);
        assert_eq!(smallest_min_disk(GIB + 1), 2);
        assert_eq!(smallest_min_disk(40 * GIB), 40);
        assert_eq!(smallest_min_disk(MAX_IMAGE_BYTES), 1024);
        assert_eq!(smallest_min_disk(MAX_IMAGE_BYTES + 1), 1025);
        assert_eq!(smallest_min_disk(u64::MAX), u32::MAX);
    }

    #[test]
    fn stems() {
        assert_eq!(stem("a/b/image01.raw"), "a/b/image01");
        assert_eq!(stem("image01"), "image01");
        assert_eq!(stem("dir.d/image01"), "dir.d/image01");
        assert_eq!(stem(".hidden"), ".hidden");
        assert_eq!(sh("my disk.raw"), "'my disk.raw'");
        assert_eq!(sh("a/b.raw"), "a/b.raw");
    }

    #[test]
    fn firmware_defaults() {
        let mut i = Intent::default();
        assert_eq!(i.effective_firmware(), Firmware::Bios);
        i.firmware = Some(Firmware::Uefi);
        assert_eq!(i.effective_firmware(), Firmware::Uefi);
        i.architecture = Architecture::Arm;
        i.firmware = Some(Firmware::Bios);
        assert_eq!(i.effective_firmware(), Firmware::Uefi);
    }
}
