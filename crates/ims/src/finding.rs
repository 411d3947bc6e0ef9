//! Findings and the catalogue of finding codes.
//!
//! This module is the only place where a finding code is defined. Every other
//! part of the project (the CLI included) refers to [`Code`] variants, so the
//! stable identifiers, severities and the generated `docs/checks.md` cannot
//! drift apart.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How serious a finding is.
///
/// Ordered from least to most serious so that `max()` over a list gives the
/// overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing needs to change.
    Info,
    /// Probably wrong or not portable between clouds; the service may still accept it.
    Warning,
    /// The service would reject the request or the import would fail.
    Error,
}

impl Severity {
    /// The lowercase name used in JSON output and in `docs/checks.md`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the project states about one finding code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The code itself.
    pub code: Code,
    /// Stable identifier, e.g. `REQ-NAME-CHARS`; never reused for another meaning.
    pub id: &'static str,
    /// Severity a finding with this code gets.
    pub severity: Severity,
    /// The IMS error code the service answers with for the same problem, when one is known.
    pub service_code: Option<&'static str>,
    /// One line: what is wrong.
    pub meaning: &'static str,
    /// One line: the generic way to fix it (a finding may carry a more specific fix).
    pub fix: &'static str,
}

/// Defines [`Code`] and [`CATALOGUE`] from one list so the two cannot disagree.
macro_rules! codes {
    ($(
        $variant:ident {
            id: $id:literal,
            severity: $sev:ident,
            service: $svc:expr,
            meaning: $meaning:literal,
            fix: $fix:literal $(,)?
        }
    ),* $(,)?) => {
        /// A finding code. The stable string form is [`Code::id`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $(
                #[doc = $meaning]
                $variant,
            )*
        }

        /// Every finding code, in the order `docs/checks.md` lists them.
        pub const CATALOGUE: &[CodeInfo] = &[
            $(
                CodeInfo {
                    code: Code::$variant,
                    id: $id,
                    severity: Severity::$sev,
                    service_code: $svc,
                    meaning: $meaning,
                    fix: $fix,
                },
            )*
        ];
    };
}

