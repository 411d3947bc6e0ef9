//! The facts a probe reports. Everything here is plain data with stable,
//! snake_case serde names: `imsprep inspect --json` prints it as is, and
//! imsprep-ims turns it into coded findings. No type here judges a fact.

use std::fmt;

use serde::Serialize;

/// A container or content format recognised by its signature bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// No known signature: the bytes are taken as a plain disk.
    Raw,
    /// Huawei ZVHD2 (`z2strm` footer), the fast-import format.
    Zvhd2,
    /// Huawei ZVHD, the first version (`stream` footer).
    Zvhd,
    /// Microsoft VHD (`conectix` footer).
    Vhd,
    /// Microsoft VHDX (`vhdxfile`).
    Vhdx,
    /// QEMU copy-on-write v2/v3 (`QFI\xfb`).
    Qcow2,
    /// VMware VMDK, sparse (`KDMV`) or text descriptor.
    Vmdk,
    /// VirtualBox VDI.
    Vdi,
    /// QEMU enhanced disk (`QED\0`).
    Qed,
    /// ISO 9660 optical disc image (`CD001` at 0x8001).
    Iso9660,
    /// LUKS encrypted volume header.
    Luks,
    /// gzip stream.
    Gzip,
    /// xz stream.
    Xz,
    /// zstd frame.
    Zstd,
    /// bzip2 stream.
    Bzip2,
    /// zip archive.
    Zip,
    /// POSIX tar archive (also OVA).
    Tar,
}

impl Format {
    /// Every format, in declaration order.
    pub const ALL: [Format; 17] = [
        Format::Raw,
        Format::Zvhd2,
        Format::Zvhd,
        Format::Vhd,
        Format::Vhdx,
        Format::Qcow2,
        Format::Vmdk,
        Format::Vdi,
        Format::Qed,
        Format::Iso9660,
        Format::Luks,
        Format::Gzip,
        Format::Xz,
        Format::Zstd,
        Format::Bzip2,
        Format::Zip,
        Format::Tar,
    ];

    /// Short lowercase name, the same as the serde name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Zvhd2 => "zvhd2",
            Format::Zvhd => "zvhd",
            Format::Vhd => "vhd",
            Format::Vhdx => "vhdx",
            Format::Qcow2 => "qcow2",
            Format::Vmdk => "vmdk",
            Format::Vdi => "vdi",
            Format::Qed => "qed",
            Format::Iso9660 => "iso9660",
            Format::Luks => "luks",
            Format::Gzip => "gzip",
            Format::Xz => "xz",
            Format::Zstd => "zstd",
            Format::Bzip2 => "bzip2",
            Format::Zip => "zip",
            Format::Tar => "tar",
        }
    }

    /// File-name extensions (lowercase, without dot) that announce this format.
    /// The first one is the conventional extension.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Format::Raw => &["raw", "img", "bin"],
            Format::Zvhd2 => &["zvhd2"],
            Format::Zvhd => &["zvhd"],
            Format::Vhd => &["vhd", "vpc"],
            Format::Vhdx => &["vhdx"],
            Format::Qcow2 => &["qcow2", "qcow"],
            Format::Vmdk => &["vmdk"],
            Format::Vdi => &["vdi"],
            Format::Qed => &["qed"],
            Format::Iso9660 => &["iso"],
            Format::Luks => &["luks"],
            Format::Gzip => &["gz", "tgz"],
            Format::Xz => &["xz", "txz"],
            Format::Zstd => &["zst", "zstd", "tzst"],
            Format::Bzip2 => &["bz2", "tbz2"],
            Format::Zip => &["zip"],
            Format::Tar => &["tar", "ova"],
        }
    }

    /// The format an extension (with or without leading dot, any case)
    /// suggests, if any.
    pub fn from_extension(ext: &str) -> Option<Format> {
        let ext = ext.trim_start_matches('.').to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.extensions().contains(&ext.as_str()))
    }

    /// True for compressed streams and archives that wrap another file.
    pub fn is_archive(self) -> bool {
        matches!(
            self,
            Format::Gzip | Format::Xz | Format::Zstd | Format::Bzip2 | Format::Zip | Format::Tar
        )
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Format::Raw => "RAW",
            Format::Zvhd2 => "ZVHD2",
            Format::Zvhd => "ZVHD",
            Format::Vhd => "VHD",
            Format::Vhdx => "VHDX",
            Format::Qcow2 => "QCOW2",
            Format::Vmdk => "VMDK",
            Format::Vdi => "VDI",
            Format::Qed => "QED",
            Format::Iso9660 => "ISO 9660",
            Format::Luks => "LUKS",
            Format::Gzip => "gzip",
            Format::Xz => "xz",
            Format::Zstd => "zstd",
            Format::Bzip2 => "bzip2",
            Format::Zip => "zip",
            Format::Tar => "tar",
        };
        f.write_str(s)
    }
}

