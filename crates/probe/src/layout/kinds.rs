//! Well-known partition type GUIDs and MBR type bytes.

use crate::report::PartitionKind;

/// GPT type GUID of the EFI System Partition.
pub(crate) const ESP_GUID: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";

const GPT_TYPES: [(&str, PartitionKind); 13] = [
    (ESP_GUID, PartitionKind::Esp),
    (
        "21686148-6449-6E6F-744E-656564454649",
        PartitionKind::BiosBoot,
    ),
    (
        "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
        PartitionKind::LinuxFilesystem,
    ),
    (
        "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709",
        PartitionKind::LinuxRootX86_64,
    ),
    (
        "B921B045-1DF0-41C3-AF44-4C6F280D3FAE",
        PartitionKind::LinuxRootAarch64,
    ),
    (
        "933AC7E1-2EB4-4F13-B844-0E14E2AEF915",
        PartitionKind::LinuxHome,
    ),
    (
        "BC13C2FF-59E6-4262-A352-B275FD6F7172",
        PartitionKind::LinuxBoot,
    ),
    (
        "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F",
        PartitionKind::LinuxSwap,
    ),
    (
        "E6D6D379-F507-44C2-A23C-238F2A3DF928",
        PartitionKind::LinuxLvm,
    ),
    (
        "A19D880F-05FC-4D3B-A006-743F0F84911E",
        PartitionKind::LinuxRaid,
    ),
    (
        "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7",
        PartitionKind::MicrosoftBasicData,
    ),
    (
        "E3C9E316-0B5C-4DB8-817D-F92DF00215AE",
        PartitionKind::MicrosoftReserved,
    ),
    (
        "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC",
        PartitionKind::WindowsRecovery,
    ),
];

/// Kind of a GPT partition type GUID (canonical uppercase form).
pub(crate) fn gpt_kind(guid: &str) -> PartitionKind {
    GPT_TYPES
        .iter()
        .find(|(g, _)| *g == guid)
        .map_or(PartitionKind::Other, |(_, k)| *k)
}

/// Kind of an MBR partition type byte.
pub(crate) fn mbr_kind(code: u8) -> PartitionKind {
    match code {
        0x00 => PartitionKind::Empty,
        0x01 | 0x04 | 0x06 | 0x0B | 0x0C | 0x0E | 0x11 | 0x14 | 0x16 | 0x1B | 0x1C | 0x1E => {
            PartitionKind::Fat
        }
        0x07 => PartitionKind::Ntfs,
        0x05 | 0x0F | 0x85 => PartitionKind::Extended,
        0x27 => PartitionKind::WindowsRecovery,
        0x82 => PartitionKind::LinuxSwap,
        0x83 => PartitionKind::LinuxFilesystem,
        0x8E => PartitionKind::LinuxLvm,
        0xFD => PartitionKind::LinuxRaid,
        0xEE => PartitionKind::GptProtective,
        0xEF => PartitionKind::Esp,
        _ => PartitionKind::Other,
    }
}