codes! {
    // --- The request file as JSON -------------------------------------------------
    JsonSyntax {
        id: "JSON-SYNTAX", severity: Error, service: None,
        meaning: "The request file is not valid JSON.",
        fix: "Correct the JSON at the line and column given; a JSON validator or `jq .` shows the spot.",
    },
    JsonNotObject {
        id: "JSON-NOT-OBJECT", severity: Error, service: None,
        meaning: "The request body is not a JSON object.",
        fix: "Write the body as one object: `{\"name\": ..., \"image_url\": ..., ...}`.",
    },
    JsonUnknownField {
        id: "JSON-UNKNOWN-FIELD", severity: Error, service: None,
        meaning: "A field the quick-import API does not define (often a typo).",
        fix: "Rename the field to the one suggested, or remove it.",
    },
    JsonWrongType {
        id: "JSON-WRONG-TYPE", severity: Error, service: None,
        meaning: "A field has the wrong JSON type (e.g. a number written as a string).",
        fix: "Write the value with the JSON type the API expects (strings quoted, min_disk a bare integer, tags an array).",
    },
    JsonNull {
        id: "JSON-NULL", severity: Warning, service: None,
        meaning: "A field is set to null.",
        fix: "Leave the field out instead of sending null.",
    },
    JsonDuplicateKey {
        id: "JSON-DUPLICATE-KEY", severity: Error, service: None,
        meaning: "The same field appears twice in the body; which one wins depends on the parser.",
        fix: "Keep one occurrence of the field.",
    },

    // --- Request fields ----------------------------------------------------------
    ReqMissingField {
        id: "REQ-MISSING-FIELD", severity: Error, service: None,
        meaning: "A required field (name, image_url or min_disk) is absent.",
        fix: "Add the field.",
    },
    ReqNameLength {
        id: "REQ-NAME-LENGTH", severity: Error, service: Some("IMG.0002"),
        meaning: "The image name is empty or longer than 128 characters.",
        fix: "Use a name of 1 to 128 characters.",
    },
    ReqNameChars {
        id: "REQ-NAME-CHARS", severity: Error, service: Some("IMG.0003"),
        meaning: "The image name has a character other than letters, digits, space, `-`, `_` and `.`.",
        fix: "Replace the character; for example with `-` or `_`.",
    },
    ReqNameCjk {
        id: "REQ-NAME-CJK", severity: Warning, service: None,
        meaning: "The image name has Chinese characters, which only the Chinese cloud accepts.",
        fix: "Use letters, digits, space, `-`, `_` and `.` only if the image is also meant for other clouds (e.g. Open Telekom Cloud).",
    },
    ReqNameSpaceEdge {
        id: "REQ-NAME-SPACE-EDGE", severity: Error, service: Some("IMG.0003"),
        meaning: "The image name starts or ends with a space.",
        fix: "Remove the leading and trailing spaces.",
    },
    ReqDescriptionLength {
        id: "REQ-DESCRIPTION-LENGTH", severity: Error, service: Some("IMG.0004"),
        meaning: "The description is longer than 1024 characters.",
        fix: "Shorten the description to at most 1024 characters.",
    },
    ReqDescriptionChars {
        id: "REQ-DESCRIPTION-CHARS", severity: Error, service: None,
        meaning: "The description has a line break (carriage return or line feed), `<` or `>`.",
        fix: "Write the description on one line without `<` and `>`.",
    },
    ReqTagFormat {
        id: "REQ-TAG-FORMAT", severity: Error, service: None,
        meaning: "An entry of `tags` is not of the form `key.value`.",
        fix: "Write each tag as `key.value`; the first dot separates key and value.",
    },
    ReqTagKey {
        id: "REQ-TAG-KEY", severity: Error, service: None,
        meaning: "A tag key is not 1 to 36 characters of letters, digits, `_` and `-`.",
        fix: "Use a key of 1 to 36 letters, digits, `_` or `-`.",
    },
    ReqTagValue {
        id: "REQ-TAG-VALUE", severity: Error, service: None,
        meaning: "A tag value is longer than 43 characters or has a character other than letters, digits, `_` and `-`.",
        fix: "Use a value of 0 to 43 letters, digits, `_` or `-`.",
    },
    ReqTagValueExtended {
        id: "REQ-TAG-VALUE-EXTENDED", severity: Warning, service: None,
        meaning: "A tag value has `.` or Chinese characters, which only the Chinese cloud documents as allowed.",
        fix: "Use letters, digits, `_` and `-` only if the image is also meant for other clouds.",
    },
    ReqTagDuplicate {
        id: "REQ-TAG-DUPLICATE", severity: Error, service: None,
        meaning: "Two tags have the same key.",
        fix: "Keep one tag per key.",
    },
    ReqTagsBoth {
        id: "REQ-TAGS-BOTH", severity: Error, service: None,
        meaning: "Both `tags` and `image_tags` are given.",
        fix: "Use only one of them; `image_tags` is the structured form.",
    },
    ReqTagTrimmed {
        id: "REQ-TAG-TRIMMED", severity: Info, service: None,
        meaning: "An `image_tags` key or value has leading or trailing spaces, which the service removes.",
        fix: "Remove the spaces so the tag reads as stored.",
    },
    ReqType {
        id: "REQ-TYPE", severity: Error, service: None,
        meaning: "`type` is not one of `ECS`, `BMS`, `DataImage`.",
        fix: "Use `ECS` (the default), `BMS` or `DataImage`, spelled exactly so.",
    },
    ReqOsVersionMissing {
        id: "REQ-OS-VERSION-MISSING", severity: Error, service: Some("IMG.0159"),
        meaning: "A system-disk image (type ECS or BMS) has no `os_version`; fast import requires it.",
        fix: "Add `os_version`, e.g. \"Ubuntu 18.04 server 64bit\".",
    },
    ReqOsVersionOnData {
        id: "REQ-OS-VERSION-ON-DATA", severity: Error, service: None,
        meaning: "A data-disk image (type DataImage) has `os_version`; data disks take `os_type` instead.",
        fix: "Replace `os_version` with `os_type` (`Linux` or `Windows`).",
    },
    ReqOsTypeOnSystem {
        id: "REQ-OS-TYPE-ON-SYSTEM", severity: Error, service: None,
        meaning: "A system-disk image (type ECS or BMS) has `os_type`, which only data-disk images take.",
        fix: "Remove `os_type` and give `os_version`, or set `type` to `DataImage` for a data disk.",
    },
    ReqOsTypeMissing {
        id: "REQ-OS-TYPE-MISSING", severity: Error, service: None,
        meaning: "A data-disk image (type DataImage) has no `os_type`.",
        fix: "Add `os_type`: `Linux` or `Windows`.",
    },
    ReqOsType {
        id: "REQ-OS-TYPE", severity: Error, service: None,
        meaning: "`os_type` is not `Linux` or `Windows`.",
        fix: "Use `Linux` or `Windows`, spelled exactly so.",
    },
    ReqArchitecture {
        id: "REQ-ARCHITECTURE", severity: Error, service: Some("IMG.0212"),
        meaning: "`architecture` is not `x86` or `arm`.",
        fix: "Use `x86` (the default) or `arm`.",
    },
    ReqFirmware {
        id: "REQ-FIRMWARE", severity: Error, service: None,
        meaning: "`hw_firmware_type` is not `bios` or `uefi`.",
        fix: "Use `bios` or `uefi`.",
    },
    ReqArmBios {
        id: "REQ-ARM-BIOS", severity: Error, service: None,
        meaning: "An arm image is set to boot with BIOS; arm images always boot with UEFI.",
        fix: "Set `hw_firmware_type` to `uefi` or leave it out.",
    },
    ReqLicenseType {
        id: "REQ-LICENSE-TYPE", severity: Error, service: None,
        meaning: "`license_type` is not `platform` or `byol`.",
        fix: "Use `platform` or `byol`.",
    },
    ReqLicenseNotWindows {
        id: "REQ-LICENSE-NOT-WINDOWS", severity: Error, service: None,
        meaning: "`license_type` is given for an image that is not Windows; it applies to Windows only.",
        fix: "Remove `license_type`.",
    },
    ReqImageUrlFormat {
        id: "REQ-IMAGE-URL-FORMAT", severity: Error, service: None,
        meaning: "`image_url` is not of the form `bucket:object`.",
        fix: "Write `image_url` as `bucket:path/to/file.zvhd2` (no `obs://`, no `https://`).",
    },
    ReqBucketName {
        id: "REQ-BUCKET-NAME", severity: Error, service: None,
        meaning: "The bucket in `image_url` breaks the bucket naming rules.",
        fix: "Bucket names have 3 to 63 lowercase letters, digits, `-` and `.`, start and end with a letter or digit, have no `..`, `.-` or `-.`, and are not IP addresses.",
    },
    ReqObjectSpace {
        id: "REQ-OBJECT-SPACE", severity: Error, service: Some("IMG.0175"),
        meaning: "The object path in `image_url` has a space in a folder or file name.",
        fix: "Rename the object (and its folders) without spaces and upload it again.",
    },
    ReqObjectExtension {
        id: "REQ-OBJECT-EXTENSION", severity: Warning, service: Some("IMG.0158"),
        meaning: "The object in `image_url` does not end in `.raw` or `.zvhd2`, the only formats fast import takes.",
        fix: "Check that the object is the RAW or ZVHD2 file; convert other formats first.",
    },
    ReqMinDiskRange {
        id: "REQ-MIN-DISK-RANGE", severity: Error, service: Some("IMG.0111"),
        meaning: "`min_disk` is not an integer from 1 to 1024 (GiB).",
        fix: "Give `min_disk` in GiB, from 1 to 1024.",
    },
    ReqEnterpriseProject {
        id: "REQ-ENTERPRISE-PROJECT", severity: Error, service: None,
        meaning: "`enterprise_project_id` is neither \"0\" nor a UUID.",
        fix: "Use \"0\" for the default project or the project's UUID.",
    },

    // --- OS versions -------------------------------------------------------------
    OsVersionUnknown {
        id: "OS-VERSION-UNKNOWN", severity: Warning, service: None,
        meaning: "`os_version` is not in the known lists of either cloud; the service may reject it.",
        fix: "Use one of the suggested strings, or check the target cloud's current list.",
    },
    OsVersionCase {
        id: "OS-VERSION-CASE", severity: Warning, service: None,
        meaning: "`os_version` matches a known string except for upper/lower case.",
        fix: "Use the exact spelling given.",
    },
    OsVersionOneCloud {
        id: "OS-VERSION-ONE-CLOUD", severity: Info, service: None,
        meaning: "`os_version` is known on one cloud's list only.",
        fix: "Nothing to do if the image goes to that cloud; otherwise pick a string the other cloud lists.",
    },
    Os32Bit {
        id: "OS-32BIT", severity: Warning, service: None,
        meaning: "`os_version` names a 32-bit system; such images get few instance flavors and at most 4 GiB of memory is used.",
        fix: "Prefer a 64-bit image where possible.",
    },
    OsWindows {
        id: "OS-WINDOWS", severity: Info, service: None,
        meaning: "A Windows image: it needs the cloud's virtio drivers inside, and `license_type` applies.",
        fix: "Install the virtio drivers before export; set `license_type` to `platform` or `byol`.",
    },

    // --- The image file ----------------------------------------------------------
    ImageEmpty {
        id: "IMAGE-EMPTY", severity: Error, service: Some("IMG.0057"),
        meaning: "The image file is empty.",
        fix: "Export the disk again.",
    },
    ImageFormatConvert {
        id: "IMAGE-FORMAT-CONVERT", severity: Error, service: Some("IMG.0158"),
        meaning: "The image is a virtual-disk format fast import does not take (only RAW and ZVHD2).",
        fix: "Convert to RAW with `qemu-img convert -O raw IN OUT.raw`, then to ZVHD2 with `imsprep convert OUT.raw OUT.zvhd2`.",
    },
    ImageRawNeedsBitmap {
        id: "IMAGE-RAW-NEEDS-BITMAP", severity: Warning, service: Some("IMG.0158"),
        meaning: "A RAW image needs a bitmap file (`.mf`) next to it in the bucket.",
        fix: "Write the bitmap with `imsprep bitmap IN.raw` (it writes IN.mf), or convert with `imsprep convert IN.raw OUT.zvhd2` (ZVHD2 needs no bitmap).",
    },
    ImageZvhdOld {
        id: "IMAGE-ZVHD-OLD", severity: Error, service: Some("IMG.0158"),
        meaning: "The image is in the old ZVHD format, not ZVHD2.",
        fix: "Convert it to RAW (`qemu-img-hw convert -O raw IN.zvhd OUT.raw`), then to ZVHD2 with `imsprep convert OUT.raw OUT.zvhd2`.",
    },
    ImageArchive {
        id: "IMAGE-ARCHIVE", severity: Error, service: Some("IMG.0158"),
        meaning: "The file is a compressed file or an archive (gzip, xz, zstd, bzip2, zip, tar, OVA), not a disk image.",
        fix: "Unpack it and check the disk image inside.",
    },
    ImageIso {
        id: "IMAGE-ISO", severity: Error, service: Some("IMG.0158"),
        meaning: "The file is an ISO 9660 image; fast import does not take ISO files.",
        fix: "Register ISO files through the console's ISO image import, or install the system and export its disk.",
    },
    ImageEncrypted {
        id: "IMAGE-ENCRYPTED", severity: Error, service: None,
        meaning: "The image is encrypted (e.g. LUKS); the service cannot import encrypted disks.",
        fix: "Export an unencrypted disk.",
    },
    ImageAmbiguous {
        id: "IMAGE-AMBIGUOUS", severity: Error, service: None,
        meaning: "The file matches the signatures of more than one format; imsprep refuses to guess.",
        fix: "Find out what the file is (`qemu-img info`, `file`) and re-export it in one clear format.",
    },
    ImageUnknownFormat {
        id: "IMAGE-UNKNOWN-FORMAT", severity: Error, service: Some("IMG.0072"),
        meaning: "The file's format could not be told.",
        fix: "Export the disk as RAW or convert it with `qemu-img convert -O raw`.",
    },
    ImageNameContradicts {
        id: "IMAGE-NAME-CONTRADICTS", severity: Error, service: None,
        meaning: "The file name says it is a disk-image format (ZVHD2, QCOW2, VMDK, ...) that its content is not: a truncated or failed download, or another file under a wrong name.",
        fix: "Check where the file came from and fetch or export it again; if it really is a RAW disk, rename it (or pass `--format raw` to `convert`).",
    },
    ImageExtensionMismatch {
        id: "IMAGE-EXTENSION-MISMATCH", severity: Warning, service: None,
        meaning: "The file name's extension does not match its content.",
        fix: "Rename the file to match its format (the bitmap name follows the RAW file's name).",
    },
    ImageExternalRef {
        id: "IMAGE-EXTERNAL-REF", severity: Error, service: None,
        meaning: "The image refers to other files (backing file, external data file, extents) that would not be uploaded.",
        fix: "Flatten it into one file: `qemu-img convert -O raw IN OUT.raw`.",
    },
    ImageRawAlignment {
        id: "IMAGE-RAW-ALIGNMENT", severity: Error, service: None,
        meaning: "The RAW file's size is not a multiple of 512 bytes, so it is not a whole disk.",
        fix: "Re-export the disk, or pad it: `truncate -s %512 IN.raw` only if you know the tail is missing padding.",
    },
    ImageDiskTooLarge {
        id: "IMAGE-DISK-TOO-LARGE", severity: Error, service: Some("IMG.0111"),
        meaning: "The virtual disk is larger than 1 TiB (2^40 bytes), the most fast import takes.",
        fix: "Shrink the disk's partitions and the disk itself below 1 TiB.",
    },
    ImageFileTooLarge {
        id: "IMAGE-FILE-TOO-LARGE", severity: Error, service: None,
        meaning: "The file is larger than 1 TiB (2^40 bytes), the most fast import takes.",
        fix: "Shrink the disk, or convert a RAW file to ZVHD2, which stores only the used blocks.",
    },
    ImageMinDiskSmall {
        id: "IMAGE-MIN-DISK-SMALL", severity: Error, service: Some("IMG.0111"),
        meaning: "`min_disk` is smaller than the image's disk size.",
        fix: "Raise `min_disk` to at least the value given (the disk size in GiB, rounded up).",
    },
    ImageBitmapName {
        id: "IMAGE-BITMAP-NAME", severity: Error, service: Some("IMG.0158"),
        meaning: "The bitmap object is not named like the RAW object with the extension `.mf` in the same folder.",
        fix: "Name the bitmap after the image: `image01.raw` -> `image01.mf`.",
    },

    // --- Partition table / boot ------------------------------------------------
    DiskNotBootable {
        id: "DISK-NOT-BOOTABLE", severity: Error, service: None,
        meaning: "A system-disk image has neither a partition table nor a file system; it cannot boot.",
        fix: "Check that the file is the whole system disk, not a partition or an empty disk.",
    },
    DiskGptCrc {
        id: "DISK-GPT-CRC", severity: Error, service: None,
        meaning: "The GPT header or partition-entry CRC-32 is wrong; firmware may ignore the table.",
        fix: "Repair the table (e.g. `sgdisk -v`, then write it again with `gdisk`), or re-export the disk.",
    },
    DiskMbrSignature {
        id: "DISK-MBR-SIGNATURE", severity: Error, service: None,
        meaning: "The MBR has no boot signature (0x55AA); BIOS will not boot it.",
        fix: "Reinstall the boot loader (e.g. `grub-install`) or re-export the disk.",
    },
    DiskNoEsp {
        id: "DISK-NO-ESP", severity: Error, service: None,
        meaning: "UEFI boot is requested (or implied by arm) but the disk has no EFI System Partition.",
        fix: "Use a disk installed for UEFI boot, or request BIOS boot on x86.",
    },
    DiskMbrUefi {
        id: "DISK-MBR-UEFI", severity: Warning, service: None,
        meaning: "UEFI boot is requested but the disk has an MBR partition table, not GPT.",
        fix: "Convert the disk to GPT with an EFI System Partition, or request BIOS boot on x86.",
    },

    // --- Guest: image level (what the guest inside can boot with) ---------------
    ImgBootmode {
        id: "IMG-BOOTMODE", severity: Error, service: None,
        meaning: "The firmware the image will be started with (BIOS on x86 by default, UEFI on arm or when asked for) cannot start this disk, or a UEFI disk lacks the removable-media fallback loader.",
        fix: "Make the disk boot the way it will be started: `grub2-install` to the disk (plus a BIOS boot partition on GPT) for BIOS; for UEFI install `EFI/BOOT/BOOTX64.EFI` (`BOOTAA64.EFI` on arm), e.g. `grub-install --force-extra-removable`, and register the image with `hw_firmware_type` `uefi`.",
    },
    ImgSingleOs {
        id: "IMG-SINGLE-OS", severity: Error, service: None,
        meaning: "No operating system was found on the disk (nothing would boot), or more than one was (which one boots depends on the boot loader).",
        fix: "Check that the image is the whole system disk; for a multi-boot disk make sure the default entry starts the system you register.",
    },
    ImgFsReadable {
        id: "IMG-FS-READABLE", severity: Error, service: None,
        meaning: "A file system the guest checks need (the root, /boot) could not be read, so the guest could not be checked.",
        fix: "Read the reason: an unsupported or damaged file system; repair it (fsck) or convert it, or accept the finding if you have checked the guest by hand.",
    },
    ImgEncryption {
        id: "IMG-ENCRYPTION", severity: Error, service: None,
        meaning: "A volume is encrypted (LUKS, BitLocker): the cloud cannot unlock it at boot, and imsprep cannot check what is inside.",
        fix: "Decrypt the system volumes before export; keep encryption for data volumes unlocked after boot.",
    },
    ImgOsSupported {
        id: "IMG-OS-SUPPORTED", severity: Error, service: None,
        meaning: "The guest's OS family is not acceptable for this import path, or is absent from the cloud's OS list (then only the generic `Other Linux(64 bit)` applies).",
        fix: "Use an OS the target cloud lists, or register with the generic string knowing the platform applies no OS-specific handling.",
    },
    ImgFsClean {
        id: "IMG-FS-CLEAN", severity: Warning, service: None,
        meaning: "A system file system was not shut down cleanly (journal or log needs recovery, or errors are recorded); what imsprep read may be stale.",
        fix: "Boot the source VM and shut it down cleanly (`poweroff`), then export the disk again.",
    },
    ImgFreeSpace {
        id: "IMG-FREE-SPACE", severity: Warning, service: None,
        meaning: "A system file system is nearly full (root below 1 GiB or 5 % free, `/boot` below 100 MiB free).",
        fix: "Free space in the source VM (old kernels, logs, caches) or grow the file system before export.",
    },
    // --- Guest: Linux ------------------------------------------------------------
    LxOsId {
        id: "LX-OS-ID", severity: Error, service: None,
        meaning: "The Linux distribution and version could not be told (or only the major version), so `os_version` cannot be chosen with certainty.",
        fix: "Check `/etc/os-release` and the distribution's release file in the image; give `--os-version` explicitly.",
    },
    LxOsVersion {
        id: "LX-OS-VERSION", severity: Error, service: None,
        meaning: "The `os_version` string for the guest: exact from the built-in lists, the nearest listed version, or the generic fallback; never validated against the region's live list offline.",
        fix: "Use the string given; confirm it in the target region's list (`GET /v1/cloudimages/os_version`) when it is not exact.",
    },
    LxOsVersionDeclared {
        id: "LX-OS-VERSION-DECLARED", severity: Error, service: None,
        meaning: "The `os_version` given names another distribution, another major version or another word size than the guest inside the image; the service requires them to match.",
        fix: "Give the `os_version` that matches the guest (imsprep suggests one).",
    },
    LxArch {
        id: "LX-ARCH", severity: Error, service: None,
        meaning: "The guest's architecture is not one fast import takes (x86-64 as `x86`, AArch64 as `arm`), is 32-bit, or could not be read.",
        fix: "Import a 64-bit x86 or AArch64 system.",
    },
    LxArchDeclared {
        id: "LX-ARCH-DECLARED", severity: Error, service: None,
        meaning: "The `architecture` given contradicts the architecture of the guest's binaries.",
        fix: "Give `architecture` `x86` for an x86-64 guest and `arm` for an AArch64 guest.",
    },
    LxBootloader {
        id: "LX-BOOTLOADER", severity: Error, service: None,
        meaning: "No boot loader configuration with a default entry (kernel, initrd, command line) was found, or the entry names files that do not exist.",
        fix: "Regenerate the boot configuration in the source VM (`grub2-mkconfig -o /boot/grub2/grub.cfg` or `update-grub`) and check the default entry.",
    },
    LxKernel {
        id: "LX-KERNEL", severity: Error, service: None,
        meaning: "The default kernel is incomplete (no module directory), Xen-PV only, too old for virtio (2.6.24 or older), or not the newest installed.",
        fix: "Install and boot the distribution's current standard kernel (with its modules) before export.",
    },
    LxVirtioKernel {
        id: "LX-VIRTIO-KERNEL", severity: Error, service: None,
        meaning: "The default kernel lacks a virtio driver (virtio_blk, virtio_pci, virtio_net, virtio, virtio_ring as module or built in; virtio_scsi for SCSI disks).",
        fix: "Install the distribution kernel; custom kernels often omit virtio.",
    },
    LxVirtioInitrd {
        id: "LX-VIRTIO-INITRD", severity: Error, service: None,
        meaning: "The default initramfs cannot reach the virtio system disk: virtio, virtio_ring, virtio_pci or virtio_blk is neither built in nor inside it.",
        fix: "dracut: `add_drivers+=\" virtio_blk virtio_scsi virtio_net virtio_pci virtio_ring virtio \"` in `/etc/dracut.conf.d/virtio.conf`, then `dracut -f <initrd> <ver>`; Debian/Ubuntu: add the names to `/etc/initramfs-tools/modules`, `update-initramfs -u -k <ver>`; SUSE < 12 SP1: `INITRD_MODULES=` in `/etc/sysconfig/kernel`, `mkinitrd`.",
    },
    LxInitrdHostonly {
        id: "LX-INITRD-HOSTONLY", severity: Warning, service: None,
        meaning: "The initramfs generator will leave virtio out of the next initramfs (dracut host-only without virtio in `add_drivers`, initramfs-tools `MODULES=dep`, virtio in `omit_drivers`).",
        fix: "Add the virtio modules to `add_drivers` (dracut) or `/etc/initramfs-tools/modules`, or set `MODULES=most`; remove them from `omit_drivers`.",
    },
    LxInitrdCmdline {
        id: "LX-INITRD-CMDLINE", severity: Error, service: None,
        meaning: "The initramfs carries host-specific values: a `root=`/`rd.lvm.lv=`/`resume=` naming a device of the old hardware, or a persistent-net rule.",
        fix: "Fix the configuration in the guest, then rebuild the initramfs (`dracut -f --no-hostonly-cmdline` or `update-initramfs -u`).",
    },
    LxBootRootarg {
        id: "LX-BOOT-ROOTARG", severity: Error, service: None,
        meaning: "The kernel command line names the root (or resume, LVM, MD, LUKS) device in a form that will not exist on ECS.",
        fix: "Use `root=UUID=<uuid>` in the boot configuration and in `/etc/default/grub`, then regenerate it (`grub2-mkconfig -o ...`).",
    },
    LxFstabSpec {
        id: "LX-FSTAB-SPEC", severity: Error, service: None,
        meaning: "An `/etc/fstab` entry (or mount unit) names its device by a name of the old hardware (`/dev/sdX`, `/dev/xvdX`, `/dev/disk/by-id/...`), which will not exist on ECS.",
        fix: "Replace device names with `UUID=` in `/etc/fstab`; add `nofail` or remove entries for disks that are not part of the image.",
    },
    LxFstabRefs {
        id: "LX-FSTAB-REFS", severity: Error, service: None,
        meaning: "An `/etc/fstab` entry (or mount unit) names a UUID, label or volume that is not in the image; the boot waits for it and drops to emergency mode.",
        fix: "Remove the entry or add `nofail`; use the UUID of a file system that is in the image.",
    },
    LxSwapResume {
        id: "LX-SWAP-RESUME", severity: Warning, service: None,
        meaning: "Swap or `resume=` names a device name or a UUID not in the image; the boot waits for it.",
        fix: "Use `UUID=` of the swap in the image, or remove the swap entry and the `resume=` setting (then rebuild the initramfs).",
    },
    LxLvm {
        id: "LX-LVM", severity: Error, service: None,
        meaning: "LVM will not activate the root volume group on ECS: the devices file lists only the source disk's IDs, or a filter accepts only `/dev/sd*`.",
        fix: "`lvmdevices --deldev/--adddev` or `use_devicesfile=0` in `/etc/lvm/lvm.conf`; make filters accept `/dev/vd*`; rebuild the initramfs.",
    },
    LxUsrSeparate {
        id: "LX-USR-SEPARATE", severity: Warning, service: None,
        meaning: "`/usr` is a separate file system; IMS's own driver injection skips such images and the initramfs must mount it.",
        fix: "Check that the initramfs mounts `/usr` (dracut does), or merge `/usr` into the root file system.",
    },
    LxRootfsType {
        id: "LX-ROOTFS-TYPE", severity: Warning, service: None,
        meaning: "The root file system type is not ext2/3/4, XFS or Btrfs, or could not be told.",
        fix: "Use ext4 or XFS for the root file system.",
    },
    LxBootTarget {
        id: "LX-BOOT-TARGET", severity: Error, service: None,
        meaning: "The system boots into rescue or emergency mode (systemd default target, SysV runlevel 1 or S).",
        fix: "`systemctl set-default multi-user.target` (or `initdefault` 3 in `/etc/inittab`).",
    },
    LxNetStack {
        id: "LX-NET-STACK", severity: Error, service: None,
        meaning: "No network configuration system is enabled to bring up the NIC, or two manage the same interface.",
        fix: "Enable one network stack (NetworkManager, systemd-networkd, ifupdown, network-scripts or wicked) with a DHCP profile.",
    },
    LxNetDhcp {
        id: "LX-NET-DHCP", severity: Error, service: None,
        meaning: "No active network profile configures the ECS NIC by DHCPv4 (only static addresses), or a static profile coexists.",
        fix: "Configure DHCP for all NICs: `dhcp4: true` (netplan), `iface eth0 inet dhcp` (ifupdown), `BOOTPROTO=dhcp` (ifcfg), `method=auto` (NetworkManager), `DHCP=yes` (networkd).",
    },
    LxNetIfname {
        id: "LX-NET-IFNAME", severity: Error, service: None,
        meaning: "The DHCP profile is bound to an interface name the ECS NIC will not have.",
        fix: "Add `net.ifnames=0 biosdevname=0` to the kernel command line and configure `eth0`, or match interfaces by pattern (`en*`, driver `virtio_net`).",
    },
    LxNetMacBinding {
        id: "LX-NET-MAC-BINDING", severity: Error, service: None,
        meaning: "The network configuration is bound to the old NIC's MAC address (persistent-net rules, `HWADDR=`, `mac-address=`, `macaddress:`), or the persistent-net generator will pin the first MAC.",
        fix: "Delete the files with `persistent` and `net` in their names in `/etc/udev/rules.d`, remove MAC bindings from the profiles, create an empty `/etc/udev/rules.d/75-persistent-net-generator.rules` where the generator exists, and rebuild the initramfs if it held the rules.",
    },
    LxNozeroconf {
        id: "LX-NOZEROCONF", severity: Warning, service: None,
        meaning: "A RHEL-family initscripts guest lacks `NOZEROCONF=yes`; the link-local route can disturb access to the metadata service at 169.254.169.254.",
        fix: "Add `NOZEROCONF=yes` to `/etc/sysconfig/network`.",
    },
    LxCloudinitInstalled {
        id: "LX-CLOUDINIT-INSTALLED", severity: Warning, service: None,
        meaning: "Cloud-Init is not installed: the password or key chosen when an ECS is created cannot be injected.",
        fix: "Install cloud-init from the distribution (EPEL for CentOS).",
    },
    LxCloudinitEnabled {
        id: "LX-CLOUDINIT-ENABLED", severity: Warning, service: None,
        meaning: "Cloud-Init is installed but will not run at boot (disable marker, masked unit, no stage enabled, ds-identify policy disabled), or only some stages run.",
        fix: "Remove `/etc/cloud/cloud-init.disabled`, `cloud-init=disabled` on the kernel command line and installer leftovers, `systemctl enable cloud-init-local cloud-init cloud-config cloud-final`, run `cloud-init clean` before shutdown.",
    },
    LxCloudinitDatasource {
        id: "LX-CLOUDINIT-DATASOURCE", severity: Warning, service: None,
        meaning: "Cloud-Init will not use the OpenStack metadata service the cloud offers (datasource list without OpenStack/ConfigDrive, ds-identify too old to recognise the cloud, a multi-line list ds-identify cannot read).",
        fix: "Set `datasource_list: [ OpenStack ]` on one line and `datasource: {OpenStack: {metadata_urls: ['http://169.254.169.254']}}` in `/etc/cloud/cloud.cfg.d/`.",
    },
    LxCloudinitConfig {
        id: "LX-CLOUDINIT-CONFIG", severity: Warning, service: None,
        meaning: "A Cloud-Init setting IMS asks for is not as recommended (advisory).",
        fix: "Adjust `/etc/cloud/cloud.cfg` as IMS's Configuring Cloud-Init page describes.",
    },
    LxGrowpart {
        id: "LX-GROWPART", severity: Warning, service: None,
        meaning: "Nothing grows the root partition and file system to the ECS disk size (no growpart program or module).",
        fix: "Install `cloud-utils-growpart` / `cloud-guest-utils` and keep `growpart` and `resizefs` in `cloud_init_modules`.",
    },
    LxSshd {
        id: "LX-SSHD", severity: Error, service: None,
        meaning: "No SSH server is installed and enabled; only the remote console remains.",
        fix: "Install openssh-server and enable it (`systemctl enable sshd` or `ssh`).",
    },
    LxSshdConfig {
        id: "LX-SSHD-CONFIG", severity: Error, service: None,
        meaning: "sshd is configured in a way that fails on ECS (`ListenAddress` of the old IP) or limits the intended login.",
        fix: "Remove specific `ListenAddress` lines (listen on all addresses); review `Port`, `PermitRootLogin` and `PasswordAuthentication`.",
    },
    LxLoginPath {
        id: "LX-LOGIN-PATH", severity: Error, service: None,
        meaning: "There is no way in: Cloud-Init will not inject credentials, no account has a usable password, and no account has an SSH key with sshd enabled.",
        fix: "Install and enable Cloud-Init with the OpenStack data source, or set a password / authorized key for an account before export.",
    },
    LxFirewall {
        id: "LX-FIREWALL", severity: Warning, service: None,
        meaning: "An enabled host firewall does not allow TCP 22 (SSH).",
        fix: "Allow SSH in the firewall (`firewall-cmd --permanent --add-service=ssh`, `ufw allow OpenSSH`) or disable it and use security groups.",
    },
    LxSelinux {
        id: "LX-SELINUX", severity: Warning, service: None,
        meaning: "SELinux state worth knowing: a pending relabel (`/.autorelabel`) makes the first boot slow and reboot.",
        fix: "Boot the source VM once to finish the relabel before export.",
    },
    LxUvpPv {
        id: "LX-UVP-PV", severity: Warning, service: None,
        meaning: "Huawei UVP/Xen PV driver remnants are installed.",
        fix: "Run `/etc/.uvp-monitor/uninstall`, or `rpm -e kmod-uvpmod uvp-monitor libxenstore_uvp`.",
    },
    LxXenLeftovers {
        id: "LX-XEN-LEFTOVERS", severity: Warning, service: None,
        meaning: "Xen drivers in initramfs module lists or modprobe aliases, or Xen-only consoles (`hvc0`/`xvc0`).",
        fix: "Remove the Xen module names and aliases, and use `console=tty0 console=ttyS0` with a getty on tty1.",
    },
    LxVmwareTools {
        id: "LX-VMWARE-TOOLS", severity: Warning, service: None,
        meaning: "Guest tools of another hypervisor (VMware Tools from the tarball, VirtualBox, Parallels, Citrix) or kudzu are installed.",
        fix: "Uninstall them in the source VM (`vmware-uninstall-tools.pl`, the vendor's uninstaller); disable kudzu.",
    },
    LxXorg {
        id: "LX-XORG", severity: Warning, service: None,
        meaning: "The X server is pinned to another hypervisor's video driver.",
        fix: "Set `Driver \"modesetting\"` in `/etc/X11/xorg.conf`, or remove the Device section.",
    },
    LxConsoleTtys0 {
        id: "LX-CONSOLE-TTYS0", severity: Info, service: None,
        meaning: "The kernel command line has no `console=ttyS0`; the ECS console log stays empty.",
        fix: "Add `console=tty0 console=ttyS0,115200n8` to `GRUB_CMDLINE_LINUX`, drop `rhgb quiet`, regenerate the boot configuration.",
    },
    LxKdump {
        id: "LX-KDUMP", severity: Info, service: None,
        meaning: "`crashkernel=` reserves memory, which matters on small flavors.",
        fix: "Keep it if kdump is wanted; otherwise remove `crashkernel=` from the kernel command line.",
    },
    LxNicMultiqueue {
        id: "LX-NIC-MULTIQUEUE", severity: Info, service: None,
        meaning: "The default kernel is older than 2.6.35, so NIC multi-queue (`hw_vif_multiqueue_enabled`) cannot be used.",
        fix: "Use a kernel of 2.6.35 or later for NIC multi-queue.",
    },
    LxMachineId {
        id: "LX-MACHINE-ID", severity: Info, service: None,
        meaning: "`/etc/machine-id` is set in the image, so every ECS made from it shares the identity (systemd-networkd DHCP client ID, journald).",
        fix: "Empty it before export (`truncate -s 0 /etc/machine-id`); systemd creates a new one at first boot.",
    },
    LxRtc {
        id: "LX-RTC", severity: Info, service: None,
        meaning: "`/etc/adjtime` says the hardware clock keeps local time; Linux on KVM expects UTC.",
        fix: "`timedatectl set-local-rtc 0` (or write `UTC` on the third line of `/etc/adjtime`).",
    },
    LxDhcpLeases {
        id: "LX-DHCP-LEASES", severity: Info, service: None,
        meaning: "DHCP lease files of the source network are left in the image.",
        fix: "Delete them before export; the ECS gets a fresh lease.",
    },
    LxAutoconfTrace {
        id: "LX-AUTOCONF-TRACE", severity: Info, service: None,
        meaning: "The image was once changed by IMS automatic configuration (`/var/log/rainbow_modification_record.log`).",
        fix: "Nothing to do; the log shows what IMS changed before.",
    },
    // --- Produced files (verifier, bitmap, manifest) ---------------------------
    Zvhd2Structure {
        id: "ZVHD2-STRUCTURE", severity: Error, service: Some("IMG.0057"),
        meaning: "The ZVHD2 file is damaged or not well formed (header, table or block checks failed).",
        fix: "Convert the RAW disk again with `imsprep convert IN.raw OUT.zvhd2`.",
    },
    BitmapMismatch {
        id: "BITMAP-MISMATCH", severity: Error, service: None,
        meaning: "The bitmap file does not match the RAW image (size or data blocks differ).",
        fix: "Write the bitmap again from the final RAW file: `imsprep bitmap --force IN.raw`.",
    },
    ManifestMismatch {
        id: "MANIFEST-MISMATCH", severity: Error, service: None,
        meaning: "A file's size or CRC-32 differs from the upload manifest; it changed or was copied incompletely.",
        fix: "Prepare the upload set again, or copy the file again.",
    },

    // --- Guest: Windows ------------------------------------------------------------
    WinSystemroot {
        id: "WIN-SYSTEMROOT", severity: Error, service: None,
        meaning: "The Windows directory or its SYSTEM and SOFTWARE hives could not be found or read, so no Windows check can be decided.",
        fix: "Check that the image is the whole Windows system disk, not encrypted (BitLocker) and not damaged; export it again after a full shutdown.",
    },
    WinHiveDirty {
        id: "WIN-HIVE-DIRTY", severity: Warning, service: None,
        meaning: "A registry hive was not flushed at shutdown (its sequence numbers differ): recent changes, such as a driver installed just before shutdown, may exist only in its transaction logs.",
        fix: "Boot the source VM and shut it down fully (`shutdown /s /t 0`), then export the disk again.",
    },
    WinControlset {
        id: "WIN-CONTROLSET", severity: Error, service: None,
        meaning: "`SYSTEM\\Select` does not name an existing control set, or `Default` differs from `Current`.",
        fix: "Boot the source VM once so Windows repairs its control sets, shut it down fully and export again.",
    },
    WinOsId {
        id: "WIN-OS-ID", severity: Error, service: None,
        meaning: "The Windows product, edition and build could not be read from `SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion`.",
        fix: "Check that the SOFTWARE hive is intact; otherwise give `os_version` by hand after checking the system in the source VM (`winver`).",
    },
    WinOsVersion {
        id: "WIN-OS-VERSION", severity: Error, service: None,
        meaning: "The `os_version` string for this Windows: chosen from the cloud's list by product, edition and build, or no listed string fits.",
        fix: "Register the image with the `os_version` given; if none is listed, the cloud does not support this Windows version.",
    },
    WinArch {
        id: "WIN-ARCH", severity: Error, service: None,
        meaning: "The Windows architecture is not x64 (32-bit x86 has few flavors; ARM64 Windows has no import path), or it could not be read.",
        fix: "Import a 64-bit (x64) Windows.",
    },
    WinBootmode {
        id: "WIN-BOOTMODE", severity: Error, service: None,
        meaning: "Windows Boot Manager and its BCD store are missing for the firmware the image will start with (BIOS: active partition with `bootmgr` and `Boot\\BCD`; UEFI: ESP with `bootmgfw.efi`, `BCD` and `EFI\\BOOT\\BOOTX64.EFI`).",
        fix: "Repair the boot files in the source VM (`bcdboot C:\\Windows /s <system partition> /f ALL`), or register the image with the firmware it has (`hw_firmware_type`).",
    },
    WinNtfsState {
        id: "WIN-NTFS-STATE", severity: Error, service: None,
        meaning: "The Windows volume was hibernated or shut down with Fast Startup (it would resume into the old hardware), or it is marked dirty.",
        fix: "In the source VM: `powercfg /h off`, turn off Fast Startup, then shut down fully with `shutdown /s /t 0` and export again.",
    },
    WinPending {
        id: "WIN-PENDING", severity: Warning, service: None,
        meaning: "Windows has a reboot or updates pending, or is sealed by Sysprep without an unattend file, so the first boot on the cloud is long or stops at OOBE.",
        fix: "Reboot the source VM until nothing is pending; for a Sysprep-sealed image provide an unattend file (Cloudbase-Init's `Unattend.xml`) so OOBE runs without input.",
    },
    WinVirtioBlk {
        id: "WIN-VIRTIO-BLK", severity: Error, service: None,
        meaning: "The virtio block driver (viostor, or vioscsi) is not registered to start at boot for the virtio PCI IDs: Windows would stop with INACCESSIBLE_BOOT_DEVICE (0x7B).",
        fix: "Install the virtio-win drivers (e.g. `virtio-win-gt-x64.msi`, all components) in the source VM while a virtio disk is attached, or run `pnputil /add-driver viostor.inf /install`, and confirm `Services\\viostor\\Start` is 0.",
    },
    WinVirtioNet {
        id: "WIN-VIRTIO-NET", severity: Error, service: None,
        meaning: "The virtio network driver (netkvm) is not installed for the virtio NIC IDs: the instance would have no network.",
        fix: "Install the virtio-win network driver (netkvm) in the source VM.",
    },
    WinVirtioOther {
        id: "WIN-VIRTIO-OTHER", severity: Info, service: None,
        meaning: "Other virtio drivers (balloon, serial, RNG) or the guest agent are missing, or Huawei UVP VMTools are present; only comfort features depend on them.",
        fix: "Install the full virtio-win package if memory ballooning or the serial channel is wanted.",
    },
    WinClassFilters {
        id: "WIN-CLASS-FILTERS", severity: Error, service: None,
        meaning: "A storage class filter driver (UpperFilters/LowerFilters of the disk, SCSI, IDE or volume class) is missing, disabled or has no file, so the storage stack fails at boot; or it belongs to the old platform.",
        fix: "Remove the filter's name from the class's `UpperFilters`/`LowerFilters` (or reinstall the product it belongs to) in the source VM.",
    },
    WinForeignTools {
        id: "WIN-FOREIGN-TOOLS", severity: Warning, service: None,
        meaning: "Guest tools of another platform (VMware Tools, Xen/Citrix PV drivers, Parallels, VirtualBox, Hyper-V) are installed; they can block driver installation or fail at boot.",
        fix: "Uninstall the other platform's tools in the source VM before installing the virtio drivers.",
    },
    WinDhcp {
        id: "WIN-DHCP", severity: Error, service: None,
        meaning: "The DHCP client service is disabled or a virtio NIC has a static address, so the instance would not get its address from the cloud.",
        fix: "Enable the DHCP Client service and set every adapter to obtain its address and DNS servers automatically (`netsh interface ip set address \"<name>\" dhcp`).",
    },
    WinRdp {
        id: "WIN-RDP", severity: Error, service: None,
        meaning: "Remote Desktop is turned off (by setting or policy) or its service is disabled, so the instance cannot be reached with RDP.",
        fix: "Enable Remote Desktop in the source VM (System Properties, Remote; or set `fDenyTSConnections` to 0) and leave TermService enabled.",
    },
    WinRdpFirewall {
        id: "WIN-RDP-FIREWALL", severity: Error, service: None,
        meaning: "Windows Firewall filters the Public profile (a new network is Public) and no enabled rule lets Remote Desktop in on it.",
        fix: "Enable the Remote Desktop rule for all profiles: `Enable-NetFirewallRule -DisplayGroup \"Remote Desktop\"`.",
    },
    WinSanPolicy {
        id: "WIN-SAN-POLICY", severity: Warning, service: None,
        meaning: "The SAN policy is not OnlineAll, so attached data disks may stay offline.",
        fix: "In the source VM run `diskpart` then `san policy=OnlineAll`.",
    },
    WinCloudbaseInit {
        id: "WIN-CLOUDBASE-INIT", severity: Warning, service: None,
        meaning: "Cloudbase-Init is not installed, not enabled, or not set up for the cloud's metadata service, so passwords, keys and user data are not applied.",
        fix: "Install Cloudbase-Init and set `metadata_services=cloudbaseinit.metadata.services.httpservice.HttpService` in `cloudbase-init.conf`.",
    },
    WinRtc {
        id: "WIN-RTC", severity: Warning, service: None,
        meaning: "The hardware-clock setting (`RealTimeIsUniversal`) and Cloudbase-Init's `real_time_clock_utc` do not agree, so the clock may be off by the time-zone difference.",
        fix: "Set `RealTimeIsUniversal` to 1 and `real_time_clock_utc=true` in `cloudbase-init.conf`, or neither.",
    },
    WinPagefile {
        id: "WIN-PAGEFILE", severity: Warning, service: None,
        meaning: "A page file is configured on a drive other than the system drive (not in the image), or is sized automatically.",
        fix: "Configure the page file on C: only, with a fixed size.",
    },
    WinDeviceInstallPolicy {
        id: "WIN-DEVICE-INSTALL-POLICY", severity: Warning, service: None,
        meaning: "Group Policy restricts device installation, so the new virtio devices may be refused.",
        fix: "Remove the device installation restrictions (`Policies\\Microsoft\\Windows\\DeviceInstall\\Restrictions`) in the source VM.",
    },
    WinDriverSigning {
        id: "WIN-DRIVER-SIGNING", severity: Warning, service: None,
        meaning: "Windows 7 / Server 2008 R2 lacks the SHA-2 code-signing update (KB4474419), which current virtio drivers need.",
        fix: "Install KB4474419 (and the servicing stack update) in the source VM, or use a virtio-win release signed with SHA-1.",
    },
    WinDisplayPower {
        id: "WIN-DISPLAY-POWER", severity: Info, service: None,
        meaning: "The active power plan turns the display off; IMS asks for \"Never\".",
        fix: "Set \"Turn off the display\" to Never in the active power plan.",
    },
}