/// One signature found in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    /// The format this signature belongs to.
    pub format: Format,
    /// Byte offset of the magic in the file.
    pub offset: u64,
}

/// Everything the probe learnt about one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The path as given (lossy UTF-8).
    pub path: String,
    /// File size in bytes.
    pub file_size: u64,
    /// `file_size % 512`: a raw disk should be a whole number of sectors.
    pub file_size_mod_512: u64,
    /// The detected format. When `ambiguous` is not empty this is only the
    /// strongest candidate and must not be trusted.
    pub format: Format,
    /// Every signature that matched, primary first, then by offset.
    pub signatures: Vec<Signature>,
    /// Formats that other signatures claim besides `format`.
    pub other_signatures: Vec<Format>,
    /// All distinct candidate formats when more than one format claims the
    /// file (empty when the file is unambiguous). Never resolved by guessing.
    pub ambiguous: Vec<Format>,
    /// Last extension of the file name, lowercased, without dot.
    pub extension: Option<String>,
    /// The format the extension suggests.
    pub extension_format: Option<Format>,
    /// True when the extension suggests a known format other than `format`.
    pub name_mismatch: bool,
    /// Size of the virtual disk the file describes, when known: the file
    /// size for RAW, the header's size for image formats.
    pub virtual_size: Option<u64>,
    /// Per-format facts.
    pub detail: FormatDetail,
    /// References to other files the image would make a reader open
    /// (backing files, external data files, VMDK extents). Never followed.
    pub unsafe_references: Vec<ExternalReference>,
    /// Partition table and file systems, when the format is addressable as a
    /// plain disk (RAW, ISO, fixed VHD, ZVHD2).
    pub layout: Option<DiskLayout>,
    /// Why the layout could not be read although the format allows it.
    pub layout_error: Option<String>,
    /// Structural problems seen while reading headers (field, value, what
    /// was expected). Empty for a well-formed file.
    pub anomalies: Vec<String>,
}

/// Kind of an external reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceKind {
    /// QCOW2/QED backing file.
    BackingFile,
    /// QCOW2 external data file.
    DataFile,
    /// VMDK extent stored in another file.
    VmdkExtent,
    /// VMDK parent (`parentFileNameHint`).
    VmdkParent,
    /// VHD differencing disk parent.
    VhdParent,
    /// VHDX differencing disk parent (path from the parent locator).
    VhdxParent,
    /// VDI differencing image parent (by UUID).
    VdiParent,
}

/// A reference to another file, recorded as found and never opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalReference {
    /// What kind of reference.
    pub kind: ReferenceKind,
    /// The target as written in the image (file name or UUID); may be empty
    /// when the image flags a reference without naming it.
    pub target: String,
}

/// Per-format facts. Serialized with a `kind` tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FormatDetail {
    /// No further facts (RAW and formats without a parsed header).
    None,
    /// QCOW2 header facts.
    Qcow2(Qcow2Info),
    /// VMDK facts.
    Vmdk(VmdkInfo),
    /// VHD footer facts.
    Vhd(VhdInfo),
    /// VHDX facts.
    Vhdx(VhdxInfo),
    /// VDI header facts.
    Vdi(VdiInfo),
    /// QED header facts.
    Qed(QedInfo),
    /// ZVHD2 footer facts.
    Zvhd2(Zvhd2Info),
    /// ZVHD footer facts.
    Zvhd(ZvhdInfo),
    /// ISO 9660 facts.
    Iso9660(IsoInfo),
    /// LUKS header facts.
    Luks(LuksInfo),
    /// gzip header facts.
    Gzip(GzipInfo),
    /// tar header facts.
    Tar(TarInfo),
}

