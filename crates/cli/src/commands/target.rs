//! From command-line target flags to the libraries' intent.

use imsprep_ims::{Architecture, Cloud, Firmware, ImageType, Intent};

use crate::args::{self, RequestFields, TargetArgs};

/// The intent the flags express.
pub fn intent(target: &TargetArgs) -> Intent {
    Intent {
        image_type: image_type(target.image_type.unwrap_or(args::ImageType::Ecs)),
        architecture: architecture(target.arch.unwrap_or(args::Arch::X86)),
        cloud: target.cloud.map(cloud),
        firmware: target.firmware.map(firmware),
        ..Intent::default()
    }
}

/// The target flags with `--type` filled in: `--os-type` only makes sense
/// for a data disk, so it implies `--type DataImage` unless a type was given.
pub fn with_fields(target: &TargetArgs, fields: &RequestFields) -> TargetArgs {
    let mut target = target.clone();
    if target.image_type.is_none() && fields.os_type.is_some() {
        target.image_type = Some(args::ImageType::DataImage);
    }
    target
}

/// The request's image type.
pub fn image_type(value: args::ImageType) -> ImageType {
    match value {
        args::ImageType::Ecs => ImageType::Ecs,
        args::ImageType::Bms => ImageType::Bms,
        args::ImageType::DataImage => ImageType::DataImage,
    }
}

/// The request's architecture.
pub fn architecture(value: args::Arch) -> Architecture {
    match value {
        args::Arch::X86 => Architecture::X86,
        args::Arch::Arm => Architecture::Arm,
    }
}

/// The target cloud.
pub fn cloud(value: args::CloudArg) -> Cloud {
    match value {
        args::CloudArg::HuaweiCloud => Cloud::HuaweiCloud,
        args::CloudArg::Otc => Cloud::Otc,
    }
}

/// The request's firmware type.
pub fn firmware(value: args::Firmware) -> Firmware {
    match value {
        args::Firmware::Bios => Firmware::Bios,
        args::Firmware::Uefi => Firmware::Uefi,
    }
}