impl Code {
    /// The catalogue entry of this code.
    pub fn info(self) -> &'static CodeInfo {
        // The macro emits variants and entries in one order, so the
        // discriminant is the index (checked by a unit test).
        &CATALOGUE[self as usize]
    }

    /// The stable identifier, e.g. `REQ-NAME-CHARS`.
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// The severity findings with this code get.
    pub fn severity(self) -> Severity {
        self.info().severity
    }

    /// The IMS error code for the same problem, when known (e.g. `IMG.0175`).
    pub fn service_code(self) -> Option<&'static str> {
        self.info().service_code
    }

    /// One-line meaning.
    pub fn meaning(self) -> &'static str {
        self.info().meaning
    }

    /// Generic fix text.
    pub fn fix(self) -> &'static str {
        self.info().fix
    }

    /// The code with the given stable identifier.
    pub fn from_id(id: &str) -> Option<Code> {
        CATALOGUE.iter().find(|c| c.id == id).map(|c| c.code)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        Code::from_id(&id)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown finding code `{id}`")))
    }
}

/// One problem (or notice) about a request or an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What kind of problem.
    pub code: Code,
    /// How serious; normally the code's own severity.
    pub severity: Severity,
    /// Where: a JSON path into the request (`$.min_disk`, `$.tags[1]`), or
    /// `image` / `bitmap` for facts about files.
    pub path: String,
    /// What exactly is wrong with this value.
    pub message: String,
    /// What to do about it, as specific as the context allows.
    pub fix: String,
}