/// QCOW2 header facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Qcow2Info {
    /// Header version (2 or 3).
    pub version: u32,
    /// Virtual disk size in bytes.
    pub virtual_size: u64,
    /// log2 of the cluster size.
    pub cluster_bits: u32,
    /// Backing file name, if any (bounded read).
    pub backing_file: Option<String>,
    /// Backing file format from the header extension, if any.
    pub backing_format: Option<String>,
    /// External data file name from the header extension, if any.
    pub data_file: Option<String>,
    /// Incompatible feature bit 2 (external data file) is set.
    pub external_data_file: bool,
    /// Encryption method field (0 none, 1 AES, 2 LUKS).
    pub encryption_method: u32,
    /// True when `encryption_method` is not 0.
    pub encrypted: bool,
    /// Incompatible feature bits (v3).
    pub incompatible_features: u64,
    /// Number of internal snapshots.
    pub snapshots: u32,
    /// Compression type byte (v3 with a long header), 0 = zlib, 1 = zstd.
    pub compression_type: Option<u8>,
}

/// How a VMDK file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VmdkKind {
    /// Hosted sparse extent with `KDMV` header (descriptor embedded or none).
    Sparse,
    /// Stream-optimized sparse extent (compressed grains).
    StreamOptimized,
    /// A text descriptor file that points at extents.
    Descriptor,
}

/// One extent line of a VMDK descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VmdkExtent {
    /// Access: RW, RDONLY or NOACCESS.
    pub access: String,
    /// Size in 512-byte sectors.
    pub size_sectors: u64,
    /// Extent type: SPARSE, FLAT, ZERO, VMFS, ...
    pub extent_type: String,
    /// File name in quotes, if the line has one.
    pub file_name: Option<String>,
    /// Offset (sectors) within the file, for FLAT extents.
    pub offset: Option<u64>,
    /// True when the file name is this very file (embedded descriptor).
    pub is_self: bool,
}

/// VMDK facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VmdkInfo {
    /// Layout kind.
    pub kind: VmdkKind,
    /// Sparse header version.
    pub version: Option<u32>,
    /// Capacity from the sparse header, in 512-byte sectors.
    pub capacity_sectors: Option<u64>,
    /// `createType` from the descriptor.
    pub create_type: Option<String>,
    /// Extent lines of the descriptor.
    pub extents: Vec<VmdkExtent>,
    /// `parentFileNameHint` from the descriptor.
    pub parent_file_name_hint: Option<String>,
}

/// VHD disk type (footer field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VhdDiskType {
    /// Type 2.
    Fixed,
    /// Type 3.
    Dynamic,
    /// Type 4.
    Differencing,
    /// Any other value.
    Other,
}

/// VHD footer facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VhdInfo {
    /// Disk type from the footer.
    pub disk_type: VhdDiskType,
    /// Raw disk type value.
    pub disk_type_value: u32,
    /// Current size (virtual disk size) in bytes.
    pub current_size: u64,
    /// Original size in bytes.
    pub original_size: u64,
    /// A footer is present in the last 512 bytes.
    pub footer_at_end: bool,
    /// A footer copy is present at offset 0 (dynamic disks).
    pub footer_at_start: bool,
    /// The footer checksum is valid.
    pub checksum_ok: bool,
    /// Creator application (4 ASCII bytes).
    pub creator_app: String,
}

/// VHDX facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VhdxInfo {
    /// Creator string from the file identifier (UTF-16LE, bounded).
    pub creator: String,
    /// Virtual disk size from the metadata region, when found.
    pub virtual_size: Option<u64>,
    /// Block size from the file parameters, when found.
    pub block_size: Option<u32>,
    /// The file parameters say the disk has a parent (differencing).
    pub has_parent: bool,
    /// Logical sector size, when found.
    pub logical_sector_size: Option<u32>,
}

/// VDI header facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VdiInfo {
    /// Header version (major << 16 | minor).
    pub version: u32,
    /// Image type: 1 dynamic, 2 static, 3 undo, 4 differencing.
    pub image_type: u32,
    /// Virtual disk size in bytes.
    pub virtual_size: u64,
}

/// QED header facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QedInfo {
    /// Cluster size in bytes.
    pub cluster_size: u32,
    /// Virtual disk size in bytes.
    pub virtual_size: u64,
    /// Feature bits.
    pub features: u64,
    /// Backing file name, if any.
    pub backing_file: Option<String>,
}

/// ZVHD2 footer facts (read from the footer bytes, or through the reader).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Zvhd2Info {
    /// `z2strm` footer at offset 0.
    pub head_footer: bool,
    /// `z2strm` footer in the last 4096-byte page.
    pub tail_footer: bool,
    /// Checksum of the footer the facts come from is valid.
    pub checksum_ok: bool,
    /// `zvhd2_version` field.
    pub zvhd2_version: u8,
    /// Virtual size before GiB rounding.
    pub orig_size: u64,
    /// Size a consumer exposes (orig_size rounded up to GiB).
    pub curr_size: u64,
    /// Block size in bytes.
    pub block_size: u32,
    /// Number of blocks covering orig_size.
    pub max_blk_num: u32,
    /// Number of data records.
    pub non_zero_blk_num: u32,
    /// 1 = zstd, 0 = zlib.
    pub compress_method: u8,
    /// The imsprep-zvhd2 reader opened the file (index and bitmap usable).
    pub reader_opened: bool,
    /// Why the reader refused the file, if it did.
    pub reader_error: Option<String>,
}

/// ZVHD (version 1) facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZvhdInfo {
    /// Offset of the `stream` cookie found.
    pub footer_offset: u64,
}

/// ISO 9660 facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IsoInfo {
    /// Volume identifier (trimmed).
    pub volume_id: String,
    /// Volume space size in bytes (blocks x block size).
    pub volume_size: u64,
    /// An El Torito boot record volume descriptor is present.
    pub el_torito: bool,
}

/// LUKS header facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LuksInfo {
    /// LUKS version (1 or 2).
    pub version: u16,
}

/// gzip header facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GzipInfo {
    /// Original file name stored in the header (FNAME), if any.
    pub original_name: Option<String>,
}

/// tar header facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TarInfo {
    /// Name of the first member.
    pub first_member: String,
    /// The first member ends in `.ovf`: the tar is an OVA.
    pub ova: bool,
}

/// Partition table kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionTable {
    /// No partition table found.
    None,
    /// MBR (DOS) partition table.
    Mbr,
    /// GUID partition table (behind a protective MBR).
    Gpt,
}

/// A file system (or volume) signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Filesystem {
    /// ext2 (no journal).
    Ext2,
    /// ext3 (journal, no ext4 features).
    Ext3,
    /// ext4.
    Ext4,
    /// XFS.
    Xfs,
    /// Btrfs.
    Btrfs,
    /// NTFS.
    Ntfs,
    /// exFAT.
    Exfat,
    /// FAT12.
    Fat12,
    /// FAT16.
    Fat16,
    /// FAT32.
    Fat32,
    /// Linux swap.
    Swap,
    /// LVM2 physical volume.
    LvmPv,
    /// LUKS encrypted volume.
    Luks,
    /// ISO 9660.
    Iso9660,
}

impl fmt::Display for Filesystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Filesystem::Ext2 => "ext2",
            Filesystem::Ext3 => "ext3",
            Filesystem::Ext4 => "ext4",
            Filesystem::Xfs => "xfs",
            Filesystem::Btrfs => "btrfs",
            Filesystem::Ntfs => "ntfs",
            Filesystem::Exfat => "exfat",
            Filesystem::Fat12 => "fat12",
            Filesystem::Fat16 => "fat16",
            Filesystem::Fat32 => "fat32",
            Filesystem::Swap => "swap",
            Filesystem::LvmPv => "lvm_pv",
            Filesystem::Luks => "luks",
            Filesystem::Iso9660 => "iso9660",
        };
        f.write_str(s)
    }
}

/// Well-known partition types (GPT type GUIDs and MBR type bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionKind {
    /// EFI System Partition.
    Esp,
    /// BIOS boot partition (GPT, for GRUB on BIOS).
    BiosBoot,
    /// Linux file system data.
    LinuxFilesystem,
    /// Linux root (x86-64).
    LinuxRootX86_64,
    /// Linux root (AArch64).
    LinuxRootAarch64,
    /// Linux /home.
    LinuxHome,
    /// Linux /boot (extended boot loader).
    LinuxBoot,
    /// Linux swap.
    LinuxSwap,
    /// Linux LVM.
    LinuxLvm,
    /// Linux RAID.
    LinuxRaid,
    /// Microsoft basic data (NTFS/FAT on GPT).
    MicrosoftBasicData,
    /// Microsoft reserved.
    MicrosoftReserved,
    /// Windows recovery environment.
    WindowsRecovery,
    /// FAT12/16/32 (MBR types).
    Fat,
    /// NTFS / exFAT (MBR type 0x07).
    Ntfs,
    /// MBR extended partition container.
    Extended,
    /// Protective MBR entry (0xEE) for GPT.
    GptProtective,
    /// Empty entry.
    Empty,
    /// Anything else.
    Other,
}