impl Finding {
    /// A finding with the code's own severity and generic fix.
    pub fn new(code: Code, path: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            path: path.into(),
            message: message.into(),
            fix: code.fix().to_owned(),
        }
    }

    /// Replaces the generic fix with a specific one.
    pub fn with_fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = fix.into();
        self
    }

    /// True when the finding is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} at {}: {}",
            self.severity, self.code, self.path, self.message
        )?;
        if let Some(svc) = self.code.service_code() {
            write!(f, " (service error {svc})")?;
        }
        Ok(())
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let svc = self.code.service_code();
        let len = if svc.is_some() { 6 } else { 5 };
        let mut s = serializer.serialize_struct("Finding", len)?;
        s.serialize_field("code", &self.code)?;
        s.serialize_field("severity", &self.severity)?;
        s.serialize_field("path", &self.path)?;
        s.serialize_field("message", &self.message)?;
        s.serialize_field("fix", &self.fix)?;
        if let Some(svc) = svc {
            s.serialize_field("service_code", svc)?;
        } else {
            s.skip_field("service_code")?;
        }
        s.end()
    }
}

/// True when any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(Finding::is_error)
}

/// Renders the catalogue as the markdown of `docs/checks.md`.
pub fn catalogue_markdown() -> String {
    let mut out = String::new();
    out.push_str("# Checks\n\n");
    out.push_str(
        "Every finding imsprep reports has one of the codes below. The codes are stable: a code\n\
         keeps its meaning across releases and is never reused. Severities: `error` means the\n\
         service would reject the request or the import would fail; `warning` means it is\n\
         probably wrong or not accepted by every cloud; `info` is a notice.\n\n\
         This file is generated from the catalogue in `crates/ims/src/finding.rs`\n\
         (`IMSPREP_BLESS=1 cargo test -p imsprep-ims` rewrites it); do not edit it by hand.\n",
    );
    let groups: &[(&str, &str)] = &[
        ("JSON-", "The request file as JSON"),
        ("REQ-", "Request fields"),
        ("OS-", "OS versions"),
        ("IMAGE-", "The image file"),
        ("DISK-", "Partition table and boot"),
        ("IMG-", "Guest: what can boot the image"),
        ("LX-", "Guest: Linux"),
        ("WIN-", "Guest: Windows"),
        ("ZVHD2-", "Produced files"),
    ];
    let group_of = |id: &str| {
        groups
            .iter()
            .position(|(p, _)| id.starts_with(p))
            .unwrap_or(groups.len() - 1)
    };
    let mut last = usize::MAX;
    for info in CATALOGUE {
        let g = group_of(info.id);
        if g != last {
            if let Some((_, title)) = groups.get(g) {
                out.push_str(&format!(
                    "\n## {title}\n\n| Code | Severity | Service code | Meaning | Fix |\n|---|---|---|---|---|\n"
                ));
            }
            last = g;
        }
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            info.id,
            info.severity,
            info.service_code.unwrap_or(""),
            md_cell(info.meaning),
            md_cell(info.fix),
        ));
    }
    out
}