/// One MBR partition entry (primary 1-4, logical 5+).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MbrPartition {
    /// Partition number as Linux counts it (1-4 primary, 5+ logical).
    pub index: u32,
    /// Boot indicator 0x80.
    pub bootable: bool,
    /// MBR type byte.
    pub type_code: u8,
    /// Well-known kind of the type byte.
    pub kind: PartitionKind,
    /// First sector (LBA).
    pub first_lba: u64,
    /// Number of sectors.
    pub sectors: u64,
    /// The partition extends past the end of the disk.
    pub beyond_disk: bool,
    /// File system found at the partition start.
    pub filesystem: Option<Filesystem>,
}

/// MBR facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MbrInfo {
    /// Bytes 510..512 are 55 AA.
    pub boot_signature: bool,
    /// Boot code area (first 440 bytes) is not all zero.
    pub has_boot_code: bool,
    /// A single 0xEE entry: the MBR protects a GPT.
    pub protective: bool,
    /// Disk signature at 440.
    pub disk_signature: u32,
    /// Non-empty entries, primaries then logicals.
    pub partitions: Vec<MbrPartition>,
}

/// One GPT header's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GptHeader {
    /// LBA the header was read from.
    pub lba: u64,
    /// `EFI PART` signature present.
    pub signature_ok: bool,
    /// Header CRC32 is valid.
    pub header_crc_ok: bool,
    /// Partition entry array CRC32 is valid (false if not checkable).
    pub entries_crc_ok: bool,
    /// The header's own LBA field.
    pub my_lba: u64,
    /// The header's alternate LBA field.
    pub alternate_lba: u64,
    /// First LBA of the entry array.
    pub entries_lba: u64,
    /// Number of entries.
    pub entry_count: u32,
    /// Size of an entry in bytes.
    pub entry_size: u32,
    /// First usable LBA.
    pub first_usable_lba: u64,
    /// Last usable LBA.
    pub last_usable_lba: u64,
    /// The entry array size is within bounds (entry_size 128..=4096 multiple
    /// of 128, total <= 1 MiB, inside the disk).
    pub entries_bounded: bool,
}

/// One GPT partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GptPartition {
    /// 1-based slot number in the entry array.
    pub index: u32,
    /// Type GUID, uppercase canonical form.
    pub type_guid: String,
    /// Well-known kind of the type GUID.
    pub kind: PartitionKind,
    /// Unique partition GUID.
    pub unique_guid: String,
    /// Partition name (UTF-16LE, trimmed at NUL).
    pub name: String,
    /// First LBA.
    pub first_lba: u64,
    /// Last LBA (inclusive).
    pub last_lba: u64,
    /// Attribute bits.
    pub attributes: u64,
    /// The partition extends past the last usable LBA or the disk.
    pub beyond_disk: bool,
    /// File system found at the partition start.
    pub filesystem: Option<Filesystem>,
}

/// GPT facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GptInfo {
    /// Logical sector size the GPT was found with (512 or 4096).
    pub sector_size: u32,
    /// Disk GUID.
    pub disk_guid: String,
    /// Primary header (LBA 1).
    pub primary: GptHeader,
    /// Backup header at the last LBA, when its signature is present.
    pub backup: Option<GptHeader>,
    /// Used partitions (non-zero type GUID), from the primary array, or
    /// from the backup array when the primary is damaged.
    pub partitions: Vec<GptPartition>,
}

/// A file system found somewhere on the disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundFilesystem {
    /// Partition number (None for the whole disk).
    pub partition: Option<u32>,
    /// What was found.
    pub filesystem: Filesystem,
}

/// Partition table and file systems of a disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiskLayout {
    /// Size of the disk (bytes) the layout was read from.
    pub disk_size: u64,
    /// Which table was found.
    pub table: PartitionTable,
    /// MBR facts (also present as protective MBR for GPT).
    pub mbr: Option<MbrInfo>,
    /// GPT facts.
    pub gpt: Option<GptInfo>,
    /// Partition number of the first EFI System Partition, if any.
    pub esp: Option<u32>,
    /// A GPT BIOS boot partition exists.
    pub bios_boot: bool,
    /// File system at offset 0 of the disk (bare file system, no table).
    pub whole_disk_filesystem: Option<Filesystem>,
    /// Every file system found, in partition order.
    pub filesystems: Vec<FoundFilesystem>,
    /// Problems seen in the tables (field, value, expectation).
    pub anomalies: Vec<String>,
}