/// Escapes a table cell; the texts are single-line, so only `|` matters.
fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discriminant_is_catalogue_index() {
        for (i, info) in CATALOGUE.iter().enumerate() {
            assert_eq!(info.code as usize, i, "{}", info.id);
            assert_eq!(info.code.info().id, info.id);
        }
    }

    #[test]
    fn ids_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for info in CATALOGUE {
            assert!(seen.insert(info.id), "duplicate id {}", info.id);
            assert!(
                info.id
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                info.id
            );
            assert!(!info.meaning.contains('\n') && !info.fix.contains('\n'));
            assert_eq!(Code::from_id(info.id), Some(info.code));
        }
        assert_eq!(Code::from_id("NOPE"), None);
    }

    #[test]
    fn finding_serializes_code_as_string() {
        let f = Finding::new(Code::ReqObjectSpace, "$.image_url", "space");
        let v = serde_json::to_value(&f).unwrap_or_default();
        assert_eq!(v["code"], "REQ-OBJECT-SPACE");
        assert_eq!(v["severity"], "error");
        assert_eq!(v["service_code"], "IMG.0175");
        let g = Finding::new(Code::JsonNull, "$.x", "null");
        let v = serde_json::to_value(&g).unwrap_or_default();
        assert!(v.get("service_code").is_none());
        assert_eq!(v["severity"], "warning");
        let keys: Vec<_> = v
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(keys.len(), 5);
    }

    #[test]
    fn severity_orders_error_highest() {
        assert!(Severity::Error > Severity::Warning && Severity::Warning > Severity::Info);
    }
}
